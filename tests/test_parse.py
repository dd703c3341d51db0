"""Parsing each supported format into text plus structure, and refusing unusable files clearly."""

from __future__ import annotations

from pathlib import Path

import docx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen import canvas

from assistant.errors import IngestError
from conftest import REPO, REPORT
from ingest.chunk import chunk_document
from ingest.parse import parse_file


def make_pdf(path: Path, lines: list[str], title: str = "A PDF report") -> Path:
    pdf = canvas.Canvas(str(path), pagesize=A4)
    pdf.setTitle(title)
    pdf.setAuthor("Test Author")
    y = 800
    for line in lines:
        pdf.drawString(50, y, line)
        y -= 20
    pdf.save()
    return path


def make_docx(path: Path) -> Path:
    document = docx.Document()
    document.core_properties.title = "Integration notes"
    document.core_properties.author = "A Commissioner"
    document.add_heading("Working together", level=1)
    document.add_paragraph("Partners met every month to review the shared plan for dementia services.")
    document.add_paragraph("“We learned more from one honest conversation than from a year of board papers.”")
    document.add_paragraph("Pooled budgets", style="List Bullet")
    document.add_paragraph("Joint posts", style="List Bullet")
    document.save(str(path))
    return path


def test_markdown_front_matter_headings_quotes_and_lists() -> None:
    doc = parse_file(REPORT, REPO)
    assert doc.meta.author == "Richard Vize"
    kinds = {b.kind for b in doc.blocks}
    assert kinds == {"heading", "paragraph", "quote", "list"}
    for block in doc.blocks:
        assert doc.text[block.start : block.end] == doc.text[block.start : block.end].strip()
        assert not doc.text[block.start : block.end].startswith(("> ", "# ", "- "))


def test_pdf_is_parsed_with_its_metadata(tmp_path: Path) -> None:
    pdf = make_pdf(tmp_path / "r.pdf", ["Joint commissioning needs trust between partners.", "It takes time."])
    doc = parse_file(pdf, tmp_path)
    assert doc.source == "r.pdf"
    assert doc.meta.title == "A PDF report" and doc.meta.author == "Test Author"
    assert "Joint commissioning needs trust" in doc.text
    chunks = chunk_document(doc)
    assert chunks and all(doc.text[c.start : c.end] == c.text for c in chunks)


def test_docx_headings_quotes_and_lists(tmp_path: Path) -> None:
    doc = parse_file(make_docx(tmp_path / "notes.docx"), tmp_path)
    assert doc.meta.title == "Integration notes"
    chunks = chunk_document(doc)
    assert {c.kind for c in chunks} == {"narrative", "quote", "list"}
    assert all(c.section == "Working together" for c in chunks)
    assert all(doc.text[c.start : c.end] == c.text for c in chunks)


def test_txt_guesses_headings_and_quotes(tmp_path: Path) -> None:
    path = tmp_path / "plain.txt"
    path.write_text(
        "Our approach\r\n\r\nWe start with users.\r\nThen we build.\r\n\r\n“Users first, always, and with care.”\r\n"
    )
    doc = parse_file(path, tmp_path)
    assert "\r" not in doc.text
    chunks = chunk_document(doc)
    assert [c.kind for c in chunks] == ["narrative", "quote"]
    assert chunks[0].section == "Our approach"


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("empty.md", b"", "empty file"),
        ("blank.txt", b"  \n\n ", "empty file"),
        ("binary.txt", b"\x00\x01\x02binary", "binary file"),
        ("latin1.md", "caf\xe9 culture".encode("latin-1"), "not UTF-8"),
        ("broken.pdf", b"%PDF-1.4\nthis is not really a pdf", "corrupt or unreadable PDF"),
        ("broken.docx", b"PK\x03\x04 not a zip", "corrupt or unreadable .docx"),
        ("image.png", b"\x89PNG", "unsupported file type"),
    ],
)
def test_unusable_files_raise_a_clear_error(tmp_path: Path, name: str, content: bytes, message: str) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(IngestError, match=message) as info:
        parse_file(path, tmp_path)
    assert name in str(info.value)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(IngestError, match="no such file"):
        parse_file(tmp_path / "nope.md", tmp_path)


_NASTY = st.sampled_from(
    ["\x00", "\r", "\r\n", "\n", "\u2028", "\ufeff", "“", "”", "> ", "# ", "- ", "---\n", "\t", " "]
)
_TEXTS = st.lists(
    st.one_of(st.text(max_size=40), _NASTY, st.text(alphabet="ab ", min_size=3000, max_size=5000)), max_size=30
).map("".join)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=_TEXTS, suffix=st.sampled_from([".md", ".txt"]), encoding=st.sampled_from(["utf-8", "utf-16", "latin-1"]))
def test_fuzzed_files_never_crash_and_offsets_round_trip(tmp_path: Path, text: str, suffix: str, encoding: str) -> None:
    path = tmp_path / f"fuzz{suffix}"
    path.write_bytes(text.encode(encoding, errors="replace"))
    try:
        doc = parse_file(path, tmp_path)
    except IngestError:
        return  # a clear refusal (binary, undecodable, empty) is the right outcome
    for chunk in chunk_document(doc):
        assert doc.text[chunk.start : chunk.end] == chunk.text and chunk.text.strip()
