"""Synthetic data: the ground truth (true persons) and their registrations by organizations."""

from __future__ import annotations

import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import sqlalchemy as sa

from caseapp.accounts.models import Organization
from caseapp.core.codes import STRONG_INDICATORS
from caseapp.core.time import LIMA
from caseapp.extensions import db
from caseapp.screening.schema import ContextInput, DocumentInput, PersonInput, ScreeningInput
from devtools.synth.distributions import (
    _ADULT_AGES,
    _CHILD_AGES,
    _OTHER_CONTEXT,
    ACT_P,
    ADULT_AGES_BY_FORM,
    AMAZONIAN_LANG,
    ANDEAN,
    CHILD_SHARE,
    CONTEXT_BY_KIND,
    FIRST_DAY,
    FIRST_KIND,
    FOREIGN_DOCUMENT,
    FORM_BY_SEX,
    GENDER,
    HOTSPOT,
    INDICATOR_P,
    LABOUR_PURPOSE,
    LAST_DAY,
    MEANS_P,
    MIGRATION,
    NATIONALITY,
    NEEDS_P,
    NEXT_DELAY_DAYS,
    NEXT_KIND,
    ORIGIN_REGION,
    P_AGE_ONLY_WHEN_DOB,
    P_AGE_WRONG_BY_ONE,
    P_DOB_KNOWN,
    P_DOB_TYPO,
    P_DOC_PLACEHOLDER,
    P_DOC_RECORDED,
    P_NO_PURPOSE,
    P_NOTHING_WHEN_UNKNOWN,
    P_RECORD_DOB,
    P_SEX_UNKNOWN,
    P_THIN,
    RECRUITMENT,
    REGION_BY_SECTOR,
    RELATION,
    SCREENINGS_PER_PERSON,
    SECTOR_BY_FORM,
    SEX,
    SINGLE_PURPOSE,
    T,
    Weighted,
    seeded,
)
from devtools.synth.names import name_pools
from devtools.synth.noise import _dob_typo, _noisy_name, _noisy_number

# --- Ground truth and registrations ------------------------------------------------------


@dataclass(frozen=True, slots=True)
class OrgRef:
    id: int
    kind: str
    region: str


@dataclass(slots=True)
class TruePerson:
    """Who the synthetic person really is; registers see a noisy copy of it."""

    index: int
    sex: str
    gender_identity: str | None
    given: tuple[str, ...]
    family: tuple[str, ...]
    date_of_birth: date
    dob_known: bool
    nationality: tuple[str, ...]
    documents: tuple[tuple[str, str], ...]
    languages: tuple[str, ...]
    migration_status: str
    form: str
    sector: str
    exploitation_region: str
    origin_region: str
    pregnant: bool
    disability: bool
    contact: str | None
    address: str | None


@dataclass(frozen=True, slots=True)
class Registration:
    """One organization's screening of one synthetic person."""

    person: int  # ground truth: index of the TruePerson
    org: OrgRef
    data: ScreeningInput
    created_at: datetime
    closed_at: datetime | None


class Directory:
    """The seeded organizations that may screen, by kind and region."""

    def __init__(self, orgs: Iterable[OrgRef]) -> None:
        self.by_kind: dict[str, list[OrgRef]] = {}
        self.by_kind_region: dict[tuple[str, str], list[OrgRef]] = {}
        for org in sorted(orgs, key=lambda o: o.id):
            self.by_kind.setdefault(org.kind, []).append(org)
            self.by_kind_region.setdefault((org.kind, org.region), []).append(org)
        if not self.by_kind:
            raise ValueError("no organizations to screen with: run `flask seed` first")

    @classmethod
    def load(cls, org_kinds: Sequence[str] | None = None) -> Directory:
        stmt = sa.select(Organization.id, Organization.org_kind, Organization.region_code).where(
            Organization.is_active.is_(True)
        )
        if org_kinds:
            stmt = stmt.where(Organization.org_kind.in_(list(org_kinds)))
        return cls(OrgRef(r[0], r[1], r[2]) for r in db.session.execute(stmt))

    def pick(self, rng: random.Random, kind: str, region: str, exclude: set[int]) -> OrgRef | None:
        """An organization of ``kind``, in ``region`` when there is one there."""
        for pool in (self.by_kind_region.get((kind, region), ()), self.by_kind.get(kind, ())):
            candidates = [o for o in pool if o.id not in exclude]
            if candidates:
                return candidates[rng.randrange(len(candidates))]
        return None


class Population:
    """Deterministic synthetic persons and their screenings.

    Person ``i`` is always the same for a given seed: its random stream is seeded from
    ``(seed, i)``, so batches can be generated in any order (or in parallel) and a run of
    1,000 persons is the first 1,000 persons of a run of 1,000,000.
    """

    def __init__(self, seed: int, directory: Directory) -> None:
        self.seed = seed
        self.directory = directory
        kinds = set(directory.by_kind)
        self.first_kind = Weighted(
            [
                (k, w)
                for k, w in zip(FIRST_KIND.values, _weights(FIRST_KIND), strict=True)
                if k in kinds
            ]
            or [(k, 1.0) for k in sorted(kinds)]
        )
        self.next_kind = {
            kind: Weighted(
                [(k, w) for k, w in NEXT_KIND.get(kind, {}).items() if k in kinds]
                or [(k, 1.0) for k in sorted(kinds)]
            )
            for kind in kinds
        }
        offsets = seeded(f"ruta-synth-documents:{seed}")
        self._doc_offsets = {t: offsets.randrange(_DOC_SPACE[t][1]) for t in _DOC_SPACE}
        self._days = (LAST_DAY - FIRST_DAY).days

    def person(self, index: int) -> tuple[TruePerson, list[Registration]]:
        rng = seeded(f"{self.seed}:{index}")
        truth, first_at = self._truth(rng, index)
        return truth, self._registrations(rng, truth, first_at)

    # -- the person ----------------------------------------------------------------------
    def _truth(self, rng: random.Random, index: int) -> tuple[TruePerson, datetime]:
        sex = SEX(rng)
        nationality = NATIONALITY(rng)
        foreign = nationality != "PER"
        form = FORM_BY_SEX[sex](rng)
        child = rng.random() < CHILD_SHARE[form]
        age = (_CHILD_AGES[form] if child else _ADULT_AGES[ADULT_AGES_BY_FORM.get(form, "young")])(
            rng
        )
        if form == "labour":
            sector = SECTOR_BY_FORM["labour_M" if sex == "M" else "labour_F"](rng)
        else:
            sector = SECTOR_BY_FORM[form](rng)
        exploitation_region = REGION_BY_SECTOR.get(sector, HOTSPOT)(rng)
        if foreign:
            origin = "abroad"
        elif rng.random() < 0.45:
            origin = exploitation_region
        else:
            origin = ORIGIN_REGION(rng)

        first_day = FIRST_DAY + timedelta(days=rng.randrange(self._days + 1))
        minutes = rng.randrange(6 * 60, 24 * 60)
        first_at = datetime(
            first_day.year, first_day.month, first_day.day, tzinfo=LIMA
        ) + timedelta(minutes=minutes)
        dob = first_day - timedelta(days=365 * age + rng.randrange(365) + age // 4)

        female = sex != "M"
        names = name_pools()["VE" if foreign else "PE"]
        given_w = names["F" if female else "M"]
        given = [names.given(rng, female)]
        if " " not in given[0] and rng.random() < (0.55 if not foreign else 0.35):
            second = names.given(rng, female)
            if second != given[0]:
                given.append(second)
        family = [names.surname(rng), names.surname(rng)]
        if family[1] == family[0] and rng.random() < 0.8:
            family[1] = names.surname(rng)

        documents = self._documents(rng, index, nationality, child)
        if foreign:
            dob_known = rng.random() < P_DOB_KNOWN["foreign"]
        else:
            dob_known = rng.random() < P_DOB_KNOWN["PER_doc" if documents else "PER"]

        languages: tuple[str, ...] = ("es",)
        if nationality == "BRA":
            languages = ("pt",)
        elif not foreign and origin in ANDEAN and rng.random() < 0.35:
            native = "ay" if origin == "21" and rng.random() < 0.4 else "qu"
            languages = (native,) if rng.random() < 0.1 else ("es", native)
        elif not foreign and origin in AMAZONIAN_LANG and rng.random() < 0.12:
            languages = ("es", AMAZONIAN_LANG[origin])

        gender = GENDER(rng)
        if gender == "trans_feminine":
            sex = "M"
        elif gender == "trans_masculine":
            sex = "F"
        elif gender == "feminine" and sex == "M":
            gender = "masculine"
        elif gender == "masculine" and sex == "F":
            gender = "feminine"
        truth = TruePerson(
            index=index,
            sex=sex,
            gender_identity=gender,
            given=tuple(given),
            family=tuple(family),
            date_of_birth=dob,
            dob_known=dob_known,
            nationality=(nationality,),
            documents=documents,
            languages=languages,
            migration_status=MIGRATION(rng) if foreign else "national",
            form=form,
            sector=sector,
            exploitation_region=exploitation_region,
            origin_region=origin,
            pregnant=sex == "F" and 15 <= age <= 40 and rng.random() < 0.04,
            disability=rng.random() < 0.02,
            contact=f"9{rng.randrange(10**8):08d}" if rng.random() < 0.3 else None,
            address=(
                f"{rng.choice(_STREETS)} {given_w(rng)} {rng.randrange(1, 1500)}"
                if rng.random() < 0.12
                else None
            ),
        )
        return truth, first_at

    def _documents(
        self, rng: random.Random, index: int, nationality: str, child: bool
    ) -> tuple[tuple[str, str], ...]:
        if nationality == "PER":
            if rng.random() < (0.75 if child else 0.88):
                return (("dni", self._number("dni", index)),)
            return ()
        if rng.random() < 0.22:
            return ()
        first = FOREIGN_DOCUMENT(rng)
        docs = [(first, self._number(first, index))]
        if rng.random() < 0.3:  # a second document shown to another organization
            second = rng.choice([k for k in FOREIGN_DOCUMENT.values if k != first])
            docs.append((second, self._number(second, index)))
        return tuple(docs)

    def _number(self, kind: str, index: int) -> str:
        """Distinct numbers per type: an affine bijection of the person index."""
        base, space, digits = _DOC_SPACE[kind]
        n = base + (index * _DOC_MULTIPLIER + self._doc_offsets[kind]) % space
        return f"{n:0{digits}d}"

    # -- the screenings --------------------------------------------------------------------
    def _registrations(
        self, rng: random.Random, truth: TruePerson, first_at: datetime
    ) -> list[Registration]:
        k = SCREENINGS_PER_PERSON(rng)
        regs: list[Registration] = []
        seen_orgs: set[int] = set()
        kind = self.first_kind(rng)
        region = truth.exploitation_region
        when = first_at
        end = datetime(LAST_DAY.year, LAST_DAY.month, LAST_DAY.day, 23, 59, tzinfo=LIMA)
        for order in range(k):
            if order:
                kind = self.next_kind.get(kind, self.first_kind)(rng)
                r = rng.random()
                if r < 0.12:
                    region = "1501"
                elif r < 0.2 and truth.origin_region != "abroad":
                    region = truth.origin_region
                else:
                    region = truth.exploitation_region
                delay = rng.expovariate(1.0 / NEXT_DELAY_DAYS.get(kind, 30.0))
                when = when + timedelta(days=delay, minutes=rng.randrange(30, 600))
                if when > end:
                    break
            org = self.directory.pick(rng, kind, region, seen_orgs)
            if org is None:
                continue
            seen_orgs.add(org.id)
            regs.append(self._registration(rng, truth, org, when))
        return regs

    def _registration(
        self, rng: random.Random, t: TruePerson, org: OrgRef, when: datetime
    ) -> Registration:
        identified_on = when.date()
        foreign = t.nationality != ("PER",)
        true_age = _age_on(t.date_of_birth, identified_on)
        child = true_age < 18

        # identity as this organization recorded it
        given, family = _noisy_name(rng, t, foreign)
        dob: date | None = None
        age: int | None = None
        estimated = False
        appears_minor: bool | None = None
        r = rng.random()
        if t.dob_known and r < P_RECORD_DOB:
            dob = t.date_of_birth
            if rng.random() < P_DOB_TYPO:
                dob = _dob_typo(rng, dob)
                if dob > identified_on:  # the API refuses a birth after identification
                    dob = t.date_of_birth
        elif (t.dob_known and r < P_RECORD_DOB + P_AGE_ONLY_WHEN_DOB) or (
            not t.dob_known and r >= P_NOTHING_WHEN_UNKNOWN
        ):
            estimated = not t.dob_known or rng.random() < 0.3
            age = true_age
            if rng.random() < P_AGE_WRONG_BY_ONE:
                age = max(0, age + rng.choice((-1, 1)))
        elif child and rng.random() < 0.7:
            appears_minor = True
        document = None
        if t.documents and rng.random() < P_DOC_RECORDED:
            doc_type, number = t.documents[rng.randrange(len(t.documents))]
            document = DocumentInput.model_construct(
                type=doc_type, number=_noisy_number(rng, doc_type, number)
            )
        elif rng.random() < P_DOC_PLACEHOLDER:
            document = DocumentInput.model_construct(
                type="dni" if not foreign else "other",
                number=rng.choice(("00000000", "S/N", "99999999")),
            )
        sex = "unknown" if rng.random() < P_SEX_UNKNOWN else t.sex
        person = PersonInput.model_construct(
            sex=sex,
            given_names=given,
            family_names=family,
            gender_identity=t.gender_identity if rng.random() < 0.8 else None,
            date_of_birth=dob,
            age_years=age,
            age_estimated=estimated,
            appears_minor=appears_minor,
            nationality=t.nationality if rng.random() < 0.97 else (),
            document=document,
            languages=t.languages if rng.random() < 0.85 else (),
            pregnant=t.pregnant and rng.random() < 0.8,
            disability=t.disability and rng.random() < 0.7,
            migration_status=t.migration_status if rng.random() < 0.9 else None,
            unaccompanied=child and (foreign or t.form == "begging") and rng.random() < 0.4,
            contact=t.contact if rng.random() < 0.7 else None,
            address=t.address if rng.random() < 0.5 else None,
        )

        # what happened, as this organization recorded it
        acts = [a for a, p in ACT_P.items() if rng.random() < p]
        if not acts and rng.random() < 0.9:
            acts = ["recruitment"]
        means = [m for m, p in MEANS_P.items() if rng.random() < p]
        if rng.random() < 0.12:
            means = []
        elif not means:
            means = ["deception"]
        purposes = _purposes(rng, t)
        if rng.random() < P_NO_PURPOSE:
            purposes = []
        indicator_p = INDICATOR_P.get(t.form, INDICATOR_P["other"])
        indicators = [i for i, p in indicator_p.items() if rng.random() < p]
        if rng.random() < P_THIN:  # a first contact that recorded little: not indicated
            acts, means, purposes = acts[:1], [], []
            indicators = [i for i in indicators if i not in STRONG_INDICATORS]
        needs = [
            n for n, p in NEEDS_P.items() if rng.random() < (0.8 if child and n == "shelter" else p)
        ]
        context = ContextInput.model_construct(
            origin_region=t.origin_region if rng.random() < 0.7 else None,
            exploitation_region=t.exploitation_region if rng.random() < 0.85 else None,
            sector=t.sector if rng.random() < 0.85 else None,
            trafficker_relation=RELATION(rng) if rng.random() < 0.7 else None,
            recruitment_method=RECRUITMENT(rng) if rng.random() < 0.6 else None,
            public_official_involved=rng.random() < 0.02,
            multiple_victims=rng.random() < (0.5 if org.kind == "police" else 0.25),
            criminal_organization=rng.random() < 0.15,
            serious_injury_or_death=rng.random() < 0.005,
        )
        data = ScreeningInput.model_construct(
            identified_at=when.astimezone(UTC),
            region=org.region,
            person=person,
            acts=tuple(acts),
            means=tuple(means),
            purposes=tuple(purposes),
            indicators=tuple(indicators),
            stated_consent=rng.random() < 0.15,
            identification_context=CONTEXT_BY_KIND.get(org.kind, _OTHER_CONTEXT)(rng),
            context=context,
            needs=tuple(needs),
        )
        created_at = data.identified_at + timedelta(minutes=rng.randrange(5, 48 * 60))
        closed_at = None
        if identified_on < date(2025, 7, 1) and rng.random() < 0.5:
            closed_at = created_at + timedelta(days=rng.randrange(30, 300))
        return Registration(t.index, org, data, created_at, closed_at)


_STREETS = ("Jr.", "Av.", "Calle", "Psje.", "Mz. B Lt.", "AA.HH. Los Jardines, Mz. C Lt.")
# (first number, size of the number space, digits) per document type
_DOC_SPACE = {
    "dni": (10_000_000, 70_000_000, 8),
    "carne_extranjeria": (1_000_000, 8_000_000, 9),
    "ptp": (100_000_000, 800_000_000, 9),
    "passport": (100_000_000, 800_000_000, 9),
    "cedula_foreign": (10_000_000, 20_000_000, 8),
}
_DOC_MULTIPLIER = 39_916_801  # odd, not divisible by 5 or 7: a bijection modulo each space


def _weights(w: Weighted[T]) -> list[float]:
    return [b - a for a, b in zip([0.0, *w.cum[:-1]], w.cum, strict=True)]


def _age_on(dob: date, day: date) -> int:
    return day.year - dob.year - int((day.month, day.day) < (dob.month, dob.day))


def _purposes(rng: random.Random, t: TruePerson) -> list[str]:
    if t.form == "labour":
        return [LABOUR_PURPOSE.get(t.sector, LABOUR_PURPOSE["default"])(rng)]
    if t.form == "mixed":
        return ["sexual_exploitation", "labour_exploitation"]
    return [SINGLE_PURPOSE[t.form]]
