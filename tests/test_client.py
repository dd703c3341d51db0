"""The shared API client turns every failure into a message a person can act on."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.api.main import create_app
from assistant.factory import Resources
from conftest import LiveServer, free_port, with_settings
from tests.fake_openai import FakeOpenAI
from ui.client import ApiRateLimited, ApiTimeout, ApiUnauthorized, ApiUnavailable, AssistantClient


@pytest.fixture(scope="module")
def guarded_api(report_resources: Resources, tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    settings = with_settings(
        report_resources.settings,
        api_keys="secret-key",
        rate_limit="2/minute",
        data_dir=tmp_path_factory.mktemp("guarded"),
    )
    with LiveServer(create_app(settings, report_resources)) as server:
        yield server.url


def test_missing_key_is_explained(guarded_api: str) -> None:
    with pytest.raises(ApiUnauthorized, match="API key"):
        AssistantClient(guarded_api).ask("What is systems leadership?")


def test_rate_limit_is_explained_with_retry_after(guarded_api: str) -> None:
    client = AssistantClient(guarded_api, api_key="secret-key")
    client.search("trust")
    client.search("trust")
    with pytest.raises(ApiRateLimited, match="wait a moment") as info:
        client.search("trust")
    assert info.value.retry_after >= 1


def test_unreachable_and_slow_servers_are_explained(tmp_path: Path) -> None:
    with pytest.raises(ApiUnavailable, match="Can't reach the assistant"):
        AssistantClient(f"http://127.0.0.1:{free_port()}").ask("anything?")
    with FakeOpenAI() as slow:
        slow.delay = 2.0
        client = AssistantClient(slow.url.removesuffix("/v1"), timeout=0.5)
        with pytest.raises(ApiTimeout, match="took too long"):
            client.ask("anything?")
        with pytest.raises(ApiTimeout):
            list(client.ask_stream("anything?"))


def test_stream_yields_meta_deltas_done(api_server: str) -> None:
    events = list(AssistantClient(api_server).ask_stream("How do we handle the Better Care Fund tension?"))
    assert events[0][0] == "meta" and events[-1][0] == "done"
    assert "".join(d["text"] for e, d in events if e == "delta") == events[-1][1]["answer"]
