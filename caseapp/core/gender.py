"""Words for a person's gender, shown to people (domain.md §2).

One pure place for how Ruta *names* a person in categories, reasons and letters: wording
follows gender identity when it is recorded (``trans_feminine`` reads as a woman or girl,
``trans_masculine`` as a man or boy, with "(trans)" where the distinction matters to a
provider), and falls back to the sex in the identity document otherwise.

Statistics do not use this module: ``unodc_category`` and the ``sex`` dimension stay by the
sex recorded from the identity document (codes.md §2, reports.md §2), and gender identity is
its own dimension (docs/decisions/0024-frontline-wording-demo-and-guide.md).
"""

from __future__ import annotations

from dataclasses import dataclass

#: Identity → the sex the words follow. ``non_conforming`` and ``not_specified`` are absent:
#: the first gets neutral words, the second falls back to the document's sex.
_WORDING_SEX = {
    "feminine": "F",
    "trans_feminine": "F",
    "masculine": "M",
    "trans_masculine": "M",
}
TRANS_IDENTITIES = frozenset({"trans_feminine", "trans_masculine"})


@dataclass(frozen=True, slots=True)
class Words:
    """Bilingual words for one person: a category ("Mujer adulta (trans)") and the short
    word used inside reasons ("mujer trans"; empty when nothing is known)."""

    category_es: str
    category_en: str
    short_es: str
    short_en: str

    def category(self, locale: str = "es") -> str:
        return self.category_en if locale.lower().startswith("en") else self.category_es


def wording_sex(sex: str | None, gender_identity: str | None) -> str | None:
    """``F``/``M`` the words follow, or ``None`` for neutral words.

    Gender identity wins when recorded; ``non_conforming`` is neutral; otherwise the sex in
    the identity document (``intersex`` and ``unknown`` are neutral).
    """
    if gender_identity in _WORDING_SEX:
        return _WORDING_SEX[gender_identity]
    if gender_identity == "non_conforming":
        return None
    return sex if sex in ("F", "M") else None


def is_trans(gender_identity: str | None) -> bool:
    return gender_identity in TRANS_IDENTITIES


# (wording sex, age) → (es, en); age is "child", "adult" or "unknown".
_CATEGORY = {
    ("F", "child"): ("Niña o adolescente mujer", "Girl"),
    ("M", "child"): ("Niño o adolescente hombre", "Boy"),
    ("F", "adult"): ("Mujer adulta", "Adult woman"),
    ("M", "adult"): ("Hombre adulto", "Adult man"),
    ("F", "unknown"): ("Mujer de edad desconocida", "Woman of unknown age"),
    ("M", "unknown"): ("Hombre de edad desconocida", "Man of unknown age"),
    (None, "child"): ("Niña, niño o adolescente", "Child"),
    (None, "adult"): ("Persona adulta", "Adult"),
    (None, "unknown"): ("Persona de edad desconocida", "Person of unknown age"),
}
_SHORT = {
    ("F", False): ("mujer", "female"),
    ("M", False): ("varón", "male"),
    ("F", True): ("mujer trans", "trans woman"),
    ("M", True): ("varón trans", "trans man"),
}


def age_kind(age_group_or_tag: str | None) -> str:
    """``child``/``adult``/``unknown`` from an age group (codes.md §2) or a profile tag."""
    if age_group_or_tag in ("under_14", "age_14_17", "child"):
        return "child"
    if age_group_or_tag == "adult":
        return "adult"
    return "unknown"


def words(sex: str | None, gender_identity: str | None, age: str | None) -> Words:
    """The words for a person of this sex, identity and age (group, tag or kind)."""
    kind = age_kind(age)
    shown = wording_sex(sex, gender_identity)
    trans = is_trans(gender_identity)
    es, en = _CATEGORY[(shown, kind)]
    if trans:
        es, en = f"{es} (trans)", f"{en} (trans)"
    elif gender_identity == "non_conforming":
        es, en = f"{es} de género no conforme", f"{en}, gender non-conforming"
    short_es, short_en = _SHORT.get((shown, trans), ("", "")) if shown else ("", "")
    if gender_identity == "non_conforming":
        short_es, short_en = "género no conforme", "gender non-conforming"
    return Words(es, en, short_es, short_en)
