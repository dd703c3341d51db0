"""A synthetic corpus generator: realistic report-like text at any size, made offline from the report itself.

Paragraphs recombine the report's own sentences, with words swapped for near-synonyms so no two chunks are
identical. Nothing is downloaded.
"""

from __future__ import annotations

import random
import re
from pathlib import Path

from assistant.textnorm import split_sentences

REPORT = Path(__file__).resolve().parent.parent / "corpus" / "the-revolution-will-be-improvised.md"
SWAPS = {
    "leaders": ["managers", "executives", "heads", "leaders"],
    "system": ["network", "partnership", "system", "economy"],
    "services": ["provision", "services", "support", "care"],
    "relationships": ["connections", "partnerships", "relationships", "ties"],
    "organisations": ["bodies", "agencies", "organisations", "institutions"],
    "change": ["reform", "change", "transformation", "renewal"],
    "difficult": ["hard", "tough", "difficult", "demanding"],
    "local": ["regional", "local", "area", "place-based"],
    "health": ["health", "NHS", "clinical", "medical"],
    "users": ["residents", "patients", "users", "citizens"],
    "trust": ["confidence", "trust", "goodwill", "faith"],
    "project": ["programme", "initiative", "project", "scheme"],
}
PARAGRAPHS_PER_FILE = 200


def report_sentences() -> list[str]:
    """Every sentence of the report's body, markup removed."""
    body = REPORT.read_text("utf-8").split("\n---\n", 1)[1]
    body = re.sub(r"^(#+ |> |- )", "", body, flags=re.M)
    sentences = []
    for paragraph in body.split("\n\n"):
        flat = " ".join(paragraph.split())
        sentences += [flat[a:b] for a, b in split_sentences(flat) if len(flat[a:b].split()) >= 6]
    return sentences


def variant(sentence: str, rng: random.Random) -> str:
    swapped = re.sub(r"\b(" + "|".join(SWAPS) + r")\b", lambda m: rng.choice(SWAPS[m.group(1)]), sentence)
    return swapped.replace("“", "").replace("”", "")  # one paragraph, one chunk: no inline quote units


def write_corpus(folder: Path, chunks: int, seed: int = 7) -> int:
    """Markdown files holding about `chunks` paragraph chunks; returns the number of paragraphs written."""
    rng = random.Random(seed)
    sentences = report_sentences()
    folder.mkdir(parents=True, exist_ok=True)
    written = 0
    file_number = 0
    while written < chunks:
        lines = [f"# Synthetic programme notes {file_number}", ""]
        for section in range(PARAGRAPHS_PER_FILE // 10):
            lines += [f"## Theme {file_number}.{section}", ""]
            for _ in range(10):
                if written >= chunks:
                    break
                picked = rng.sample(sentences, rng.randint(2, 4))
                lines += [" ".join(variant(s, rng) for s in picked) + f" (note {written})", ""]
                written += 1
        (folder / f"notes-{file_number:05d}.md").write_text("\n".join(lines), encoding="utf-8")
        file_number += 1
    return written
