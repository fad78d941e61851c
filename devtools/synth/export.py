"""Synthetic data as labelled linkage records: the CSV ``flask linkage evaluate`` reads.

``python -m devtools.synth.export --persons N [--seed 1] OUT.csv`` writes one row per
synthetic screening with the identity as that organization recorded it (typos, swapped
names, an age instead of a date of birth, a missing or mistyped document…) and the true
person in ``person_id``. The persons are those of ``flask synth --persons N --seed S``
(the same ``Population``), but nothing touches a database: the organizations that screen
are the seeded directory (``caseapp/directory/data/directory.csv``), which is what
``flask seed`` loads. Benchmark B6 (benchmarks/b6_linkage.py) links these files.

Columns (UTF-8, header): ``record_id,person_id,given_names,family_names,sex,
date_of_birth,birth_year,document_type,document_number``. ``sex`` is ``F``, ``M`` or
empty (unknown, and the rare intersex, which the linkage file format does not carry);
``birth_year`` only when the screening recorded an age and no date of birth, computed as
the facts do (year of identification in Lima minus the age).
"""

from __future__ import annotations

import argparse
import csv
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import IO

from caseapp.core.time import LIMA
from caseapp.facts.probabilistic import COLUMNS  # what `flask linkage evaluate` reads
from devtools.synth.population import Directory, OrgRef, Population, Registration

DIRECTORY_FILE = (
    Path(__file__).resolve().parents[2] / "caseapp" / "directory" / "data" / "directory.csv"
)


def seeded_directory(path: Path = DIRECTORY_FILE) -> Directory:
    """The organizations ``flask seed`` creates from the directory file, numbered in file
    order (one per code), without a database."""
    orgs: dict[str, OrgRef] = {}
    with path.open(encoding="utf-8-sig", newline="") as f:
        for row in csv.DictReader(f):
            code = row["code"].strip()
            if code and code not in orgs:
                orgs[code] = OrgRef(len(orgs) + 1, row["org_kind"].strip(), row["region"].strip())
    return Directory(orgs.values())


def record_row(record_id: int, reg: Registration) -> dict[str, str]:
    """One linkage record from one synthetic screening."""
    p = reg.data.person
    dob = p.date_of_birth
    birth_year = ""
    if dob is None and p.age_years is not None:
        birth_year = str(reg.data.identified_at.astimezone(LIMA).year - p.age_years)
    document = p.document
    return {
        "record_id": str(record_id),
        "person_id": str(reg.person),
        "given_names": p.given_names or "",
        "family_names": p.family_names or "",
        "sex": p.sex if p.sex in ("F", "M") else "",
        "date_of_birth": dob.isoformat() if dob is not None else "",
        "birth_year": birth_year,
        "document_type": document.type if document is not None else "",
        "document_number": document.number if document is not None else "",
    }


def records(
    persons: int, seed: int = 1, directory: Directory | None = None
) -> Iterator[dict[str, str]]:
    """The linkage records of the first ``persons`` synthetic persons, numbered from 1."""
    population = Population(seed, directory or seeded_directory())
    record_id = 0
    for index in range(persons):
        for reg in population.person(index)[1]:
            record_id += 1
            yield record_row(record_id, reg)


def write(out: IO[str], persons: int, seed: int = 1) -> int:
    """Write the CSV; return the number of records."""
    writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    n = 0
    for row in records(persons, seed):
        writer.writerow(row)
        n += 1
    return n


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m devtools.synth.export", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("output", help="CSV file to write ('-' for standard output)")
    parser.add_argument("--persons", type=int, required=True, help="synthetic persons")
    parser.add_argument("--seed", type=int, default=1, help="same seed, same persons")
    args = parser.parse_args(argv)
    if args.persons < 1:
        parser.error("--persons must be at least 1")
    if args.output == "-":
        n = write(sys.stdout, args.persons, args.seed)
    else:
        with open(args.output, "w", encoding="utf-8", newline="") as f:
            n = write(f, args.persons, args.seed)
    print(f"{n} records of {args.persons} persons", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
