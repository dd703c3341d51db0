"""The `lva` command as a user runs it: real processes, real index, one-line errors with exit code 2."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from assistant.embeddings import MiniLMEmbeddings
from assistant.factory import build_index
from conftest import VENV_BIN, free_port, make_settings
from ingest.pipeline import ingest

LVA = str(VENV_BIN / "lva")
DOC = "## Care\n\nDischarge planning improved when ward staff and social workers shared one list.\n"


def run_lva(
    *args: str, env: dict[str, str], stdin: str | None = None, timeout: float = 120
) -> subprocess.CompletedProcess:
    return subprocess.run([LVA, *args], env=env, input=stdin, capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="module")
def indexed(tmp_path_factory: pytest.TempPathFactory, embedder: MiniLMEmbeddings) -> tuple[dict[str, str], Path]:
    """A data dir with a small published index, and the environment that points `lva` at it."""
    root = tmp_path_factory.mktemp("cli")
    (root / "docs").mkdir()
    (root / "docs" / "care.md").write_text(DOC)
    settings = make_settings(root / "data", project_root=root)
    ingest(root / "docs", index=build_index(settings), embedder=embedder, settings=settings)
    env = {k: v for k, v in os.environ.items() if not k.startswith("LVA_")}
    env.update({"LVA_DATA_DIR": str(root / "data"), "LVA_PROJECT_ROOT": str(root), "LVA_EMBED_PROGRESS": "false"})
    return env, root


def _published(env: dict[str, str]) -> tuple[str | None, int]:
    index = build_index(make_settings(Path(env["LVA_DATA_DIR"])))
    return index.active_name(), index.count()


def _bad_inputs(root: Path) -> dict[str, list[str]]:
    (root / "empty.md").write_text("")
    (root / "binary.txt").write_bytes(b"\x00\xff\x00garbage")
    (root / "corrupt.pdf").write_bytes(b"%PDF-1.7\n%%EOF-not-really")
    return {
        "missing path": ["ingest", str(root / "does-not-exist")],
        "empty file": ["ingest", str(root / "empty.md")],
        "binary file": ["ingest", str(root / "binary.txt")],
        "corrupt pdf": ["ingest", str(root / "corrupt.pdf")],
        "empty query": ["search", "   "],
    }


@pytest.mark.parametrize("case", ["missing path", "empty file", "binary file", "corrupt pdf", "empty query"])
def test_bad_input_gives_one_line_and_exit_2_and_leaves_the_index(indexed, case: str) -> None:  # type: ignore[no-untyped-def]
    env, root = indexed
    before = _published(env)
    result = run_lva(*_bad_inputs(root)[case], env=env)
    assert result.returncode == 2, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("lva: error: "), result.stderr
    assert "Traceback" not in result.stderr
    assert _published(env) == before


def test_unreachable_chroma_server_is_named(indexed) -> None:  # type: ignore[no-untyped-def]
    env, _ = indexed
    url = f"http://127.0.0.1:{free_port()}"
    result = run_lva("search", "discharge", env={**env, "LVA_CHROMA_URL": url})
    assert result.returncode == 2
    assert url in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_search_json_and_batch_mode(indexed) -> None:  # type: ignore[no-untyped-def]
    env, _ = indexed
    one = run_lva("search", "who shared one list?", "--json", "--k", "1", env=env)
    assert one.returncode == 0, one.stderr
    line = json.loads(one.stdout)
    assert line["query"] == "who shared one list?"
    assert set(line["results"][0]) == {"id", "text", "source", "section", "kind", "start", "end", "score"}
    assert line["results"][0]["source"] == "docs/care.md"

    batch = run_lva("search", "--json", "--k", "5", "-", env=env, stdin="discharge planning\n\nsocial workers\n")
    assert batch.returncode == 0, batch.stderr
    rows = [json.loads(x) for x in batch.stdout.splitlines()]
    assert [r["query"] for r in rows] == ["discharge planning", "social workers"]
    assert all("Discharge planning improved" in r["results"][0]["text"] for r in rows)


def test_ingest_unchanged_then_changed(indexed) -> None:  # type: ignore[no-untyped-def]
    env, root = indexed
    unchanged = run_lva("ingest", str(root / "docs"), env=env)
    assert unchanged.returncode == 0 and unchanged.stdout.startswith("unchanged:")
    (root / "docs" / "more.txt").write_text("Joint posts across health and council teams built trust quickly.\n")
    changed = run_lva("ingest", str(root / "docs"), env=env)
    assert changed.returncode == 0 and "embedded 1, reused 1" in changed.stdout, changed.stdout


def test_ask_prints_a_grounded_answer_and_batch_mode_keeps_the_shape(indexed) -> None:  # type: ignore[no-untyped-def]
    env, root = indexed
    one = run_lva("ask", "Who shared one list to improve discharge planning?", "--json", env=env)
    assert one.returncode == 0, one.stderr
    body = json.loads(one.stdout)
    assert set(body) == {
        "answer",
        "answerable",
        "coverage",
        "citations",
        "closest",
        "standalone_question",
        "answering",
        "suggestions",
        "engine",
        "timings_ms",
    }
    assert body["answerable"] and body["citations"][0]["source"] == "docs/care.md"
    lines = "\n".join(
        [
            "What improved discharge planning?",
            json.dumps(
                {"question": "Why did that work?", "history": [{"role": "user", "content": "discharge planning"}]}
            ),
            json.dumps({"question": "   "}),
        ]
    )
    batch = run_lva("ask", "--json", "-", env=env, stdin=lines + "\n")
    assert batch.returncode == 0, batch.stderr
    rows = [json.loads(x) for x in batch.stdout.splitlines()]
    assert rows[0]["answerable"] and "discharge" in rows[1]["standalone_question"].lower()
    assert rows[2]["error"] == "invalid_request"
    empty = run_lva("ask", "  ", env=env)
    assert empty.returncode == 2 and empty.stderr.startswith("lva: error:")
