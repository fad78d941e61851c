"""Constrained clustering of scored pairs into persons (pure; ADR 0020).

First, records with the same document (type and number) are one person, as they always
were. Then pairs at or above the threshold are merged best first (ties broken by the
records' content, so the result does not depend on the input order), unless the two
clusters conflict:

- dates of birth: a person's exact dates must be the same date mistyped (equal, one
  digit apart, or day and month swapped). The dates that one document ties together
  form one *date class* (a register may hold a wrong date beside the right document);
  two classes conflict when no date of one is compatible with a date of the other;
- documents: two numbers of the same type must be equal, one character apart or two
  adjacent characters swapped
  (``other`` is no type: a person may hold several other documents).

The check is between every class and document of the two clusters, so an age-only
record that joined one "María Quispe, 2004" cannot bring in another María Quispe with a
different date: an ambiguous bridge is cut (it stays with the better of its matches),
never chained.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from caseapp.facts.table import Table


@dataclass
class Evidence:
    """The identifying codes a cluster holds: per exact date of birth its codes row, per
    document type its numbers' codes rows."""

    dobs: list[list[np.ndarray]] = field(default_factory=list)  # date classes
    docs: dict[int, list[np.ndarray]] = field(default_factory=dict)


def dob_compatible(a: np.ndarray, b: np.ndarray) -> bool:
    """The same date, one digit apart, or day and month swapped (keyed codes rows)."""
    if a[0] == b[0]:
        return True
    if (a[1] != 0 and a[1] == b[0]) or (b[1] != 0 and b[1] == a[0]):
        return True
    return bool((a[2:] == b[2:]).any())


def doc_compatible(a: np.ndarray, b: np.ndarray) -> bool:
    """The same number, one character apart or two adjacent characters swapped (same
    type)."""
    if a[0] == b[0]:
        return True
    return bool(((a[1:] == b[1:]) & (a[1:] != 0)).any())


def evidence_of(t: Table, index: int) -> Evidence:
    ev = Evidence()
    if t.dated[index]:
        ev.dobs.append([t.dob[index]])
    if t.doc_type[index] >= 0 and t.doc_strict[index]:
        ev.docs[int(t.doc_type[index])] = [t.doc[index]]
    return ev


def classes_compatible(a: list[np.ndarray], b: list[np.ndarray]) -> bool:
    return any(dob_compatible(x, y) for x in a for y in b)


def conflict(a: Evidence, b: Evidence) -> bool:
    for mine in a.dobs:
        for theirs in b.dobs:
            if not classes_compatible(mine, theirs):
                return True
    for kind, numbers in a.docs.items():
        for y in b.docs.get(kind, ()):
            for x in numbers:
                if not doc_compatible(x, y):
                    return True
    return False


def merge_into(a: Evidence, b: Evidence, *, one_class: bool = False) -> None:
    if one_class and a.dobs and b.dobs:  # the same document: its dates are one class
        a.dobs = [[d for c in a.dobs + b.dobs for d in c]]
    else:
        a.dobs.extend(b.dobs)
    for kind, numbers in b.docs.items():
        mine = a.docs.setdefault(kind, [])
        for y in numbers:
            if not any(x[0] == y[0] for x in mine):
                mine.append(y)


def content(t: Table) -> np.ndarray:
    """A number per record from its encodings only: ties between equal weights are
    broken by content, not by position, so the persons found do not depend on the order
    of the input (records with equal content are interchangeable)."""
    with np.errstate(over="ignore"):
        out = t.given_value * np.int64(1000003) + t.family_value
        out = out * np.int64(1000003) + t.dob[:, 0]
        out = out * np.int64(1000003) + t.doc[:, 0]
        out = out * np.int64(1000003) + t.year + t.sex.astype(np.int64)
    return out


def cluster(
    t: Table,
    i: np.ndarray,
    j: np.ndarray,
    weight: np.ndarray,
    threshold: float,
    same_document: np.ndarray | None = None,
    groups: np.ndarray | None = None,
) -> np.ndarray:
    """Cluster number (the smallest record index of its cluster) per record;
    ``same_document`` marks the pairs with the same document (merged first); ``groups``
    (a label per record) starts the records of one label as one cluster, their dates
    one class (the persons already linked, when new records are linked to them)."""
    parent = np.arange(t.n)
    evidence: dict[int, Evidence] = {}

    def find(x: int) -> int:
        root = x
        while parent[root] != root:
            root = int(parent[root])
        while parent[x] != root:
            parent[x], x = root, int(parent[x])
        return root

    def join(ra: int, rb: int, *, forced: bool) -> None:
        ea = evidence.get(ra) or evidence.setdefault(ra, evidence_of(t, ra))
        eb = evidence.get(rb) or evidence.setdefault(rb, evidence_of(t, rb))
        if not forced and conflict(ea, eb):
            return
        root, child = (ra, rb) if ra < rb else (rb, ra)
        parent[child] = root
        merge_into(evidence[root], evidence.pop(child), one_class=forced)

    if groups is not None and len(groups):
        order = np.argsort(groups, kind="stable")
        for a, b in zip(order[:-1].tolist(), order[1:].tolist(), strict=True):
            if groups[a] == groups[b]:
                ra, rb = find(a), find(b)
                if ra != rb:
                    join(ra, rb, forced=True)
    if same_document is not None:
        for a, b in zip(i[same_document].tolist(), j[same_document].tolist(), strict=True):
            ra, rb = find(a), find(b)
            if ra != rb:
                join(ra, rb, forced=True)
    keep = weight >= threshold
    if same_document is not None:
        keep &= ~same_document
    i, j, weight = i[keep], j[keep], weight[keep]
    keys = content(t)
    ka, kb = keys[i], keys[j]
    order = np.lexsort((np.maximum(ka, kb), np.minimum(ka, kb), -weight))
    for a, b in zip(i[order].tolist(), j[order].tolist(), strict=True):
        ra, rb = find(a), find(b)
        if ra != rb:
            join(ra, rb, forced=False)
    return np.array([find(x) for x in range(t.n)], dtype=np.int64)
