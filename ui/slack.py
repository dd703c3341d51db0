"""The Slack bot (`lva slack`): mentions, DMs and thread follow-ups answered through the assistant's HTTP API.

A separate process from the API, so it scales and deploys on its own. Slack requests are verified with the
signing secret by slack_bolt (5-minute replay window); every event is acknowledged at once and answered on a
worker thread; the same event is never answered twice, by one bot process or many (with `LVA_REDIS_URL`, the event
id is claimed in Redis with SET NX EX; without it, per process).
"""

from __future__ import annotations

import json
import logging
import re
from typing import Any

from fastapi import FastAPI, Request
from limits import parse
from slack_bolt import App, BoltRequest, BoltResponse
from slack_bolt.adapter.fastapi import SlackRequestHandler
from slack_sdk import WebClient

from assistant.config import Settings
from assistant.errors import InputError
from assistant.shared import Once, RedisLink, SharedLimiter
from ui.client import ApiError, ApiRateLimited, AssistantClient
from ui.slack_blocks import APOLOGY, EMPTY_QUESTION, RATE_LIMITED, answer_blocks, apology_blocks, asked_by

log = logging.getLogger("lva.slack")
MENTION = re.compile(r"<@[A-Z0-9]+>")
THINKING = "Looking that up in the report…"
HISTORY_TURNS = 20


def question_text(text: str) -> str:
    """The message without mentions of the bot."""
    return " ".join(MENTION.sub(" ", text or "").split())


class LocalVisionBot:
    """The listeners, with their collaborators handed in."""

    def __init__(self, assistant: AssistantClient, rate_limit: str, link: RedisLink | None = None) -> None:
        self.assistant = assistant
        self.limit = parse(rate_limit)
        self.limiter = SharedLimiter(link)
        self.seen = Once(link, "lva:slack:event", ttl_s=3600)  # an hour: Slack retries within minutes

    # --- middleware ---------------------------------------------------------------------------------

    def once_per_event(self, req: BoltRequest, resp: BoltResponse, next: Any) -> BoltResponse:  # noqa: A002
        """Acknowledge duplicates without acting: the same event id, or a retry Slack sent because we were slow."""
        event_id = req.body.get("event_id") if isinstance(req.body, dict) else None
        retry_reason = (req.headers.get("x-slack-retry-reason") or [""])[0]
        if event_id and not self.seen.first_time(event_id):
            return BoltResponse(status=200, body="")
        if (req.headers.get("x-slack-retry-num") or [None])[0] and retry_reason == "http_timeout":
            return BoltResponse(status=200, body="")  # the first delivery arrived and is being answered
        return next()

    # --- listeners ----------------------------------------------------------------------------------

    def on_mention(self, event: dict[str, Any], client: WebClient, context: Any) -> None:
        thread = event.get("thread_ts") or event["ts"]
        self.answer(client, event, thread, context.get("bot_user_id"))

    def on_message(self, event: dict[str, Any], client: WebClient, context: Any) -> None:
        if event.get("subtype") or event.get("bot_id"):
            return
        bot_user = context.get("bot_user_id")
        if event.get("channel_type") == "im":
            self.answer(client, event, event.get("thread_ts"), bot_user)
            return
        thread = event.get("thread_ts")
        if not thread or (bot_user and f"<@{bot_user}>" in event.get("text", "")):
            return  # not a thread reply, or a mention (answered by on_mention)
        replies = self._replies(client, event["channel"], thread)
        if any(m.get("user") == bot_user or m.get("bot_id") for m in replies):
            self.answer(client, event, thread, bot_user, replies)

    def on_feedback(self, ack: Any, body: dict[str, Any], action: dict[str, Any], client: WebClient) -> None:
        ack()
        data = json.loads(action.get("value") or "{}")
        rating = "up" if action["action_id"].endswith("_up") else "down"
        channel = (body.get("channel") or {}).get("id")
        user = (body.get("user") or {}).get("id")
        try:
            self.assistant.for_user(user).feedback(data.get("q") or "(unknown)", data.get("a") or "(unknown)", rating)
            text = "Thanks for the feedback — it helps us improve the assistant."
        except ApiError as exc:
            log.warning("feedback not stored: %s", exc.kind)
            text = "Sorry — I couldn't save that feedback just now."
        if channel and user:
            message = body.get("message") or {}
            client.chat_postEphemeral(channel=channel, user=user, text=text, thread_ts=message.get("thread_ts"))

    def on_suggestion(
        self, ack: Any, body: dict[str, Any], action: dict[str, Any], client: WebClient, context: Any
    ) -> None:
        """A suggested follow-up button: ask its question in the answer's thread, as the person who clicked."""
        ack()
        channel = (body.get("channel") or {}).get("id") or (body.get("container") or {}).get("channel_id")
        user = (body.get("user") or {}).get("id")
        message = body.get("message") or {}
        thread = message.get("thread_ts") or message.get("ts") or (body.get("container") or {}).get("message_ts")
        question = (action.get("value") or "").strip()
        if channel and question:
            event = {"channel": channel, "user": user, "text": question, "ts": ""}
            self.answer(client, event, thread, context.get("bot_user_id"), asked=user)

    # --- answering ----------------------------------------------------------------------------------

    def answer(
        self,
        client: WebClient,
        event: dict[str, Any],
        thread: str | None,
        bot_user: str | None,
        replies: list[dict[str, Any]] | None = None,
        asked: str | None = None,
    ) -> None:
        channel = event["channel"]
        question = question_text(event.get("text", ""))
        if not question:
            client.chat_postMessage(channel=channel, thread_ts=thread, text=EMPTY_QUESTION)
            return
        if not self.limiter.hit(self.limit, "slack", event.get("user") or "unknown")[0]:
            client.chat_postMessage(channel=channel, thread_ts=thread, text=RATE_LIMITED)
            return
        placeholder = client.chat_postMessage(channel=channel, thread_ts=thread, text=THINKING)
        history: list[dict[str, str]] = []
        if thread:
            if replies is None:
                replies = self._replies(client, channel, thread)
            history = self._history(replies, event["ts"], bot_user)
        try:
            text, blocks = answer_blocks(question, self.assistant.for_user(event.get("user")).ask(question, history))
        except ApiRateLimited:
            text, blocks = apology_blocks(RATE_LIMITED)
        except ApiError as exc:
            log.warning("assistant API failed: %s", exc.kind)
            text, blocks = apology_blocks(APOLOGY)
        if asked:  # a suggestion button leaves no message of its own: say who asked what
            blocks = [asked_by(asked, question), *blocks]
        client.chat_update(channel=channel, ts=placeholder["ts"], text=text, blocks=blocks)

    @staticmethod
    def _replies(client: WebClient, channel: str, thread: str) -> list[dict[str, Any]]:
        try:
            return list(client.conversations_replies(channel=channel, ts=thread, limit=100).get("messages", []))
        except Exception as exc:  # a missing scope or a deleted thread must not stop the answer
            log.warning("no thread history: %s", exc)
            return []

    @staticmethod
    def _history(replies: list[dict[str, Any]], current_ts: str, bot_user: str | None) -> list[dict[str, str]]:
        turns = []
        for m in replies:
            if m.get("ts") == current_ts or m.get("text") in (THINKING, ""):
                continue
            role = "assistant" if (m.get("bot_id") or (bot_user and m.get("user") == bot_user)) else "user"
            content = question_text(m.get("text", "")) if role == "user" else m.get("text", "")
            if content:
                turns.append({"role": role, "content": content[:4000]})
        return turns[-HISTORY_TURNS:]


def build_bolt_app(settings: Settings, assistant: AssistantClient | None = None) -> App:
    """The Bolt app with every listener; tokens and URLs from settings."""
    if settings.slack_bot_token is None:
        raise InputError("SLACK_BOT_TOKEN is not set (the bot's xoxb- token)")
    token = settings.slack_bot_token.get_secret_value()
    if assistant is None:
        key = settings.api_key.get_secret_value() if settings.api_key else None
        assistant = AssistantClient(settings.api_url, key)
    client = WebClient(token=token, base_url=settings.slack_api_url or WebClient.BASE_URL)
    signing_secret = settings.slack_signing_secret.get_secret_value() if settings.slack_signing_secret else None
    app = App(token=token, client=client, signing_secret=signing_secret, process_before_response=False)
    bot = LocalVisionBot(assistant, settings.slack_rate_limit, RedisLink.from_settings(settings))
    app.middleware(bot.once_per_event)
    app.event("app_mention")(bot.on_mention)
    app.event("message")(bot.on_message)
    app.action(re.compile(r"^lva_feedback_(up|down)$"))(bot.on_feedback)
    app.action(re.compile(r"^lva_ask_\d+$"))(bot.on_suggestion)
    return app


def create_slack_app(settings: Settings, assistant: AssistantClient | None = None) -> FastAPI:
    """HTTP Events API mode: `POST /slack/events` (signature-checked by Bolt) and `GET /healthz`."""
    if settings.slack_signing_secret is None:
        raise InputError("SLACK_SIGNING_SECRET is not set; HTTP mode cannot verify requests without it")
    handler = SlackRequestHandler(build_bolt_app(settings, assistant))
    api = FastAPI(title="Local Vision Assistant — Slack bot", docs_url=None, redoc_url=None)

    @api.post("/slack/events")
    async def slack_events(request: Request) -> Any:
        return await handler.handle(request)

    @api.get("/healthz")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return api
