"""Who shares a rate-limit bucket, in-process (no Redis): keys, addresses, and end users behind trusted keys."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from assistant.api.main import create_app
from assistant.factory import Resources
from conftest import with_settings

MISSING = "/v1/conversations/no-such-conversation"


def statuses(client: TestClient, count: int, **headers: str) -> list[int]:
    return [client.get(MISSING, headers=headers).status_code for _ in range(count)]


def test_made_up_bearer_tokens_do_not_escape_the_address_limit_without_keys(
    report_resources: Resources, tmp_path: Path
) -> None:
    settings = with_settings(report_resources.settings, rate_limit="3/minute", data_dir=tmp_path)
    with TestClient(create_app(settings, report_resources)) as c:
        codes = [c.get(MISSING, headers={"Authorization": f"Bearer made-up-{i}"}).status_code for i in range(4)]
    assert codes == [404, 404, 404, 429]


def test_trusted_key_limits_each_user_and_untrusted_headers_are_ignored(
    report_resources: Resources, tmp_path: Path
) -> None:
    settings = with_settings(
        report_resources.settings,
        api_keys="plain",
        trusted_client_keys="ui-key",
        rate_limit="4/minute",
        user_rate_limit="2/minute",
        data_dir=tmp_path,
    )
    with TestClient(create_app(settings, report_resources)) as c:
        ui = {"Authorization": "Bearer ui-key"}
        assert statuses(c, 3, **ui, **{"X-LVA-User": "alice"}) == [404, 404, 429]
        assert statuses(c, 2, **ui, **{"X-LVA-User": "bob"}) == [404, 404]  # bob has his own bucket
        assert statuses(c, 5, **ui) == [404] * 4 + [429]  # no header: the key's own bucket, LVA_RATE_LIMIT
        plain = {"Authorization": "Bearer plain"}
        codes = [c.get(MISSING, headers={**plain, "X-LVA-User": f"u{i}"}).status_code for i in range(5)]
        assert codes == [404] * 4 + [429]  # an untrusted key's X-LVA-User chooses nothing
        assert c.get(MISSING, headers={"Authorization": "Bearer ui-key"}).status_code == 429
        assert c.get("/healthz").status_code == 200
