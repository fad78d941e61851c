"""Value objects every rule module returns.

A rule's outcome is stored together with its reasons and the rule version so that it can be
replayed and audited later (domain.md §1.10). Reasons are bilingual because the same stored
decision is shown in the Spanish UI, the English UI and the JSON API.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Reason:
    """One human-readable reason with a stable code (for tests, audit and translation)."""

    code: str
    es: str
    en: str

    def text(self, locale: str = "es") -> str:
        """The reason in the UI language; anything not English falls back to Spanish."""
        return self.en if locale.lower().startswith("en") else self.es

    def as_dict(self) -> dict[str, str]:
        """The API shape `{"code", "es", "en"}` (api.md §4)."""
        return {"code": self.code, "es": self.es, "en": self.en}

    @classmethod
    def from_dict(cls, data: Mapping[str, str]) -> Reason:
        """Rebuild a stored reason, e.g. from a JSON column."""
        return cls(code=data["code"], es=data["es"], en=data["en"])


@dataclass(frozen=True, slots=True)
class Decision:
    """The generic outcome of a pure rule: what was decided, why, under which rules."""

    outcome: str
    reasons: tuple[Reason, ...]
    rule_version: str

    def as_dict(self) -> dict[str, object]:
        return {
            "outcome": self.outcome,
            "reasons": [r.as_dict() for r in self.reasons],
            "rule_version": self.rule_version,
        }
