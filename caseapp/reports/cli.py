"""``flask synth``: synthetic persons and screenings for demos, benchmarks and linkage
quality (api.md §1). Never in production: the rows are indistinguishable from real ones."""

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
    from caseapp.reports import synth as synthetic

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


@click.command("estimate")
@click.option(
    "--table",
    "table_path",
    required=True,
    type=click.Path(dir_okay=False, path_type=str),
    help="CSV: one 0/1 column per list and a 'count' column (persons seen by "
    "exactly that combination of lists).",
)
@click.option(
    "--criterion",
    type=click.Choice(["aic", "bic"]),
    default="aic",
    show_default=True,
    help="Model-selection criterion of the published figure.",
)
@click.option(
    "--reps",
    type=click.IntRange(min=100, max=20000),
    default=1000,
    show_default=True,
    help="Parametric bootstrap replicates for the interval.",
)
@click.option(
    "--seed",
    type=int,
    default=2014,
    show_default=True,
    help="The same seed gives the same interval.",
)
@click.option(
    "--min-persons",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="Refuse tables with fewer observed persons.",
)
def estimate(table_path: str, criterion: str, reps: int, seed: int, min_persons: int) -> None:
    """Multiple systems estimate of the persons no list has seen, from a list-overlap
    table. The last line of output is a JSON object (api.md §1)."""
    import json

    from caseapp.reports import estimation

    try:
        with open(table_path, encoding="utf-8-sig", newline="") as handle:
            table = estimation.read_table(handle)
    except OSError as exc:
        click.echo(f"error: {table_path}: {exc.strerror or exc}", err=True)
        sys.exit(1)
    except UnicodeDecodeError:
        click.echo(f"error: {table_path}: not UTF-8 text", err=True)
        sys.exit(1)
    except estimation.TableError as exc:
        click.echo(f"error: {table_path}: {exc}", err=True)
        sys.exit(1)
    result = estimation.estimate(
        table, min_persons=min_persons, reps=reps, seed=seed, criterion=criterion
    )
    if isinstance(result, estimation.Refusal):
        click.echo(f"refused: {result.message_en}")
        click.echo(
            json.dumps(
                {
                    "refused": True,
                    "reason": result.code,
                    "message": result.message_en,
                    "message_es": result.message_es,
                },
                ensure_ascii=False,
            )
        )
        return
    doc = result.as_dict()
    click.echo(f"lists: {', '.join(result.lists)}")
    click.echo(f"observed: {result.observed}")
    click.echo(f"model ({criterion.upper()}): {doc['model']}")
    other = "bic" if criterion == "aic" else "aic"
    click.echo(
        f"{other.upper()} model would give: {doc['models'][other]['estimate']:,.0f} "
        f"({', '.join(doc['models'][other]['interactions']) or 'main effects only'})"
    )
    click.echo(
        f"estimate: {result.estimate:,.0f} (95 % interval {result.ci_low:,.0f}–"
        f"{result.ci_high:,.0f}); unseen {result.unseen:,.0f}"
    )
    click.echo(json.dumps(doc, ensure_ascii=False))
