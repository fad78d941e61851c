"""Issue 14 (frontline corrections) on the screening page."""

from __future__ import annotations

from caseapp.screening.models import Case, Screening
from tests.integration.test_screening_pages import ROSA_FORM, count, submit


def test_date_of_birth_2000_with_age_12_shows_an_error_summary_naming_both_fields(client, login_as):
    login_as("screener")
    before = (count(Case), count(Screening))
    response = submit(
        client, {**ROSA_FORM, "person_date_of_birth": "2000-01-01", "person_age_years": "12"}
    )
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "Hay un problema" in html
    assert '<a href="#person_date_of_birth">Fecha de nacimiento: La edad y la fecha' in html
    assert '<a href="#person_age_years">' in html
    assert "tendría 26 años" in html
    assert (count(Case), count(Screening)) == before
