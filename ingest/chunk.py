"""`ParsedDocument` → `Chunk`s: section-aware units (narrative, enabler quote, list) with exact offsets."""

from __future__ import annotations

import hashlib
from collections import Counter

from assistant.types import SECTION_SEPARATOR, Block, Chunk, ChunkKind, ParsedDocument

# Items longer than this read as statements (the building blocks) and become one unit each;
# shorter ones (names, organisations) only make sense together, so the list stays intact.
LONG_ITEM_CHARS = 80
MIN_INLINE_QUOTE_WORDS = 4
MIN_NARRATIVE_WORDS = 3
MIN_PULL_QUOTE_CHARS = 20
MAX_INTRO_WORDS = 12
TABLE_OF_CONTENTS = {"contents", "table of contents"}
_QUOTE_CHARS = "“”\"'‘’"


def chunk_document(doc: ParsedDocument) -> list[Chunk]:
    """Split a parsed document into chunks; each chunk's text is exactly `doc.text[start:end]`."""
    text = doc.text
    heading_levels = [b.level for b in doc.blocks if b.kind == "heading"]
    # A single H1 is the document's title, not a section; several H1s are sections.
    title_level = 1 if heading_levels.count(1) == 1 else 0
    default_section = doc.meta.title
    stack: list[tuple[int, str]] = []
    spans: list[tuple[ChunkKind, int, int, str]] = []
    quote_cores: list[str] = []

    def section() -> str:
        path = [title for level, title in stack if level > title_level]
        return SECTION_SEPARATOR.join(path) if path else default_section

    def add(kind: ChunkKind, start: int, end: int) -> None:
        if stack and stack[-1][1].strip().lower() in TABLE_OF_CONTENTS:
            return  # page numbers and headings repeated: navigation, not content
        core = _core(text[start:end])
        if len(core) >= MIN_PULL_QUOTE_CHARS and any(core in earlier for earlier in quote_cores):
            return  # a pull-quote repeating words already stored
        if kind == "quote":
            quote_cores.append(core)
        spans.append((kind, start, end, section()))

    blocks = doc.blocks
    i = 0
    while i < len(blocks):
        block = blocks[i]
        nxt = blocks[i + 1] if i + 1 < len(blocks) else None
        if block.kind == "heading":
            title = text[block.start : block.end]
            if block.level == title_level:
                default_section = title
            stack = [(lvl, t) for lvl, t in stack if lvl < block.level] + [(block.level, title)]
        elif block.kind == "quote":
            add("quote", block.start, block.end)
        elif block.kind == "list":
            _add_list(block, None, add)
        elif nxt is not None and _introduces(text, block, nxt):
            # "members include:" / "and is chaired by:" mean nothing without what follows.
            if nxt.kind == "list":
                _add_list(nxt, block, add)
            else:
                add("narrative", block.start, nxt.end)
            i += 1
        else:
            for kind, start, end in split_inline_quotes(text, block.start, block.end):
                add(kind, start, end)
        i += 1
    return _with_ids(doc, spans)


def _introduces(text: str, block: Block, nxt: Block) -> bool:
    """A short paragraph ending in a colon that introduces the next list or paragraph."""
    if not text[block.start : block.end].endswith(":"):
        return False
    if nxt.kind == "list":
        return not _long_items(nxt)
    return nxt.kind == "paragraph" and len(text[block.start : block.end].split()) <= MAX_INTRO_WORDS


def _long_items(block: Block) -> bool:
    lengths = [e - s for s, e in block.items]
    return bool(lengths) and sum(lengths) / len(lengths) >= LONG_ITEM_CHARS


def _add_list(block: Block, intro: Block | None, add) -> None:  # type: ignore[no-untyped-def]
    if _long_items(block) and intro is None:
        for start, end in block.items:
            add("list", start, end)
    else:
        add("list", intro.start if intro else block.start, block.end)


def split_inline_quotes(text: str, start: int, end: int) -> list[tuple[ChunkKind, int, int]]:
    """Split a narrative paragraph around the enabler quotes inside it, so each quote is its own unit."""
    pieces: list[tuple[ChunkKind, int, int]] = []
    cursor = start
    for q_start, q_end in _quote_spans(text, start, end):
        words = len(text[q_start:q_end].split())
        if words < MIN_INLINE_QUOTE_WORDS:
            continue
        pieces.extend(_narrative(text, cursor, q_start))
        pieces.append(("quote", q_start, q_end))
        cursor = q_end
    pieces.extend(_narrative(text, cursor, end))
    return pieces


def _narrative(text: str, start: int, end: int) -> list[tuple[ChunkKind, int, int]]:
    while start < end and (text[start].isspace() or text[start] in ".,;"):
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    if len(text[start:end].split()) < MIN_NARRATIVE_WORDS:
        return []
    return [("narrative", start, end)]


def _quote_spans(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """Top-level “curly” or "straight" quotations inside text[start:end], nested ones included in their parent."""
    spans: list[tuple[int, int]] = []
    depth = 0
    open_at = -1
    straight_open = -1
    for pos in range(start, end):
        ch = text[pos]
        if ch == "“":
            if depth == 0:
                open_at = pos
            depth += 1
        elif ch == "”" and depth > 0:
            depth -= 1
            if depth == 0:
                spans.append((open_at, pos + 1))
        elif ch == '"' and depth == 0:
            if straight_open < 0:
                straight_open = pos
            else:
                spans.append((straight_open, pos + 1))
                straight_open = -1
    return spans


def _core(fragment: str) -> str:
    """Words only, for comparing quotes regardless of quote marks, case and spacing."""
    return " ".join(fragment.strip(_QUOTE_CHARS + " \t\n").lower().split())


def _with_ids(doc: ParsedDocument, spans: list[tuple[ChunkKind, int, int, str]]) -> list[Chunk]:
    seen: Counter[str] = Counter()
    chunks = []
    for order, (kind, start, end, section) in enumerate(spans):
        body = doc.text[start:end]
        digest = hashlib.sha256(f"{doc.source}\x1f{section}\x1f{kind}\x1f{body}".encode()).hexdigest()[:20]
        seen[digest] += 1
        chunk_id = digest if seen[digest] == 1 else f"{digest}-{seen[digest]}"
        chunks.append(
            Chunk(
                id=chunk_id,
                source=doc.source,
                section=section,
                kind=kind,
                order=order,
                start=start,
                end=end,
                text=body,
                title=doc.meta.title,
                author=doc.meta.author,
                publisher=doc.meta.publisher,
                file_hash=doc.file_hash,
            )
        )
    return chunks
