"""Ingest: corpus files → parsed documents → chunks → an index generation in Chroma."""

from ingest.chunk import chunk_document
from ingest.parse import SUPPORTED_SUFFIXES, parse_file
from ingest.pipeline import discover, ingest, load_chunks

__all__ = ["SUPPORTED_SUFFIXES", "chunk_document", "discover", "ingest", "load_chunks", "parse_file"]
