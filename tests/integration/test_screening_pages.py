"""Screening and case pages: the form, the result, the case list, the case and its edit.

The pages and the JSON API share one validator and one service, so the same facts give
the same determination on both paths; these tests check what a user sees on the page.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from caseapp.core import codes
from caseapp.extensions import db
from caseapp.screening.models import Case, Screening
from tests.conftest import csrf_from
from tests.integration.test_screening_api import ROSA

LIMA = ZoneInfo("America/Lima")

# The same facts as ROSA (api.md §4 example), as a browser posts them.
ROSA_FORM: dict[str, object] = {
    "identified_at": "2026-03-14T22:30",
    "region": "17",
    "identification_context": "police_operation",
    "person_given_names": "Rosa",
    "person_family_names": "Quispe Mamani",
    "person_sex": "F",
    "person_gender_identity": "feminine",
    "person_lgbtqi": "",
    "person_date_of_birth": "",
    "person_age_years": "16",
    "person_age_estimated": "y",
    "person_appears_minor": "",
    "person_nationality": ["PER"],
    "person_nationality_other": "",
    "person_document_type": "dni",
    "person_document_number": "71234567",
    "person_languages": ["es", "qu"],
    "person_migration_status": "national",
    "person_contact": "Tía: 987 654 321",
    "person_address": "Jr. Loreto 123, Puerto Maldonado",
    "acts": ["recruitment", "transport"],
    "means": ["deception"],
    "purposes": ["sexual_exploitation"],
    "indicators": ["withholds_documents"],
    "context_origin_region": "08",
    "context_exploitation_region": "17",
    "context_sector": "hospitality_bars",
    "context_trafficker_relation": "stranger",
    "context_recruitment_method": "job_offer",
    "needs": ["shelter", "medical"],
    "consent_given": "yes",
    "consent_given_by": "person",
    "consent_method": "verbal",
    "notes": "Contó que la llevaron a un bar en La Pampa.",
}

SUBMISSION_RE = re.compile(r'name="submission_id" type="hidden" value="([^"]+)"')
INLINE = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>|\sstyle=|\son[a-z]+=", re.IGNORECASE)


def count(model) -> int:
    return db.session.scalar(sa.select(sa.func.count(model.id)))


def open_form(client) -> tuple[str, dict[str, str]]:
    page = client.get("/screenings/new")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    hidden = {"csrf_token": csrf_from(html), "submission_id": SUBMISSION_RE.search(html).group(1)}
    return html, hidden


def submit(client, data: dict[str, object], *, follow: bool = False):
    _, hidden = open_form(client)
    return client.post("/screenings/new", data={**data, **hidden}, follow_redirects=follow)


def screening_uuid(response) -> str:
    assert response.status_code == 303, response.get_data(as_text=True)[:2000]
    match = re.search(r"/screenings/([0-9a-f-]{36})$", response.headers["Location"])
    assert match, response.headers["Location"]
    return match.group(1)


def create_via_page(client, data=None) -> str:
    return screening_uuid(submit(client, data or ROSA_FORM))


# -- the form ------------------------------------------------------------------------------


def test_form_is_in_spanish_with_every_section_and_help_text(client, login_as):
    login_as("screener")
    html, _ = open_form(client)
    for heading in (
        "Persona",
        "Qué pasó",
        "Indicadores",
        "Contexto",
        "Necesidades",
        "Consentimiento",
        "Notas",
    ):
        assert f">{heading}</h2>" in html, heading
    # Every act, means and purpose has its plain-language help under the label, tied to
    # the checkbox for screen readers.
    for list_name, field in (("act", "acts"), ("means", "means"), ("purpose", "purposes")):
        for item in codes.get(list_name):
            assert item.help_es in html, item.code
            box = "" if item is codes.get(list_name).items[0] else f"-{item.code}"
            assert f'aria-describedby="{field}{box}-help"' in html, item.code
    # Strong indicators come first and are marked.
    strong = [i for i in codes.INDICATOR if i.extra.get("strong")]
    weak = [i for i in codes.INDICATOR if not i.extra.get("strong")]
    assert html.index(strong[-1].es) < html.index(weak[0].es)
    assert html.count("Indicador fuerte</span>") == len(strong)
    # Tri-state answers and the consent choice that allows "not asked yet".
    assert "¿Parece menor de 18 años?" in html
    assert "Todavía no se le preguntó" in html
    assert 'type="datetime-local"' in html
    # Common nationalities as checkboxes, the rest in "Otra nacionalidad".
    assert 'name="person_nationality" value="VEN"' in html
    assert 'name="person_nationality" value="JPN"' not in html
    assert '<option value="JPN">Japón</option>' in html
    assert "<legend>" in html and "fieldset" in html


def test_form_payload_is_exactly_the_api_body(app, db_tx):
    """One validator for both paths: the form produces the documented API body."""
    from werkzeug.datastructures import MultiDict

    from caseapp.intake.forms import ScreeningForm

    with app.test_request_context(
        "/screenings/new", method="POST", data=MultiDict(_multi(ROSA_FORM))
    ):
        payload = ScreeningForm(meta={"csrf": False}).to_payload()
    expected = {**ROSA, "person": dict(ROSA["person"])}
    # Unknown tri-states and empty dates are left out (absent = unknown for the API).
    for key in ("lgbtqi", "date_of_birth", "appears_minor"):
        assert expected["person"].pop(key) is None
    assert payload == expected


def _multi(data: dict[str, object]) -> list[tuple[str, str]]:
    items: list[tuple[str, str]] = []
    for key, value in data.items():
        for v in value if isinstance(value, list) else [value]:
            items.append((key, str(v)))
    return items


# -- creating a screening ------------------------------------------------------------------


def test_valid_form_shows_indicated_result_with_reasons_and_rule_version(client, login_as):
    login_as("screener")
    response = submit(client, ROSA_FORM)
    uuid = screening_uuid(response)
    page = client.get(f"/screenings/{uuid}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Indicios de trata: presunta víctima" in html
    assert "Versión de reglas 2026.1" in html
    screening = db.session.scalar(sa.select(Screening).where(Screening.uuid == uuid))
    for reason in screening.explanation:  # every stored reason, in Spanish
        assert reason["es"] in html
    assert "Víctima de 14 a 17 años" in html  # aggravating circumstance
    assert "Explotación sexual" in html
    assert "Niña o adolescente mujer" in html
    # A child: the page says to inform the UPE and the prosecutor and not to keep her
    # in a police station.
    assert "Unidad de Protección Especial (UPE)" in html
    assert "Nunca deje a una niña, niño o adolescente en la comisaría" in html
    assert "Identificación: 14/03/2026 22:30" in html  # shown in Lima time


def test_result_is_in_english_when_the_user_switches(client, login_as):
    login_as("screener")
    uuid = create_via_page(client)
    html = client.get(f"/screenings/{uuid}").get_data(as_text=True)
    client.post("/lang", data={"lang": "en", "next": "/", "csrf_token": csrf_from(html)})
    english = client.get(f"/screenings/{uuid}").get_data(as_text=True)
    screening = db.session.scalar(sa.select(Screening).where(Screening.uuid == uuid))
    assert "Trafficking indicated: presumed victim" in english
    assert "Rule version 2026.1" in english
    assert all(reason["en"] in english for reason in screening.explanation)


def test_same_facts_by_form_and_by_api_give_the_same_determination(client, login_as, api):
    login_as("screener")
    page_uuid = create_via_page(client)
    caller = api("screener")
    via_api = caller.post("/api/v1/screenings", json=ROSA).json
    via_page = caller.get(f"/api/v1/screenings/{page_uuid}").json
    for key in ("rule_version", "determination", "profile", "alerts", "identified_at"):
        assert via_page[key] == via_api[key], key
    assert [r["code"] for r in via_page["determination"]["explanation"]] == [
        r["code"] for r in via_api["determination"]["explanation"]
    ]


@pytest.mark.parametrize(
    ("status_facts", "expected_text", "missing"),
    [
        (
            {"person_age_years": "30", "means": []},
            "Posible trata: requiere evaluación",
            "Medio: no se registró cómo lo lograron",
        ),
        (
            {"person_age_years": "30", "acts": [], "means": [], "purposes": [], "indicators": []},
            "Sin indicios suficientes",
            "Acto: no se registró ninguna acción",
        ),
    ],
    ids=["adult without means is possible", "nothing recorded is not indicated"],
)
def test_lower_statuses_show_their_text_and_missing_elements(
    client, login_as, status_facts, expected_text, missing
):
    login_as("screener")
    uuid = create_via_page(client, {**ROSA_FORM, **status_facts})
    html = client.get(f"/screenings/{uuid}").get_data(as_text=True)
    assert expected_text in html
    assert "Elementos que faltan" in html and missing in html
    assert "Indicios de trata: presunta víctima" not in html


def test_invalid_form_is_422_with_linked_errors_and_saves_nothing(client, login_as):
    login_as("screener")
    before = (count(Case), count(Screening))
    bad = {
        **ROSA_FORM,
        "person_sex": "",
        "acts": ["recruitment", "kidnap"],  # a code injected by hand
        "person_date_of_birth": "2010-02-30",
    }
    response = submit(client, bad)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "Hay un problema" in html
    assert '<a href="#person_sex">Sexo: Elija una opción' in html
    assert '<a href="#acts">¿Qué le hicieron? (acto): Elija una de las opciones' in html
    assert '<a href="#person_date_of_birth">Fecha de nacimiento: Escriba una fecha válida' in html
    # The links land on real inputs (the first checkbox of a group carries its id).
    for anchor in ("person_sex", "acts", "person_date_of_birth"):
        assert f'id="{anchor}"' in html
    # What was typed is kept.
    assert 'value="Quispe Mamani"' in html
    assert (count(Case), count(Screening)) == before


def test_future_identification_and_bad_age_are_refused(client, login_as):
    login_as("screener")
    before = count(Case)
    future = datetime.now(LIMA) + timedelta(days=2)
    response = submit(
        client,
        {
            **ROSA_FORM,
            "identified_at": future.strftime("%Y-%m-%dT%H:%M"),
            "person_age_years": "dieciséis",
            "region": "",
        },
    )
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert '<a href="#identified_at">' in html and "no pueden ser posteriores" in html
    assert '<a href="#person_age_years">' in html and "número entero de 0 a 120" in html
    assert '<a href="#region">' in html
    assert count(Case) == before


def test_double_submit_creates_one_screening_and_shows_the_same_result(client, login_as):
    login_as("screener")
    _, hidden = open_form(client)
    before = count(Screening)
    first = client.post("/screenings/new", data={**ROSA_FORM, **hidden})
    second = client.post("/screenings/new", data={**ROSA_FORM, **hidden})
    assert screening_uuid(first) == screening_uuid(second)
    assert count(Screening) == before + 1
    # Back button, changed data, same token: nothing silent, a clear message instead.
    third = client.post("/screenings/new", data={**ROSA_FORM, **hidden, "notes": "otra"})
    assert third.status_code == 409
    assert "Este formulario ya se envió" in third.get_data(as_text=True)
    assert count(Screening) == before + 1
    # A fresh form is a new screening.
    assert screening_uuid(submit(client, ROSA_FORM)) != screening_uuid(first)


# -- another organization, roles -------------------------------------------------------------


def test_another_organizations_case_is_404_on_every_page(client, login_as, api):
    doc = api("supervisor", "PNP-TRATA-MDD").post("/api/v1/screenings", json=ROSA).json
    login_as("supervisor", "PNP-TRATA-CUS")
    for url in (
        f"/cases/{doc['case_id']}",
        f"/cases/{doc['case_id']}/edit",
        f"/screenings/{doc['id']}",
    ):
        response = client.get(url)
        assert response.status_code == 404, url
        assert "Página no encontrada" in response.get_data(as_text=True)
        assert "not found" not in response.get_data(as_text=True)  # no English service text
        assert "Quispe" not in response.get_data(as_text=True)
    token = csrf_from(client.get("/cases").get_data(as_text=True))
    edit = client.post(
        f"/cases/{doc['case_id']}/edit",
        data={"csrf_token": token, "version": "1", "person_given_names": "X"},
    )
    assert edit.status_code == 404
    override = client.post(
        f"/screenings/{doc['id']}/override",
        data={"csrf_token": token, "status": "possible", "justification": "x" * 20},
    )
    assert override.status_code == 404
    listing = client.get("/cases").get_data(as_text=True)
    assert "Quispe" not in listing and "0 casos" in listing


@pytest.mark.parametrize("role", ["statistician", "admin"])
def test_statistician_and_admin_see_no_case_pages(client, login_as, api, role):
    doc = api("screener").post("/api/v1/screenings", json=ROSA).json
    login_as(role)
    for url in (
        "/screenings/new",
        "/cases",
        f"/cases/{doc['case_id']}",
        f"/cases/{doc['case_id']}/edit",
        f"/screenings/{doc['id']}",
    ):
        response = client.get(url)
        assert response.status_code == 403, url
        assert "Quispe" not in response.get_data(as_text=True)
    nav = client.get("/").get_data(as_text=True)
    assert "Nueva evaluación" not in nav


def test_nav_shows_the_new_pages_to_a_screener(client, login_as):
    login_as("screener")
    home = client.get("/").get_data(as_text=True)
    assert 'href="/screenings/new"' in home and 'href="/cases"' in home


# -- override ------------------------------------------------------------------------------


def test_supervisor_overrides_on_the_page_and_the_advice_stays(client, login_as):
    login_as("supervisor")
    uuid = create_via_page(client)
    page = client.get(f"/screenings/{uuid}").get_data(as_text=True)
    assert 'id="override"' in page
    response = client.post(
        f"/screenings/{uuid}/override",
        data={
            "csrf_token": csrf_from(page),
            "status": "possible",
            "justification": "La edad no está confirmada; falta el documento.",
        },
    )
    assert response.status_code == 303
    html = client.get(f"/screenings/{uuid}").get_data(as_text=True)
    assert "Decisión de la supervisora/del supervisor:" in html
    assert "La edad no está confirmada; falta el documento." in html
    assert "Posible trata: requiere evaluación" in html
    assert "Indicios de trata: presunta víctima" in html  # the advice stays visible
    case = db.session.scalar(sa.select(Screening).where(Screening.uuid == uuid)).case
    assert case.determination == "possible"


def test_override_without_justification_is_422_on_the_result_page(client, login_as):
    login_as("supervisor")
    uuid = create_via_page(client)
    page = client.get(f"/screenings/{uuid}").get_data(as_text=True)
    response = client.post(
        f"/screenings/{uuid}/override",
        data={"csrf_token": csrf_from(page), "status": "possible", "justification": "corto"},
    )
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert '<a href="#justification">' in html and "al menos 10 caracteres" in html
    assert "Indicios de trata: presunta víctima" in html
    assert (
        db.session.scalar(sa.select(Screening).where(Screening.uuid == uuid)).override_status
        is None
    )


def test_screener_cannot_override(client, login_as):
    login_as("screener")
    uuid = create_via_page(client)
    page = client.get(f"/screenings/{uuid}").get_data(as_text=True)
    assert 'id="override"' not in page
    response = client.post(
        f"/screenings/{uuid}/override",
        data={"csrf_token": csrf_from(page), "status": "possible", "justification": "x" * 20},
    )
    assert response.status_code == 403
    assert (
        db.session.scalar(sa.select(Screening).where(Screening.uuid == uuid)).override_status
        is None
    )


# -- case list ------------------------------------------------------------------------------


def _other_person() -> dict:
    return {
        **ROSA_FORM,
        "person_given_names": "Juan Carlos",
        "person_family_names": "Huamán Torres",
        "person_sex": "M",
        "person_age_years": "34",
        "person_document_number": "40123456",
        "means": [],
        "region": "08",
    }


def test_case_list_filters_and_exact_search(client, login_as):
    login_as("screener")
    rosa = create_via_page(client)
    create_via_page(client, _other_person())
    rosa_case = db.session.scalar(sa.select(Screening).where(Screening.uuid == rosa)).case.uuid

    html = client.get("/cases").get_data(as_text=True)
    assert "Rosa Quispe Mamani" in html and "Juan Carlos Huamán Torres" in html
    assert f'href="/cases/{rosa_case}"' in html

    def rows(query: str) -> str:
        response = client.get(f"/cases?{query}")
        assert response.status_code == 200
        return response.get_data(as_text=True)

    only_possible = rows("determination=possible")
    assert "Huamán" in only_possible and "Quispe" not in only_possible
    assert "Quispe" in rows("region=17") and "Huamán" not in rows("region=17")
    # Exact search by full name (any order, any case and accents) or by document number.
    by_name = rows("q=quispe+mamani+ROSA")
    assert "Quispe" in by_name and "Huamán" not in by_name
    by_document = rows("q=40123456")
    assert "Huamán" in by_document and "Quispe" not in by_document
    partial = rows("q=Rosa")  # exact, not a substring search
    assert "Quispe" not in partial and "Ningún caso coincide" in partial


def test_invalid_case_filter_is_422_with_error_summary(client, login_as):
    login_as("screener")
    response = client.get("/cases?status=archived&region=99&sort=name")
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "Hay un problema" in html
    assert '<a href="#status">' in html and '<a href="#region">' in html
    assert "sort: Filtro desconocido." in html


def test_case_list_paginates(client, login_as, monkeypatch):
    from caseapp.intake import views

    monkeypatch.setattr(views, "PER_PAGE", 1)
    login_as("screener")
    create_via_page(client)
    create_via_page(client, _other_person())
    first = client.get("/cases").get_data(as_text=True)
    assert "Página 1 de 2" in first and "Huamán" in first and "Quispe" not in first
    second = client.get("/cases?page=2").get_data(as_text=True)
    assert "Quispe" in second and "Huamán" not in second
    assert client.get("/cases?page=abc").status_code == 200


# -- case page and edit ------------------------------------------------------------------------


def test_case_page_shows_person_screenings_and_history(client, login_as):
    login_as("screener")
    uuid = create_via_page(client)
    case_uuid = db.session.scalar(sa.select(Screening).where(Screening.uuid == uuid)).case.uuid
    html = client.get(f"/cases/{case_uuid}").get_data(as_text=True)
    assert "Rosa" in html and "Quispe Mamani" in html  # decrypted for the page
    assert "71234567" in html and "Jr. Loreto 123" in html
    assert f'href="/screenings/{uuid}"' in html
    assert "Indicios de trata: presunta víctima" in html
    assert "Evaluación registrada" in html  # history


def _edit_form(client, case_uuid: str) -> tuple[str, dict[str, object]]:
    html = client.get(f"/cases/{case_uuid}/edit").get_data(as_text=True)
    version = re.search(r'name="version" type="hidden" value="(\d+)"', html).group(1)
    data: dict[str, object] = {
        "csrf_token": csrf_from(html),
        "version": version,
        "person_given_names": "Rosa María",
        "person_family_names": "Quispe Mamani",
        "person_document_type": "dni",
        "person_document_number": "71234567",
        "person_contact": "",
        "person_address": "Albergue",
        "person_languages": ["qu"],
    }
    return html, data


def _case_of(client) -> str:
    uuid = create_via_page(client)
    return db.session.scalar(sa.select(Screening).where(Screening.uuid == uuid)).case.uuid


def test_edit_case_saves_and_the_case_page_shows_it(client, login_as):
    login_as("screener")
    case_uuid = _case_of(client)
    html, data = _edit_form(client, case_uuid)
    assert 'value="Rosa"' in html
    assert 'name="status"' not in html  # a screener cannot close a case
    response = client.post(f"/cases/{case_uuid}/edit", data=data)
    assert response.status_code == 303
    page = client.get(f"/cases/{case_uuid}").get_data(as_text=True)
    assert "Rosa María" in page and "Albergue" in page
    assert "Datos del caso modificados" in page
    assert "Quispe" in client.get("/cases?q=Rosa+Mar%C3%ADa+Quispe+Mamani").get_data(as_text=True)


def test_edit_with_a_stale_version_is_409_and_shows_the_current_data(client, login_as):
    login_as("screener")
    case_uuid = _case_of(client)
    _, stale = _edit_form(client, case_uuid)
    assert client.post(f"/cases/{case_uuid}/edit", data=stale).status_code == 303
    again = client.post(
        f"/cases/{case_uuid}/edit", data={**stale, "person_address": "Otra dirección"}
    )
    assert again.status_code == 409
    html = again.get_data(as_text=True)
    assert "Otra persona modificó este caso" in html
    assert 'value="Albergue"' in html  # reloaded: what is saved now
    current = db.session.scalar(sa.select(Case).where(Case.uuid == case_uuid)).version
    assert f'name="version" type="hidden" value="{current}"' in html
    assert "Otra dirección" not in client.get(f"/cases/{case_uuid}").get_data(as_text=True)


def test_edit_with_a_number_but_no_document_type_is_422(client, login_as):
    login_as("screener")
    case_uuid = _case_of(client)
    _, data = _edit_form(client, case_uuid)
    response = client.post(f"/cases/{case_uuid}/edit", data={**data, "person_document_type": ""})
    assert response.status_code == 422
    assert '<a href="#person_document_type">' in response.get_data(as_text=True)


def test_caseworker_closes_and_reopens_a_case(client, login_as):
    login_as("caseworker")
    case_uuid = _case_of(client)
    html, data = _edit_form(client, case_uuid)
    assert 'name="status"' in html
    assert (
        client.post(f"/cases/{case_uuid}/edit", data={**data, "status": "closed"}).status_code
        == 303
    )
    assert "Cerrado" in client.get(f"/cases/{case_uuid}").get_data(as_text=True)
    assert "Rosa María" in client.get("/cases?status=closed").get_data(as_text=True)
    _, data = _edit_form(client, case_uuid)
    assert (
        client.post(f"/cases/{case_uuid}/edit", data={**data, "status": "open"}).status_code == 303
    )
    assert db.session.scalar(sa.select(Case).where(Case.uuid == case_uuid)).status == "open"


def test_screener_cannot_close_even_by_crafting_the_post(client, login_as, api):
    doc = api("screener").post("/api/v1/screenings", json=ROSA).json
    login_as("screener")
    html = client.get(f"/cases/{doc['case_id']}/edit").get_data(as_text=True)
    _, data = _edit_form(client, doc["case_id"])
    response = client.post(f"/cases/{doc['case_id']}/edit", data={**data, "status": "closed"})
    # The screener's form has no status control, so a crafted one is ignored.
    assert response.status_code == 303
    assert db.session.scalar(sa.select(Case).where(Case.uuid == doc["case_id"])).status == "open"
    assert "Rosa" in html


# -- page hygiene -----------------------------------------------------------------------------


def test_pages_have_no_inline_script_or_style(client, login_as):
    login_as("supervisor")
    uuid = create_via_page(client)
    case_uuid = db.session.scalar(sa.select(Screening).where(Screening.uuid == uuid)).case.uuid
    for url in (
        "/screenings/new",
        f"/screenings/{uuid}",
        "/cases",
        f"/cases/{case_uuid}",
        f"/cases/{case_uuid}/edit",
    ):
        response = client.get(url)
        assert response.status_code == 200, url
        html = response.get_data(as_text=True)
        assert not INLINE.search(html), (url, INLINE.search(html).group(0))
        assert response.headers["Cache-Control"] == "no-store"
