"""Fill English translations from JSON files: {"Spanish msgid": "English" | ["one", "many"]}.

Usage: .venv/bin/python scripts/i18n_fill.py caseapp/translations/pending/*.json
Run scripts/i18n.sh first (so the msgids exist) and again afterwards (to compile).
Existing non-empty translations are kept unless --overwrite is given.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from babel.messages.pofile import read_po, write_po

PO = Path(__file__).resolve().parents[1] / "caseapp/translations/en/LC_MESSAGES/messages.po"


def main(argv: list[str]) -> int:
    overwrite = "--overwrite" in argv
    files = [a for a in argv if a != "--overwrite"]
    with PO.open("rb") as fh:
        catalog = read_po(fh, locale="en")
    filled, unknown = 0, []
    for name in files:
        for msgid, english in json.loads(Path(name).read_text(encoding="utf-8")).items():
            message = catalog.get(msgid)
            if message is None:
                unknown.append(msgid)
                continue
            current = message.string
            empty = not current or (isinstance(current, tuple) and not all(current))
            if empty or overwrite:
                message.string = tuple(english) if isinstance(english, list) else english
                message.flags.discard("fuzzy")
                filled += 1
    with PO.open("wb") as fh:
        write_po(fh, catalog, width=100)
    print(f"filled {filled} translations; {len(unknown)} msgids not in the catalogue")
    for msgid in unknown:
        print(f"  not found: {msgid!r}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
