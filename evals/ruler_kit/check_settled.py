"""The third reader's checker: each settled ask's labels are sound (run in the settle folder)."""

import sys
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).parent))
from check_rules import label_problems, report_words  # noqa: E402  (made by make_kit.py)

here = Path(__file__).parent
body = report_words((here / "report.md").read_text("utf-8"))
report = " ".join(body)
disputed = {(d["id"], int(d["turn"])): d for d in yaml.safe_load((here / "disputed.yaml").read_text("utf-8"))["items"]}
settled = yaml.safe_load((here / "settled.yaml").read_text("utf-8"))["items"]
problems = []
seen = {(s["id"], int(s["turn"])) for s in settled}
problems += [f"{k} not settled" for k in disputed if k not in seen]
for call in settled:
    key = (call["id"], int(call["turn"]))
    if key not in disputed:
        problems.append(f"{key} is not a disputed ask")
        continue
    cov = {True: "yes", False: "no"}.get(call.get("coverage"), str(call.get("coverage")))
    label = {**call, "coverage": cov, "intent": disputed[key]["intent"]}
    problems += label_problems(f"{key}", label, report)
for p in problems:
    print("PROBLEM", p)
print(f"{len(problems)} problem(s)")
