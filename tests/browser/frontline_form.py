"""Measuring the screening form as a frontline worker meets it (docs/frontline-form.md).

Two figures, both read from the real page in Chromium:

* **Screens**: ``document.documentElement.scrollHeight`` of ``/screenings/new`` as it loads,
  divided by the viewport height (390×844 for a phone, 1280×800 for a desktop).
* **Clicks**: a profile says *what* is recorded (field name → value), never *how*; the
  driver finds each control on the page and counts what a person must click or tap:

  - a ``<details>`` section that hides the control: 1 (opening it);
  - a ``<select>``: 2 (open the list, pick the option);
  - a radio button or a checkbox: 1;
  - a text, number or date field: 1 (the tap that puts the cursor there; typing is free);
  - a control that already holds the wanted value (a default): 0;
  - the submit button: 1.

  Scrolling does not count. So the same profile measures any layout of the form, and the
  profile is really filled and submitted (the test checks the result page).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}

SUBMIT = "Registrar y ver el resultado"


@dataclass(frozen=True)
class Profile:
    """One walkthrough case: field name → value (a list for a group of checkboxes,
    ``True`` for a single checkbox), and the determination Ruta must give."""

    key: str
    answers: dict[str, Any]
    expected_status: str
    description: str = ""


@dataclass
class Tally:
    clicks: int = 0
    log: list[str] = field(default_factory=list)

    def add(self, n: int, what: str) -> None:
        if n:
            self.clicks += n
            self.log.append(f"+{n} {what}")


PROFILES = (
    Profile(
        "girl",
        {
            "region": "17",
            "identification_context": "police_operation",
            "person_given_names": "Yesica Flor",
            "person_family_names": "Huillca Tupa",
            "person_sex": "F",
            "person_age_years": "15",
            "person_nationality": ["PER"],
            "acts": ["recruitment", "transport"],
            "means": ["deception"],
            "purposes": ["sexual_exploitation"],
            "context_exploitation_region": "17",
            "context_sector": "hospitality_bars",
            "context_recruitment_method": "job_offer",
            "needs": ["shelter", "medical", "psychological"],
            "consent_given": "yes",
            "consent_given_by": "legal_representative",
        },
        "indicated",
        "a girl of 15 recruited with a job offer for a bar in Madre de Dios (child, "
        "sexual exploitation), found in a police operation",
    ),
    Profile(
        "woman",
        {
            "region": "1501",
            "identification_context": "hotline",
            "person_given_names": "Daniela Sofía",
            "person_family_names": "Rengifo Paima",
            "person_sex": "F",
            "person_age_years": "24",
            "person_nationality": ["PER"],
            "acts": ["recruitment", "transport", "retention"],
            "means": ["deception", "threat"],
            "purposes": ["sexual_exploitation"],
            "context_origin_region": "16",
            "indicators": ["restricts_movement"],
            "needs": ["shelter", "medical", "legal"],
            "consent_given": "yes",
        },
        "indicated",
        "an adult woman from Loreto held in Lima for sexual exploitation, reported on the hotline",
    ),
    Profile(
        "man",
        {
            "region": "17",
            "identification_context": "labour_inspection",
            "person_given_names": "Wilber Teodoro",
            "person_family_names": "Condori Apaza",
            "person_sex": "M",
            "person_age_years": "34",
            "person_nationality": ["PER"],
            "person_languages": ["qu"],
            "acts": ["recruitment", "retention"],
            "means": ["deception"],
            "purposes": ["forced_labour"],
            "context_sector": "mining",
            "indicators": ["debt_bondage", "withholds_documents"],
            "needs": ["medical", "legal", "return_assistance"],
            "consent_given": "yes",
        },
        "indicated",
        "an adult man who speaks Quechua, held by debt in an illegal mine (forced labour), "
        "found in a labour inspection",
    ),
    Profile(
        "trans_asylum",
        {
            "region": "24",
            "identification_context": "ngo_outreach",
            "person_given_names": "Valeria Antonella",
            "person_family_names": "Briceño Salas",
            "person_sex": "M",
            "person_gender_identity": "trans_feminine",
            "person_lgbtqi": "yes",
            "person_age_years": "27",
            "person_nationality": ["VEN"],
            "person_migration_status": "asylum_seeker",
            "acts": ["recruitment", "harbouring"],
            "means": ["deception", "abuse_of_vulnerability"],
            "purposes": ["sexual_exploitation"],
            "needs": ["shelter", "medical", "legal"],
            "consent_given": "yes",
        },
        "indicated",
        "a transgender woman from Venezuela who seeks asylum, exploited in Tumbes, met by "
        "an NGO's outreach (sex M as in her document, identity trans feminine)",
    ),
)


def fields_of(profile: Profile) -> int:
    """How many fields the profile records (each ticked box counts as one)."""
    return sum(len(v) if isinstance(v, list) else 1 for v in profile.answers.values())


def page_screens(page: Any) -> float:
    """Document height in screens of the current viewport."""
    height = page.evaluate("document.documentElement.scrollHeight")
    return float(height) / float(page.viewport_size["height"])


def _reveal(page: Any, locator: Any, tally: Tally) -> None:
    """Open every closed ``<details>`` around the control (1 click each, outermost first)."""
    closed = locator.evaluate(
        """el => { const out = []; let n = el.parentElement;
                   while (n) { if (n.tagName === 'DETAILS' && !n.open) out.unshift(n);
                               n = n.parentElement; }
                   return out.map(d => d.querySelector(':scope > summary').innerText); }"""
    )
    for summary_text in closed:
        summary = page.locator("details:not([open]) > summary", has_text=summary_text).first
        summary.click()
        tally.add(1, f"open «{summary_text.strip()}»")


def _set(page: Any, name: str, value: Any, tally: Tally) -> None:
    if isinstance(value, list):
        for code in value:
            box = page.locator(f"input[name='{name}'][value='{code}']")
            _reveal(page, box, tally)
            if not box.is_checked():
                box.check()
                tally.add(1, f"tick {name}={code}")
        return
    controls = page.locator(f"[name='{name}']")
    first = controls.first
    kind = first.evaluate("el => el.tagName === 'SELECT' ? 'select' : (el.type || 'text')")
    if kind == "radio":
        control = page.locator(f"input[name='{name}'][value='{value}']")
        _reveal(page, control, tally)
        if not control.is_checked():
            control.check()
            tally.add(1, f"pick {name}={value}")
        return
    _reveal(page, first, tally)
    if kind == "checkbox":
        if bool(value) != first.is_checked():
            first.set_checked(bool(value))
            tally.add(1, f"tick {name}")
    elif kind == "select":
        if first.input_value() != value:
            first.select_option(value)
            tally.add(2, f"choose {name}={value}")
    else:
        if first.input_value() != value:
            first.fill(value)
            tally.add(1, f"type into {name}")


def fill_and_submit(page: Any, profile: Profile) -> Tally:
    """Fill ``profile`` into the open form and submit it; the clicks it took."""
    tally = Tally()
    for name, value in profile.answers.items():
        _set(page, name, value, tally)
    page.get_by_role("button", name=SUBMIT).click()
    tally.add(1, "submit")
    return tally
