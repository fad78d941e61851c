"""Synthetic data: pairwise precision and recall of the person linkage against the truth."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from caseapp.facts.probabilistic import pair_counts

# --- Evaluation ------------------------------------------------------------------------------


@dataclass(frozen=True)
class LinkageQuality:
    """Pairwise quality of a clustering against the truth (pairs of screenings)."""

    true_pairs: int
    linked_pairs: int
    correct_pairs: int

    @property
    def precision(self) -> float:
        return self.correct_pairs / self.linked_pairs if self.linked_pairs else 1.0

    @property
    def recall(self) -> float:
        return self.correct_pairs / self.true_pairs if self.true_pairs else 1.0

    def summary(self, label: str = "linkage") -> str:
        return (
            f"{label} precision {self.precision:.4f} recall {self.recall:.4f} "
            f"(pairs: true {self.true_pairs}, linked {self.linked_pairs}, "
            f"correct {self.correct_pairs})"
        )


def pairwise_quality(truth: Sequence[Any], predicted: Sequence[Any]) -> LinkageQuality:
    """Precision and recall over pairs of records, from cluster contingency counts.

    A pair is linked when both records have the same predicted cluster, true when they
    have the same true cluster; summing n(n-1)/2 over the clusters and over the
    (true, predicted) cells counts the pairs without enumerating them.
    """
    return LinkageQuality(*pair_counts(truth, predicted))
