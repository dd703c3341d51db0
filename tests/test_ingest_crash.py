"""A SIGKILLed ingest never leaves a half-written index being served."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

from assistant.embeddings import MiniLMEmbeddings
from assistant.factory import build_index
from assistant.retrieve import HybridRetriever
from conftest import VENV_BIN, make_settings
from ingest.pipeline import ingest

OLD = "## Old\n\nThe original index talks about pooled budgets for dementia care.\n"
NEW = "## New\n\nThe replacement index talks about joint posts in discharge teams.\n"


def _big_corpus(folder: Path, paragraphs: int = 1200) -> None:
    folder.mkdir()
    lines = [
        f"## Topic {i}\n\nPartnership {i} met to review shared plans. Leaders agreed point {i} after a long debate."
        for i in range(paragraphs)
    ]
    (folder / "big.md").write_text("\n\n".join(lines) + "\n")


def test_sigkill_mid_ingest_keeps_serving_the_old_index(tmp_path: Path, embedder: MiniLMEmbeddings) -> None:
    data = tmp_path / "data"
    settings = make_settings(data, project_root=tmp_path)
    index = build_index(settings)
    (tmp_path / "old").mkdir()
    (tmp_path / "old" / "old.md").write_text(OLD)
    published = ingest(tmp_path / "old", index=index, embedder=embedder, settings=settings).collection
    _big_corpus(tmp_path / "big")

    env = {**os.environ, "LVA_DATA_DIR": str(data), "LVA_PROJECT_ROOT": str(tmp_path), "LVA_EMBED_PROGRESS": "true"}
    proc = subprocess.Popen(
        [str(VENV_BIN / "lva"), "ingest", str(tmp_path / "big")],
        env=env,
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
    )
    assert proc.stderr is not None
    progress = b""
    deadline = time.monotonic() + 180
    # Wait until at least one batch has been written into the new, unpublished collection.
    while b"1024/" not in progress and time.monotonic() < deadline and proc.poll() is None:
        progress += os.read(proc.stderr.fileno(), 4096)
    assert proc.poll() is None, f"ingest finished before it could be killed: {progress[-300:]!r}"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(30)

    assert index.active_name() == published
    orphans = [
        c.name for c in index.client.list_collections() if c.name.startswith("lva-chunks-") and c.name != published
    ]
    assert orphans, "the killed ingest should have left an unpublished generation behind"
    retriever = HybridRetriever(index, embedder, settings)
    top = retriever.search("pooled budgets for dementia", k=1)[0]
    assert "original index" in top.text

    (tmp_path / "new").mkdir()
    (tmp_path / "new" / "new.md").write_text(NEW)
    report = ingest(tmp_path / "new", index=index, embedder=embedder, settings=settings)
    assert index.active_name() == report.collection
    assert "replacement index" in retriever.search("joint posts in discharge teams", k=1)[0].text
    names = {c.name for c in index.client.list_collections()}
    assert not set(orphans) & names, "orphaned generations are collected by the next ingest"
