"""The writers' checker (run in the kit folder): every problem of a helper's YAML file, and its counts per style
against the quota. `make_kit.py` puts it beside `check_rules.py`, the repo's own checks made standalone."""

from check_rules import item_problems, report_words, runs

QUOTA = {"plain": 30, "context": 45, "terse": 40, "dialogue": 30, "switch": 20, "off_topic": 20, "partly": 45, "no": 45}


def main() -> None:
    import sys
    from collections import Counter
    from pathlib import Path

    import yaml

    path = Path(sys.argv[1])
    here = Path(__file__).parent
    body = report_words((here / "report.md").read_text("utf-8"))
    report, report_runs = " ".join(body), runs(body, 5)
    try:
        items = yaml.safe_load(path.read_text("utf-8"))["items"]
    except Exception as exc:  # noqa: BLE001
        print(f"cannot read {path}: {exc}")
        sys.exit(1)
    problems, ids = [], Counter(str(i.get("id")) for i in items)
    problems += [f"duplicate id {k}" for k, v in ids.items() if v > 1]
    for item in items:
        if item.get("style") not in QUOTA:
            problems.append(f"{item.get('id')}: style {item.get('style')!r}")
            continue
        try:
            problems += item_problems(item, report, report_runs)
        except Exception as exc:  # noqa: BLE001
            problems.append(f"{item.get('id')}: malformed item ({exc!r})")
    for p in problems:
        print("PROBLEM", p)
    counts = Counter(i.get("style") for i in items)
    print("counts:", {s: f"{counts.get(s, 0)}/{q}" for s, q in QUOTA.items()}, "total", len(items))
    print(f"{len(problems)} problem(s)")


if __name__ == "__main__":
    main()
