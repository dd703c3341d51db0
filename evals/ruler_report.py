"""The ruler's part of evals/report/: a table per split and per style, the gates, a plot, the worst test answers."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from evals.ruler import (
    METRICS,
    RULER_GATES,
    RULER_STYLE_GATES,
    SPLITS,
    STYLES,
    AskResult,
    ruler_summary,
)

SHOWN = (*METRICS, "fragment_rate", "boilerplate_rate", "points_per_answer")


def _fmt(value: float | None) -> str:
    return "—" if value is None else f"{value:.3f}"


def ablation_markdown(shipped: list[AskResult], ablation: dict[str, list[AskResult]]) -> list[str]:
    """Dev metrics of the shipped engine and of each engine with one fitted part taken out."""
    rows = {"shipped: tuned encoder, coverage model": [r for r in shipped if r.ask.split == "dev"], **ablation}
    lines = [
        "## Ablation (dev): what each fitted part buys",
        "",
        "| engine | " + " | ".join(METRICS) + " |",
        "|---|" + "---|" * len(METRICS),
    ]
    for name, results in rows.items():
        values = ruler_summary(results)["dev"]["all"]
        lines.append(f"| {name} | " + " | ".join(_fmt(values[m]) for m in METRICS) + " |")
    return [*lines, ""]


def ruler_markdown(
    results: list[AskResult], summary: dict[str, Any], ablation: dict[str, list[AskResult]] | None = None
) -> str:
    """The section that opens report.md."""
    lines = [
        "# The ruler: every voice",
        "",
        f"{len({r.ask.item_id for r in results})} items, {len(results)} asks (a dialogue turn is an ask, scored on its",
        "own labels). `train` is for fitting, `dev` for tuning, `test` for reporting and the gates. answer hit and",
        "follow-up hit count a refused covered ask as a miss. Rates over zero asks show — and fail their gate.",
        "",
        "| metric | " + " | ".join(SPLITS) + " | test n | gate |",
        "|---|" + "---|" * (len(SPLITS) + 2),
    ]
    for name in SHOWN:
        op, bound = RULER_GATES.get(name, ("", None))
        lines.append(
            f"| {name} | "
            + " | ".join(_fmt(summary[s]["all"][name]) for s in SPLITS)
            + f" | {int(summary['test']['detail'][name]['n'])} | {'' if bound is None else f'{op} {bound}'} |"
        )
    for split in ("test", "dev"):
        lines += ["", f"## By style ({split})", "", "| style | n | " + " | ".join(SHOWN) + " |"]
        lines.append("|---|---|" + "---|" * len(SHOWN))
        for style in STYLES:
            values = summary[split]["by_style"][style]
            lines.append(f"| {style} | {int(values['n'] or 0)} | " + " | ".join(_fmt(values[m]) for m in SHOWN) + " |")
    lines += ["", "Per-style gates on `test`: " + _gates_text(), "", "![by style](ruler_by_style.png)", ""]
    if ablation:
        lines += ablation_markdown(results, ablation)
    worst = sorted((r for r in results if r.ask.split == "test" and r.problems()), key=lambda r: -len(r.problems()))[
        :12
    ]
    lines += ["## The worst `test` asks", ""]
    for r in worst:
        labels = "; ".join(f"[{x['grade']}] {x['text']}" for x in r.ask.grade2[:3]) or "(none)"
        lines += [
            f"### {r.ask.item_id} turn {r.ask.turn} ({r.ask.style}, {r.ask.intent}, labelled {r.ask.coverage}, "
            f"got {r.coverage})",
            "",
            f"**Asked:** {r.ask.question}",
            "",
            f"**Standalone (label):** {r.ask.standalone}",
            "",
            "> " + r.answer.answer.replace("\n", "\n> "),
            "",
            f"**Grade-2 labels:** {labels}",
            "",
            "**Problems:** " + "; ".join(r.problems()),
            "",
        ]
    return "\n".join(lines) + "\n\n"


def _gates_text() -> str:
    parts = [
        f"{style}: " + ", ".join(f"{m} {op} {b}" for m, (op, b) in gates.items())
        for style, gates in RULER_STYLE_GATES.items()
    ]
    return "; ".join(parts) or "none yet"


def ruler_chart(summary: dict[str, Any], path: Path, split: str = "test") -> None:
    """One group of bars per style: the headline metrics on `split`."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    shown = ("false_refusal", "missed_refusal", "answer_hit", "point_precision", "followup_hit", "coverage_accuracy")
    fig, ax = plt.subplots(figsize=(12, 4.8))
    width = 0.13
    for i, metric in enumerate(shown):
        values = [summary[split]["by_style"][s][metric] for s in STYLES]
        ax.bar(
            [x + (i - len(shown) / 2) * width for x in range(len(STYLES))],
            [v if v is not None else 0 for v in values],
            width,
            label=metric.replace("_", " "),
        )
    ax.set_xticks(range(len(STYLES)), [s.replace("_", "-") for s in STYLES])
    ax.set_ylim(0, 1.05)
    ax.set_ylabel("rate")
    ax.set_title(f"The ruler by style ({split})")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.08), ncol=len(shown), fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


__all__ = ["ablation_markdown", "ruler_chart", "ruler_markdown", "ruler_summary"]
