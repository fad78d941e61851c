"""`flask linkage …`: evaluate the linkage on labelled records, re-encode the stored
encodings (docs/linkage.md)."""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path

import click
from flask.cli import AppGroup

from caseapp.extensions import db

linkage_group = AppGroup("linkage", help="Record linkage (unduplicated persons).")


@linkage_group.command("evaluate")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--clusters",
    "out",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="Write record_id,cluster per record to this CSV.",
)
@click.option(
    "--threshold",
    type=float,
    default=None,
    help="Match weight (bits); default: from LINKAGE_MATCH_PROBABILITY and the data size.",
)
def linkage_evaluate(file: Path, out: Path | None, threshold: float | None) -> None:
    """Link the labelled records of FILE exactly as production does, in memory, with a
    throwaway key (nothing is stored); the JSON summary is the last line."""
    from flask import current_app

    from caseapp.facts import probabilistic

    try:
        text = file.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        click.echo(f"error: {file}: not UTF-8 ({exc.reason})", err=True)
        sys.exit(1)
    try:
        rows = probabilistic.parse_rows(text)
    except probabilistic.RowError as exc:
        click.echo(f"error: {file}: {exc}", err=True)
        sys.exit(1)
    summary, clusters = probabilistic.evaluate_rows(
        rows,
        threshold=threshold,
        probability=float(current_app.config.get("LINKAGE_MATCH_PROBABILITY", 0.5)),
        floor=float(current_app.config.get("LINKAGE_THRESHOLD", 10.0)),
    )
    if out is not None:
        with out.open("w", newline="", encoding="utf-8") as fh:
            writer = csv.writer(fh)
            writer.writerow(["record_id", "cluster"])
            writer.writerows(clusters)
    click.echo(json.dumps(summary, sort_keys=True))


@linkage_group.command("reencode")
def linkage_reencode() -> None:
    """Encode every screening's identity again under the current INDEX_KEY and relink
    (after a key rotation or an encoding change)."""
    from caseapp.facts import services

    encoded = services.reencode_all()
    db.session.commit()
    click.echo(f"re-encoded {encoded} screening(s) and relinked every person")
