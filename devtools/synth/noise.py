"""Synthetic data: realistic record noise (typos, dropped accents and name parts, swapped
dates, mistyped documents)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from devtools.synth.population import TruePerson

import random
import unicodedata
from collections.abc import Iterator
from datetime import date

from devtools.synth.distributions import (
    _ACCENTED,
    _PHONETIC,
    P_ADD_ACCENT,
    P_DOC_TYPO,
    P_DROP_ACCENTS,
    P_DROP_SECOND_GIVEN,
    P_DROP_SECOND_SURNAME,
    P_DROP_SECOND_SURNAME_FOREIGN,
    P_LOWER,
    P_NO_NAME,
    P_SURNAMES_FIRST,
    P_SWAP_SURNAMES,
    P_TYPO,
    P_UPPER,
)

# --- Noise -----------------------------------------------------------------------------------


def strip_accents(text: str) -> str:
    decomposed = unicodedata.normalize("NFD", text)
    kept = "".join(ch for ch in decomposed if not unicodedata.combining(ch) or ch == "\u0303")
    return unicodedata.normalize("NFC", kept)  # keep Ñ: "Nunez" is a different spelling


def typo(rng: random.Random, word: str) -> str:
    """One realistic mistake: a phonetic or keyboard substitution, a transposition of
    adjacent letters, or an omitted letter (never the first letter)."""
    if len(word) < 3:
        return word
    kind = rng.random()
    if kind < 0.45:
        lower = word.lower()
        options = [(i, a, b) for a, b in _PHONETIC for i in _find_all(lower, a) if i > 0]
        if options:
            i, a, b = options[rng.randrange(len(options))]
            return word[:i] + _match_case(word[i : i + len(a)], b) + word[i + len(a) :]
        kind = 0.5
    if kind < 0.75:
        i = rng.randrange(1, len(word) - 1)
        if word[i] != word[i + 1]:
            return word[:i] + word[i + 1] + word[i] + word[i + 2 :]
    i = rng.randrange(1, len(word))
    return word[:i] + word[i + 1 :]


def _find_all(text: str, sub: str) -> Iterator[int]:
    i = text.find(sub)
    while i >= 0:
        yield i
        i = text.find(sub, i + 1)


def _match_case(original: str, replacement: str) -> str:
    return replacement.upper() if original.isupper() else replacement


def _add_accent(rng: random.Random, word: str) -> str:
    positions = [i for i, ch in enumerate(word) if ch.lower() in _ACCENTED]
    if not positions:
        return word
    i = positions[rng.randrange(len(positions))]
    accented = _ACCENTED[word[i].lower()]
    return word[:i] + (accented.upper() if word[i].isupper() else accented) + word[i + 1 :]


def _noisy_name(rng: random.Random, t: TruePerson, foreign: bool) -> tuple[str | None, str | None]:
    if rng.random() < P_NO_NAME:
        return None, None
    given = list(t.given)
    family = list(t.family)
    if len(given) > 1 and rng.random() < P_DROP_SECOND_GIVEN:
        given = given[:1]
    if rng.random() < (P_DROP_SECOND_SURNAME_FOREIGN if foreign else P_DROP_SECOND_SURNAME):
        family = family[:1]
    elif rng.random() < P_SWAP_SURNAMES:
        family.reverse()
    parts = given + family
    if rng.random() < P_TYPO:
        i = rng.randrange(len(parts))
        parts[i] = typo(rng, parts[i])
    if rng.random() < P_DROP_ACCENTS:
        parts = [strip_accents(p) for p in parts]
    elif rng.random() < P_ADD_ACCENT:
        i = rng.randrange(len(parts))
        parts[i] = _add_accent(rng, parts[i])
    r = rng.random()
    if r < P_UPPER:
        parts = [p.upper() for p in parts]
    elif r < P_UPPER + P_LOWER:
        parts = [p.lower() for p in parts]
    given_text = " ".join(parts[: len(given)])
    family_text = " ".join(parts[len(given) :])
    if rng.random() < P_SURNAMES_FIRST:
        return family_text, given_text
    return given_text, family_text


def _dob_typo(rng: random.Random, dob: date) -> date:
    if dob.day <= 12 and dob.day != dob.month and rng.random() < 0.6:
        return dob.replace(month=dob.day, day=dob.month)
    year = dob.year + rng.choice((-10, -1, 1, 10))
    return dob.replace(year=year, day=min(dob.day, 28))


def _noisy_number(rng: random.Random, doc_type: str, number: str) -> str:
    if rng.random() < P_DOC_TYPO:
        i = rng.randrange(len(number) - 1)
        if rng.random() < 0.5:
            number = number[:i] + number[i + 1] + number[i] + number[i + 2 :]
        else:
            number = number[:i] + str(rng.randrange(10)) + number[i + 1 :]
    if doc_type == "dni" and rng.random() < 0.05:
        return f"{number}-{rng.randrange(10)}"  # with the check digit
    if doc_type == "cedula_foreign" and rng.random() < 0.4:
        return f"V-{int(number):,}".replace(",", ".")
    return number
