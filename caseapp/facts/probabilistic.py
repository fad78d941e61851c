"""Probabilistic linkage, end to end (pure): encode → block → compare → estimate → score →
cluster. ``services`` runs it over the stored encodings; ``evaluate_rows`` runs exactly
the same path in memory on labelled rows with a throwaway key (``flask linkage evaluate``).
"""

from __future__ import annotations

import csv
import io
import secrets
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np

from caseapp.facts import blocking, model, table
from caseapp.facts.cluster import cluster
from caseapp.facts.encoding import LinkKeys, encoder

COLUMNS = (
    "record_id",
    "person_id",
    "given_names",
    "family_names",
    "sex",
    "date_of_birth",
    "birth_year",
    "document_type",
    "document_number",
)


_FLOOR = model.DEFAULT_THRESHOLD


@dataclass
class Linked:
    """The result of one linkage run: a cluster number per record and the scored pairs."""

    clusters: np.ndarray
    model: model.Model
    i: np.ndarray
    j: np.ndarray
    weight: np.ndarray
    levels: np.ndarray
    threshold: float = _FLOOR  # the match weight it linked at (bits)


def link(
    records: Sequence[LinkKeys] | table.Table,
    *,
    threshold: float | None = None,
    fitted: model.Model | None = None,
    seed: int = 0,
    probability: float = model.DEFAULT_MATCH_PROBABILITY,
    floor: float = model.DEFAULT_THRESHOLD,
) -> Linked:
    """Link encoded records (or their ``table``); estimate the model on them unless
    ``fitted`` is given.

    ``threshold`` (bits) fixes the match weight; without it the model's
    ``model.threshold_bits(probability, floor)`` is used."""
    t = records if isinstance(records, table.Table) else table.build(records)
    i, j = blocking.candidate_pairs(t.blocks)
    levels, swap = model.compare_pairs(t, i, j)
    fitted = fitted or model.estimate(t, i, j, levels, seed=seed)
    weight = model.score(fitted, t, i, j, levels, swap)
    limit = model.threshold_bits(fitted, probability, floor) if threshold is None else threshold
    same_document = levels[:, model.FIELDS.index("doc")] == 0
    clusters = cluster(t, i, j, weight, limit, same_document)
    return Linked(clusters, fitted, i, j, weight, levels, limit)


# -- evaluation on labelled rows ----------------------------------------------------------


class RowError(ValueError):
    """A bad input row: names the line and the column."""

    def __init__(self, line: int, column: str, message: str) -> None:
        super().__init__(f"line {line}, column {column}: {message}")
        self.line, self.column = line, column


@dataclass(frozen=True)
class Row:
    record_id: str
    person_id: str | None
    given_names: str | None
    family_names: str | None
    sex: str | None
    date_of_birth: date | None
    birth_year: int | None
    document_type: str | None
    document_number: str | None


def parse_rows(text: str) -> list[Row]:
    """Validate a labelled CSV (UTF-8, header ``COLUMNS``); the first bad cell raises
    ``RowError``."""
    reader = csv.DictReader(io.StringIO(text))
    header = reader.fieldnames or []
    missing = [c for c in COLUMNS if c not in header]
    if missing:
        raise RowError(1, missing[0], "missing column in the header")
    rows: list[Row] = []
    seen: set[str] = set()
    for row in reader:
        line = reader.line_num
        if None in row:
            raise RowError(line, str(header[-1]), "more cells than columns")
        values = {k: (row.get(k) or "").strip() for k in COLUMNS}
        if any(v is None for v in row.values()):
            raise RowError(line, "record_id", "fewer cells than columns")
        rid = values["record_id"]
        if not rid:
            raise RowError(line, "record_id", "empty")
        if rid in seen:
            raise RowError(line, "record_id", f"duplicate record id {rid!r}")
        seen.add(rid)
        sex = values["sex"] or None
        if sex not in (None, "F", "M"):
            raise RowError(line, "sex", "must be F, M or empty")
        dob = None
        if values["date_of_birth"]:
            try:
                dob = date.fromisoformat(values["date_of_birth"])
            except ValueError:
                raise RowError(line, "date_of_birth", "not an ISO date (YYYY-MM-DD)") from None
        year = None
        if values["birth_year"]:
            if not values["birth_year"].isdigit() or not 1900 <= int(values["birth_year"]) <= 2100:
                raise RowError(line, "birth_year", "not a year between 1900 and 2100")
            year = int(values["birth_year"])
            if dob is not None:
                raise RowError(line, "birth_year", "give it only when the date of birth is empty")
        if bool(values["document_type"]) != bool(values["document_number"]):
            column = "document_number" if values["document_type"] else "document_type"
            raise RowError(line, column, "document type and number go together")
        rows.append(
            Row(
                rid,
                values["person_id"] or None,
                values["given_names"] or None,
                values["family_names"] or None,
                sex,
                dob,
                year,
                values["document_type"] or None,
                values["document_number"] or None,
            )
        )
    return rows


def encode_rows(rows: Iterable[Row], index_key: bytes) -> list[LinkKeys]:
    enc = encoder(index_key)
    return [
        enc.encode(
            given_names=r.given_names,
            family_names=r.family_names,
            sex=r.sex,
            date_of_birth=r.date_of_birth,
            birth_year=r.birth_year,
            doc_type=r.document_type,
            doc_number=r.document_number,
        )
        for r in rows
    ]


def pair_counts(truth: Sequence[Any], predicted: Sequence[Any]) -> tuple[int, int, int]:
    """(true, linked, correct) pairs of records, from the clusters' contingency counts:
    summing n(n-1)/2 over the clusters counts the pairs without enumerating them."""
    if len(truth) != len(predicted):
        raise ValueError("truth and prediction must have one entry per record")

    def pairs(counts: Counter[Any]) -> int:
        return sum(c * (c - 1) // 2 for c in counts.values())

    return (
        pairs(Counter(truth)),
        pairs(Counter(predicted)),
        pairs(Counter(zip(truth, predicted, strict=True))),
    )


def pairwise_quality(truth: Sequence[Any], predicted: Sequence[Any]) -> dict[str, float]:
    """Pairwise precision, recall and F1 from the contingency counts."""
    true_pairs, pred_pairs, tp = pair_counts(truth, predicted)
    precision = tp / pred_pairs if pred_pairs else 1.0
    recall = tp / true_pairs if true_pairs else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1}


def evaluate_rows(
    rows: Sequence[Row],
    threshold: float | None = None,
    probability: float = model.DEFAULT_MATCH_PROBABILITY,
    floor: float = model.DEFAULT_THRESHOLD,
) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    """Link labelled rows as production would (throwaway key, model estimated on them);
    the summary and (record_id, cluster) per row. Metrics only when every row has a
    ``person_id``."""
    started, cpu = time.perf_counter(), time.process_time()
    keys = encode_rows(rows, secrets.token_bytes(32))
    linked = link(keys, threshold=threshold, probability=probability, floor=floor)
    labels = [rows[int(c)].record_id for c in linked.clusters.tolist()]
    summary: dict[str, Any] = {"records": len(rows), "persons": len(set(labels))}
    truth = [r.person_id for r in rows]
    if rows and all(t is not None for t in truth):
        summary["true_persons"] = len(set(truth))
        summary.update({k: round(v, 4) for k, v in pairwise_quality(truth, labels).items()})
    summary["threshold"] = round(linked.threshold, 2)
    summary["seconds"] = round(time.perf_counter() - started, 3)
    summary["cpu_seconds"] = round(time.process_time() - cpu, 3)
    return summary, [(r.record_id, label) for r, label in zip(rows, labels, strict=True)]
