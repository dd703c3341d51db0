"""Writes evals/report/: results.json, report.md (metrics with Wilson 95% intervals, failures), and a chart."""

from __future__ import annotations

import json
from pathlib import Path

from evals.leaders import LEADER_GATES, LeaderResult, leaders_summary
from evals.metrics import wilson
from evals.ruler import AskResult
from evals.ruler_report import ruler_chart, ruler_markdown, ruler_summary
from evals.runner import INVARIANTS, THRESHOLDS, ItemResult, by_category

REPORT_DIR = Path(__file__).parent / "report"


def write_report(
    target: str,
    results: list[ItemResult],
    metrics: dict[str, dict[str, float]],
    leaders: list[LeaderResult] | None = None,
    ablation: list[LeaderResult] | None = None,
    ruler: list[AskResult] | None = None,
    ruler_ablation: dict[str, list[AskResult]] | None = None,
) -> Path:
    """Write every artefact; returns the report folder."""
    REPORT_DIR.mkdir(exist_ok=True)
    categories = by_category(results)
    summary = leaders_summary(leaders) if leaders else None
    ablated = leaders_summary(ablation) if ablation else None
    ruled = ruler_summary(ruler) if ruler else None
    payload = {
        "target": target,
        "ruler": _ruler_without_detail(ruled),
        "ruler_ablation_dev": {
            name: ruler_summary(asks)["dev"]["all"] for name, asks in (ruler_ablation or {}).items()
        },
        "leaders": _without_detail(summary),
        "leaders_ablation": _without_detail(ablated),
        "metrics": metrics,
        "categories": categories,
        "leader_items": [r.to_json() for r in leaders or []],
        "ruler_asks": [r.to_json() for r in ruler or [] if r.ask.split != "train"],
        "items": [r.to_json() for r in results],
    }
    (REPORT_DIR / "results.json").write_text(json.dumps(payload, indent=2, ensure_ascii=False), encoding="utf-8")
    text = ruler_markdown(ruler, ruled, ruler_ablation) if ruler and ruled else ""
    text += _leaders_markdown(target, summary, ablated, leaders or []) + _markdown(target, results, metrics, categories)
    (REPORT_DIR / "report.md").write_text(text, encoding="utf-8")
    _chart(categories, REPORT_DIR / "metrics_by_category.png")
    if ruled:
        ruler_chart(ruled, REPORT_DIR / "ruler_by_style.png")
    return REPORT_DIR


LEADER_ROWS = [
    "false_refusal",
    "missed_refusal",
    "partial_on_yes",
    "point_precision",
    "answer_hit",
    "ndcg@3",
    "fragment_rate",
    "boilerplate_rate",
    "retrieval_recall@5",
    "retrieval_recall@6",
    "retrieval_recall@10",
    "retrieval_ndcg@10",
]


def _without_detail(summary: dict | None) -> dict | None:
    if summary is None:
        return None
    return {split: {k: v for k, v in values.items() if k != "detail"} for split, values in summary.items()}


def _ruler_without_detail(summary: dict | None) -> dict | None:
    if summary is None:
        return None
    return {split: {k: v for k, v in values.items() if k != "detail"} for split, values in summary.items()}


def _fmt(value: float | None) -> str:
    return "—" if value is None else f"{value:.3f}"


def _leaders_markdown(target: str, summary: dict | None, ablated: dict | None, leaders: list[LeaderResult]) -> str:
    if summary is None:
        return ""
    lines = [
        f"# Leaders' questions — {target}",
        "",
        "Questions in leaders' own words, labelled from the report alone (evals/leaders.yaml). `dev` is for tuning;",
        "`test` is for reporting and is the one gated. Rates over zero items show — and fail their gate.",
        "",
        "| metric | dev | test | test 95% (Wilson) | test n | gate |",
        "|---|---|---|---|---|---|",
    ]
    for name in LEADER_ROWS:
        detail = summary["test"]["detail"][name]
        n = int(detail["n"])
        low, high = wilson(detail["successes"], n) if name not in ("ndcg@3", "retrieval_ndcg@10") else (None, None)
        interval = "" if low is None else f"{low:.3f}–{high:.3f}"
        op, bound = LEADER_GATES.get(name, ("", None))
        gate = "" if bound is None else f"{op} {bound}"
        lines.append(
            f"| {name} | {_fmt(summary['dev'][name])} | {_fmt(summary['test'][name])} | {interval} | {n} | {gate} |"
        )
    lines += ["", "## By intent (test)", "", "| intent | " + " | ".join(LEADER_ROWS[:8]) + " |"]
    lines.append("|---" * 9 + "|")
    for intent, values in summary["test"]["by_intent"].items():
        lines.append(
            f"| {intent} (n={int(values['n'] or 0)}) | " + " | ".join(_fmt(values[m]) for m in LEADER_ROWS[:8]) + " |"
        )
    if ablated:
        lines += [
            "",
            "## Ablation: answer-type and unknown-terms rules off (test)",
            "",
            "| metric | with the rules | without | dev with | dev without |",
            "|---|---|---|---|---|",
        ]
        for name in LEADER_ROWS[:8]:
            lines.append(
                f"| {name} | {_fmt(summary['test'][name])} | {_fmt(ablated['test'][name])} | "
                f"{_fmt(summary['dev'][name])} | {_fmt(ablated['dev'][name])} |"
            )
    worst = sorted((r for r in leaders if r.item["split"] == "test"), key=lambda r: -r.badness())[:10]
    lines += ["", "## The 10 worst `test` answers", ""]
    for r in worst:
        labels = "; ".join(f"[{x['grade']}] {x['text']}" for x in r.item.get("relevant") or []) or "(none)"
        lines += [
            f"### {r.item['id']} ({r.item['intent']}, labelled {r.item['coverage']}, got {r.coverage})",
            "",
            "**Asked:** " + " → ".join(r.to_json()["question"]),
            "",
            "> " + r.answer.answer.replace("\n", "\n> "),
            "",
            f"**Labels:** {labels}",
            "",
            "**Problems:** " + ("; ".join(r.problems()) or "none"),
            "",
        ]
    return "\n".join(lines) + "\n\n"


def _markdown(target: str, results: list[ItemResult], metrics: dict, categories: dict) -> str:
    lines = [
        f"# Old gold set (regression) — {target}",
        "",
        f"{len(results)} gold items. Invariants (true by construction for the extractive engine) are marked.",
        "",
        "| metric | value | 95% interval (Wilson) | n | threshold | |",
        "|---|---|---|---|---|---|",
    ]
    for name, m in metrics.items():
        low, high = wilson(m["successes"], int(m["n"]))
        op, bound = THRESHOLDS.get(name) or INVARIANTS.get(name) or ("", None)
        value = m["value"]
        passed = value is not None and bound is not None and (value >= bound if op == ">=" else value <= bound)
        ok = "" if bound is None else ("✅" if passed else "❌")
        threshold = "" if bound is None else f"{op} {bound}" + (" (invariant)" if name in INVARIANTS else "")
        lines.append(f"| {name} | {_fmt(value)} | {low:.3f}–{high:.3f} | {int(m['n'])} | {threshold} | {ok} |")
    lines += [
        "",
        "## By category",
        "",
        "| category | n | right decision | key-fact recall | clean answers |",
        "|---|---|---|---|---|",
    ]
    for name, c in categories.items():
        lines.append(
            f"| {name} | {c['n']} | {c['decision_accuracy']:.2f} | {c['key_fact_recall']:.2f} | "
            f"{c['clean_answers']:.2f} |"
        )
    failing = [r for r in results if r.failures()]
    lines += ["", f"## Failures ({len(failing)})", ""]
    for r in failing:
        question = r.item.get("question") or " → ".join(r.item.get("turns", []))
        lines += [
            f"### {r.item['id']} ({r.item['category']}, expected {r.item['expected']})",
            "",
            f"**Question:** {question}",
            "",
            "**Answer:**",
            "",
            "> " + r.answer.answer.replace("\n", "\n> "),
            "",
            "**Why:** " + "; ".join(r.failures()),
            "",
        ]
    return "\n".join(lines) + "\n"


def _chart(categories: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = list(categories)
    series = {
        "right decision": "decision_accuracy",
        "key-fact recall": "key_fact_recall",
        "clean answers": "clean_answers",
    }
    fig, ax = plt.subplots(figsize=(10, 4.5))
    width = 0.27
    for i, (label, key) in enumerate(series.items()):
        ax.bar(
            [x + (i - 1) * width for x in range(len(names))], [categories[n][key] for n in names], width, label=label
        )
    ax.set_xticks(range(len(names)), [n.replace("_", "\n") for n in names], fontsize=8)
    ax.set_ylim(0, 1.05)
    ax.set_ylabel("share of items")
    ax.set_title("Groundedness by question category")
    ax.legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
