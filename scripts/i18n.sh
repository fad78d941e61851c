#!/usr/bin/env bash
# Extract, update and compile the English catalogue (msgids are Spanish).
#
#   scripts/i18n.sh           extract -> update (or init) -> compile
#   scripts/i18n.sh --check   extract to a temp file only; exit 1 and list every
#                             msgid lacking a non-empty English msgstr
#
# Re-runnable: `pybabel update` keeps existing translations.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

PYBABEL=.venv/bin/pybabel
PYTHON=.venv/bin/python
TRANSLATIONS=caseapp/translations
POT="$TRANSLATIONS/messages.pot"
LOCALE=en
PO="$TRANSLATIONS/$LOCALE/LC_MESSAGES/messages.po"

# The input path must be "." : babel.cfg patterns are relative to the repo root.
extract() {
    "$PYBABEL" extract -F babel.cfg -k _l -o "$1" .
}

check() {
    # Globals (not `local`): the EXIT trap runs after this function returns.
    CHECK_POT="$(mktemp "${TMPDIR:-/tmp}/messages.XXXXXX")"
    CHECK_LOG="$(mktemp "${TMPDIR:-/tmp}/i18n-extract.XXXXXX")"
    trap 'rm -f "${CHECK_POT:-}" "${CHECK_LOG:-}"' EXIT
    local tmp="$CHECK_POT" log="$CHECK_LOG"
    if ! extract "$tmp" >"$log" 2>&1; then
        cat "$log" >&2
        echo "i18n: extraction failed" >&2
        exit 2
    fi
    "$PYTHON" - "$tmp" "$PO" <<'PY'
import os
import sys

from babel.messages.pofile import read_po

pot_path, po_path = sys.argv[1], sys.argv[2]
with open(pot_path, "rb") as fh:
    template = read_po(fh)
catalog = None
if os.path.exists(po_path):
    with open(po_path, "rb") as fh:
        catalog = read_po(fh, locale="en")


def translated(msg) -> bool:
    if msg is None or msg.fuzzy:
        return False
    strings = msg.string if isinstance(msg.string, (list, tuple)) else [msg.string]
    return bool(strings) and all(s and s.strip() for s in strings)


missing = []
for msg in template:
    if not msg.id:
        continue
    found = catalog.get(msg.id, msg.context) if catalog is not None else None
    if not translated(found):
        missing.append(msg)

if missing:
    print(f"{len(missing)} message(s) without an English translation in {po_path}:")
    for msg in missing:
        ident = msg.id[0] if isinstance(msg.id, (list, tuple)) else msg.id
        where = ", ".join(f"{f}:{l}" for f, l in msg.locations[:2])
        print(f"  - {ident!r}" + (f"  ({where})" if where else ""))
    sys.exit(1)
print(f"i18n: all {sum(1 for m in template if m.id)} messages translated.")
PY
}

case "${1:-}" in
    --check)
        check
        ;;
    "")
        extract "$POT"
        if [[ -f "$PO" ]]; then
            "$PYBABEL" update -i "$POT" -d "$TRANSLATIONS" -l "$LOCALE" --no-fuzzy-matching
        else
            "$PYBABEL" init -i "$POT" -d "$TRANSLATIONS" -l "$LOCALE"
        fi
        "$PYBABEL" compile -d "$TRANSLATIONS"
        ;;
    *)
        echo "usage: $0 [--check]" >&2
        exit 2
        ;;
esac
