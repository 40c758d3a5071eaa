"""Measure clustering against labels: pairwise precision, recall and F1, and the wrong pairs.

A pair of records counts as predicted when dedup put both in one cluster and as true when
the labels say one manifestation; precision is the share of predicted pairs that are true,
recall the share of true pairs that were predicted. Counting goes through the contingency
table (cluster x label), so a set of 100,000 records costs no more than one pass.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Hashable, Mapping
from dataclasses import dataclass
from itertools import combinations


@dataclass(frozen=True)
class Scores:
    """Pairwise scores of a clustering against labels."""

    precision: float
    recall: float
    f1: float
    predicted_pairs: int
    true_pairs: int
    correct_pairs: int

    def as_dict(self) -> dict[str, float | int]:
        """Return the scores rounded for printing."""
        return {
            "precision": round(self.precision, 4),
            "recall": round(self.recall, 4),
            "f1": round(self.f1, 4),
            "predicted_pairs": self.predicted_pairs,
            "true_pairs": self.true_pairs,
            "correct_pairs": self.correct_pairs,
        }


def _pairs(n: int) -> int:
    return n * (n - 1) // 2


def pairwise_scores(
    predicted: Mapping[Hashable, Hashable], truth: Mapping[Hashable, Hashable]
) -> Scores:
    """Score predicted cluster labels against true labels over the records both know."""
    common = [r for r in predicted if r in truth]
    cells = Counter((predicted[r], truth[r]) for r in common)
    correct = sum(_pairs(n) for n in cells.values())
    found = sum(_pairs(n) for n in Counter(predicted[r] for r in common).values())
    true = sum(_pairs(n) for n in Counter(truth[r] for r in common).values())
    precision = correct / found if found else 1.0
    recall = correct / true if true else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return Scores(precision, recall, f1, found, true, correct)


def wrong_pairs(
    predicted: Mapping[Hashable, Hashable], truth: Mapping[Hashable, Hashable], limit: int = 50
) -> tuple[list[tuple], list[tuple]]:
    """Return (wrongly merged pairs, missed pairs) of record ids, at most ``limit`` of each."""
    by_cluster: dict[Hashable, list] = {}
    by_label: dict[Hashable, list] = {}
    for r in predicted:
        if r in truth:
            by_cluster.setdefault(predicted[r], []).append(r)
            by_label.setdefault(truth[r], []).append(r)
    merged = _differing(by_cluster.values(), truth, limit)
    missed = _differing(by_label.values(), predicted, limit)
    return merged, missed


def _differing(groups, labels: Mapping, limit: int) -> list[tuple]:
    out = []
    for group in groups:
        if len({labels[r] for r in group}) < 2:
            continue
        for a, b in combinations(sorted(group, key=str), 2):
            if labels[a] != labels[b]:
                out.append((a, b))
                if len(out) >= limit:
                    return out
    return out
