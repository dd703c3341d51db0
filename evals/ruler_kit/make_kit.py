"""Write a helper's kit folder: the report, the briefs, the personas and the checkers, runnable with a plain
python3 and PyYAML (the helpers work outside the repo and never see it).

    python evals/ruler_kit/make_kit.py /tmp/ruler

`check_rules.py` is generated from the repo's own checks (evals/ruler_checks.py, up to the leak check, which needs
the encoder) with assistant/textnorm.py's normalisation inlined, so the helpers check exactly what the tests check.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

KIT = Path(__file__).parent
REPO = KIT.parents[1]
COPIED = ("WRITER_BRIEF.md", "RELABEL_BRIEF.md", "SETTLE_BRIEF.md", "personas.txt", "check.py", "check_settled.py")


def _normalisation() -> str:
    """textnorm's quote and dash tables and its two normalisers, without the module's retrieval imports."""
    source = (REPO / "assistant" / "textnorm.py").read_text("utf-8")
    start, end = source.index("_QUOTES = "), source.index("def contains(")
    return "import unicodedata\n\n" + source[start:end].rstrip() + "\n\n"


def check_rules_source() -> str:
    source = (REPO / "evals" / "ruler_checks.py").read_text("utf-8")
    source = source[: source.index("def leaks(")].rstrip() + "\n"
    source = source.replace("import numpy as np\n", "").replace("Iterable, Sequence", "Sequence")
    return source.replace("from assistant.textnorm import normalize_loose\n", _normalisation())


def main(argv: list[str]) -> int:
    target = Path(argv[0])
    target.mkdir(parents=True, exist_ok=True)
    for name in COPIED:
        shutil.copy(KIT / name, target / name)
    shutil.copy(REPO / "corpus" / "the-revolution-will-be-improvised.md", target / "report.md")
    (target / "check_rules.py").write_text(check_rules_source(), "utf-8")
    print(f"kit written to {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
