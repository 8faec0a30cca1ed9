"""Login end to end (issue 18): the real app, started with a secrets file that turns login on, signs in through a
real OpenID Connect provider on loopback (``oidc-provider-mock``: discovery, authorisation form, token endpoint,
signed ID tokens), in headless Debian Chromium.

An allowed address sees the dashboard with "Signed in as …" and may upload; signing out brings the sign-in screen
back; an address off the allow-list signs in at the provider but sees no data.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.test_browser import CHROMIUM, _browser, _free_port, _serve

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian chromium not installed"),
]

ALLOWED = "alice@hospital.org"
REFUSED = "mallory@evil-hospital.org"
TIMEOUT = 45_000


@pytest.fixture(scope="module")
def provider():
    from oidc_provider_mock import User, run_server_in_thread

    users = [
        User(sub=e, claims={"email": e, "email_verified": True, "name": e.split("@")[0]}) for e in (ALLOWED, REFUSED)
    ]
    with run_server_in_thread(port=_free_port(), user_claims=users) as server:
        yield f"http://localhost:{server.server_port}"


@pytest.fixture(scope="module")
def server(provider, tmp_path_factory):
    port = _free_port()
    secrets = tmp_path_factory.mktemp("login") / "secrets.toml"
    secrets.write_text(
        "[auth]\n"
        f'redirect_uri = "http://127.0.0.1:{port}/oauth2callback"\n'
        'cookie_secret = "a-test-cookie-secret-of-more-than-32-characters"\n'
        'client_id = "misc-dash"\n'
        'client_secret = "a-test-client-secret"\n'
        f'server_metadata_url = "{provider}/.well-known/openid-configuration"\n'
        "\n[misc_dash_auth]\n"
        'allowed_domains = ["hospital.org"]\n'
    )
    yield from _serve(("--secrets.files", str(secrets)), port=port)


@pytest.fixture(scope="module")
def browser():
    yield from _browser()


def _idle(pg):
    pg.wait_for_selector('[data-testid="stApp"][data-test-script-state="notRunning"]', timeout=TIMEOUT)
    pg.wait_for_timeout(300)
    pg.wait_for_selector('[data-testid="stApp"][data-test-script-state="notRunning"]', timeout=TIMEOUT)


def _sign_in_screen(pg):
    pg.get_by_text("Sign in with your hospital account").wait_for(timeout=TIMEOUT)
    _idle(pg)
    body = pg.inner_text("body")
    assert "n = 46" not in body and "SYNTHETIC COHORT" not in body
    assert pg.locator('[data-testid="stSidebarNavLink"]').count() == 0  # no page is reachable


def _sign_in_as(pg, email):
    pg.get_by_role("button", name=re.compile(r"^Sign in")).click()
    pg.wait_for_url(re.compile(r"^http://localhost:\d+/oauth2/authorize"), timeout=TIMEOUT)  # the provider's form
    pg.get_by_role("button", name=email, exact=True).click()
    pg.wait_for_url(re.compile(r"^http://127\.0\.0\.1:\d+/"), timeout=TIMEOUT)  # back in the app


def _sign_out(pg):
    """Sign out: the app clears its cookie and sends the browser to the provider's end-session page (OpenID Connect
    RP-initiated logout), whose confirmation leads back to the app."""
    pg.get_by_role("button", name="Sign out").click()
    pg.wait_for_url(re.compile(r"^http://localhost:\d+/oauth2/end_session"), timeout=TIMEOUT)
    pg.get_by_role("button", name="End session").click()
    pg.wait_for_url(re.compile(r"^http://127\.0\.0\.1:\d+/"), timeout=TIMEOUT)


def test_sign_in_allowed_then_sign_out(browser, server):
    ctx = browser.new_context(viewport={"width": 1280, "height": 720})
    pg = ctx.new_page()
    pg.goto(f"{server}/data")  # a deep link runs no page while signed out
    _sign_in_screen(pg)
    assert pg.locator('[data-testid="stFileUploader"]').count() == 0

    _sign_in_as(pg, ALLOWED)
    pg.get_by_text(f"Signed in as {ALLOWED}").wait_for(timeout=TIMEOUT)
    pg.wait_for_function("() => document.body.innerText.includes(' — n = 46')", timeout=TIMEOUT)
    _idle(pg)
    assert pg.locator('[data-testid="stException"]').count() == 0
    assert "SYNTHETIC COHORT" in pg.inner_text("body")
    assert ALLOWED not in pg.url  # no identifier in the address

    pg.goto(f"{server}/data")  # signed in: the Data page and its uploader
    pg.locator('[data-testid="stFileUploader"]').wait_for(timeout=TIMEOUT)
    pg.get_by_text(f"Signed in as {ALLOWED}").wait_for(timeout=TIMEOUT)

    _sign_out(pg)
    _sign_in_screen(pg)
    pg.reload()  # the sign-out holds: the auth cookie is gone
    _sign_in_screen(pg)
    ctx.close()


def test_sign_in_refused_address_sees_no_data(browser, server):
    ctx = browser.new_context(viewport={"width": 1280, "height": 720})
    pg = ctx.new_page()
    pg.goto(server)
    _sign_in_screen(pg)
    _sign_in_as(pg, REFUSED)
    pg.get_by_text("not on the list of people allowed").wait_for(timeout=TIMEOUT)
    _idle(pg)
    body = pg.inner_text("body")
    assert "n = 46" not in body and "SYNTHETIC COHORT" not in body
    assert f"Signed in as {REFUSED}" in body
    assert pg.locator('[data-testid="stSidebarNavLink"]').count() == 0
    pg.goto(f"{server}/table1")  # nor by a deep link
    pg.get_by_text("not on the list of people allowed").wait_for(timeout=TIMEOUT)
    _idle(pg)
    assert "n = 46" not in pg.inner_text("body")
    _sign_out(pg)
    _sign_in_screen(pg)
    ctx.close()
