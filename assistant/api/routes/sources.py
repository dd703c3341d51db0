"""A chunk in its section, with the span to highlight: everything a source viewer needs."""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import APIRouter, Query

from assistant.api.deps import ResourcesDep
from assistant.errors import SourceNotFound
from assistant.types import SectionEntry, SectionSegment, SourceView

router = APIRouter(prefix="/v1", tags=["sources"])
CHUNK_ID = re.compile(r"[0-9a-f]{20}(?:-\d{1,4})?")
SEGMENT_GAP = "\n\n"


@router.get("/sources/{chunk_id}", response_model=SourceView)
def source(
    chunk_id: str,
    resources: ResourcesDep,
    start: Annotated[int | None, Query(ge=0, description="Document offset of the span to highlight.")] = None,
    end: Annotated[int | None, Query(ge=0)] = None,
) -> SourceView:
    """The chunk, its section's text, and where `start:end` (default: the chunk) falls in that text."""
    # Ids are content hashes; anything else (paths, `..`, encoded slashes) is simply not a source.
    chunk = resources.index.get_chunk(chunk_id) if CHUNK_ID.fullmatch(chunk_id) else None
    if chunk is None:
        raise SourceNotFound(f"no source with id {chunk_id[:40]!r}")
    section_chunks = resources.index.section_chunks(chunk.source, chunk.section) or [chunk]
    parts, segments, offset = [], [], 0
    for c in section_chunks:
        segments.append(SectionSegment(chunk_id=c.id, section_offset=offset, start=c.start, end=c.end))
        parts.append(c.text)
        offset += len(c.text) + len(SEGMENT_GAP)
    start = chunk.start if start is None else start
    end = chunk.end if end is None else end
    if not chunk.start <= start <= end <= chunk.end:
        start, end = chunk.start, chunk.end  # a span outside this chunk falls back to the whole chunk
    base = next(s.section_offset for s in segments if s.chunk_id == chunk.id)
    return SourceView(
        chunk=chunk,
        section_text=SEGMENT_GAP.join(parts),
        segments=segments,
        highlight_start=base + start - chunk.start,
        highlight_end=base + end - chunk.start,
    )


@router.get("/sections", response_model=list[SectionEntry])
def sections(resources: ResourcesDep) -> list[SectionEntry]:
    """Every section of every indexed document, in reading order: a table of contents."""
    entries: dict[tuple[str, str], SectionEntry] = {}
    for chunk in resources.retriever.chunks:
        key = (chunk.source, chunk.section)
        if key in entries:
            entries[key].chunks += 1
        else:
            entries[key] = SectionEntry(
                source=chunk.source, title=chunk.title, section=chunk.section, first_chunk_id=chunk.id, chunks=1
            )
    return list(entries.values())
