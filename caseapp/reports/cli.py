"""Statistics commands (`flask reports …`). ``flask synth`` lives in devtools/synth/cli.py."""

from __future__ import annotations

import sys

import click


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

    from caseapp.stats import estimation

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
