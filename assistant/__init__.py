"""Local Vision Assistant: grounded answers, with verified verbatim quotes, from one report."""

from assistant.config import Settings, get_settings
from assistant.types import Chunk, Passage, SearchFilters

__all__ = ["Chunk", "Passage", "SearchFilters", "Settings", "get_settings"]
