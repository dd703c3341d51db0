"""Writes evals/report/: results.json, report.md (metrics with Wilson 95% intervals, failures), and a chart."""

from __future__ import annotations

import json
from pathlib import Path

from evals.metrics import wilson
from evals.runner import THRESHOLDS, ItemResult, by_category

REPORT_DIR = Path(__file__).parent / "report"


def write_report(target: str, results: list[ItemResult], metrics: dict[str, dict[str, float]]) -> Path:
    """Write every artefact; returns the report folder."""
    REPORT_DIR.mkdir(exist_ok=True)
    categories = by_category(results)
    payload = {"target": target, "metrics": metrics, "categories": categories, "items": [r.to_json() for r in results]}
    (REPORT_DIR / "results.json").write_text(json.dumps(payload, indent=2, ensure_ascii=False), encoding="utf-8")
    (REPORT_DIR / "report.md").write_text(_markdown(target, results, metrics, categories), encoding="utf-8")
    _chart(categories, REPORT_DIR / "metrics_by_category.png")
    return REPORT_DIR


def _markdown(target: str, results: list[ItemResult], metrics: dict, categories: dict) -> str:
    lines = [
        f"# Groundedness report — {target}",
        "",
        f"{len(results)} gold items.",
        "",
        "| metric | value | 95% interval (Wilson) | n | threshold | |",
        "|---|---|---|---|---|---|",
    ]
    for name, m in metrics.items():
        low, high = wilson(m["successes"], int(m["n"]))
        op, bound = THRESHOLDS.get(name, ("", None))
        ok = "" if bound is None else ("✅" if (m["value"] >= bound if op == ">=" else m["value"] <= bound) else "❌")
        threshold = "" if bound is None else f"{op} {bound}"
        lines.append(f"| {name} | {m['value']:.3f} | {low:.3f}–{high:.3f} | {int(m['n'])} | {threshold} | {ok} |")
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
