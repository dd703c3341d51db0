"""One settings object for the whole assistant, read from `LVA_*` environment variables."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Every tunable of the assistant. The README's configuration table is checked against this."""

    model_config = SettingsConfigDict(env_prefix="LVA_", env_file=".env", extra="ignore")

    data_dir: Path = Field(Path(".lva"), description="Where the embedded index, locks and feedback live.")
    corpus_dir: Path = Field(Path("corpus"), description="Documents ingested by default (`lva ingest`).")
    project_root: Path = Field(Path("."), description="`source` paths are reported relative to this folder.")
    chroma_url: str | None = Field(
        None, description="Use a Chroma server (`http://host:port`) instead of the embedded store."
    )
    chroma_timeout_s: float = Field(5.0, description="Connect/read timeout for a Chroma server.")
    collection_prefix: str = Field("lva", description="Prefix of the Chroma collections this index owns.")
    embedding_model: Path | None = Field(
        None, description="Path to a sentence-transformers model; default: the packaged all-MiniLM-L6-v2."
    )
    embed_batch_size: int = Field(32, ge=1, description="Texts per embedding batch.")
    embed_progress: bool = Field(True, description="Show a progress bar while embedding.")
    k: int = Field(5, ge=1, le=50, description="Passages returned by search.")
    candidates: int = Field(40, ge=1, description="Candidates taken from each of BM25 and dense before fusion.")
    rrf_k: int = Field(60, ge=1, description="Reciprocal-rank-fusion constant.")
    dense_weight: float = Field(1.0, ge=0, description="Weight of the dense ranking in fusion.")
    bm25_weight: float = Field(1.0, ge=0, description="Weight of the BM25 ranking in fusion.")
    index_refresh_s: float = Field(
        2.0, ge=0, description="How often a running retriever checks for a newly published index."
    )
    ingest_lock_timeout_s: float = Field(
        0.0, ge=0, description="How long `lva ingest` waits for another ingest to finish (0: refuse at once)."
    )

    def resolved_data_dir(self) -> Path:
        """The data dir as an absolute path."""
        return self.data_dir.expanduser().resolve()


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once from the environment."""
    return Settings()
