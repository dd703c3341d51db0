"""Chroma-backed chunk index: collection generations behind a pointer, so readers never see a half-written one."""

from __future__ import annotations

import functools
import os
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import urlparse

from assistant.config import Settings
from assistant.errors import AssistantError, EmbeddingModelMismatch, IndexNotReady, IndexUnavailable
from assistant.records import CHUNK_UNIT, QUESTION_UNIT, AnchoredQuestion, chunk_from_record
from assistant.types import SECTION_SEPARATOR, Chunk, SearchFilters

if TYPE_CHECKING:
    from chromadb.api import ClientAPI
    from chromadb.api.models.Collection import Collection

PAGE = 2000


def connect_chroma(settings: Settings) -> ClientAPI:
    """An embedded `PersistentClient` under the data dir, or an `HttpClient` when `LVA_CHROMA_URL` is set."""
    import chromadb
    import httpx

    chroma_settings = chromadb.Settings(anonymized_telemetry=False, allow_reset=False)
    if settings.chroma_url:
        url = urlparse(settings.chroma_url)
        if url.scheme not in ("http", "https") or not url.hostname:
            raise IndexUnavailable(f"LVA_CHROMA_URL must look like http://host:port, got {settings.chroma_url!r}")
        try:
            client = chromadb.HttpClient(
                host=url.hostname,
                port=url.port or (443 if url.scheme == "https" else 8000),
                ssl=url.scheme == "https",
                settings=chroma_settings,
            )
            # chromadb's HTTP session has no timeout; a hung server must not hang us.
            client._server._session.timeout = httpx.Timeout(settings.chroma_timeout_s)  # type: ignore[attr-defined]
            client.heartbeat()
        except Exception as exc:  # chromadb raises bare Exception/ValueError for connection failures
            raise IndexUnavailable(
                f"cannot reach the Chroma server at {settings.chroma_url} ({exc.__class__.__name__}); "
                "start it with `chroma run` or unset LVA_CHROMA_URL"
            ) from None
        return client
    data_dir = settings.resolved_data_dir()
    ensure_writable_dir(data_dir)
    try:
        return chromadb.PersistentClient(path=str(data_dir / "chroma"), settings=chroma_settings)
    except Exception as exc:
        raise IndexUnavailable(f"cannot open the index at {data_dir / 'chroma'}: {exc}") from None


def ensure_writable_dir(path: Path) -> None:
    """Create the data dir if needed and prove it is writable, naming the path when it is not."""
    try:
        path.mkdir(parents=True, exist_ok=True)
        probe = path / f".write-probe-{os.getpid()}"
        probe.write_bytes(b"ok")
        probe.unlink()
    except OSError as exc:
        raise IndexUnavailable(f"data dir {path} is not writable ({exc.strerror or exc}); set LVA_DATA_DIR") from None


def where_clause(filters: SearchFilters | None) -> dict[str, Any] | None:
    """Translate search filters into a Chroma `where` clause."""
    if filters is None:
        return None
    clauses: list[dict[str, Any]] = []
    if filters.kind:
        clauses.append({"kind": filters.kind})
    if filters.section:
        clauses.append({"$or": [{"section": filters.section}, {"top_section": filters.section}]})
    if not clauses:
        return None
    return clauses[0] if len(clauses) == 1 else {"$and": clauses}


def matches_filters(chunk: Chunk, filters: SearchFilters | None) -> bool:
    """The same predicate as `where_clause`, for results that do not come from Chroma."""
    if filters is None:
        return True
    if filters.kind and chunk.kind != filters.kind:
        return False
    return not (filters.section and filters.section not in (chunk.section, chunk.section.split(SECTION_SEPARATOR)[0]))


@dataclass(frozen=True)
class EmbeddingRecord:
    """Which model made a generation's vectors, and their length: recorded on the collection at ingest."""

    model: str
    dimension: int

    def __str__(self) -> str:
        return f"{self.model} ({self.dimension} dimensions)"


def same_model(a: str, b: str) -> bool:
    """Whether two model names are one model: `sentence-transformers/all-MiniLM-L6-v2` as a server names it is the
    packaged `all-MiniLM-L6-v2`, so a corpus embedded on a server can be queried with the local model."""
    return a.rsplit("/", 1)[-1].lower() == b.rsplit("/", 1)[-1].lower()


def check_embedding_model(recorded: EmbeddingRecord | None, model: str, dimension: int | None) -> None:
    """Refuse to mix vector spaces: raise `EmbeddingModelMismatch`, naming both models, unless they are one."""
    if recorded is None:
        return  # an index from before models were recorded, or none yet
    if same_model(recorded.model, model) and dimension in (None, recorded.dimension):
        return
    mine = f"{model} ({dimension} dimensions)" if dimension else model
    raise EmbeddingModelMismatch(
        f"the index was embedded with {recorded} but the configured embedder is {mine}; configure "
        f"{recorded.model} again (LVA_EMBEDDINGS_URL, LVA_EMBEDDINGS_MODEL, LVA_EMBEDDING_MODEL), or run "
        f"`lva ingest --rebuild` to re-embed everything with {model}"
    )


def embedding_record(metadata: dict[str, Any] | None) -> EmbeddingRecord | None:
    """The embedding record in a collection's metadata, if it has one."""
    meta = metadata or {}
    if not meta.get("embedding_model"):
        return None
    return EmbeddingRecord(str(meta["embedding_model"]), int(meta.get("embedding_dimension") or 0))


F = TypeVar("F", bound=Callable[..., Any])


def store_call(func: F) -> F:
    """Turn any failure of the store (a killed server, a timeout, a corrupt file) into `IndexUnavailable`,
    so callers answer 503 rather than crash; our own errors pass through."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except AssistantError:
            raise
        except Exception as exc:
            raise IndexUnavailable(f"index store unavailable ({exc.__class__.__name__})") from None

    return wrapper  # type: ignore[return-value]


class ChunkIndex:
    """Chunk collections in Chroma; a pointer collection's metadata names the one being served."""

    def __init__(self, client: ClientAPI, prefix: str = "lva", refresh_s: float = 0.0) -> None:
        self.client = client
        self.prefix = prefix
        self.pointer_name = f"{prefix}-pointer"
        # Readers reuse the published collection's handle for up to refresh_s seconds: looking the pointer up
        # on every call costs several milliseconds per request. Old generations outlive that window.
        self.refresh_s = refresh_s
        self._handle: tuple[Collection, int, float] | None = None

    def _collection(self, name: str) -> Collection:
        # embedding_function=None: Chroma must never fall back to its downloading default.
        return self.client.get_collection(name, embedding_function=None)  # type: ignore[arg-type]

    def _pointer(self) -> dict[str, Any]:
        try:
            pointer = self.client.get_or_create_collection(self.pointer_name, embedding_function=None)  # type: ignore[arg-type]
        except Exception as exc:
            raise IndexUnavailable(f"index store unavailable ({exc.__class__.__name__}: {exc})") from None
        return dict(pointer.metadata or {})

    @store_call
    def active_name(self) -> str | None:
        """Name of the published collection, or None before the first ingest."""
        return self._pointer().get("active") or None

    @store_call
    def active(self) -> Collection:
        """The published collection; raises `IndexNotReady` before the first ingest."""
        return self._active_handle()[0]

    def _active_handle(self) -> tuple[Collection, int, float]:
        now = time.monotonic()
        handle = self._handle
        if handle is not None and now - handle[2] < self.refresh_s:
            return handle
        name = self.active_name()
        if not name:
            raise IndexNotReady("no index yet: run `lva ingest`")
        try:
            collection = self._collection(name)
        except Exception as exc:
            raise IndexUnavailable(f"published collection {name} cannot be opened: {exc}") from None
        self._handle = (collection, collection.count(), now)
        return self._handle

    @store_call
    def embedding_record(self) -> EmbeddingRecord | None:
        """The model and dimension that made the published generation (None before the first ingest)."""
        return embedding_record(self.active().metadata) if self.active_name() else None

    @store_call
    def count(self) -> int:
        """Chunks in the published collection (0 before the first ingest)."""
        return self.active().count() if self.active_name() else 0

    @store_call
    def all_chunks(self, collection: Collection | None = None) -> list[Chunk]:
        """Every chunk of a collection (default: the published one), in document order."""
        collection = collection or self.active()
        chunks: list[Chunk] = []
        offset = 0
        while True:
            page = collection.get(where=CHUNK_UNIT, include=["documents", "metadatas"], limit=PAGE, offset=offset)
            for cid, doc, meta in zip(page["ids"], page["documents"] or [], page["metadatas"] or [], strict=True):
                chunks.append(chunk_from_record(cid, doc or "", dict(meta or {})))
            if len(page["ids"]) < PAGE:
                break
            offset += PAGE
        chunks.sort(key=lambda c: (c.source, c.order))
        return chunks

    def get_chunk(self, chunk_id: str) -> Chunk | None:
        """One chunk of the published collection by id."""
        got = self.active().get(ids=[chunk_id], include=["documents", "metadatas"])
        if not got["ids"]:
            return None
        return chunk_from_record(
            got["ids"][0], (got["documents"] or [""])[0] or "", dict((got["metadatas"] or [{}])[0] or {})
        )

    @store_call
    def section_chunks(self, source: str, section: str) -> list[Chunk]:
        """All chunks of one section of one document, in order."""
        got = self.active().get(
            where={"$and": [{"source": source}, {"section": section}, CHUNK_UNIT]},
            include=["documents", "metadatas"],
        )
        chunks = [
            chunk_from_record(cid, doc or "", dict(meta or {}))
            for cid, doc, meta in zip(got["ids"], got["documents"] or [], got["metadatas"] or [], strict=True)
        ]
        return sorted(chunks, key=lambda c: c.order)

    @store_call
    def dense_query(
        self, embedding: Sequence[float], n: int, filters: SearchFilters | None = None, model: str | None = None
    ) -> list[tuple[Chunk, float]]:
        """The n chunks most similar to the query, scoring each chunk by its best vector; best first.
        `model` names the query's embedder: a query from another model than the index's is refused."""
        collection, total, _ = self._active_handle()
        recorded = embedding_record(collection.metadata)
        if recorded is not None:
            check_embedding_model(recorded, model or recorded.model, len(embedding))
        if total <= 0 or n <= 0:
            return []
        # Several vectors may belong to one chunk, so ask for 3n and keep each chunk's best.
        res = collection.query(
            query_embeddings=[list(embedding)],
            n_results=min(total, n * 3),
            where=where_clause(filters),
            include=["distances"],  # record ids name their chunk ("<chunk id>#s<n>"); no metadata to hydrate
        )
        best: dict[str, float] = {}
        for record_id, dist in zip(res["ids"][0], (res["distances"] or [[]])[0], strict=True):
            best.setdefault(record_id.split("#", 1)[0], 1.0 - float(dist))
        ranked = sorted(best.items(), key=lambda item: -item[1])[:n]
        chunks = self.get_chunks([cid for cid, _ in ranked])
        return [(chunks[cid], sim) for cid, sim in ranked if cid in chunks]

    @store_call
    def get_chunks(self, chunk_ids: Sequence[str]) -> dict[str, Chunk]:
        """Chunks of the published collection by id."""
        if not chunk_ids:
            return {}
        got = self.active().get(ids=list(chunk_ids), include=["documents", "metadatas"])
        return {
            cid: chunk_from_record(cid, doc or "", dict(meta or {}))
            for cid, doc, meta in zip(got["ids"], got["documents"] or [], got["metadatas"] or [], strict=True)
        }

    # --- writing: only ingest calls these -------------------------------------------------------

    def new_generation(self, embedding: EmbeddingRecord | None = None) -> Collection:
        """A fresh, unpublished collection in cosine space, recording which model embeds it."""
        name = f"{self.prefix}-chunks-{time.time_ns()}"
        metadata: dict[str, Any] = {"hnsw:space": "cosine"}
        if embedding is not None:
            metadata.update(embedding_model=embedding.model, embedding_dimension=embedding.dimension)
        return self.client.create_collection(
            name,
            metadata=metadata,
            embedding_function=None,  # type: ignore[arg-type]
        )

    @store_call
    def embeddings_for(self, ids: Iterable[str]) -> dict[str, list[float]]:
        """Stored vectors of the published collection, for carrying unchanged chunks into a new generation."""
        wanted = list(ids)
        if not wanted or not self.active_name():
            return {}
        collection = self.active()
        found: dict[str, list[float]] = {}
        for i in range(0, len(wanted), PAGE):
            got = collection.get(ids=wanted[i : i + PAGE], include=["embeddings"])
            embeddings = got["embeddings"]
            if embeddings is None:
                continue
            for cid, vec in zip(got["ids"], embeddings, strict=True):
                found[cid] = [float(x) for x in vec]
        return found

    @store_call
    def passage_questions(self) -> dict[str, list[tuple[AnchoredQuestion, list[float]]]]:
        """Every passage question of the published collection with its vector, by chunk id."""
        if not self.active_name():
            return {}
        got = self.active().get(where=QUESTION_UNIT, include=["documents", "metadatas", "embeddings"])
        out: dict[str, list[tuple[AnchoredQuestion, list[float]]]] = {}
        embeddings = got["embeddings"] if got["embeddings"] is not None else []
        for doc, meta, vec in zip(got["documents"] or [], got["metadatas"] or [], embeddings, strict=True):
            question = AnchoredQuestion(doc or "", int(meta["anchor_start"]), int(meta["anchor_end"]))  # type: ignore[arg-type]
            out.setdefault(str(meta["chunk_id"]), []).append((question, [float(x) for x in vec]))
        return out

    @store_call
    def active_record_ids(self) -> set[str]:
        """Ids of every vector record in the published collection."""
        if not self.active_name():
            return set()
        collection = self.active()
        ids: set[str] = set()
        offset = 0
        while True:
            page = collection.get(include=[], limit=PAGE, offset=offset)
            ids.update(page["ids"])
            if len(page["ids"]) < PAGE:
                return ids
            offset += PAGE

    def publish(self, name: str) -> None:
        """Atomically point readers at `name`; the previous generation is kept for readers still on it."""
        previous = self.active_name() or name
        pointer = self.client.get_or_create_collection(self.pointer_name, embedding_function=None)  # type: ignore[arg-type]
        pointer.modify(metadata={"active": name, "previous": previous, "published_at": time.time()})

    def collect_garbage(self) -> list[str]:
        """Drop generations that are neither published nor the one before it (e.g. left by a killed ingest)."""
        pointer = self._pointer()
        keep = {pointer.get("active"), pointer.get("previous"), self.pointer_name}
        dropped = []
        for collection in self.client.list_collections():
            name = collection if isinstance(collection, str) else collection.name
            if name.startswith(f"{self.prefix}-chunks-") and name not in keep:
                self.client.delete_collection(name)
                dropped.append(name)
        return dropped
