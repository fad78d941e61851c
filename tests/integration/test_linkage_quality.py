"""Calidad del enlace (/reports/linkage, GET /api/v1/reports/linkage): the model the
unduplicated counts rest on, for statisticians only (docs/linkage.md)."""

from __future__ import annotations

import json
import re

import pytest
import sqlalchemy as sa

from caseapp.audit.models import AuditEvent
from caseapp.extensions import db
from caseapp.facts import model
from caseapp.facts import services as facts
from caseapp.facts.models import LinkageModel, ScreeningFact
from tests.integration.test_reports_api import POLICE, PROSECUTOR, post, screening
from tests.integration.test_reports_pages import assert_csp_clean

URL, API = "/reports/linkage", "/api/v1/reports/linkage"


def fmt(bits: float) -> str:
    """A weight as the Spanish page writes it (one decimal, decimal comma)."""
    return f"{bits:.1f}".replace(".", ",")


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_before_any_relink_the_page_says_the_defaults_are_in_use(client, api, login_as):
    login_as("statistician")
    response = client.get(URL)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    text = _text(html)
    assert "Calidad del enlace" in text
    assert "Todavía no hay un modelo estimado" in text
    assert "parámetros por defecto" in text
    assert "Sin datos hasta el primer reenlace completo." in text
    assert "Umbral en uso 10,0 bits" in text
    # m/u tables with readable labels, not codes
    assert "Día y mes intercambiados" in text and "day_month_swap" not in text
    assert "Casi iguales (similitud de Dice ≥ 0,90)" in text and "dice_0.90" not in text
    assert 'aria-current="page">Calidad del enlace</a>' in html
    assert "<svg" not in html  # no histogram to draw
    assert_csp_clean(html)

    doc = api("statistician").get(API).json
    assert doc["model"]["stored"] is False and doc["model"]["estimated"] is False
    assert doc["model"]["estimated_at"] is None
    assert doc["histogram"] == []
    assert doc["persons"] == {"total": None, "linked": None, "near_above": None, "near_below": None}
    assert [f["field"] for f in doc["fields"]] == list(model.FIELDS)


@pytest.mark.parametrize("role", ["screener", "caseworker", "supervisor", "admin"])
def test_only_statisticians_see_it(client, api, login_as, role):
    login_as(role)
    assert client.get(URL).status_code == 403
    assert api(role).get(API).status_code == 403
    # the report navigation does not offer it either
    assert "/reports/linkage" not in client.get("/reports/").get_data(as_text=True)


def test_the_navigation_offers_it_to_statisticians(client, login_as):
    login_as("statistician")
    html = client.get("/reports/overlap").get_data(as_text=True)
    assert 'href="/reports/linkage"' in html


def test_an_unknown_parameter_is_a_422(api):
    response = api("statistician").get(API + "?from=2026-01-01")
    assert response.status_code == 422
    assert "from" in response.json["error"]["fields"]


def test_too_few_records_keep_the_defaults_and_say_so(client, api, login_as):
    police, prosecutor = api("screener", POLICE), api("screener", PROSECUTOR)
    post(police, screening("41234567"))
    post(prosecutor, screening("41234567"))  # the same person, by document
    post(police, screening("52345678"))
    screenings, persons = facts.relink_all()
    assert (screenings, persons) == (3, 2)
    db.session.commit()

    doc = api("statistician").get(API).json
    assert doc["model"]["stored"] is True and doc["model"]["estimated"] is False
    assert doc["model"]["version"] == f"{model.MODEL_VERSION}-default"
    assert doc["model"]["records"] == 3
    assert doc["persons"]["total"] == 2 and doc["persons"]["linked"] == 1
    assert sum(b["pairs"] for b in doc["histogram"]) == doc["model"]["pairs"] >= 1

    login_as("statistician")
    text = _text(client.get(URL).get_data(as_text=True))
    assert "Hay pocos registros para estimar el modelo (3; hacen falta al menos 1 000)" in text
    assert "Todavía no hay un modelo estimado" not in text


def test_with_an_estimated_model_the_page_shows_its_figures(app, client, api, login_as):
    from caseapp.audit.services import SystemActor
    from devtools import synth

    synth.generate(SystemActor(email="system:test-linkage-quality"), 800, seed=3, workers=1)
    screenings, persons = facts.relink_all()
    db.session.commit()
    assert screenings >= model.MIN_RECORDS_TO_ESTIMATE

    statistician = api("statistician")
    doc = statistician.get(API).json
    m = doc["model"]
    assert m["stored"] and m["estimated"] and m["term_frequency"]
    assert m["version"] == model.MODEL_VERSION
    assert m["records"] == screenings
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00", m["estimated_at"])
    stored = db.session.scalars(sa.select(LinkageModel)).one()
    assert doc["threshold"] == {
        "in_use": stored.threshold,
        "match_probability": 0.5,
        "floor": 10.0,
        "near": 3.0,
    }
    assert stored.threshold >= 10.0  # the floor; it rises with the number of records
    for field in doc["fields"]:
        levels = field["levels"]
        assert [lv["level"] for lv in levels] == list(model.LEVELS[field["field"]])
        assert sum(lv["m"] for lv in levels) == pytest.approx(1.0)
        assert sum(lv["u"] for lv in levels) == pytest.approx(1.0)
    exact_dob = doc["fields"][2]["levels"][0]
    assert exact_dob["weight"] > 5  # an exact date of birth is strong evidence
    assert sum(b["pairs"] for b in doc["histogram"]) == m["pairs"] > 0
    stored_persons = db.session.scalar(
        sa.select(sa.func.count(sa.distinct(ScreeningFact.person_id)))
    )
    assert doc["persons"]["total"] == persons == stored_persons
    assert 0 < doc["persons"]["linked"] < persons
    assert doc["persons"]["near_above"] >= 0 and doc["persons"]["near_below"] >= 0
    body = json.dumps(doc)
    assert "given_value" not in body and "frequencies" not in body  # no keyed codes leave

    login_as("statistician")
    html = client.get(URL).get_data(as_text=True)
    text = _text(html)
    assert "Todavía no hay un modelo estimado" not in text and "pocos registros" not in text
    assert f"Versión del modelo {model.MODEL_VERSION}" in text
    assert "Ajuste por frecuencia de nombres Sí" in text
    assert 'class="chart chart-histogram"' in html and 'class="chart-threshold"' in html
    assert f"umbral: {fmt(stored.threshold)} bits" in html
    assert "menos de -18" in text and "38 o más" in text
    assert_csp_clean(html)

    in_use = fmt(stored.threshold)
    assert f"Umbral en uso {in_use} bits" in text
    assert "probabilidad de coincidencia de al menos 0,5" in text

    # a stricter configuration applies at the next relink, which links at a higher weight
    app.config["LINKAGE_MATCH_PROBABILITY"] = 0.99
    try:
        assert statistician.get(API).json["threshold"]["in_use"] == stored.threshold
        facts.relink_all()
        db.session.commit()
        doc = statistician.get(API).json
        assert doc["threshold"]["match_probability"] == 0.99
        assert doc["threshold"]["in_use"] > stored.threshold
        text = _text(client.get(URL).get_data(as_text=True))
        assert "probabilidad de coincidencia de al menos 0,99" in text
    finally:
        app.config["LINKAGE_MATCH_PROBABILITY"] = 0.5

    reads = db.session.scalars(
        sa.select(AuditEvent).where(
            AuditEvent.action == "report.read", AuditEvent.object_id == "linkage"
        )
    ).all()
    assert len(reads) >= 3
