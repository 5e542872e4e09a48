"""Signing in and the session (SPEC §7 POST /login, GET /api/session): signed HttpOnly SameSite cookies,
the CSRF token, the login rate limit, safe redirects, signing out — and the key that signs them."""

from __future__ import annotations

import os
import stat

import pytest

from qc.console.limits import LoginLimiter
from qc.console.secret import SECRET_FILE, session_secret
from tests.console.conftest import OWN, PASSWORD, make_client, sign_in

pytestmark = pytest.mark.issue(12)


def test_login_sets_a_signed_httponly_samesite_cookie(client):
    response = client.post("/login", data={"username": "insp1", "password": PASSWORD}, follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/queue"
    cookie = response.headers["set-cookie"].lower()
    assert cookie.startswith("qc_session=") and "httponly" in cookie and "samesite=lax" in cookie
    assert PASSWORD not in response.headers["set-cookie"]
    session = client.get("/api/session").json()
    assert session["user"] == "insp1" and session["role"] == "inspector" and len(session["csrf"]) >= 32


def test_a_script_may_ask_for_json(client):
    response = client.post(
        "/login", data={"username": "a1024", "password": PASSWORD}, headers={"Accept": "application/json"}
    )
    assert response.status_code == 200
    assert response.json()["role"] == "agent" and response.json()["csrf"] == client.get("/api/session").json()["csrf"]


def test_a_forged_or_foreign_cookie_is_no_session(client, db_url, lexicon):
    sign_in(client, "lead1")
    stolen = client.cookies.get("qc_session")
    assert client.get("/api/session").status_code == 200
    tampered = stolen[:-3] + ("AAA" if not stolen.endswith("AAA") else "BBB")
    other = make_client(db_url, lexicon)
    other.cookies.set("qc_session", tampered)
    assert other.get("/api/session").status_code == 401
    from fastapi.testclient import TestClient

    from qc.console.app import create_app
    from qc.store import Store

    elsewhere = TestClient(create_app(Store(db_url), lexicon, "another-secret-" + "y" * 32))
    elsewhere.cookies.set("qc_session", stolen)
    assert elsewhere.get("/api/session").status_code == 401


@pytest.mark.parametrize("name,password", [("insp1", "wrong"), ("nobody", PASSWORD), ("insp1", "")])
def test_a_failed_login_says_nothing_more(client, name, password):
    response = client.post("/login", data={"username": name, "password": password}, follow_redirects=False)
    assert response.status_code in (401, 422)
    assert client.get("/api/session").status_code == 401
    if response.status_code == 401:
        assert response.json() == {"detail": "wrong user name or password"}


def test_the_login_page_shows_the_error_to_a_browser(client):
    response = client.post("/login", data={"username": "insp1", "password": "nope"}, headers={"Accept": "text/html"})
    assert response.status_code == 401 and 'id="login-error"' in response.text and "<form" in response.text


def test_logins_are_rate_limited(db_url, lexicon):
    client = make_client(db_url, lexicon, limiter=LoginLimiter(per_name=3, per_address=100, window_s=60))
    for _ in range(3):
        assert client.post("/login", data={"username": "insp1", "password": "guess"}).status_code == 401
    blocked = client.post("/login", data={"username": "insp1", "password": PASSWORD})
    assert blocked.status_code == 429 and int(blocked.headers["retry-after"]) > 0
    assert client.get("/api/session").status_code == 401  # even the right password waits
    other = client.post("/login", data={"username": "lead1", "password": PASSWORD}, follow_redirects=False)
    assert other.status_code == 303  # another name from the same address is not blocked by this one


def test_the_limiter_counts_per_name_and_per_address_over_a_window():
    now = [0.0]
    limiter = LoginLimiter(per_name=2, per_address=3, window_s=10, clock=lambda: now[0])
    limiter.failed("a", "10.0.0.1")
    assert limiter.retry_after("a", "10.0.0.1") is None
    limiter.failed("a", "10.0.0.1")
    assert limiter.retry_after("a", "10.0.0.2") == 11  # the name is blocked from any address
    limiter.failed("b", "10.0.0.1")
    assert limiter.retry_after("c", "10.0.0.1") is not None  # the address is full: any name waits
    now[0] = 10.5
    assert limiter.retry_after("a", "10.0.0.1") is None and limiter.retry_after("c", "10.0.0.1") is None
    limiter.failed("a", "10.0.0.9")
    limiter.succeeded("a")
    assert limiter.retry_after("a", "10.0.0.9") is None


@pytest.mark.parametrize(
    "target,expected",
    [(f"/calls/{OWN}", f"/calls/{OWN}"), ("//evil.example/x", "/queue"), ("https://evil.example/", "/queue"),
     ("/\\evil.example", "/queue")],
)  # fmt: skip
def test_after_login_only_local_pages(client, target, expected):
    response = client.post(
        "/login", data={"username": "insp1", "password": PASSWORD, "next": target}, follow_redirects=False
    )
    assert response.headers["location"] == expected


def test_a_login_posted_from_another_site_is_refused(client):
    response = client.post(
        "/login", data={"username": "insp1", "password": PASSWORD}, headers={"Origin": "https://evil.example"}
    )
    assert response.status_code == 403 and client.get("/api/session").status_code == 401
    own = client.post("/login", data={"username": "insp1", "password": PASSWORD},
                      headers={"Origin": "http://127.0.0.1:8000"}, follow_redirects=False)  # fmt: skip
    assert own.status_code == 303
    proxied = client.post(
        "/login", data={"username": "insp1", "password": PASSWORD}, follow_redirects=False,
        headers={"Origin": "https://qc.example.cn", "X-Forwarded-Host": "qc.example.cn"},
    )  # fmt: skip
    assert proxied.status_code == 303


def test_what_people_type_is_shown_as_text(client):
    token = sign_in(client, "insp1")
    comment = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    url = f"/api/calls/{OWN}/hits/BAN-002@2:7-12/verdict"
    assert client.post(url, json={"verdict": "false", "comment": comment}, headers={"X-CSRF-Token": token}).is_success
    page = client.get(f"/calls/{OWN}").text
    assert comment not in page and "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in page


def test_the_csrf_token_belongs_to_the_session(client, db_url, lexicon):
    token = sign_in(client, "insp1")
    other = make_client(db_url, lexicon)
    other_token = sign_in(other, "insp1")
    assert token != other_token
    url = f"/api/calls/{OWN}/hits/BAN-002@2:7-12/verdict"
    assert client.post(url, json={"verdict": "false"}, headers={"X-CSRF-Token": other_token}).status_code == 403
    assert client.post(url, json={"verdict": "false"}, headers={"X-CSRF-Token": token}).status_code == 200


def test_signing_out_ends_the_session(client):
    token = sign_in(client, "insp1")
    assert client.post("/logout", headers={"X-CSRF-Token": token}, follow_redirects=False).status_code == 303
    assert client.get("/api/session").status_code == 401


def test_a_removed_user_is_signed_out(client, db_url):
    from sqlalchemy import text

    from qc.store import Store

    sign_in(client, "insp1")
    with Store(db_url).engine.begin() as conn:
        conn.execute(text("DELETE FROM users WHERE name = 'insp1'"))
    assert client.get("/api/session").status_code == 401


def test_security_headers(client):
    sign_in(client, "insp1")
    response = client.get(f"/calls/{OWN}")
    assert "script-src 'self'" in response.headers["content-security-policy"]
    assert response.headers["x-frame-options"] == "DENY" and response.headers["cache-control"] == "no-store"


def test_the_session_key_is_kept_private(tmp_path, monkeypatch):
    monkeypatch.delenv("QC_SECRET", raising=False)
    first = session_secret(tmp_path)
    path = tmp_path / SECRET_FILE
    assert stat.S_IMODE(path.stat().st_mode) == 0o600 and len(first) >= 40
    assert session_secret(tmp_path) == first  # kept: a restart signs nobody out
    os.chmod(path, 0o644)
    assert session_secret(tmp_path) == first and stat.S_IMODE(path.stat().st_mode) == 0o600
    monkeypatch.setenv("QC_SECRET", "from-the-environment")
    assert session_secret(tmp_path) == "from-the-environment"
