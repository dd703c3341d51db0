"""Public-sector jargon mapped to the report's own words (the data is assistant/glossary.yaml, documented there).

Used twice: to expand a query before retrieval and scoring ("CCG" also searches "NHS health commissioners"), and
so that jargon never counts as something the report does not mention.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from importlib.resources import files

import yaml

from assistant.textnorm import content_tokens, content_words


@dataclass(frozen=True)
class Glossary:
    """Public-sector jargon mapped to the report's words (assistant/glossary.yaml)."""

    terms: dict[str, str]
    actors: dict[str, str] = field(default_factory=dict)

    @property
    def entries(self) -> dict[str, str]:
        """Topics and actors together: every key the glossary knows."""
        return {**self.terms, **self.actors}

    @classmethod
    def packaged(cls) -> Glossary:
        return _packaged_glossary()

    def matches(self, text: str) -> list[str]:
        """The glossary keys that occur in the text (acronyms case-sensitively, phrases case-insensitively)."""
        found = []
        for key in self.entries:
            flags = 0 if key.isupper() or any(c.isupper() for c in key[1:]) else re.I
            if re.search(r"(?<![\w&])" + re.escape(key) + r"(?![\w&])", text, flags):
                found.append(key)
        return found

    def expansion(self, text: str) -> str:
        """The report's words for the jargon in the text, each once, in glossary order."""
        words: list[str] = []
        for key in self.matches(text):
            if key in self.terms:  # actors are context, not topics: they never expand the query
                words += [w for w in self.terms[key].split() if w.lower() not in {x.lower() for x in words}]
        return " ".join(words)

    def actor_groups(self, text: str) -> set[frozenset[str]]:
        """The token groups of `token_groups` that stand for actors (context, not topic)."""
        return {content_tokens(k) | content_tokens(self.actors[k]) for k in self.matches(text) if k in self.actors}

    def token_groups(self, text: str) -> list[frozenset[str]]:
        """One group of stemmed tokens per content word of the text; a glossary term's group also holds its
        expansion, so "CCG" is matched by evidence that says "commissioners"."""
        groups: list[frozenset[str]] = []
        covered: set[str] = set()
        for key in self.matches(text):
            key_tokens = content_tokens(key)
            groups.append(key_tokens | content_tokens(self.entries[key]))
            covered |= key_tokens
        groups += [frozenset({t}) for t in content_tokens(content_words(text, full_stop_list=False)) - covered]
        return [g for g in groups if g]


@lru_cache(maxsize=1)
def _packaged_glossary() -> Glossary:
    data = yaml.safe_load((files("assistant") / "glossary.yaml").read_text(encoding="utf-8"))
    return Glossary(
        {str(k): str(v) for k, v in data["terms"].items()},
        {str(k): str(v) for k, v in (data.get("actors") or {}).items()},
    )
