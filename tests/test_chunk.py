"""Chunking: exact offsets, quote detection, pull-quote de-duplication, lists, stable ids."""

from __future__ import annotations

from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from assistant.types import DocumentMeta, ParsedDocument
from conftest import ORIGINAL_REPORT, REPO, REPORT
from ingest.chunk import chunk_document, split_inline_quotes
from ingest.parse import markdown_blocks, parse_file, plain_text_blocks


def _doc(text: str, markdown: bool = True, source: str = "x.md") -> ParsedDocument:
    meta, blocks = markdown_blocks(text) if markdown else (DocumentMeta(title="t"), plain_text_blocks(text))
    return ParsedDocument(source=source, text=text, meta=meta, blocks=blocks, file_hash="h")


def test_offsets_round_trip_on_every_report_chunk() -> None:
    doc = parse_file(REPORT, REPO)
    chunks = chunk_document(doc)
    assert len(chunks) > 100
    for chunk in chunks:
        assert doc.text[chunk.start : chunk.end] == chunk.text
    assert [c.order for c in chunks] == list(range(len(chunks)))
    assert len({c.id for c in chunks}) == len(chunks)


def test_ids_are_stable_content_hashes() -> None:
    first = chunk_document(parse_file(REPORT, REPO))
    second = chunk_document(parse_file(REPORT, REPO))
    assert [c.id for c in first] == [c.id for c in second]
    edited = REPORT.read_text("utf-8").replace("Transforming services is hard.", "Transforming services is very hard.")
    changed = chunk_document(_doc(edited, source=first[0].source))
    assert len({c.id for c in first} - {c.id for c in changed}) == 1


def test_block_quotes_and_inline_quotes_become_quote_units() -> None:
    text = (
        "## Section\n\n"
        "> “A whole quote from an enabler about trust.”\n\n"
        "As one enabler said: “We are changing deeply fixed patterns of activity.” That is hard.\n"
    )
    chunks = chunk_document(_doc(text))
    assert [(c.kind, c.text) for c in chunks] == [
        ("quote", "“A whole quote from an enabler about trust.”"),
        ("narrative", "As one enabler said:"),
        ("quote", "“We are changing deeply fixed patterns of activity.”"),
        ("narrative", "That is hard."),
    ]
    assert all(c.section == "Section" for c in chunks)


def test_short_quoted_phrases_stay_in_the_narrative() -> None:
    text = "A shift from “telling” to “asking” was visible across the whole partnership."
    assert split_inline_quotes(text, 0, len(text)) == [("narrative", 0, len(text))]


def test_pull_quote_repeating_a_quote_is_stored_once() -> None:
    text = (
        "## A\n\n> “There has always been lots of energy and passionate people; the hard bit has been focusing.”\n\n"
        "Some narrative in between the two copies of it.\n\n"
        "> “\n\nThere has always been lots of energy and passionate people; the hard bit has been focusing.”\n"
    )
    chunks = chunk_document(_doc(text))
    assert sum("lots of energy" in c.text for c in chunks) == 1


def test_raw_extracted_report_dedupes_its_pull_quotes() -> None:
    text = ORIGINAL_REPORT.read_text("utf-8")
    chunks = chunk_document(_doc(text, markdown=False))
    for quote in ("the hard bit has been focusing", "remain very great and are not well understood"):
        assert sum(quote in c.text for c in chunks) == 1, quote
    assert all(text[c.start : c.end] == c.text for c in chunks)


def test_section_path_follows_heading_levels() -> None:
    text = "# Title\n\n## The hurdles\n\n### Poker game\n\nPara one here now.\n\n## Light bulb\n\nPara two here now.\n"
    chunks = chunk_document(_doc(text))
    assert [c.section for c in chunks] == ["The hurdles › Poker game", "Light bulb"]


def test_short_lists_stay_whole_with_their_introduction() -> None:
    text = "## Members\n\nMembers include:\n\n- NHS England\n- Local Government Association\n"
    chunks = chunk_document(_doc(text))
    assert len(chunks) == 1 and chunks[0].kind == "list"
    assert chunks[0].text.startswith("Members include:") and chunks[0].text.endswith("Association")


@settings(max_examples=150, deadline=None)
@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=800), st.booleans())
def test_offsets_round_trip_on_arbitrary_text(text: str, markdown: bool) -> None:
    doc = _doc(text.replace("\r\n", "\n").replace("\r", "\n"), markdown)
    for chunk in chunk_document(doc):
        assert doc.text[chunk.start : chunk.end] == chunk.text
        assert chunk.text.strip()


def test_path_outside_project_root_is_absolute(tmp_path: Path) -> None:
    path = tmp_path / "outside.md"
    path.write_text("Some outside text about partnership working.\n")
    assert parse_file(path, REPO).source == path.resolve().as_posix()
