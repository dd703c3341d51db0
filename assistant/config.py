"""One settings object for the whole assistant, read from `LVA_*` environment variables."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

from pydantic import AliasChoices, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

EngineName = Literal["extractive", "openai", "llamacpp"]


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
    tuned_encoder: bool = Field(
        True,
        description="Embed with the domain-tuned encoder `lva tune` built (`make index` builds it when missing); "
        "false, or none built yet: the packaged all-MiniLM-L6-v2. LVA_EMBEDDING_MODEL overrides both.",
    )
    coverage_model: bool = Field(
        True,
        description="Decide coverage with the classifier `lva tune` fitted; false, or none fitted yet: the hand rules.",
    )
    embedding_backend: Literal["torch", "onnx"] = Field(
        "onnx",
        description="Runtime of the local model: onnx (ONNX Runtime on a one-off export under "
        "`<data dir>/models/onnx/`; torch's vectors, faster on a CPU) or torch (sentence-transformers).",
    )
    embeddings_url: str | None = Field(
        None,
        description="Embed through an OpenAI-compatible server (`http://host:port/v1`: vLLM, TEI, Ollama, "
        "llama.cpp, OpenAI) instead of the local model.",
    )
    embeddings_model: str = Field(
        "sentence-transformers/all-MiniLM-L6-v2", description="Model name sent to the embeddings server."
    )
    embeddings_api_key: SecretStr = Field(SecretStr("not-needed"), description="API key for the embeddings server.")
    embeddings_timeout_s: float = Field(30.0, gt=0, description="Per-request timeout for the embeddings server.")
    embeddings_max_retries: int = Field(
        4, ge=0, description="Retries, with exponential backoff, on 429, 5xx, timeouts and refused connections."
    )
    embeddings_concurrency: int = Field(4, ge=1, description="Requests to the embeddings server in flight at once.")
    embed_batch_size: int = Field(32, ge=1, description="Texts per embedding batch.")
    embed_progress: bool = Field(True, description="Show a progress bar while embedding.")
    sentence_vectors: bool = Field(
        True, description="Also embed each sentence of multi-sentence chunks (better recall, ~2x ingest cost)."
    )
    passage_questions: bool = Field(
        True,
        description="Also embed the questions each passage answers (`corpus/*.questions.yaml`), so a leader's "
        "wording meets the passage that answers it.",
    )
    k: int = Field(5, ge=1, le=50, description="Passages returned by search.")
    candidates: int = Field(40, ge=1, description="Candidates taken from each of BM25 and dense before fusion.")
    rrf_k: int = Field(20, ge=1, description="Reciprocal-rank-fusion constant.")
    dense_weight: float = Field(1.0, ge=0, description="Weight of the dense ranking in fusion.")
    bm25_weight: float = Field(1.0, ge=0, description="Weight of the BM25 ranking in fusion.")
    section_weight: float = Field(
        1.0, ge=0, description="Weight, in fusion, of ranking candidates by how well their whole section matches."
    )
    heading_weight: float = Field(
        0.5, ge=0, description="Weight, in fusion, of ranking candidates by how close their section title is."
    )
    index_refresh_s: float = Field(
        2.0, ge=0, description="How often a running retriever checks for a newly published index."
    )
    ingest_lock_timeout_s: float = Field(
        0.0, ge=0, description="How long `lva ingest` waits for another ingest to finish (0: refuse at once)."
    )

    # --- answering ---------------------------------------------------------------------------------
    llm: EngineName = Field("extractive", description="Answer engine: extractive (no LLM), openai or llamacpp.")
    llm_base_url: str | None = Field(None, description="OpenAI-compatible base URL (Ollama, vLLM, llama.cpp, OpenAI).")
    llm_model: str = Field("qwen-1.5b", description="Model name for `openai`; model key or GGUF name for `llamacpp`.")
    llm_api_key: SecretStr = Field(SecretStr("not-needed"), description="API key for the `openai` engine.")
    llm_model_path: Path | None = Field(
        None, description="GGUF file for `llamacpp`; default: `<data dir>/models/<LVA_LLM_MODEL>.gguf`."
    )
    llm_timeout_s: float = Field(30.0, gt=0, description="After this, an LLM answer falls back to extractive.")
    llm_max_tokens: int = Field(320, ge=16, description="Most tokens an LLM may write per answer.")
    llm_threads: int = Field(2, ge=1, description="CPU threads for the in-process llama.cpp model.")
    llm_passages: int = Field(4, ge=1, le=10, description="Passages shown to an LLM (their best two sentences each).")
    answer_passages: int = Field(6, ge=1, le=20, description="Passages the answer engine reads.")
    answer_points: int = Field(4, ge=1, le=8, description="Most quoted points in an answer.")
    answer_type_rule: bool = Field(
        True, description="A question asking for a figure, amount, date or contact the evidence lacks is partial."
    )
    unknown_terms_rule: bool = Field(
        True,
        description="A question naming something the report never mentions, or mostly in words it never uses, is "
        "partial.",
    )
    not_covered_below: float = Field(
        0.32, description="Best evidence below this: the report doesn't cover the question (calibrated on dev)."
    )
    answered_from: float = Field(
        0.54, description="Best evidence from this up: answered; between the two: partial (calibrated on dev)."
    )

    # --- HTTP API ------------------------------------------------------------------------------------
    host: str = Field("127.0.0.1", description="Address `lva serve` binds.")
    port: int = Field(8000, ge=1, le=65535, description="Port `lva serve` binds.")
    workers: int = Field(1, ge=1, description="Uvicorn worker processes for `lva serve`.")
    api_keys: Annotated[list[SecretStr], NoDecode] = Field(
        default_factory=list, description="Comma-separated bearer keys; when set, /v1/* requires one."
    )
    rate_limit: str = Field("60/minute", description="Per key (or per IP without keys) limit, e.g. `60/minute`.")
    cors_origins: Annotated[list[str], NoDecode] = Field(
        default_factory=list, description="Comma-separated origins allowed by CORS."
    )
    max_body_bytes: int = Field(65_536, ge=1024, description="Largest request body accepted (413 above).")
    api_url: str = Field("http://127.0.0.1:8000", description="Where clients (UI, Slack bot, evals) reach the API.")
    api_key: SecretStr | None = Field(None, description="Bearer key the clients send to the API.")
    log_level: str = Field("info", description="Log level of the API's JSON logs.")
    trusted_client_keys: Annotated[list[SecretStr], NoDecode] = Field(
        default_factory=list,
        description="Comma-separated keys of clients (UI, Slack bot) whose `X-LVA-User` header picks a per-user "
        "limit; also accepted as API keys when LVA_API_KEYS is set.",
    )
    user_rate_limit: str = Field("30/minute", description="Per end-user limit behind a trusted client key.")

    # --- shared state: Redis and the database (both optional) ----------------------------------------
    redis_url: str | None = Field(
        None, description="Redis (`redis://host:6379/0`) for shared rate limits, Slack de-dup and the answer cache."
    )
    redis_timeout_s: float = Field(0.5, gt=0, description="Connect/read timeout for Redis; past it, in-process.")
    answer_cache_ttl_s: int = Field(3600, ge=0, description="How long Redis keeps a cached answer (0: no cache).")
    database_url: SecretStr | None = Field(
        None,
        description="SQLAlchemy URL (`postgresql://user:pass@host/db`) for feedback and conversations; default: "
        "SQLite at `<data dir>/feedback.sqlite3`.",
    )
    database_timeout_s: float = Field(3.0, gt=0, description="Connect timeout for the database (503 past it).")

    # --- Slack bot (Slack's own variable names are accepted, as Slack's docs use them) ----------------
    slack_bot_token: SecretStr | None = Field(
        None,
        validation_alias=AliasChoices("SLACK_BOT_TOKEN", "LVA_SLACK_BOT_TOKEN"),
        description="Bot token (xoxb-…) the bot posts with.",
    )
    slack_signing_secret: SecretStr | None = Field(
        None,
        validation_alias=AliasChoices("SLACK_SIGNING_SECRET", "LVA_SLACK_SIGNING_SECRET"),
        description="Verifies that requests come from Slack (HTTP mode).",
    )
    slack_app_token: SecretStr | None = Field(
        None,
        validation_alias=AliasChoices("SLACK_APP_TOKEN", "LVA_SLACK_APP_TOKEN"),
        description="App-level token (xapp-…) for `--socket-mode`.",
    )
    slack_port: int = Field(3000, ge=1, le=65535, description="Port of the bot's `POST /slack/events` endpoint.")
    slack_api_url: str | None = Field(None, description="Override of the Slack Web API base URL (tests, proxies).")
    slack_rate_limit: str = Field("10/minute", description="Questions per Slack user, e.g. `10/minute`.")

    @field_validator("api_keys", "cors_origins", "trusted_client_keys", mode="before")
    @classmethod
    def _comma_separated(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    def resolved_data_dir(self) -> Path:
        """The data dir as an absolute path."""
        return self.data_dir.expanduser().resolve()

    def resolved_llm_model_path(self) -> Path:
        """The GGUF file the `llamacpp` engine loads."""
        return self.llm_model_path or self.resolved_data_dir() / "models" / f"{self.llm_model}.gguf"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once from the environment."""
    return Settings()
