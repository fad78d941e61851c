"""Synthetic data: ``generate`` — build the population, write it, link it, evaluate it."""

from __future__ import annotations

import itertools
import multiprocessing
import os
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from caseapp.audit import services as audit
from caseapp.core.db import keyring
from caseapp.extensions import db
from caseapp.facts import linkage
from caseapp.facts import services as report_facts
from caseapp.facts.models import ScreeningFact
from devtools.synth.distributions import BATCH_PERSONS
from devtools.synth.population import Directory, Population
from devtools.synth.quality import LinkageQuality, pairwise_quality
from devtools.synth.rows import Batch, Built, IdAssigner, RowBuilder, check_columns
from devtools.synth.writer import DeferredChecks, Writer, _advance_sequences, _reserve_ids

# --- Running -----------------------------------------------------------------------------------


@dataclass
class SynthResult:
    persons: int
    screenings: int
    rows: int
    linked_persons: int
    elapsed: float
    truth: dict[int, int] = field(repr=False)  # screening id -> true person index
    quality: LinkageQuality | None = None
    exact_quality: LinkageQuality | None = None  # the exact keys alone, for comparison
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def rows_per_second(self) -> float:
        return self.rows / self.elapsed if self.elapsed else 0.0


def default_workers(persons: int) -> int:
    """Worker processes for building rows: none for small runs (forking costs more)."""
    return 1 if persons < 20_000 else max(1, os.cpu_count() or 1)


def generate(
    actor: Any,
    persons: int,
    *,
    seed: int = 1,
    org_kinds: Sequence[str] | None = None,
    evaluate: bool = True,
    workers: int | None = None,
    batch_persons: int = BATCH_PERSONS,
    progress: Callable[[int], None] | None = None,
) -> SynthResult:
    """Insert ``persons`` synthetic persons with their screenings and link them.

    Runs in the caller's transaction and never commits. Rows are built in ``workers``
    forked processes (``None``: ``default_workers``) and written by this one, in person
    order, so the result does not depend on the number of workers. The truth (which
    screening is which person) stays in memory: it is returned, never stored.
    """
    if persons < 1:
        raise ValueError("persons must be at least 1")
    check_columns()
    started = time.perf_counter()
    directory = Directory.load(org_kinds)
    population = Population(seed, directory)
    builder = RowBuilder(keyring())
    writer = Writer()
    ids = IdAssigner(_reserve_ids())
    deferred = DeferredChecks.drop()
    truth: dict[int, int] = {}
    exact_keys: dict[int, linkage.Pseudonyms] = {}
    ranges = [
        (start, min(start + batch_persons, persons)) for start in range(0, persons, batch_persons)
    ]
    workers = default_workers(persons) if workers is None else max(1, workers)
    writing = 0.0
    for (start, stop), built in zip(
        ranges, _build_all(population, builder, ranges, workers), strict=True
    ):
        t0 = time.perf_counter()
        batch = Batch()
        for item in built:
            sid = ids.add(batch, item)
            truth[sid] = item.person
            if evaluate:
                exact_keys[sid] = item.exact
        writer.write(batch)
        writing += time.perf_counter() - t0
        if progress is not None:
            progress(stop - start)
    _advance_sequences(ids.last_ids)
    timings = {"build+write": time.perf_counter() - started, "write": writing}

    t0 = time.perf_counter()
    report_facts.relink_all()
    timings["link"] = time.perf_counter() - t0
    if deferred.statements:
        t0 = time.perf_counter()
        deferred.restore()
        timings["index"] = time.perf_counter() - t0
    predicted: dict[int, int] = {
        sid: pid
        for sid, pid in db.session.execute(
            sa.select(ScreeningFact.screening_id, ScreeningFact.person_id).where(
                ScreeningFact.screening_id.between(min(truth, default=0), max(truth, default=0))
            )
        )
    }
    linked = {predicted[sid] for sid in truth}
    quality = exact_quality = None
    if evaluate:
        order = sorted(truth)
        true_persons = [truth[sid] for sid in order]
        quality = pairwise_quality(true_persons, [predicted[sid] for sid in order])
        exact = linkage.link((sid, exact_keys[sid]) for sid in order)
        exact_quality = pairwise_quality(true_persons, [exact[sid] for sid in order])
    audit.record(
        actor,
        "synth.generate",
        details={
            "persons": persons,
            "screenings": len(truth),
            "rows": writer.rows,
            "seed": seed,
            "org_kinds": sorted(org_kinds) if org_kinds else None,
            "linked_persons": len(linked),
        },
    )
    return SynthResult(
        persons=persons,
        screenings=len(truth),
        rows=writer.rows,
        linked_persons=len(linked),
        elapsed=time.perf_counter() - started,
        truth=truth,
        quality=quality,
        exact_quality=exact_quality,
        timings=timings,
    )


# The forked workers find their population and builder here (set before the fork).
_WORKER_STATE: tuple[Population, RowBuilder] | None = None


def _build_range(start: int, stop: int) -> list[Built]:
    assert _WORKER_STATE is not None
    population, builder = _WORKER_STATE
    return [
        builder.build(reg) for index in range(start, stop) for reg in population.person(index)[1]
    ]


def _build_all(
    population: Population, builder: RowBuilder, ranges: Sequence[tuple[int, int]], workers: int
) -> Iterator[list[Built]]:
    """The built rows of each range, in order; with workers, a few ranges ahead."""
    global _WORKER_STATE
    _WORKER_STATE = (population, builder)
    try:
        if workers == 1:
            for start, stop in ranges:
                yield _build_range(start, stop)
            return
        # fork: the children inherit the app context (keys) and never touch the database
        context = multiprocessing.get_context("fork")
        with context.Pool(workers) as pool:
            pending: deque[Any] = deque()
            todo = iter(ranges)
            for task in itertools.islice(todo, 2 * workers):
                pending.append(pool.apply_async(_build_range, task))
            while pending:
                result = pending.popleft().get()
                following = next(todo, None)
                if following is not None:
                    pending.append(pool.apply_async(_build_range, following))
                yield result
    finally:
        _WORKER_STATE = None
