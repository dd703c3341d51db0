"""The default LangChain recipe: RecursiveCharacterTextSplitter(1000, 200) + MiniLM dense top-k in Chroma."""

from __future__ import annotations

from pathlib import Path

import chromadb
from langchain_core.embeddings import Embeddings
from langchain_text_splitters import RecursiveCharacterTextSplitter


class BaselineRetriever:
    """Fixed-size character chunks in an in-memory Chroma collection, dense search only."""

    def __init__(self, corpus_files: list[Path], embedder: Embeddings) -> None:
        splitter = RecursiveCharacterTextSplitter(chunk_size=1000, chunk_overlap=200)
        texts = [piece for f in corpus_files for piece in splitter.split_text(f.read_text(encoding="utf-8"))]
        self.embedder = embedder
        client = chromadb.EphemeralClient(settings=chromadb.Settings(anonymized_telemetry=False))
        self.collection = client.create_collection(
            "baseline-recipe",
            metadata={"hnsw:space": "cosine"},
            embedding_function=None,  # type: ignore[arg-type]
        )
        self.collection.add(
            ids=[str(i) for i in range(len(texts))], documents=texts, embeddings=embedder.embed_documents(texts)
        )

    def search(self, query: str, k: int) -> list[str]:
        """Texts of the top-k chunks."""
        res = self.collection.query(query_embeddings=[self.embedder.embed_query(query)], n_results=k)
        return list((res["documents"] or [[]])[0])
