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


if __name__ == "__main__":
    app()
