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

    def __init__(self, model_path: Path, onnx_file: Path, threads: int | None = None) -> None:
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
        # tokenizer.json carries its own fixed padding and truncation; use sentence-transformers' instead.
        self.tokenizer.enable_truncation(max_length=max_length)
        pad = self.tokenizer.padding or {}
        self.tokenizer.enable_padding(pad_id=pad.get("pad_id", 0), pad_token=pad.get("pad_token", "[PAD]"))
        options = ort.SessionOptions()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.intra_op_num_threads = threads or 0  # 0: ONNX Runtime's default, one per core
        options.inter_op_num_threads = 1
        self.session: onnxruntime.InferenceSession = ort.InferenceSession(
            str(onnx_file), options, providers=["CPUExecutionProvider"]
        )
        self.inputs = [i.name for i in self.session.get_inputs()]
        self.dimension = int(_read_json(model_path / "config.json").get("hidden_size") or 0)

    def encode(self, texts: list[str], batch_size: int = 32) -> np.ndarray:
        """Normalised vectors, one row per text; texts are batched longest first to waste little padding."""
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
        for start in range(0, len(order), batch_size):
            rows = order[start : start + batch_size]
            out[rows] = self._encode_batch([texts[i].strip() for i in rows])
        return out

    def _encode_batch(self, texts: list[str]) -> np.ndarray:
        encodings = self.tokenizer.encode_batch(texts)
        arrays = {
            "input_ids": np.array([e.ids for e in encodings], dtype=np.int64),
            "attention_mask": np.array([e.attention_mask for e in encodings], dtype=np.int64),
            "token_type_ids": np.array([e.type_ids for e in encodings], dtype=np.int64),
        }
        hidden = self.session.run(None, {name: arrays[name] for name in self.inputs})[0]
        mask = arrays["attention_mask"][..., None].astype(np.float32)
        pooled = (hidden * mask).sum(axis=1) / np.clip(mask.sum(axis=1), 1e-9, None)
        return pooled / np.clip(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12, None)


def _read_json(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text("utf-8")) if path.is_file() else {}
