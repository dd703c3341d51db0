"""The structured report in corpus/ keeps every sentence of the published text, word for word."""

from __future__ import annotations

import re

import pytest

from assistant.textnorm import normalize, split_sentences
from conftest import ORIGINAL_REPORT, REPO, REPORT
from ingest.chunk import chunk_document
from ingest.parse import parse_file

# Extraction debris that the structured copy removes on purpose (see tests/data/README.md).
DEBRIS_LINES = {"The hurdles (continued)", "Light bulb moments (continued)", "“", "”"}
MARKUP = re.compile(r"^(?:#{1,6} |> |- )", re.M)


def _original_text() -> str:
    assert ORIGINAL_REPORT.is_file(), f"the original report is missing at {ORIGINAL_REPORT}"
    lines = ORIGINAL_REPORT.read_text(encoding="utf-8").splitlines()
    return MARKUP.sub("", "\n".join(line for line in lines if line.strip() not in DEBRIS_LINES))


def _corpus_body() -> str:
    text = REPORT.read_text(encoding="utf-8")
    body = text.split("\n---\n", 1)[1]  # after the front matter
    return normalize(MARKUP.sub("", body))


def _sentences(text: str) -> list[str]:
    """Sentences within each paragraph or line, so an unpunctuated heading never runs into the next line."""
    out = []
    for block in re.split(r"\n\s*\n|\n(?=- )", text):
        flat = normalize(block)
        out += [flat[a:b].strip("\"' ") for a, b in split_sentences(flat)]
    return [s for s in out if s]


def test_every_sentence_of_the_report_is_kept_verbatim() -> None:
    corpus = _corpus_body()
    sentences = [s for s in _sentences(_original_text()) if s]
    assert len(sentences) > 200
    missing = [s for s in sentences if s not in corpus]
    assert not missing, f"{len(missing)} sentences changed or lost, e.g. {missing[:3]}"


def test_the_structured_copy_adds_no_sentence_of_its_own() -> None:
    original = normalize(_original_text())
    body = MARKUP.sub("", REPORT.read_text("utf-8").split("\n---\n", 1)[1])
    added = [s for s in _sentences(body.replace("\n", "\n\n")) if s not in original]
    assert not added, f"sentences not in the published report: {added[:3]}"


def test_repeated_pull_quotes_are_gone() -> None:
    corpus = _corpus_body()
    for quote in (
        "There has always been lots of energy and passionate people; the hard bit has been focusing.",
        "The differences between the health and local government cultures remain very great",
        "Important to all this work has been the constant connecting back to service users",
    ):
        assert corpus.count(quote) == 1, quote


@pytest.fixture(scope="module")
def report_chunks():  # type: ignore[no-untyped-def]
    return chunk_document(parse_file(REPORT, REPO))


def test_bibliographic_metadata_travels_into_every_chunk(report_chunks) -> None:  # type: ignore[no-untyped-def]
    for chunk in report_chunks:
        assert chunk.title.startswith("The Revolution will be Improvised")
        assert chunk.author == "Richard Vize"
        assert "Systems Leadership Steering Group" in chunk.publisher
        assert chunk.source == "corpus/the-revolution-will-be-improvised.md"


def test_report_sections_and_kinds(report_chunks) -> None:  # type: ignore[no-untyped-def]
    sections = {c.section for c in report_chunks}
    assert "The hurdles › It's a system, not a poker game" in sections
    assert "Light bulb moments › Keeping up the energy" in sections
    bcf = [c for c in report_chunks if "Better Care Fund has been the toughest" in c.text]
    assert len(bcf) == 1 and bcf[0].kind == "quote"
    assert bcf[0].section == "The hurdles › It's a system, not a poker game"
    # an enabler quote embedded in a narrative paragraph becomes its own unit
    inline = [c for c in report_chunks if c.text.startswith("“We are trying to change deeply fixed patterns")]
    assert len(inline) == 1 and inline[0].kind == "quote" and inline[0].section.endswith("Unite around my position")
    blocks = [c for c in report_chunks if c.section == "The building blocks for success" and c.kind == "list"]
    assert len(blocks) == 10  # one unit per building block
    enablers = [c for c in report_chunks if "John Atkinson" in c.text]
    assert len(enablers) == 1 and "Diane Neale" in enablers[0].text  # the short list stays intact
    assert sum(c.kind == "quote" for c in report_chunks) >= 40
