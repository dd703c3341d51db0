"""Hybrid retrieval: BM25 (bm25s) and dense (Chroma) rankings fused by reciprocal rank fusion."""

from __future__ import annotations

import math
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import bm25s
import numpy as np
from langchain_core.embeddings import Embeddings

from assistant.config import Settings
from assistant.embeddings import embedding_model_name
from assistant.errors import InputError
from assistant.glossary import Glossary
from assistant.index import ChunkIndex, matches_filters
from assistant.records import AnchoredQuestion
from assistant.sections import is_listing
from assistant.textnorm import tokenize
from assistant.types import SECTION_SEPARATOR, Chunk, Passage, SearchFilters

QUERY_CACHE_SIZE = 512
HEADING_FLOOR = 0.3  # a section title less similar than this to the query is no evidence either way


def reciprocal_rank_fusion(
    rankings: Sequence[Sequence[str]], weights: Sequence[float] | None = None, k: int = 60
) -> list[tuple[str, float]]:
    """Fuse ranked id lists: score(d) = Σ_i w_i / (k + rank_i(d)), ranks starting at 1; best first."""
    weights = weights or [1.0] * len(rankings)
    scores: dict[str, float] = {}
    for ranking, weight in zip(rankings, weights, strict=True):
        for rank, doc_id in enumerate(ranking, start=1):
            scores[doc_id] = scores.get(doc_id, 0.0) + weight / (k + rank)
    return sorted(scores.items(), key=lambda item: (-item[1], item[0]))


@dataclass
class _Bm25State:
    generation: str
    chunks: list[Chunk]
    model: bm25s.BM25 | None
    vocabulary: frozenset[str] = frozenset()
    listed_only: frozenset[str] = frozenset()  # tokens found only in the appendices that list names
    sections: list[tuple[str, str]] = field(default_factory=list)  # (source, section) per section document
    section_model: bm25s.BM25 | None = None
    section_of: dict[str, int] = field(default_factory=dict)  # chunk id → section document index
    headings: dict[str, np.ndarray] = field(default_factory=dict)  # section path → vector of its own title
    idf: dict[str, float] = field(default_factory=dict)  # stemmed token → log(1 + chunks / chunks with it)
    questions: dict[str, list[tuple[AnchoredQuestion, np.ndarray]]] = field(default_factory=dict)  # by chunk id


class HybridRetriever:
    """Built once per process; reloads its BM25 side when a new index generation is published."""

    def __init__(
        self, index: ChunkIndex, embedder: Embeddings, settings: Settings, glossary: Glossary | None = None
    ) -> None:
        self.index = index
        self.embedder = embedder
        self.settings = settings
        self.glossary = glossary or Glossary.packaged()
        self._state: _Bm25State | None = None
        self._checked_at = 0.0
        self._lock = threading.Lock()
        self._query_cache: dict[str, list[float]] = {}

    def embed_query(self, query: str) -> list[float]:
        """The query's vector, cached: the answer engine reuses the one retrieval computed."""
        cached = self._query_cache.get(query)
        if cached is None:
            cached = self.embedder.embed_query(query)
            if len(self._query_cache) >= QUERY_CACHE_SIZE:
                self._query_cache.pop(next(iter(self._query_cache)))
            self._query_cache[query] = cached
        return cached

    @property
    def vocabulary(self) -> frozenset[str]:
        """Every stemmed token of the served chunks and their section names."""
        return self._current().vocabulary

    @property
    def listed_only(self) -> frozenset[str]:
        """Tokens the report only lists (names in the appendices that list people and bodies) and never discusses:
        "Coventry" is on the steering group's list, but the report says nothing about what Coventry did."""
        return self._current().listed_only

    def idf(self) -> Callable[[str], float]:
        """Inverse document frequency of a stemmed token over the served chunks (rare words weigh more); a token
        the report never uses weighs as much as the rarest."""
        table = self._current().idf
        ceiling = max(table.values(), default=1.0)
        return lambda token: table.get(token, ceiling)

    @property
    def chunks(self) -> list[Chunk]:
        """Every chunk being served, in document order."""
        return self._current().chunks

    def _current(self) -> _Bm25State:
        now = time.monotonic()
        state = self._state
        if state is not None and now - self._checked_at < self.settings.index_refresh_s:
            return state
        with self._lock:
            generation = self.index.active_name() or ""
            self._checked_at = now
            if self._state is None or self._state.generation != generation:
                self._state = self._load(generation)
            return self._state

    def _load(self, generation: str) -> _Bm25State:
        if not generation:
            return _Bm25State(generation, [], None)
        chunks = self.index.all_chunks()
        questions = {
            cid: [(q, np.asarray(v, dtype=np.float32)) for q, v in rows]
            for cid, rows in (self.index.passage_questions() if self.settings.passage_questions else {}).items()
        }
        model = bm25s.BM25()
        tokens = tokenize([c.text for c in chunks])
        # BM25 also reads each chunk's passage questions (document expansion): a leader's words ("CCG", "blame each
        # other") then meet the chunk that answers them. The vocabulary stays the report's own words.
        expanded = tokenize([" ".join([c.text, *(q.text for q, _ in questions.get(c.id, []))]) for c in chunks])
        if chunks:
            model.index(expanded, show_progress=False)
        vocabulary = {t for doc in tokens for t in doc}
        prose = {t for c, doc in zip(chunks, tokens, strict=True) if not is_listing(c) for t in doc}
        frequency = Counter(t for doc in tokens for t in set(doc))
        idf = {t: math.log(1 + len(chunks) / n) for t, n in frequency.items()}
        vocabulary.update(t for doc in tokenize(sorted({f"{c.section} {c.title}" for c in chunks})) for t in doc)
        # One document per section (its heading path plus all its text), so a question that names a topic the
        # report gives a section to lifts every chunk of that section.
        keys = list(dict.fromkeys((c.source, c.section) for c in chunks))
        position = {key: i for i, key in enumerate(keys)}
        texts = {key: [key[1]] for key in keys}
        for c in chunks:
            texts[(c.source, c.section)].append(c.text)
        section_model = bm25s.BM25()
        if keys:
            section_model.index(tokenize([" ".join(texts[key]) for key in keys]), show_progress=False)
        section_of = {c.id: position[(c.source, c.section)] for c in chunks}
        # Each section's own title (the last part of its path), embedded once per generation: a question whose
        # words match a heading ("we keep blaming each other" ~ "The blame game") lifts that section.
        sections = list(dict.fromkeys(c.section for c in chunks))
        titles = [s.split(SECTION_SEPARATOR)[-1] for s in sections]
        vectors = self.embedder.embed_documents(titles) if titles and self.settings.heading_weight else []
        headings = {s: np.asarray(v, dtype=np.float32) for s, v in zip(sections, vectors, strict=False)}
        section_words = {t for doc in tokenize(sorted({c.section for c in chunks})) for t in doc}
        return _Bm25State(
            generation,
            chunks,
            model if chunks else None,
            vocabulary=frozenset(vocabulary),
            listed_only=frozenset(vocabulary - prose - section_words),
            sections=keys,
            section_model=section_model if keys else None,
            section_of=section_of,
            headings=headings,
            idf=idf,
            questions=questions,
        )

    def bm25_ranking(self, query: str, n: int, filters: SearchFilters | None = None) -> list[tuple[Chunk, float]]:
        """Top-n chunks by BM25 score (score > 0 only), honouring filters."""
        state = self._current()
        if state.model is None:
            return []
        tokens = tokenize([query])[0]
        if not tokens:
            return []
        scores = state.model.get_scores(tokens)
        if filters is not None and (filters.kind or filters.section):
            mask = np.fromiter((matches_filters(c, filters) for c in state.chunks), dtype=bool, count=len(state.chunks))
            scores = np.where(mask, scores, 0.0)
        n = min(n, len(scores))
        top = np.argpartition(-scores, n - 1)[:n]
        top = top[np.argsort(-scores[top], kind="stable")]
        return [(state.chunks[i], float(scores[i])) for i in top if scores[i] > 0]

    def section_ranking(self, query: str, candidates: list[Chunk]) -> list[str]:
        """Candidate chunk ids ordered by how well their whole section matches the query (BM25)."""
        state = self._current()
        tokens = tokenize([query])[0]
        if state.section_model is None or not tokens:
            return []
        scores = state.section_model.get_scores(tokens)
        scored = [(float(scores[state.section_of[c.id]]), c.id) for c in candidates if c.id in state.section_of]
        return [cid for score, cid in sorted(scored, key=lambda x: -x[0]) if score > 0]

    def expand(self, query: str) -> str:
        """The query plus the report's words for any public-sector jargon in it (assistant/glossary.yaml)."""
        return f"{query.strip()} {self.glossary.expansion(query)}".strip()

    def dense_text(self, query: str) -> str:
        """What the embedding model reads for a query: the query with its jargon expanded (measured on the leaders'
        dev split, better than the words as asked)."""
        return self.expand(query)

    def questions_of(self, chunk_id: str) -> list[tuple[AnchoredQuestion, np.ndarray]]:
        """A chunk's passage questions with their vectors (none when passage questions are off)."""
        return self._current().questions.get(chunk_id, [])

    def heading_scorer(self, query_vector: np.ndarray) -> Callable[[str], float]:
        """Cosine similarity of a query to a section's own title, by section path (0 for unknown sections)."""
        headings = self._current().headings
        scores = {section: float(vector @ query_vector) for section, vector in headings.items()}
        return lambda section: scores.get(section, 0.0)

    def heading_ranking(self, query_vector: np.ndarray, candidates: list[Chunk]) -> list[str]:
        """Candidate chunk ids ordered by how close their section's title is to the query (ties: document order)."""
        score = self.heading_scorer(query_vector)
        scored = [(score(c.section), c.order, c.id) for c in candidates]
        return [cid for s, _, cid in sorted(scored, key=lambda x: (-x[0], x[1])) if s >= HEADING_FLOOR]

    def search(self, query: str, k: int | None = None, filters: SearchFilters | None = None) -> list[Passage]:
        """The k best passages for a query (jargon expanded), fused from dense, BM25, section and heading
        rankings."""
        query = query.strip()
        if not query:
            raise InputError("empty query")
        asked, query = query, self.expand(query)
        k = k or self.settings.k
        n = max(self.settings.candidates, k)
        self._current()
        query_vector = self.embed_query(self.dense_text(asked))
        model = embedding_model_name(self.embedder)
        dense = self.index.dense_query(query_vector, n, filters, model=model)
        lexical = self.bm25_ranking(query, n, filters)
        by_id: dict[str, Chunk] = {c.id: c for c, _ in dense}
        by_id.update({c.id: c for c, _ in lexical})
        dense_rank = {c.id: r for r, (c, _) in enumerate(dense, start=1)}
        dense_sim = {c.id: s for c, s in dense}
        bm25_rank = {c.id: r for r, (c, _) in enumerate(lexical, start=1)}
        sections = self.section_ranking(query, list(by_id.values())) if self.settings.section_weight else []
        headings = (
            self.heading_ranking(np.asarray(query_vector, dtype=np.float32), list(by_id.values()))
            if self.settings.heading_weight
            else []
        )
        fused = reciprocal_rank_fusion(
            [[c.id for c, _ in dense], [c.id for c, _ in lexical], sections, headings],
            [
                self.settings.dense_weight,
                self.settings.bm25_weight,
                self.settings.section_weight,
                self.settings.heading_weight,
            ],
            self.settings.rrf_k,
        )
        return [
            Passage(
                **by_id[cid].model_dump(),
                score=score,
                dense_rank=dense_rank.get(cid),
                bm25_rank=bm25_rank.get(cid),
                dense_score=dense_sim.get(cid),
            )
            for cid, score in fused[:k]
        ]
