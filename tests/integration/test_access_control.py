"""Deny by default: every route declares its access, and each role gets exactly what
api.md §2 grants. The expected matrix is written out here, independently of the code."""

from __future__ import annotations

import re

import pytest

from caseapp.core.security import ROLES, access_of
from tests.conftest import csrf_from

ALL = set(ROLES)
CASE_ROLES = {"screener", "caseworker", "supervisor"}

# endpoint -> roles allowed ("public" = no login, "any" = every signed-in role)
EXPECTED: dict[str, object] = {
    "web.home": "any",
    "web.set_language": "public",
    "web.healthz": "public",
    "guide.index": "public",
    "guide.image": "public",
    "accounts.login": "public",
    "accounts.logout": "any",
    "accounts.change_password": "any",
    "accounts.two_factor_login": "public",
    "accounts.two_factor_setup": "any",
    "accounts.users": {"admin"},
    "accounts.user_detail": {"admin"},
    "accounts.deactivate_user": {"admin"},
    "accounts.reactivate_user": {"admin"},
    "accounts.revoke_token": {"admin"},
    "accounts.pending_accounts": {"supervisor"},  # four eyes: own organization's accounts
    "accounts.approve_account": {"supervisor"},
    "audit.index": {"admin"},
    "directory.index": ALL,
    "directory.organization": ALL,
    "directory.edit_service": {"admin"},
    "api.openapi": "public",
    "api.list_organizations": ALL,
    "api.create_screening": CASE_ROLES,
    "api.get_screening": CASE_ROLES,
    "api.override_screening": {"supervisor"},
    "api.set_legal_hold": {"supervisor"},
    "api.list_cases": CASE_ROLES,
    "api.search_cases": CASE_ROLES,
    "api.get_case": CASE_ROLES,
    "api.patch_case": CASE_ROLES,
    "screening.new": CASE_ROLES,
    "screening.result": CASE_ROLES,
    "screening.cases": CASE_ROLES,
    "screening.case": CASE_ROLES,
    "screening.edit_case": CASE_ROLES,
    "screening.override": {"supervisor"},
    "api.record_consent": CASE_ROLES,
    "api.list_referrals": CASE_ROLES,
    "api.get_referral": CASE_ROLES,
    "api.send_referral": CASE_ROLES,
    "api.assign_referral": CASE_ROLES,
    "api.cancel_referral": CASE_ROLES,
    "api.referral_letter": CASE_ROLES,
    "api.accept_referral": {"caseworker", "supervisor"},
    "api.decline_referral": {"caseworker", "supervisor"},
    "api.complete_referral": {"caseworker", "supervisor"},
    "api.create_admission": {"caseworker", "supervisor"},
    "api.discharge_admission": {"caseworker", "supervisor"},
    "referrals.incoming": {"caseworker", "supervisor"},
    "referrals.outgoing": CASE_ROLES,
    "referrals.escalations": {"supervisor"},
    "referrals.detail": CASE_ROLES,
    "referrals.send": CASE_ROLES,
    "referrals.assign": CASE_ROLES,
    "referrals.cancel": CASE_ROLES,
    "referrals.accept": {"caseworker", "supervisor"},
    "referrals.complete": {"caseworker", "supervisor"},
    "referrals.decline": {"caseworker", "supervisor"},
    "admissions.admit": {"caseworker", "supervisor"},
    "referrals.letter": CASE_ROLES,
    "referrals.consent": CASE_ROLES,
    "shelters.index": {"caseworker", "supervisor"},
    "shelters.discharge": {"caseworker", "supervisor"},
    # reports: every role, aggregates of its own organization (statisticians: all)
    "api.report_victims": ALL,
    "api.report_overlap": ALL,
    "api.report_referrals": ALL,
    "api.report_gaps": ALL,
    "api.report_occupancy": ALL,
    "api.report_export": ALL,
    "api.report_estimate": ALL,
    # linkage quality: the model over every organization (statisticians only)
    "api.report_linkage": {"statistician"},
    "reports.linkage_page": {"statistician"},
    "reports.index": ALL,
    "reports.overlap": ALL,
    "reports.referrals": ALL,
    "reports.gaps": ALL,
    "reports.occupancy": ALL,
    "reports.exports_page": ALL,
    "reports.download": ALL,
    "reports.export_layout": ALL,
    # exchange: every case of the organization at once (ADR 0023); the directory is public
    "api.export_htcds": {"supervisor"},
    "exchange.htcds_page": {"supervisor"},
    "api.export_hsds": ALL,
    # register import: an organization's own register, by its supervisors (ADR 0022)
    "imports.index": {"supervisor"},
    "imports.batches": {"supervisor"},
    "imports.batch": {"supervisor"},
    "imports.report": {"supervisor"},
    "imports.confirm": {"supervisor"},
    "imports.rollback": {"supervisor"},
}


def test_every_route_declares_its_access(app):
    undeclared = [
        rule.endpoint
        for rule in app.url_map.iter_rules()
        if rule.endpoint != "static" and access_of(app.view_functions[rule.endpoint]) is None
    ]
    assert undeclared == [], f"routes without a declared access: {undeclared}"


def test_matrix_covers_every_route(app):
    endpoints = {r.endpoint for r in app.url_map.iter_rules()} - {"static"}
    missing = sorted(endpoints - set(EXPECTED))
    assert missing == [], f"add these endpoints to the access matrix: {missing}"


def test_an_undeclared_route_is_refused(app, client, login_as):
    """The guard itself: a view without a declaration is a 403 even for a signed-in user."""
    from flask import Blueprint

    from caseapp.core.security import ACCESS_ATTR

    view = app.view_functions["web.home"]
    declared = getattr(view, ACCESS_ATTR)
    delattr(view, ACCESS_ATTR)
    try:
        login_as("supervisor")
        assert client.get("/").status_code == 403
    finally:
        setattr(view, ACCESS_ATTR, declared)
    assert Blueprint  # imported to show no new route is needed


def _url_for(app, endpoint):
    rule = next(r for r in app.url_map.iter_rules() if r.endpoint == endpoint)
    url = rule.rule
    url = re.sub(r"<int:[^>]+>", "1", url)
    url = url.replace("<code>", "CEM-MDD").replace("<uuid>", "00000000-0000-0000-0000-000000000000")
    url = re.sub(r"<[^>]+>", "x", url)
    method = "GET" if "GET" in rule.methods else sorted(rule.methods - {"HEAD", "OPTIONS"})[0]
    return url, method


MATRIX = [(endpoint, role) for endpoint in sorted(EXPECTED) for role in ROLES]


@pytest.mark.parametrize(("endpoint", "role"), MATRIX)
def test_role_matrix(app, client, login_as, api, endpoint, role):
    expected = EXPECTED[endpoint]
    url, method = _url_for(app, endpoint)
    if url.startswith("/api/"):
        caller = api(role)
        response = caller.client.open(
            url,
            method=method,
            json=None if method == "GET" else {},
            headers={"Authorization": f"Bearer {caller.token}"},
        )
    else:
        login_as(role)
        headers = {}
        if method != "GET":  # a real form carries its CSRF token; the guard must still say no
            headers["X-CSRFToken"] = csrf_from(client.get("/").get_data(as_text=True))
        response = client.open(url, method=method, headers=headers)
    allowed = expected in ("public", "any") or role in expected  # type: ignore[operator]
    if allowed:
        assert response.status_code != 403, f"{role} should reach {endpoint}"
    else:
        assert response.status_code == 403, f"{role} must not reach {endpoint}"


@pytest.mark.parametrize("endpoint", sorted(e for e, v in EXPECTED.items() if v != "public"))
def test_anonymous_is_sent_to_login_or_401(app, client, endpoint):
    url, method = _url_for(app, endpoint)
    response = client.open(url, method=method)
    if url.startswith("/api/"):
        assert response.status_code == 401
        assert response.json["error"]["code"] == "unauthorized"
    elif method == "POST":
        # POST without a session is stopped by CSRF (400) or sent to login (302)
        assert response.status_code in (302, 400)
    else:
        assert response.status_code == 302
        assert "/login" in response.headers["Location"]
