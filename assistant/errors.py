"""Domain errors. They are mapped to HTTP statuses and CLI exit codes only at the edges."""

from __future__ import annotations


class AssistantError(Exception):
    """Base of every error the assistant raises on purpose; `str()` is a one-line, actionable message."""

    code = "assistant_error"


class InputError(AssistantError):
    """The user gave input the assistant cannot use (a missing path, an empty file, an empty query)."""

    code = "bad_input"


class IngestError(InputError):
    """A document could not be parsed or chunked."""

    code = "ingest_failed"


class IngestBusy(AssistantError):
    """Another ingest holds the lock on this data dir."""

    code = "ingest_busy"


class IndexUnavailable(AssistantError):
    """The index store (embedded or a Chroma server) cannot be reached or opened."""

    code = "index_unavailable"


class IndexNotReady(AssistantError):
    """No index has been published yet: run `lva ingest`."""

    code = "index_not_ready"


class SourceNotFound(AssistantError):
    """No chunk has the requested id."""

    code = "source_not_found"


class FeedbackNotFound(AssistantError):
    """No stored rating has the requested id."""

    code = "feedback_not_found"


class LLMUnavailable(AssistantError):
    """The configured LLM failed, timed out or produced output that failed the guards."""

    code = "llm_unavailable"


class StorageUnavailable(AssistantError):
    """The feedback and conversations database cannot be reached; answers are unaffected."""

    code = "storage_unavailable"


class EmbeddingsUnavailable(IndexUnavailable):
    """The embedding model cannot be loaded, or the embeddings server cannot be reached or keeps failing."""

    code = "embeddings_unavailable"


class EmbeddingModelMismatch(IndexUnavailable):
    """The index was embedded by another model than the one configured: its vectors and the queries' would not
    share a space."""

    code = "embedding_model_mismatch"
