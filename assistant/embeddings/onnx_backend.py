"""The packaged model on ONNX Runtime: a one-off local export, then tokenise → ONNX → mean-pool → normalise.

The same steps as sentence-transformers' own pipeline, so the vectors agree with torch's (tests/test_embeddings.py
holds them to cosine ≥ 0.9999). The export reads only the model on disk; nothing is downloaded.
"""

from __future__ import annotations

import hashlib
import json
import os
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from filelock import FileLock

from assistant.errors import EmbeddingsUnavailable

if TYPE_CHECKING:
    import onnxruntime

# Bump when the export recipe changes, so exports made by an older recipe are not reused.
EXPORT_RECIPE = "torchscript-eager-opset17-v1"
ONNX_FILE = "model.onnx"
# Padded tokens per batch. On 2 cores ONNX Runtime was fastest with batches this small (one ~75-word paragraph,
# or about five sentences), at about 2.5x the paragraphs/s it managed in 32-text batches. Torch is not (its
# per-batch overhead is larger: batches of 4 halved its rate), so it keeps LVA_EMBED_BATCH_SIZE.
TOKEN_BUDGET = 128
_INPUTS = ("input_ids", "attention_mask", "token_type_ids")
_HASHED_FILES = ("config.json", "sentence_bert_config.json", "tokenizer.json", "1_Pooling/config.json")
_WEIGHT_FILES = ("model.safetensors", "pytorch_model.bin")


def model_fingerprint(model_path: Path) -> str:
    """A hash of the model's config and weights and of the export recipe: the name of its export."""
    digest = hashlib.sha256(EXPORT_RECIPE.encode())
    for name in (*_HASHED_FILES, *_WEIGHT_FILES):
        path = model_path / name
        if path.is_file():
            digest.update(name.encode())
            with path.open("rb") as f:
                for block in iter(lambda: f.read(1 << 20), b""):
                    digest.update(block)
    return digest.hexdigest()[:16]


def export_path(model_path: Path, models_dir: Path) -> Path:
    """Where the export of this model lives: `<models dir>/onnx/<model>-<fingerprint>/model.onnx`."""
    return models_dir / "onnx" / f"{model_path.name}-{model_fingerprint(model_path)}" / ONNX_FILE


def ensure_export(model_path: Path, models_dir: Path) -> Path:
    """The ONNX file for this model, exported once (under a file lock, so parallel workers export it once)."""
    target = export_path(model_path, models_dir)
    if target.is_file():
        return target
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        with FileLock(str(target.parent / ".export.lock"), timeout=600):
            if not target.is_file():
                export_onnx(model_path, target)
    except OSError as exc:
        raise EmbeddingsUnavailable(
            f"cannot write the ONNX export to {target.parent} ({exc.strerror or exc}); set LVA_DATA_DIR"
        ) from None
    return target


def export_onnx(model_path: Path, target: Path) -> None:
    """Export the model's transformer to ONNX (fp32) with torch's exporter, written atomically."""
    try:
        import onnx  # noqa: F401 - torch's exporter needs it
        import torch
        from transformers import AutoModel, AutoTokenizer
    except ImportError as exc:
        raise EmbeddingsUnavailable(
            f"exporting to ONNX needs the `onnx` package ({exc.name} is missing): "
            "pip install 'local-vision-assistant[onnx]', or set LVA_EMBEDDING_BACKEND=torch"
        ) from None
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    # Eager attention exports the plain MatMul/Softmax pattern that ONNX Runtime fuses into one Attention op.
    model = AutoModel.from_pretrained(str(model_path), attn_implementation="eager").eval()
    tokenizer = AutoTokenizer.from_pretrained(str(model_path))
    sample = tokenizer(["a", "a longer sample sentence"], padding=True, return_tensors="pt")
    names = [name for name in _INPUTS if name in sample]

    class LastHiddenState(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.model = model

        def forward(self, *inputs: torch.Tensor) -> torch.Tensor:
            return self.model(**dict(zip(names, inputs, strict=True))).last_hidden_state

    partial = target.with_suffix(f".partial-{os.getpid()}")
    axes = {name: {0: "batch", 1: "tokens"} for name in [*names, "last_hidden_state"]}
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")  # the TorchScript exporter's deprecation and tracer notes
        torch.onnx.export(
            LastHiddenState(),
            tuple(sample[name] for name in names),
            str(partial),
            input_names=names,
            output_names=["last_hidden_state"],
            dynamic_axes=axes,
            opset_version=17,
            dynamo=False,
        )
    os.replace(partial, target)


class OnnxEncoder:
    """Sentence embeddings from an ONNX export, pooled as the model's sentence-transformers config says."""

    def __init__(
        self, model_path: Path, onnx_file: Path, threads: int | None = None, token_budget: int = TOKEN_BUDGET
    ) -> None:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        pooling = _read_json(model_path / "1_Pooling" / "config.json")
        modes = {k for k, v in pooling.items() if k.startswith("pooling_mode_") and v}
        if modes and modes != {"pooling_mode_mean_tokens"}:
            raise EmbeddingsUnavailable(
                f"the ONNX backend supports mean pooling only, and {model_path.name} uses {sorted(modes)}; "
                "set LVA_EMBEDDING_BACKEND=torch"
            )
        max_length = int(_read_json(model_path / "sentence_bert_config.json").get("max_seq_length") or 256)
        self.tokenizer = Tokenizer.from_file(str(model_path / "tokenizer.json"))
        # tokenizer.json carries its own fixed padding and truncation; truncate as sentence-transformers does,
        # and pad per batch here.
        self.pad_id = int((self.tokenizer.padding or {}).get("pad_id") or 0)
        self.tokenizer.no_padding()
        self.tokenizer.enable_truncation(max_length=max_length)
        options = ort.SessionOptions()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.intra_op_num_threads = threads or 0  # 0: ONNX Runtime's default, one per core
        options.inter_op_num_threads = 1
        # No busy-waiting between runs: the cores are shared with the API's other work (and other processes).
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        self.token_budget = token_budget
        self.session: onnxruntime.InferenceSession = ort.InferenceSession(
            str(onnx_file), options, providers=["CPUExecutionProvider"]
        )
        self.inputs = [i.name for i in self.session.get_inputs()]
        self.dimension = int(_read_json(model_path / "config.json").get("hidden_size") or 0)

    def encode(self, texts: list[str], batch_size: int = 32) -> np.ndarray:
        """Normalised vectors, one row per text. Texts go longest first, in batches of at most `batch_size` texts
        and `token_budget` padded tokens: ONNX Runtime on a CPU is fastest on small batches of long texts."""
        encodings = self.tokenizer.encode_batch([t.strip() for t in texts])  # as sentence-transformers strips
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        order = sorted(range(len(texts)), key=lambda i: -len(encodings[i].ids))
        start = 0
        while start < len(order):
            width = len(encodings[order[start]].ids)  # the longest of the batch: every row is padded to it
            size = max(1, min(batch_size, self.token_budget // max(width, 1)))
            rows = order[start : start + size]
            out[rows] = self._encode_batch([encodings[i] for i in rows])
            start += size
        return out

    def _encode_batch(self, encodings: list[Any]) -> np.ndarray:
        width = max(len(e.ids) for e in encodings)
        arrays = {name: np.zeros((len(encodings), width), dtype=np.int64) for name in _INPUTS}
        for row, e in enumerate(encodings):
            arrays["input_ids"][row, : len(e.ids)] = e.ids
            arrays["attention_mask"][row, : len(e.ids)] = e.attention_mask
            arrays["token_type_ids"][row, : len(e.ids)] = e.type_ids
        if self.pad_id:
            arrays["input_ids"][arrays["attention_mask"] == 0] = self.pad_id
        hidden = self.session.run(None, {name: arrays[name] for name in self.inputs})[0]
        mask = arrays["attention_mask"][..., None].astype(np.float32)
        pooled = (hidden * mask).sum(axis=1) / np.clip(mask.sum(axis=1), 1e-9, None)
        return pooled / np.clip(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12, None)


def _read_json(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text("utf-8")) if path.is_file() else {}
