import yaml, random, sys


def sample_ids(ids, share=0.10, seed=20261206):
    ordered = sorted(ids)
    return sorted(random.Random(seed).sample(ordered, round(len(ordered) * share)))


def strip(i):
    out = {k: i[k] for k in ("id", "style", "persona")}
    if "turns" in i:
        out["turns"] = [{k: t[k] for k in ("kind", "question", "standalone")} for t in i["turns"]]
    else:
        out["question"] = i["question"]
    return out


name, writers = sys.argv[1], sys.argv[2:]
sel = []
for w in writers:
    items = yaml.safe_load(open(f"/work/ruler_raw/{w}.yaml"))["items"]
    ids = set(sample_ids([i["id"] for i in items]))
    sel += [strip(i) for i in items if i["id"] in ids]
yaml.safe_dump(
    {"items": sel}, open(f"/tmp/relabel/in/{name}.yaml", "w"), sort_keys=False, allow_unicode=True, width=120
)
print(name, len(sel))
