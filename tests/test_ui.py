"""The Streamlit chat, driven by streamlit's AppTest against a live API server on a free port."""

from __future__ import annotations

import contextlib
import html
import re
import socket
import threading
from collections.abc import Iterator

import pytest
from streamlit.testing.v1 import AppTest

from assistant.factory import Resources
from assistant.feedback import FeedbackStore
from assistant.prompts import REFUSAL_MESSAGE
from conftest import REPO, REPORT, free_port

APP = str(REPO / "ui" / "app.py")
BCF = "How do we handle the Better Care Fund tension?"
FOLLOW_UP = "Why has that been so hard?"  # the issue's own follow-up: it leans on the previous question
PARTIAL = "How much money did the programmes save?"  # the report gives no amounts, but speaks to money
UNAVAILABLE = "The assistant is unavailable right now — try again in a minute."
EMOJI = re.compile("[\U0001f300-\U0001faff\u2600-\u27bf]")


def app(monkeypatch: pytest.MonkeyPatch, url: str, conversation: str | None = None) -> AppTest:
    monkeypatch.setenv("LVA_API_URL", url)
    monkeypatch.delenv("LVA_API_KEY", raising=False)
    at = AppTest.from_file(APP, default_timeout=60)
    if conversation:
        at.query_params["c"] = conversation
    return at.run()


def html_text(at: AppTest) -> str:
    return html.unescape("\n".join(h.proto.body for h in at.get("html") if "<style>" not in h.proto.body))


def answer_html(at: AppTest) -> list[str]:
    return [html.unescape(h.proto.body) for h in at.get("html") if 'class="lva-answer"' in h.proto.body]


def ask(at: AppTest, question: str) -> AppTest:
    at.chat_input[0].set_value(question)
    return at.run()


def healthy(at: AppTest) -> None:
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]


def the_answers(at: AppTest) -> list[dict]:
    return [m["answer"] for m in at.session_state["messages"] if m["role"] == "assistant"]


class Forwarder:
    """A port that refuses connections until started, then forwards to the API: the assistant coming back."""

    def __init__(self, target: str) -> None:
        self.target = ("127.0.0.1", int(target.rsplit(":", 1)[1]))
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.server: socket.socket | None = None

    def start(self) -> None:
        self.server = socket.create_server(("127.0.0.1", self.port))
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        assert self.server
        while True:
            try:
                client, _ = self.server.accept()
            except OSError:
                return
            upstream = socket.create_connection(self.target)
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    @staticmethod
    def _pump(src: socket.socket, dst: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while data := src.recv(65536):
                dst.sendall(data)
        for s in (src, dst):
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)

    def close(self) -> None:
        if self.server:
            self.server.close()


@pytest.fixture
def flaky_api(api_server: str) -> Iterator[Forwarder]:
    forwarder = Forwarder(api_server)
    yield forwarder
    forwarder.close()


def test_first_screen_speaks_plainly(monkeypatch, api_server: str) -> None:  # type: ignore[no-untyped-def]
    at = app(monkeypatch, api_server)
    healthy(at)
    assert any("Revolution will be Improvised" in m.value for m in at.markdown)
    assert BCF in [b.label for b in at.button]
    sidebar = [c.value for c in at.sidebar.caption]
    assert any("Answers are quotes from the report" in c for c in sidebar)
    assert any(c.endswith("Connected") for c in sidebar)
    assert not any("Engine" in c or "Index" in c or "passages" in c for c in sidebar)
    # The contents are a tree: "The hurdles" holds its subsections; the title page is not a section to read.
    hurdles = next(e for e in at.sidebar.expander if e.label == "The hurdles")
    assert "It's a system, not a poker game" in [b.label for b in hurdles.button]
    assert "The Revolution will be Improvised" not in [b.label for b in at.sidebar.button]
    labels = [b.label for b in at.button] + [e.label for e in at.expander]
    assert not [label for label in labels if EMOJI.search(label)]  # icons come from Material, not emoji fonts


def test_answer_is_compact_with_clickable_markers_and_collapsed_sources(monkeypatch, api_server: str) -> None:  # type: ignore[no-untyped-def]
    at = ask(app(monkeypatch, api_server), BCF)
    healthy(at)
    answer = the_answers(at)[-1]
    citations = answer["citations"]
    assert len(citations) >= 2
    body = answer_html(at)[-1]
    for c in citations:
        assert f'data-card="card-1-{c["n"]}"' in body and f">[{c['n']}]</a></sup>" in body
        assert body.count(" ".join(c["quote"].split())) == 1  # the answer says each quote once
    assert "The report speaks to this in" in body
    sources = next(e for e in at.expander if e.label.startswith("Sources"))
    assert sources.label == f"Sources ({len(citations)})" and not sources.proto.expanded
    cards = [html.unescape(h.proto.body) for h in sources.get("html")]
    assert len(cards) == len(citations)
    for card, c in zip(cards, citations, strict=True):
        assert f"[{c['n']}]" in card and c["section"] in card and " ".join(c["quote"].split()) in card
    page = html_text(at)
    assert "corpus/" not in page and "Searched for" not in page  # one document: no file paths, no raw query
    assert "Enabler's words" in page and "It's a system, not a poker game" in page
    assert at.get("feedback"), "native thumbs under the answer"
    assert not at.text_input and not at.text_area  # no always-open comment box


def test_open_in_report_highlights_exactly_the_quote(monkeypatch, api_server: str) -> None:  # type: ignore[no-untyped-def]
    at = ask(app(monkeypatch, api_server), BCF)
    quote = the_answers(at)[-1]["citations"][1]["quote"]
    at = at.button(key="open-1-2").click().run()
    healthy(at)
    dialog = html_text(at)
    marked = re.findall(r'<mark class="lva-highlight">(.*?)</mark>', dialog, re.S)
    assert marked == [quote]


def test_not_covered_is_one_sentence_and_related_passages(monkeypatch, api_server: str) -> None:  # type: ignore[no-untyped-def]
    at = ask(app(monkeypatch, api_server), "What is the capital of France?")
    healthy(at)
    answer = the_answers(at)[-1]
    assert answer["coverage"] == "not_covered" and not answer["answerable"]
    said = [m.value for m in at.main.markdown if "cover" in m.value]
    assert said == [REFUSAL_MESSAGE]
    assert "Related passages you might explore" in [c.value for c in at.caption]
    related = [b for b in at.button if (b.key or "").startswith("related-")]
    assert related and len(related) == len(answer["closest"])
    for b in related:
        assert not re.search(r"\[\d+\]", b.label) and "““" not in b.label and "””" not in b.label
    assert not [e for e in at.expander if e.label.startswith("Sources")]  # related passages are not citations
    at = related[0].click().run()
    marked = re.findall(r'<mark class="lva-highlight">(.*?)</mark>', html_text(at), re.S)
    assert marked and marked[0] in REPORT.read_text("utf-8")


def test_partial_answer_is_labelled(monkeypatch, api_server: str) -> None:  # type: ignore[no-untyped-def]
    at = ask(app(monkeypatch, api_server), PARTIAL)
    healthy(at)
    answer = the_answers(at)[-1]
    assert answer["coverage"] == "partial", answer["answer"]
    assert any("Partly covered" in m.value for m in at.markdown)  # st.badge renders as a markdown badge
    note = answer["answer"].splitlines()[0].replace("*", "")  # the API's own line, shown as it wrote it
    assert note in re.sub(r"<[^>]+>", "", answer_html(at)[-1])


def test_suggestion_buttons_ask_the_question(monkeypatch, api_server: str) -> None:  # type: ignore[no-untyped-def]
    at = ask(app(monkeypatch, api_server), BCF)
    suggested = the_answers(at)[-1]["suggestions"]
    assert 1 <= len(suggested) <= 3  # how many is the API's call (its contract says 2–3); the chat shows them all
    buttons = [b for b in at.button if (b.key or "").startswith("suggestion-1-")]
    assert [b.label for b in buttons] == suggested
    at = buttons[0].click().run()
    healthy(at)
    messages = at.session_state["messages"]
    assert [m["content"] for m in messages if m["role"] == "user"] == [BCF, suggested[0]]
    assert len(messages) == 4
    # Only the latest answer offers follow-ups.
    assert not [b for b in at.button if (b.key or "").startswith("suggestion-1-")]


def test_follow_up_shows_answering_only_when_rewritten(monkeypatch, api_server: str) -> None:  # type: ignore[no-untyped-def]
    at = ask(app(monkeypatch, api_server), BCF)
    assert not [c for c in at.caption if c.value.startswith("Answering:")]  # a standalone question
    at = ask(at, FOLLOW_UP)
    healthy(at)
    answering = the_answers(at)[-1]["answering"]
    shown = [c.value for c in at.caption if c.value.startswith("Answering:")]
    assert answering and shown == [f"Answering: {answering}"]
    assert "better care fund" in answering.lower()
    assert not [c for c in at.caption if "Searched for" in c.value]


def test_feedback_is_native_thumbs_with_an_optional_comment(  # type: ignore[no-untyped-def]
    monkeypatch, api_server: str, report_resources: Resources
) -> None:
    def bcf_rows() -> list[dict]:
        store = FeedbackStore(report_resources.settings.resolved_data_dir() / "feedback.sqlite3")
        try:
            return [r for r in store.export() if r["question"] == BCF]
        finally:
            store.close()

    before = len(bcf_rows())
    at = ask(app(monkeypatch, api_server), BCF)
    at = at.get("feedback")[0].set_value(1).run()
    healthy(at)
    assert len(bcf_rows()) == before + 1 and bcf_rows()[-1]["comment"] is None  # the click alone counts
    at.text_area(key="comment-1").set_value("clear and well sourced")
    at = at.button(key="send-comment-1").click().run()
    assert any("comment was sent" in c.value for c in at.caption)
    rows = bcf_rows()  # the comment is attached to that same row, not stored as a second rating
    assert len(rows) == before + 1
    assert rows[-1]["rating"] == "up" and rows[-1]["comment"] == "clear and well sourced"


def test_api_down_then_retry_keeps_the_question(monkeypatch, flaky_api: Forwarder) -> None:  # type: ignore[no-untyped-def]
    at = app(monkeypatch, flaky_api.url)
    assert not at.exception and not at.error
    assert any("Not connected" in c.value for c in at.sidebar.caption)
    at = ask(at, BCF)
    assert not at.exception and not at.error
    assert [w.value for w in at.warning] == [UNAVAILABLE]  # one friendly message, no URL, no `make run`
    assert [m.value for m in at.main.chat_message[0].markdown] == [BCF]  # the question is kept on screen
    details = next(e for e in at.expander if e.label == "Details")
    assert not details.proto.expanded and flaky_api.url in details.caption[0].value
    flaky_api.start()  # the assistant comes back
    at = at.button(key="retry").click().run()
    healthy(at)
    assert not at.warning and at.session_state["failed"] is None
    assert [m["content"] for m in at.session_state["messages"]][0] == BCF
    assert answer_html(at) and "Better Care Fund" in answer_html(at)[-1]


def test_edit_after_an_error_puts_the_question_back_in_the_box(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    at = ask(app(monkeypatch, f"http://127.0.0.1:{free_port()}"), BCF)
    at = at.button(key="edit").click().run()
    assert at.chat_input[0].value == BCF
    assert not at.warning


def test_reload_restores_the_conversation_and_new_starts_fresh(monkeypatch, api_server: str) -> None:  # type: ignore[no-untyped-def]
    at = ask(app(monkeypatch, api_server), BCF)
    cid = at.query_params["c"]
    cid = cid[0] if isinstance(cid, list) else cid
    assert re.fullmatch(r"[A-Za-z0-9_-]{8,64}", cid)
    shown = answer_html(at)[-1]
    reloaded = app(monkeypatch, api_server, conversation=cid)  # a new browser session with the same URL
    healthy(reloaded)
    assert [m["content"] for m in reloaded.session_state["messages"]][0] == BCF
    assert answer_html(reloaded)[-1] == shown
    assert [e.label for e in reloaded.expander if e.label.startswith("Sources")]
    fresh = reloaded.sidebar.button[0]
    assert fresh.label == "New conversation"
    fresh_at = fresh.click().run()
    new_id = fresh_at.query_params["c"]
    assert (new_id[0] if isinstance(new_id, list) else new_id) != cid
    assert fresh_at.session_state["messages"] == [] and not answer_html(fresh_at)


def test_reload_while_the_api_is_down_never_overwrites_the_saved_conversation(  # type: ignore[no-untyped-def]
    monkeypatch, api_server: str, flaky_api: Forwarder
) -> None:
    first = ask(app(monkeypatch, api_server), BCF)
    cid = first.query_params["c"]
    cid = cid[0] if isinstance(cid, list) else cid
    reloaded = app(monkeypatch, flaky_api.url, conversation=cid)  # reloaded while the API is unreachable
    assert reloaded.session_state["messages"] == []
    flaky_api.start()
    reloaded = ask(reloaded, PARTIAL)  # the API is back: the saved turns come first, then the new question
    healthy(reloaded)
    asked = [m["content"] for m in reloaded.session_state["messages"] if m["role"] == "user"]
    assert asked == [BCF, PARTIAL]
    again = app(monkeypatch, api_server, conversation=cid)
    assert [m["content"] for m in again.session_state["messages"] if m["role"] == "user"] == [BCF, PARTIAL]
