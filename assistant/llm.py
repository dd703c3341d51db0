"""The LangChain chat models an LLM writer can use: any OpenAI-compatible server, or llama.cpp in-process.

The writer that turns their output into a guarded answer is assistant/answering/writers/llm.py.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from pydantic import PrivateAttr

from assistant.config import Settings
from assistant.errors import LLMUnavailable


class LlamaCppChat(BaseChatModel):
    """A LangChain chat model over an in-process llama.cpp GGUF model (loaded once, used by one thread)."""

    model_path: str
    n_threads: int = 2
    n_ctx: int = 4096
    max_tokens: int = 320
    temperature: float = 0.0
    lock_timeout_s: float = 30.0
    _llama: Any = PrivateAttr(default=None)
    _lock: threading.Lock = PrivateAttr(default_factory=threading.Lock)

    @property
    def _llm_type(self) -> str:
        return "llamacpp-local"

    def _client(self) -> Any:
        if self._llama is None:
            from llama_cpp import Llama

            self._llama = Llama(model_path=self.model_path, n_ctx=self.n_ctx, n_threads=self.n_threads, verbose=False)
        return self._llama

    def _request(self, messages: list[BaseMessage], stop: list[str] | None) -> dict[str, Any]:
        roles = {"system": "system", "human": "user", "ai": "assistant"}
        return {
            "messages": [{"role": roles.get(m.type, "user"), "content": str(m.content)} for m in messages],
            "temperature": self.temperature,
            "max_tokens": self.max_tokens,
            "stop": stop or [],
        }

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        with self._exclusive():
            out = self._client().create_chat_completion(**self._request(messages, stop))
        content = out["choices"][0]["message"].get("content") or ""
        return ChatResult(generations=[ChatGeneration(message=AIMessage(content=content))])

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        with self._exclusive():
            parts = self._client().create_chat_completion(**self._request(messages, stop), stream=True)
            try:
                for part in parts:
                    delta = part["choices"][0].get("delta", {}).get("content")
                    if delta:
                        yield ChatGenerationChunk(message=AIMessageChunk(content=delta))
            finally:
                parts.close()  # a reader that went away must not leave llama.cpp mid-generation

    @contextlib.contextmanager
    def _exclusive(self) -> Iterator[None]:
        """One generation at a time (llama.cpp contexts are not thread-safe); never wait forever for the turn."""
        if not self._lock.acquire(timeout=self.lock_timeout_s):
            raise LLMUnavailable("the local model is busy")
        try:
            yield
        finally:
            self._lock.release()


def build_chat_model(settings: Settings) -> BaseChatModel:
    """The chat model `LVA_LLM` names; raises `LLMUnavailable` with what to do when it cannot be built."""
    if settings.llm == "openai":
        from langchain_openai import ChatOpenAI

        if not settings.llm_base_url:
            raise LLMUnavailable("LVA_LLM=openai needs LVA_LLM_BASE_URL (any OpenAI-compatible server)")
        return ChatOpenAI(
            base_url=settings.llm_base_url,
            model=settings.llm_model,
            api_key=settings.llm_api_key,
            timeout=settings.llm_timeout_s,
            max_retries=0,
            temperature=0,
            max_completion_tokens=settings.llm_max_tokens,
        )
    if settings.llm == "llamacpp":
        path = settings.resolved_llm_model_path()
        if not path.is_file():
            raise LLMUnavailable(f"no GGUF model at {path}; run `lva models pull {settings.llm_model}`")
        try:
            import llama_cpp  # noqa: F401
        except ImportError:
            raise LLMUnavailable("llama-cpp-python is not installed; pip install '.[local-llm]'") from None
        return LlamaCppChat(
            model_path=str(path),
            n_threads=settings.llm_threads,
            max_tokens=settings.llm_max_tokens,
            lock_timeout_s=settings.llm_timeout_s,
        )
    raise LLMUnavailable(f"LVA_LLM={settings.llm} is not an LLM engine")
