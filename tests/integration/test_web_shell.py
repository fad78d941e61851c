"""Headers, errors in HTML and JSON, language switch, health check, OpenAPI."""

from __future__ import annotations

from tests.conftest import csrf_from


def test_security_headers_on_pages(client, login_as):
    login_as("screener")
    response = client.get("/directory/")
    csp = response.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in csp
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Cache-Control"] == "no-store"


def test_pages_contain_no_inline_script_or_style(client, login_as):
    login_as("admin")
    for url in (
        "/",
        "/directory/",
        "/directory/CEM-MDD",
        "/admin/users",
        "/admin/audit/",
        "/account/password",
    ):
        html = client.get(url).get_data(as_text=True)
        assert "<script>" not in html and "style=" not in html and "onclick" not in html, url


def test_session_cookie_flags(client):
    client.get("/login")
    cookie = client.get_cookie("ruta_session")
    assert cookie.http_only
    assert cookie.same_site == "Lax"


def test_production_sets_secure_cookies_and_hsts(tmp_path, monkeypatch):
    import base64
    import os

    from caseapp import create_app

    keys = {
        f"CASEAPP_{k}": base64.b64encode(os.urandom(32)).decode()
        for k in ("SECRET_KEY", "DATA_KEY", "INDEX_KEY", "AUDIT_KEY", "AUDIT_SIGNING_KEY")
    }
    for k, v in keys.items():
        monkeypatch.setenv(k, v)
    app = create_app(
        {
            "ENV": "production",
            "INSTANCE_PATH": str(tmp_path),
            "DATABASE_URL": f"sqlite:///{tmp_path / 'p.db'}",
        }
    )
    assert app.config["SESSION_COOKIE_SECURE"] is True
    response = app.test_client().get("/healthz", base_url="https://localhost")
    assert "max-age" in response.headers["Strict-Transport-Security"]


def test_healthz(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json == {"status": "ok", "database": "ok"}


def test_unknown_page_is_a_spanish_404(client):
    response = client.get("/no-such-page")
    assert response.status_code == 404
    assert "Página no encontrada" in response.get_data(as_text=True)


def test_api_errors_are_json(api):
    caller = api("screener")
    response = caller.get("/api/v1/nothing-here")
    assert response.status_code == 404
    assert response.json["error"]["code"] == "not_found"


def test_api_rejects_unknown_filters_with_422_naming_them(api):
    response = api("screener").get("/api/v1/organizations?service_typo=cem&region=99")
    assert response.status_code == 422
    fields = response.json["error"]["fields"]
    assert set(fields) == {"service_typo", "region"}


def test_bodies_over_5_mb_are_413(api):
    caller = api("screener")
    response = caller.client.post(
        "/api/v1/organizations",
        data=b"x" * (5 * 1024 * 1024 + 1),
        headers={"Authorization": f"Bearer {caller.token}", "Content-Type": "application/json"},
    )
    assert response.status_code == 413
    assert response.json["error"]["code"] == "payload_too_large"


def test_openapi_document(client):
    doc = client.get("/api/v1/openapi.json").json
    assert doc["openapi"].startswith("3.")
    assert "/organizations" in doc["paths"]
    assert "Error" in doc["components"]["schemas"]


def test_language_switch_to_english_and_back(client, login_as):
    login_as("screener")
    page = client.get("/")
    assert "Bienvenida" in page.get_data(as_text=True)
    token = csrf_from(page.get_data(as_text=True))
    client.post("/lang", data={"lang": "en", "next": "/", "csrf_token": token})
    english = client.get("/").get_data(as_text=True)
    assert '<html lang="en">' in english
    assert "Welcome to Ruta" in english
    client.post("/lang", data={"lang": "es", "next": "/", "csrf_token": token})
    assert "Bienvenida" in client.get("/").get_data(as_text=True)


def test_every_spanish_message_has_an_english_translation():
    """The English catalogue is complete for every string the templates and code use."""
    import subprocess
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    result = subprocess.run(
        ["bash", "scripts/i18n.sh", "--check"], cwd=root, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr
