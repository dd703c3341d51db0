"""The lock (requirements/*.txt) agrees with pyproject.toml, pins every package with hashes, and is what is installed.

Fails when a dependency is added to or changed in pyproject.toml without `make lock`.
"""

from __future__ import annotations

import re
import tomllib
from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

from conftest import REPO

LOCKS = {"run": ("dev", "onnx"), "test": ("dev", "onnx", "local-llm")}
_PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==(\S+)\s*\\?$")


def pins(path: Path) -> dict[str, tuple[str, list[str]]]:
    """{canonical name: (version, hashes)} of a pip-compile lock."""
    out: dict[str, tuple[str, list[str]]] = {}
    name = None
    for line in path.read_text("utf-8").splitlines():
        match = _PIN.match(line)
        if match:
            name = canonicalize_name(match.group(1))
            out[name] = (match.group(2), [])
        elif name and line.strip().startswith("--hash=sha256:"):
            out[name][1].append(line.strip().removeprefix("--hash=sha256:").rstrip(" \\"))
        elif not line.startswith(" "):
            name = None
    return out


def wanted(extras: tuple[str, ...]) -> list[Requirement]:
    project = tomllib.loads((REPO / "pyproject.toml").read_text("utf-8"))["project"]
    requirements = list(project["dependencies"])
    for extra in extras:
        requirements += project["optional-dependencies"][extra]
    return [Requirement(r) for r in requirements]


@pytest.mark.parametrize("profile", list(LOCKS))
def test_every_pyproject_requirement_is_locked_at_a_version_it_allows(profile: str) -> None:
    locked = pins(REPO / "requirements" / f"{profile}.txt")
    disagreements = []
    for requirement in wanted(LOCKS[profile]):
        name = canonicalize_name(requirement.name)
        if name not in locked:
            disagreements.append(f"{requirement} is not in the lock")
        elif not requirement.specifier.contains(Version(locked[name][0]), prereleases=True):
            disagreements.append(f"{requirement} but the lock has {locked[name][0]}")
    assert not disagreements, f"pyproject.toml and requirements/{profile}.txt disagree (run `make lock`): " + "; ".join(
        disagreements
    )


@pytest.mark.parametrize("profile", [*LOCKS, "no-deps"])
def test_every_locked_package_has_a_hash(profile: str) -> None:
    locked = pins(REPO / "requirements" / f"{profile}.txt")
    assert locked and all(hashes for _, hashes in locked.values())


def test_the_lock_pins_the_cpu_build_of_torch() -> None:
    version, _ = pins(REPO / "requirements" / "run.txt")["torch"]
    assert version.endswith("+cpu"), version
    assert not any(n.startswith("nvidia-") for n in pins(REPO / "requirements" / "test.txt"))


def test_the_installed_packages_are_the_locked_ones() -> None:
    """What this venv runs is what the lock says (no stray upgrade, nothing resolved on the side)."""
    locked = pins(REPO / "requirements" / "test.txt") | pins(REPO / "requirements" / "no-deps.txt")
    installed = {canonicalize_name(d.metadata["Name"]): d.version for d in metadata.distributions()}
    different = {n: (v, installed.get(n)) for n, (v, _) in locked.items() if installed.get(n) != v}
    assert not different, different


def test_a_package_the_lock_does_not_name_is_refused(tmp_path: Path) -> None:
    """The install mode itself: pip with --require-hashes refuses a requirement without a pin and hash."""
    import subprocess
    import sys

    requirements = tmp_path / "requirements.txt"
    requirements.write_text("six\n", "utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--dry-run", "--require-hashes", "--no-deps", "-r", str(requirements)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0 and "hash" in (result.stderr + result.stdout).lower()
