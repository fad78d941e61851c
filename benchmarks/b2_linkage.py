"""B2 — linkage: the full recompute (``facts.relink_all``) and the added cost of one new
screening (``facts.record``: the fact and its purposes inserted, then ``link_one``).

Full recompute: ``relink_all`` over the linked data (reads every keyed encoding,
re-estimates the Fellegi–Sunter model, links in memory, writes the person ids that
changed), rolled back so every repeat starts alike.
The recompute from scratch (every fact its own person, so about a third of the facts
change) is the link phase of ``flask synth`` (B5), reported beside it; resetting 1.5
million rows before each repeat would cost minutes of its own.

Per screening: a random sample of existing screenings (realistic: most have duplicates
among the other screenings) loses its facts, keyed encodings and blocking keys, then each
is recorded again one by one (encode, store, block lookup, score with the stored model,
constrained merge), timed individually, in one transaction rolled back at the end.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa


@dataclass
class RelinkRun:
    seconds: float
    screenings: int
    persons: int


def relink_once(app: Any) -> RelinkRun:
    """``relink_all()`` over every fact as they are (already linked): it reads every keyed
    encoding, re-estimates the model, recomputes every person and writes what changed;
    rolled back."""
    from caseapp.extensions import db
    from caseapp.facts import services as facts

    with app.app_context():
        try:
            t0 = time.perf_counter()
            screenings, persons = facts.relink_all()
            db.session.flush()
            seconds = time.perf_counter() - t0
        finally:
            db.session.rollback()
    return RelinkRun(seconds, screenings, persons)


def record_sample(app: Any, n: int, seed: int) -> list[float]:
    """Seconds per ``facts.record`` for ``n`` random existing screenings (rolled back)."""
    from sqlalchemy.orm import joinedload

    from caseapp.extensions import db
    from caseapp.facts import services as facts
    from caseapp.facts.models import (
        LinkageBlock,
        LinkageRecord,
        ScreeningFact,
        ScreeningFactPurpose,
    )
    from caseapp.screening.models import Case, Screening

    with app.app_context():
        try:
            top = int(db.session.scalar(sa.select(sa.func.max(ScreeningFact.screening_id))) or 0)
            rng = random.Random(seed)
            ids: list[int] = []
            seen: set[int] = set()
            while len(ids) < n and len(seen) < top:
                sid = rng.randint(1, top)
                if sid not in seen:
                    seen.add(sid)
                    ids.append(sid)
            screenings = list(
                db.session.scalars(
                    sa.select(Screening)
                    .where(Screening.id.in_(ids))
                    .options(
                        joinedload(Screening.case).joinedload(Case.person),
                        joinedload(Screening.organization),
                    )
                ).unique()
            )
            for s in screenings:  # decrypt outside the timing
                _ = s.case.person.given_names, s.case.person.family_names
                _ = s.case.person.date_of_birth, s.case.person.document_number
            found = [s.id for s in screenings]
            # a new screening has no fact, no keyed encodings and no blocking keys yet
            for table in (LinkageBlock, LinkageRecord, ScreeningFactPurpose):
                db.session.execute(sa.delete(table).where(table.screening_id.in_(found)))
            db.session.execute(
                sa.delete(ScreeningFact).where(ScreeningFact.screening_id.in_(found))
            )
            db.session.flush()
            rng.shuffle(screenings)
            out = []
            for s in screenings:
                _ = s.case.person.sex, s.organization.org_kind  # loaded, untimed
                t0 = time.perf_counter()
                fact = facts.record(s)
                out.append(time.perf_counter() - t0)
                # each new screening is its own request: no earlier facts in the session
                db.session.expunge(fact)
            return out
        finally:
            db.session.rollback()


def run_relink(app: Any, runs: int, log: Callable[[str], None]) -> list[RelinkRun]:
    out = []
    for _ in range(runs):
        out.append(relink_once(app))
        log(
            f"  relink_all: {out[-1].seconds:.1f} s "
            f"({out[-1].screenings:,} screenings -> {out[-1].persons:,} persons)"
        )
    return out


def run_record(app: Any, runs: int, per_run: int, log: Callable[[str], None]) -> list[list[float]]:
    out = []
    for i in range(runs):
        times = record_sample(app, per_run, seed=1000 + i)
        out.append(times)
        log(
            f"  record+link_one: mean {sum(times) / len(times) * 1000:.2f} ms "
            f"over {len(times)} screenings"
        )
    return out
