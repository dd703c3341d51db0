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


def test_the_slack_bot_asks_as_each_slack_user(report_resources: Resources, tmp_path: Path) -> None:
    """Behind a trusted key with 1 question per user per minute: two people are both answered; the same person's
    second question meets the API's per-user limit. So the bot sends each Slack user's id as X-LVA-User."""
    from conftest import LiveServer
    from tests.fake_slack import FakeSlack
    from tests.test_slack import SECRET, event_body, mention, signed_post
    from ui.client import AssistantClient
    from ui.slack import create_slack_app

    settings = with_settings(
        report_resources.settings,
        api_keys="plain",
        trusted_client_keys="bot-key",
        user_rate_limit="1/minute",
        data_dir=tmp_path,
    )
    with FakeSlack() as slack, LiveServer(create_app(settings, report_resources)) as api:
        bot_settings = with_settings(
            report_resources.settings,
            slack_bot_token="xoxb-test",
            slack_signing_secret=SECRET,
            slack_api_url=slack.url,
            api_url=api.url,
        )
        with LiveServer(create_slack_app(bot_settings, AssistantClient(api.url, "bot-key"))) as bot:
            for n, user in enumerate(["U-ANN", "U-BOB", "U-ANN"]):
                signed_post(bot.url, event_body(mention(ts=f"1700000200.00000{n}", user=user)))
                slack.wait_for("chat.update", count=n + 1)
        updates = [u["text"] for u in slack.methods("chat.update")]
    assert not updates[0].startswith("Sorry") and not updates[1].startswith("Sorry")
    assert "wait a minute" in updates[2]
