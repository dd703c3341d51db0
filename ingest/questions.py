"""Passage questions: for each passage of a document, questions a leader might ask in their own words that the
passage answers (document expansion, as in doc2query), read from a file beside the document.

`<document>.questions.yaml` lists `{chunk, questions: [{q, sentence}]}`: `sentence` is a verbatim span of the
report that answers `q`; `chunk` (the chunk's position) is only a hint. The file is data, written offline from the
report alone (see corpus/README.md); retrieval embeds each question as one more vector of the chunk that holds its
sentence. A question whose sentence is no longer in the document (the report was edited) is dropped with a
warning, so a stale file can weaken retrieval but never point at the wrong words.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

import yaml

from assistant.errors import IngestError
from assistant.records import AnchoredQuestion
from assistant.types import Chunk

log = logging.getLogger(__name__)
SUFFIX = ".questions.yaml"


def questions_file(document: Path) -> Path:
    """Where a document's passage questions live: `report.md` → `report.questions.yaml`."""
    return document.with_name(document.stem + SUFFIX)


def read_questions(path: Path) -> list[tuple[int | None, str, str]]:
    """(chunk hint, question, answering sentence) for every entry of a questions file; [] when there is none."""
    if not path.exists():
        return []
    try:
        entries = yaml.safe_load(path.read_text(encoding="utf-8")) or []
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise IngestError(f"cannot read passage questions {path}: {exc.__class__.__name__}") from None
    if not isinstance(entries, list):
        raise IngestError(f"passage questions {path} must be a list of {{chunk, questions}}")
    out = []
    for entry in entries:
        if not isinstance(entry, dict) or not isinstance(entry.get("questions"), list):
            raise IngestError(f"passage questions {path}: every entry needs a `questions` list")
        hint = entry.get("chunk") if isinstance(entry.get("chunk"), int) else None
        for q in entry["questions"]:
            if not isinstance(q, dict) or not str(q.get("q", "")).strip() or not str(q.get("sentence", "")).strip():
                raise IngestError(f"passage questions {path}: every question needs `q` and `sentence`")
            out.append((hint, " ".join(str(q["q"]).split()), str(q["sentence"])))
    return out


def anchor_questions(
    chunks: Sequence[Chunk], entries: Sequence[tuple[int | None, str, str]]
) -> dict[str, list[AnchoredQuestion]]:
    """Each question tied to the chunk whose text holds its sentence (the hinted chunk first), by chunk id."""
    by_order = {c.order: c for c in chunks}
    out: dict[str, list[AnchoredQuestion]] = {}
    dropped = 0
    for hint, question, sentence in entries:
        hinted = [by_order[hint]] if hint in by_order else []
        home = next((c for c in [*hinted, *chunks] if sentence in c.text), None)
        if home is None:
            dropped += 1
            continue
        start = home.text.index(sentence)
        out.setdefault(home.id, []).append(AnchoredQuestion(question, start, start + len(sentence)))
    if dropped:
        log.warning("%d passage questions dropped: their sentence is no longer in the document", dropped)
    return out
