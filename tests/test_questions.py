"""Passage questions (ingest/questions.py): read from beside the document, anchored to the chunk that answers them,
embedded as records of that chunk, and used by retrieval and evidence."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from assistant.errors import IngestError
from assistant.factory import Resources
from assistant.records import question_id, vector_records
from assistant.textnorm import split_sentences
from conftest import REPO, REPORT
from ingest.chunk import chunk_document
from ingest.parse import parse_file
from ingest.questions import anchor_questions, questions_file, read_questions

QUESTIONS = questions_file(REPORT)


def _report_chunks() -> list:
    return chunk_document(parse_file(REPORT, REPO))


def test_every_shipped_question_anchors_in_the_report(caplog: pytest.LogCaptureFixture) -> None:
    entries = read_questions(QUESTIONS)
    assert len(entries) >= 200, "the report ships with its passage questions"
    with caplog.at_level(logging.WARNING):
        anchored = anchor_questions(_report_chunks(), entries)
    assert sum(len(v) for v in anchored.values()) == len(entries)
    assert "dropped" not in caplog.text


def test_a_question_whose_sentence_left_the_report_is_dropped(caplog: pytest.LogCaptureFixture) -> None:
    chunks = _report_chunks()
    kept = chunks[5].text[:60]
    entries = [(5, "How do we begin?", kept), (5, "Gone?", "words the report never had in this order at all")]
    with caplog.at_level(logging.WARNING):
        anchored = anchor_questions(chunks, entries)
    assert [q.text for qs in anchored.values() for q in qs] == ["How do we begin?"]
    (question,) = anchored[chunks[5].id]
    assert chunks[5].text[question.start : question.end] == kept
    assert "1 passage questions dropped" in caplog.text


def test_a_wrong_chunk_hint_still_finds_the_sentence() -> None:
    chunks = _report_chunks()
    sentence = chunks[40].text[:50]
    anchored = anchor_questions(chunks, [(3, "Where is this?", sentence)])
    assert list(anchored) == [chunks[40].id]


@pytest.mark.parametrize(
    "content",
    ["{not: a list}", "- chunk: 1\n", "- questions: [{q: only a question}]\n", "- questions: [[unclosed\n"],
)
def test_a_malformed_questions_file_is_an_ingest_error(tmp_path: Path, content: str) -> None:
    path = tmp_path / "report.questions.yaml"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(IngestError, match="passage questions"):
        read_questions(path)


def test_no_questions_file_means_no_questions(tmp_path: Path) -> None:
    assert read_questions(questions_file(tmp_path / "report.md")) == []


def test_question_records_change_id_with_their_words() -> None:
    chunk = next(c for c in _report_chunks() if len(split_sentences(c.text)) > 1)
    anchored = anchor_questions([chunk], [(None, "Why bother?", chunk.text[:30]), (None, "Why?", chunk.text[:30])])
    records = vector_records(chunk, True, anchored[chunk.id])
    questions = [r for r in records if r.unit == "question"]
    assert [r.text for r in questions] == ["Why bother?", "Why?"]
    assert questions[0].id == question_id(chunk, "Why bother?") != question_id(chunk, "Why?")
    assert questions[0].anchor == (0, 30)


def test_retrieval_and_evidence_read_the_questions(report_resources: Resources) -> None:
    retriever = report_resources.retriever
    with_questions = [c for c in retriever.chunks if retriever.questions_of(c.id)]
    assert len(with_questions) >= 80
    chunk = with_questions[0]
    for question, vector in retriever.questions_of(chunk.id):
        assert 0 <= question.start < question.end <= len(chunk.text)
        assert vector.shape == (384,)
