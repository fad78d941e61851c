"""``flask synth``: synthetic persons and screenings for demos, benchmarks and linkage
quality (api.md §1). Never in production: the rows are indistinguishable from real ones.

Registered through the ``flask.commands`` entry point of the development install
(pyproject.toml), so the product package never imports it.
"""

from __future__ import annotations

import sys

import click
from flask import current_app

from caseapp.audit.services import SystemActor
from caseapp.core import codes
from caseapp.extensions import db


def _org_kinds(_ctx: click.Context, _param: click.Parameter, value: str | None) -> list[str]:
    kinds = [k.strip() for k in (value or "").split(",") if k.strip()]
    unknown = [k for k in kinds if k not in codes.get("org_kind")]
    if unknown:
        raise click.BadParameter(f"unknown organization kind(s): {', '.join(unknown)}")
    return kinds


@click.command("synth")
@click.option(
    "--persons",
    type=click.IntRange(min=1),
    required=True,
    help="Number of synthetic persons (each screened by 1 to 5 organizations).",
)
@click.option(
    "--seed",
    type=int,
    default=1,
    show_default=True,
    help="The same seed gives the same persons and screenings.",
)
@click.option(
    "--org-kinds",
    callback=_org_kinds,
    help="Comma-separated organization kinds that screen (default: all).",
)
@click.option(
    "--evaluate/--no-evaluate",
    default=True,
    show_default=True,
    help="Print the pairwise precision and recall of the person linkage.",
)
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    default=None,
    help="Processes building rows (default: one per CPU from 20,000 persons).",
)
def synth(
    persons: int, seed: int, org_kinds: list[str], evaluate: bool, workers: int | None
) -> None:
    """Generate synthetic persons with screenings across organizations, with realistic
    duplicates and typos, then link them into unduplicated persons."""
    from devtools.synth import run as synthetic

    if current_app.config["ENV"] == "production":
        click.echo("error: synthetic data is never generated in production", err=True)
        sys.exit(1)
    with click.progressbar(length=persons, label="synth", file=sys.stderr) as bar:
        try:
            result = synthetic.generate(
                SystemActor(email="system:synth"),
                persons,
                seed=seed,
                org_kinds=org_kinds or None,
                evaluate=evaluate,
                workers=workers,
                progress=bar.update,
            )
        except ValueError as exc:
            db.session.rollback()
            click.echo(f"error: {exc}", err=True)
            sys.exit(1)
    db.session.commit()
    click.echo(f"persons: {result.persons}")
    click.echo(f"screenings: {result.screenings}")
    click.echo(f"linked persons: {result.linked_persons}")
    click.echo(f"rows: {result.rows}")
    click.echo(
        f"elapsed: {result.elapsed:.1f} s ({result.rows_per_second:,.0f} rows/s; "
        + ", ".join(f"{k} {v:.1f} s" for k, v in result.timings.items())
        + ")"
    )
    if result.exact_quality is not None:
        # not "linkage precision": scripts read the last line's numbers by that phrase
        click.echo(result.exact_quality.summary("exact keys only:"))
    if result.quality is not None:
        click.echo(result.quality.summary())


DEMO_PERSONS = 2000
DEMO_SEED = 14


@click.command("statistics")
@click.option(
    "--persons",
    type=click.IntRange(min=1),
    default=DEMO_PERSONS,
    show_default=True,
    help="Number of synthetic persons.",
)
def demo_statistics(persons: int) -> None:
    """Synthetic persons so that the statistics pages show real-looking numbers at once
    (development only, once per database). Part of `flask demo`; registered only outside
    production, and it refuses anywhere but a development or testing configuration."""
    import sqlalchemy as sa

    from caseapp.audit.models import AuditEvent
    from devtools.synth import run as synthetic

    env = current_app.config["ENV"]
    if env not in ("development", "testing"):
        click.echo(f"error: demo statistics are never generated in {env}", err=True)
        sys.exit(1)
    done = sa.select(sa.func.count(AuditEvent.id)).where(AuditEvent.action == "synth.generate")
    if db.session.scalar(done):
        click.echo("demo statistics already present")
        return
    result = synthetic.generate(
        SystemActor(email="system:demo"), persons, seed=DEMO_SEED, evaluate=False
    )
    db.session.commit()
    click.echo(
        f"demo statistics: {result.persons} synthetic persons, {result.screenings} "
        f"screenings, {result.linked_persons} linked persons ({result.elapsed:.1f} s)"
    )
