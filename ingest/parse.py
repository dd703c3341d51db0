"""Files → `ParsedDocument`: the document's text plus its structure, every offset pointing into that text."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import yaml
from markdown_it import MarkdownIt

from assistant.errors import IngestError
from assistant.types import Block, DocumentMeta, ParsedDocument

SUPPORTED_SUFFIXES = (".md", ".markdown", ".txt", ".pdf", ".docx")
_FRONT_MATTER = re.compile(r"\A---\n(.*?)\n---[ \t]*\n", re.S)
_LIST_MARKER = re.compile(r"[ \t]*(?:[-*+•]|\d+[.)])[ \t]+")
_QUOTE_MARKER = re.compile(r"[ \t]*(?:>[ \t]?)+")
_HEADING_MARKER = re.compile(r"[ \t]*#{1,6}[ \t]+")
_DEBRIS = re.compile(r"[\s\"'“”‘’]*")  # orphan quote marks left by PDF extraction
_TERMINAL = tuple(".!?:;,”\"')")


def parse_file(path: Path, project_root: Path) -> ParsedDocument:
    """Parse one supported file; raise `IngestError` naming the file when it is unusable."""
    if not path.is_file():
        raise IngestError(f"no such file: {path}")
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise IngestError(f"unsupported file type {suffix or '(none)'}: {path} (use {', '.join(SUPPORTED_SUFFIXES)})")
    data = path.read_bytes()
    if not data.strip():
        raise IngestError(f"empty file: {path}")
    source = _relative_source(path, project_root)
    file_hash = hashlib.sha256(data).hexdigest()
    if suffix == ".pdf":
        text, meta = _pdf_text(path, data)
        blocks = plain_text_blocks(text)
    elif suffix == ".docx":
        text, meta, blocks = _docx_document(path)
    else:
        text = _decode(path, data)
        if suffix in (".md", ".markdown"):
            meta, blocks = markdown_blocks(text)
        else:
            meta, blocks = DocumentMeta(), plain_text_blocks(text)
    if not meta.title:
        meta.title = path.stem.replace("-", " ").replace("_", " ")
    if not any(b.kind != "heading" for b in blocks):
        raise IngestError(f"no text found in {path}")
    return ParsedDocument(source=source, text=text, meta=meta, blocks=blocks, file_hash=file_hash)


def _relative_source(path: Path, project_root: Path) -> str:
    resolved = path.resolve()
    try:
        return resolved.relative_to(project_root.resolve()).as_posix()
    except ValueError:
        return resolved.as_posix()


def _decode(path: Path, data: bytes) -> str:
    if b"\x00" in data:
        raise IngestError(f"binary file, not text: {path}")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise IngestError(f"not UTF-8 text (byte {exc.start}): {path}") from None
    # Offsets are defined on the text with universal newlines, so every platform agrees on them.
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _content_span(text: str, start: int, end: int, marker: re.Pattern[str] | None = None) -> tuple[int, int]:
    """Trim a raw line range to its content: skip a leading marker and surrounding whitespace."""
    if marker is not None:
        m = marker.match(text, start, end)
        if m:
            start = m.end()
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def markdown_blocks(text: str) -> tuple[DocumentMeta, list[Block]]:
    """Headings, paragraphs, block quotes and lists of a Markdown text, plus its YAML front matter."""
    meta = DocumentMeta()
    body_start = 0
    fm = _FRONT_MATTER.match(text)
    if fm:
        try:
            data = yaml.safe_load(fm.group(1)) or {}
        except yaml.YAMLError as exc:
            raise IngestError(f"front matter is not valid YAML: {exc.__class__.__name__}") from None
        if isinstance(data, dict):
            meta = DocumentMeta(**{k: str(data[k]) for k in ("title", "author", "publisher") if data.get(k)})
        body_start = fm.end()
    body = text[body_start:]
    line_starts = [0]
    for m in re.finditer("\n", body):
        line_starts.append(m.end())
    line_starts.append(len(body) + 1)

    def span(first: int, last: int) -> tuple[int, int]:
        return body_start + line_starts[first], body_start + min(line_starts[last] - 1, len(body))

    blocks: list[Block] = []
    tokens = MarkdownIt("commonmark").parse(body)
    i = 0
    while i < len(tokens):
        tok = tokens[i]
        if tok.level != 0 or tok.map is None or tok.nesting == -1:
            i += 1
            continue
        s, e = span(*tok.map)
        if tok.type == "heading_open":
            a, b = _content_span(text, s, e, _HEADING_MARKER)
            b = len(text[a:b].rstrip("# \t")) + a
            blocks.append(Block(kind="heading", start=a, end=b, level=int(tok.tag[1:])))
        elif tok.type == "blockquote_open":
            a, b = _content_span(text, s, e, _QUOTE_MARKER)
            if not _DEBRIS.fullmatch(text[a:b]):
                blocks.append(Block(kind="quote", start=a, end=b))
        elif tok.type in ("bullet_list_open", "ordered_list_open"):
            items = []
            j = i + 1
            while tokens[j].type != tok.type.replace("_open", "_close") or tokens[j].level != 0:
                if tokens[j].type == "list_item_open" and tokens[j].level == 1 and tokens[j].map:
                    items.append(_content_span(text, *span(*tokens[j].map), _LIST_MARKER))
                j += 1
            items = [it for it in items if it[1] > it[0]]
            if items:
                blocks.append(Block(kind="list", start=items[0][0], end=items[-1][1], items=items))
        elif tok.type not in ("hr",):
            a, b = _content_span(text, s, e)
            if b > a and not _DEBRIS.fullmatch(text[a:b]):
                blocks.append(Block(kind="paragraph", start=a, end=b))
        i += 1
    return meta, blocks


def plain_text_blocks(text: str) -> list[Block]:
    """Blocks of plain text: paragraphs split on blank lines, with quotes, lists and short headings guessed."""
    blocks: list[Block] = []
    for m in re.finditer(r"[^\n]*\S[^\n]*(?:\n[^\n]*\S[^\n]*)*", text):
        a, b = _content_span(text, m.start(), m.end())
        chunk = text[a:b]
        if b <= a or _DEBRIS.fullmatch(chunk):
            continue
        lines = chunk.split("\n")
        if all(_LIST_MARKER.match(line) for line in lines):
            items, pos = [], a
            for line in lines:
                items.append(_content_span(text, pos, pos + len(line), _LIST_MARKER))
                pos += len(line) + 1
            blocks.append(Block(kind="list", start=items[0][0], end=items[-1][1], items=items))
        elif chunk[0] in '“"':
            blocks.append(Block(kind="quote", start=a, end=b))
        elif len(lines) == 1 and len(chunk) <= 80 and not chunk.endswith(_TERMINAL) and chunk[0].isupper():
            blocks.append(Block(kind="heading", start=a, end=b, level=2))
        else:
            blocks.append(Block(kind="paragraph", start=a, end=b))
    return blocks


def _pdf_text(path: Path, data: bytes) -> tuple[str, DocumentMeta]:
    from io import BytesIO

    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(BytesIO(data))
        pages = [page.extract_text() or "" for page in reader.pages]
        info = reader.metadata
    except (PdfReadError, ValueError, KeyError, TypeError, OSError) as exc:
        raise IngestError(f"corrupt or unreadable PDF ({exc.__class__.__name__}): {path}") from None
    text = "\n\n".join(p.strip() for p in pages).replace("\r\n", "\n").replace("\x00", "")
    if not text.strip():
        raise IngestError(f"PDF has no extractable text (scanned?): {path}")
    meta = DocumentMeta(title=str(getattr(info, "title", "") or ""), author=str(getattr(info, "author", "") or ""))
    return text, meta


def _docx_document(path: Path) -> tuple[str, DocumentMeta, list[Block]]:
    import zipfile

    import docx
    from docx.opc.exceptions import OpcError

    try:
        document = docx.Document(str(path))
    except (OpcError, zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        raise IngestError(f"corrupt or unreadable .docx ({exc.__class__.__name__}): {path}") from None
    parts: list[str] = []
    blocks: list[Block] = []
    pos = 0
    pending_items: list[tuple[int, int]] = []

    def flush_list() -> None:
        if pending_items:
            blocks.append(
                Block(
                    kind="list",
                    start=pending_items[0][0],
                    end=pending_items[-1][1],
                    items=list(pending_items),
                )
            )
            pending_items.clear()

    for para in document.paragraphs:
        content = para.text.strip().replace("\r", "")
        if not content:
            continue
        start = pos
        parts.append(content)
        pos += len(content) + 2
        style = (para.style.name if para.style is not None else "") or ""
        if style.startswith("List"):
            pending_items.append((start, start + len(content)))
            continue
        flush_list()
        if style == "Title":
            blocks.append(Block(kind="heading", start=start, end=start + len(content), level=1))
        elif style.startswith("Heading"):
            level = int(style.split()[-1]) + 1 if style.split()[-1].isdigit() else 2
            blocks.append(Block(kind="heading", start=start, end=start + len(content), level=level))
        elif "Quote" in style or content[0] in '“"':
            blocks.append(Block(kind="quote", start=start, end=start + len(content)))
        else:
            blocks.append(Block(kind="paragraph", start=start, end=start + len(content)))
    flush_list()
    text = "\n\n".join(parts)
    if not text.strip():
        raise IngestError(f".docx has no text: {path}")
    props = document.core_properties
    meta = DocumentMeta(title=props.title or "", author=props.author or "")
    return text, meta, blocks
