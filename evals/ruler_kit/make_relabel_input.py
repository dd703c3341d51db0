"""The second reader's input: a fixed random 10% of one or more writers' items, labels stripped.

python make_relabel_input.py RAW_DIR OUT.yaml h6 h9
"""

import random
import sys
from pathlib import Path

import yaml

SHARE, SEED = 0.10, 20261206  # the same sample rule as evals/ruler_agreement.py


def sample_ids(ids: list[str]) -> list[str]:
    ordered = sorted(ids)
    return sorted(random.Random(SEED).sample(ordered, round(len(ordered) * SHARE)))


def strip(item: dict) -> dict:
    out = {k: item[k] for k in ("id", "style", "persona")}
    if "turns" in item:
        out["turns"] = [{k: t[k] for k in ("kind", "question", "standalone")} for t in item["turns"]]
    else:
        out["question"] = item["question"]
    return out


def main() -> None:
    raw, out, writers = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3:]
    chosen = []
    for writer in writers:
        items = yaml.safe_load((raw / f"{writer}.yaml").read_text("utf-8"))["items"]
        ids = set(sample_ids([i["id"] for i in items]))
        chosen += [strip(i) for i in items if i["id"] in ids]
    out.write_text(yaml.safe_dump({"items": chosen}, sort_keys=False, allow_unicode=True, width=120), "utf-8")
    print(out, len(chosen))


if __name__ == "__main__":
    main()
