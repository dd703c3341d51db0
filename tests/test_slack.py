"""The Slack bot over real HTTP: signed events in, Slack Web API calls recorded by a local fake, answers from
a live assistant API."""

from __future__ import annotations

import json
import re
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlencode

import httpx
import pytest
from slack_sdk.signature import SignatureVerifier

from assistant.factory import Resources
from assistant.feedback import FeedbackStore
from assistant.prompts import REFUSAL_MESSAGE
from conftest import REPORT, LiveServer, free_port, with_settings
from tests.fake_slack import BOT_USER, FakeSlack
from ui.client import AssistantClient
from ui.slack import create_slack_app

SECRET = "test-signing-secret"
BCF = "How do we handle the Better Care Fund tension?"
FOLLOW_UP = "Why has that been so hard?"  # the issue's own follow-up: it leans on the previous question
PARTIAL = "How much money did the programmes save?"  # the report gives no amounts, but speaks to money


@pytest.fixture(scope="module")
def slack() -> Iterator[FakeSlack]:
    with FakeSlack() as fake:
        yield fake


def start_bot(settings, slack: FakeSlack, api_url: str, **changes: object) -> LiveServer:  # type: ignore[no-untyped-def]
    bot_settings = with_settings(
        settings,
        slack_bot_token="xoxb-test",
        slack_signing_secret=SECRET,
        slack_api_url=slack.url,
        api_url=api_url,
        **changes,
    )
    return LiveServer(create_slack_app(bot_settings, AssistantClient(api_url)))


@pytest.fixture(scope="module")
def bot(slack: FakeSlack, api_server: str, report_resources: Resources) -> Iterator[str]:
    with start_bot(report_resources.settings, slack, api_server) as server:
        yield server.url


@pytest.fixture(autouse=True)
def clean(slack: FakeSlack) -> None:
    slack.reset()


def signed_post(
    url: str,
    body: str,
    *,
    timestamp: int | None = None,
    secret: str = SECRET,
    content_type: str = "application/json",
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    ts = str(timestamp if timestamp is not None else int(time.time()))
    signature = SignatureVerifier(secret).generate_signature(timestamp=ts, body=body)
    all_headers = {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": signature, "Content-Type": content_type}
    return httpx.post(f"{url}/slack/events", content=body, headers={**all_headers, **(headers or {})}, timeout=10)


def event_body(event: dict, event_id: str | None = None) -> str:
    return json.dumps(
        {
            "token": "x",
            "team_id": "T1",
            "api_app_id": "A1",
            "type": "event_callback",
            "event_id": event_id or f"Ev{uuid.uuid4().hex[:10]}",
            "event_time": int(time.time()),
            "authorizations": [{"team_id": "T1", "user_id": BOT_USER, "is_bot": True}],
            "event": event,
        }
    )


def mention(text: str = BCF, ts: str = "1700000000.000001", user: str = "U1", thread_ts: str | None = None) -> dict:
    event = {
        "type": "app_mention",
        "user": user,
        "text": f"<@{BOT_USER}> {text}",
        "ts": ts,
        "channel": "C1",
        "event_ts": ts,
    }
    if thread_ts:
        event["thread_ts"] = thread_ts
    return event


def test_url_verification_challenge_is_answered(bot: str) -> None:
    response = signed_post(bot, json.dumps({"type": "url_verification", "challenge": "abc123", "token": "x"}))
    assert response.status_code == 200 and "abc123" in response.text


def blocks_of(update: dict) -> list[dict]:
    return json.loads(update["blocks"]) if isinstance(update["blocks"], str) else update["blocks"]


def block_texts(blocks: list[dict]) -> list[str]:
    """Every piece of text a reader sees in the blocks."""
    texts = []
    for b in blocks:
        if b["type"] == "section":
            texts.append(b["text"]["text"])
        elif b["type"] == "context":
            texts += [e["text"] for e in b["elements"]]
        elif b["type"] == "actions":
            texts += [e["text"]["text"] for e in b["elements"]]
    return texts


def test_mention_is_answered_once_with_each_quote_once(bot: str, slack: FakeSlack, api_server: str) -> None:
    started = time.monotonic()
    response = signed_post(bot, event_body(mention(ts="1700000001.000001")))
    assert response.status_code == 200 and time.monotonic() - started < 3.0  # acknowledged at once
    placeholder = slack.wait_for("chat.postMessage")[0]
    assert placeholder["thread_ts"] == "1700000001.000001" and placeholder["channel"] == "C1"
    blocks = blocks_of(slack.wait_for("chat.update")[0])
    answer = httpx.post(f"{api_server}/v1/ask", json={"question": BCF}, timeout=60).json()
    assert answer["citations"]
    everything = "\n".join(block_texts(blocks))
    report = REPORT.read_text("utf-8")
    for c in answer["citations"]:
        assert c["quote"] in report
        assert everything.count(c["quote"]) == 1, c["quote"]  # the answer once, each quote once
    contexts = [b["elements"][0]["text"] for b in blocks if b["type"] == "context"]
    assert all(any(f"*[{c['n']}]*" in x and c["quote"] in x for x in contexts) for c in answer["citations"])
    assert any("It's a system, not a poker game" in c for c in contexts)
    sections = [b["text"]["text"] for b in blocks if b["type"] == "section"]
    assert len(sections) == 1 and sections[0].startswith("The report speaks to this in")
    assert "corpus/" not in everything and "Searched for" not in everything
    actions = [b for b in blocks if b["type"] == "actions"]
    assert [e["action_id"] for e in actions[-1]["elements"]] == ["lva_feedback_up", "lva_feedback_down"]


def test_suggestion_button_asks_in_the_thread(bot: str, slack: FakeSlack) -> None:
    root = "1700000010.000001"
    signed_post(bot, event_body(mention(ts=root)))
    answered = slack.wait_for("chat.update")[0]
    blocks = blocks_of(answered)
    suggestions = [b for b in blocks if b.get("block_id") == "lva_suggestions"]
    assert suggestions, "an answer offers follow-up questions"
    buttons = suggestions[0]["elements"]
    assert 1 <= len(buttons) <= 3 and all(len(b["text"]["text"]) <= 75 for b in buttons)
    slack.reset()
    slack.thread_messages = [
        {"ts": root, "user": "U1", "text": f"<@{BOT_USER}> {BCF}"},
        {"ts": answered["ts"], "user": BOT_USER, "bot_id": "BBOT", "text": answered["text"]},
    ]
    clicked = buttons[0]
    payload = {
        "type": "block_actions",
        "team": {"id": "T1"},
        "user": {"id": "U7"},
        "api_app_id": "A1",
        "channel": {"id": "C1"},
        "message": {"ts": answered["ts"], "thread_ts": root},
        "container": {"type": "message", "channel_id": "C1", "message_ts": answered["ts"]},
        "trigger_id": "t",
        "response_url": "http://127.0.0.1:9/none",
        "actions": [{**clicked, "block_id": "lva_suggestions", "action_ts": "1"}],
    }
    response = signed_post(
        bot, urlencode({"payload": json.dumps(payload)}), content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 200
    placeholder = slack.wait_for("chat.postMessage")[0]
    assert placeholder["channel"] == "C1" and placeholder["thread_ts"] == root  # asked in the thread
    update = slack.wait_for("chat.update")[0]
    follow_up = blocks_of(update)
    assert f"<@U7> asked: _{clicked['value']}_" == follow_up[0]["elements"][0]["text"]
    assert any(b["type"] == "section" for b in follow_up) or "doesn't cover" in update["text"]
    assert slack.methods("conversations.replies")[0]["ts"] == root  # the thread's history went with it


def test_partly_covered_is_labelled(bot: str, slack: FakeSlack, api_server: str) -> None:
    answer = httpx.post(f"{api_server}/v1/ask", json={"question": PARTIAL}, timeout=60).json()
    assert answer["coverage"] == "partial", answer["answer"]
    signed_post(bot, event_body(mention(PARTIAL, ts="1700000011.000001")))
    texts = block_texts(blocks_of(slack.wait_for("chat.update")[0]))
    assert texts[0].startswith("*Partly covered*")
    assert answer["answer"].splitlines()[0].replace("*", "_") in "\n".join(texts)  # the API's line, in mrkdwn
    for c in answer["citations"]:
        assert "\n".join(texts).count(c["quote"]) == 1


@pytest.mark.parametrize("case", ["bad signature", "stale timestamp"])
def test_unverified_requests_get_401_and_do_nothing(bot: str, slack: FakeSlack, case: str) -> None:
    body = event_body(mention(ts="1700000002.000001"))
    if case == "bad signature":
        response = signed_post(bot, body, secret="not-the-secret")
    else:
        response = signed_post(bot, body, timestamp=int(time.time()) - 6 * 60)
    assert response.status_code == 401
    time.sleep(1.0)
    assert slack.methods("chat.postMessage") == [] and slack.methods("chat.update") == []


def test_retries_and_duplicate_deliveries_are_answered_once(bot: str, slack: FakeSlack) -> None:
    body = event_body(mention(ts="1700000003.000001"), event_id="EvDUPLICATE1")
    assert signed_post(bot, body).status_code == 200
    retry = signed_post(bot, body, headers={"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"})
    again = signed_post(bot, body)
    assert retry.status_code == 200 and again.status_code == 200
    slack.wait_for("chat.update")
    time.sleep(1.5)
    assert len(slack.methods("chat.postMessage")) == 1 and len(slack.methods("chat.update")) == 1


def test_thread_follow_up_carries_the_history(bot: str, slack: FakeSlack) -> None:
    root = "1700000004.000001"
    slack.thread_messages = [
        {"ts": root, "user": "U1", "text": f"<@{BOT_USER}> {BCF}"},
        {"ts": "1700000004.000002", "user": BOT_USER, "bot_id": "BBOT", "text": "The report speaks to this in …"},
        {"ts": "1700000004.000003", "user": "U1", "text": FOLLOW_UP},
    ]
    follow_up = {
        "type": "message",
        "channel_type": "channel",
        "user": "U1",
        "text": FOLLOW_UP,
        "ts": "1700000004.000003",
        "thread_ts": root,
        "channel": "C1",
        "event_ts": "1700000004.000003",
    }
    assert signed_post(bot, event_body(follow_up)).status_code == 200
    update = slack.wait_for("chat.update")[0]
    assert slack.wait_for("chat.postMessage")[0]["thread_ts"] == root
    assert slack.methods("conversations.replies")[0]["ts"] == root
    answering = [t for t in block_texts(blocks_of(update)) if t.startswith("Answering:")]
    assert answering and "better care fund" in answering[0].lower()


def test_direct_message_is_answered(bot: str, slack: FakeSlack) -> None:
    dm = {
        "type": "message",
        "channel_type": "im",
        "user": "U2",
        "text": "What did an enabler say about the critical mass for leadership?",
        "ts": "1700000005.000001",
        "channel": "D1",
        "event_ts": "1700000005.000001",
    }
    assert signed_post(bot, event_body(dm)).status_code == 200
    update = slack.wait_for("chat.update")[0]
    assert update["channel"] == "D1" and "100 people" in json.dumps(update["blocks"], ensure_ascii=False)


def test_refusal_is_polite_with_closest_passages(bot: str, slack: FakeSlack) -> None:
    signed_post(bot, event_body(mention("What is the capital of France?", ts="1700000006.000001")))
    update = slack.wait_for("chat.update")[0]
    assert update["text"] == REFUSAL_MESSAGE
    texts = block_texts(blocks_of(update))
    assert texts.count(REFUSAL_MESSAGE) == 1 and "*Related passages you might explore:*" in texts
    related = [t for t in texts if t.startswith("_")]
    assert related and not [t for t in related if re.search(r"\[\d+\]|““|””", t)]  # pointers, not citations


def test_feedback_button_posts_to_the_api(bot: str, slack: FakeSlack, report_resources: Resources) -> None:
    value = json.dumps({"q": BCF, "a": "slack answer text"})
    payload = {
        "type": "block_actions",
        "team": {"id": "T1"},
        "user": {"id": "U1"},
        "api_app_id": "A1",
        "channel": {"id": "C1"},
        "message": {"ts": "1700000007.000002", "thread_ts": "1700000007.000001"},
        "container": {"type": "message", "channel_id": "C1", "message_ts": "1700000007.000002"},
        "trigger_id": "t",
        "response_url": "http://127.0.0.1:9/none",
        "actions": [
            {
                "action_id": "lva_feedback_down",
                "block_id": "lva_feedback",
                "value": value,
                "type": "button",
                "action_ts": "1",
            }
        ],
    }
    body = urlencode({"payload": json.dumps(payload)})
    response = signed_post(bot, body, content_type="application/x-www-form-urlencoded")
    assert response.status_code == 200
    slack.wait_for("chat.postEphemeral")
    store = FeedbackStore(report_resources.settings.resolved_data_dir() / "feedback.sqlite3")
    rows = [r for r in store.export() if r["answer"] == "slack answer text"]
    store.close()
    assert rows and rows[-1]["rating"] == "down" and rows[-1]["question"] == BCF


def test_api_down_gives_an_apology_not_silence(slack: FakeSlack, report_resources: Resources) -> None:
    with start_bot(report_resources.settings, slack, f"http://127.0.0.1:{free_port()}") as dead:
        assert signed_post(dead.url, event_body(mention(ts="1700000008.000001"))).status_code == 200
        update = slack.wait_for("chat.update")[0]
    assert update["text"].startswith("Sorry") and "Traceback" not in json.dumps(update)


def test_per_user_rate_limit_is_friendly(slack: FakeSlack, api_server: str, report_resources: Resources) -> None:
    with start_bot(report_resources.settings, slack, api_server, slack_rate_limit="1/minute") as limited:
        signed_post(limited.url, event_body(mention(ts="1700000009.000001", user="U9")))
        slack.wait_for("chat.update")
        signed_post(limited.url, event_body(mention(ts="1700000009.000002", user="U9")))
        notes = slack.wait_for("chat.postMessage", count=2)
    assert "wait a minute" in notes[-1]["text"]


def test_manifest_is_valid_yaml_with_the_events(tmp_path: Path) -> None:
    import yaml

    from conftest import REPO

    manifest = yaml.safe_load((REPO / "ui" / "slack_manifest.yaml").read_text("utf-8"))
    events = manifest["settings"]["event_subscriptions"]["bot_events"]
    assert {"app_mention", "message.im", "message.channels"} <= set(events)
    assert manifest["settings"]["interactivity"]["is_enabled"] is True


@pytest.mark.parametrize(
    ("args", "env", "message"),
    [
        (["slack"], {}, "SLACK_SIGNING_SECRET is not set"),
        (["slack"], {"SLACK_SIGNING_SECRET": "s"}, "SLACK_BOT_TOKEN is not set"),
        (["slack", "--socket-mode"], {"SLACK_BOT_TOKEN": "xoxb-1"}, "needs SLACK_APP_TOKEN"),
    ],
)
def test_missing_slack_settings_are_one_clear_line(args: list[str], env: dict[str, str], message: str) -> None:
    import os
    import subprocess

    from conftest import VENV_BIN

    clean_env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "LVA_SLACK_"))}
    result = subprocess.run(
        [str(VENV_BIN / "lva"), *args], env={**clean_env, **env}, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 2 and message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
