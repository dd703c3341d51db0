"""What kind of place in the report a chunk sits in: its top-level section, the front matter, a list of names.

Retrieval, evidence and composition all ask this; one module answers it."""

from __future__ import annotations

from assistant.types import SECTION_SEPARATOR, Chunk

FRONT_MATTER = ("The Revolution will be Improvised", "Contents")
NAME_LISTS = ("Appendix B", "Appendix C")


def top_section(section: str) -> str:
    """`The hurdles › The blame game` → `The hurdles`."""
    return section.split(SECTION_SEPARATOR)[0]


def is_front_matter(chunk: Chunk) -> bool:
    """The title page, the author line and the contents."""
    return top_section(chunk.section).startswith(FRONT_MATTER)


def is_name_list(chunk: Chunk) -> bool:
    """A list of the enablers or of the steering group's members."""
    return top_section(chunk.section).startswith(NAME_LISTS) and chunk.kind == "list"


def is_listing(chunk: Chunk) -> bool:
    """Anything in the appendices that list names (who the enablers were, who sits on and chairs the steering
    group): words there are known to the report but never discussed by it. (The author, named on the title page,
    speaks through the whole report.)"""
    return top_section(chunk.section).startswith(NAME_LISTS)
