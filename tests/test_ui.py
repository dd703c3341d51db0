"""The Streamlit chat, driven by streamlit's AppTest against a live API server on a free port."""

from __future__ import annotations

import html

import pytest
from streamlit.testing.v1 import AppTest

from assistant.factory import Resources
from assistant.feedback import FeedbackStore
from conftest import REPO, free_port

APP = str(REPO / "ui" / "app.py")
BCF = "How do we handle the Better Care Fund tension?"


def app(monkeypatch: pytest.MonkeyPatch, url: str) -> AppTest:
    monkeypatch.setenv("LVA_API_URL", url)
    monkeypatch.delenv("LVA_API_KEY", raising=False)
    at = AppTest.from_file(APP, default_timeout=60)
    return at.run()


def html_text(at: AppTest) -> str:
    return "\n".join(h.proto.body for h in at.get("html"))


def ask(at: AppTest, question: str) -> AppTest:
    at.chat_input[0].set_value(question)
    return at.run()


def test_first_screen_has_description_starters_and_status(monkeypatch, api_server: str) -> None:  # type: ignore[no-untyped-def]
    at = app(monkeypatch, api_server)
    assert not at.exception and not at.error
    assert any("Revolution will be Improvised" in m.value for m in at.markdown)
    labels = [b.label for b in at.button]
    assert "How do we handle the Better Care Fund tension?" in labels
    assert any("Engine: **extractive**" in c.value for c in at.sidebar.caption)
    assert any("It's a system, not a poker game" in b.label for b in at.sidebar.button)


def test_asking_shows_quote_cards_and_opens_the_source(monkeypatch, api_server: str) -> None:  # type: ignore[no-untyped-def]
    at = ask(app(monkeypatch, api_server), BCF)
    assert not at.exception and not at.error
    cards = html.unescape(html_text(at))
    assert "lva-quote-text" in cards and "Better Care Fund" in cards
    assert "Enabler's words" in cards and "It's a system, not a poker game" in cards
    open_buttons = [b for b in at.button if b.label == "Open in report"]
    assert open_buttons
    at = open_buttons[0].click().run()
    assert '<mark class="lva-highlight">' in html_text(at)


def test_refusal_looks_different_and_suggests_passages(monkeypatch, api_server: str) -> None:  # type: ignore[no-untyped-def]
    at = ask(app(monkeypatch, api_server), "What is the capital of France?")
    page = html_text(at)
    assert "lva-refusal" in page and "doesn’t cover this" in page
    assert sum(b.label == "Open in report" for b in at.button) >= 1  # the closest passages


def test_follow_up_sends_the_history(monkeypatch, api_server: str) -> None:  # type: ignore[no-untyped-def]
    at = ask(app(monkeypatch, api_server), BCF)
    at = ask(at, "Why has that been so hard?")
    searched = [c.value for c in at.caption if c.value.startswith("Searched for:")]
    assert searched and "Better Care Fund" in searched[-1]


def test_feedback_is_posted(monkeypatch, api_server: str, report_resources: Resources) -> None:  # type: ignore[no-untyped-def]
    at = ask(app(monkeypatch, api_server), BCF)
    at.text_input(key="comment-1").set_value("clear and well sourced")
    at = at.button(key="fb-up-1").click().run()
    assert any("Thanks for the feedback" in c.value for c in at.caption)
    store = FeedbackStore(report_resources.settings.resolved_data_dir() / "feedback.sqlite3")
    rows = list(store.export())
    store.close()
    assert rows and rows[-1]["rating"] == "up" and rows[-1]["comment"] == "clear and well sourced"
    assert rows[-1]["question"] == BCF


def test_api_down_gives_a_friendly_message(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    url = f"http://127.0.0.1:{free_port()}"
    at = app(monkeypatch, url)
    assert not at.exception
    assert any("Can't reach the assistant" in e.value for e in at.sidebar.error)
    at = ask(at, BCF)
    assert not at.exception
    assert any("Can't reach the assistant" in e.value for e in at.error)
    assert all("Traceback" not in e.value for e in at.error)
