"""Optional login: the pure configuration, allow-list and expiry checks (misc_dash/auth.py), and the app with login
off (unchanged) and on (AppTest with a seeded st.user)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from misc_dash import auth as A

ROOT = Path(__file__).resolve().parents[1]
APP = str(ROOT / "app.py")
NOW = 1_800_000_000.0

AUTH = {
    "redirect_uri": "http://127.0.0.1:8501/oauth2callback",
    "cookie_secret": "x" * 40,
    "client_id": "misc-dash",
    "client_secret": "not-a-real-secret",
    "server_metadata_url": "http://127.0.0.1:9400/.well-known/openid-configuration",
}
SECRETS = {
    "auth": AUTH,
    "misc_dash_auth": {"allowed_emails": ["Chief@Other.Example"], "allowed_domains": ["hospital.org"]},
}


def config(**kw) -> A.AuthConfig:
    return A.parse_config({**SECRETS, "misc_dash_auth": {**SECRETS["misc_dash_auth"], **kw}})


# ------------------------------------------------------------------------------------------------ allow-list
@pytest.mark.parametrize(
    "email, ok",
    [
        ("a@hospital.org", True),
        ("A.B@HOSPITAL.ORG", True),
        ("chief@other.example", True),
        ("CHIEF@other.EXAMPLE", True),
        ("someone@other.example", False),  # the address is listed, not its domain
        ("a@evil-hospital.org", False),
        ("a@hospital.org.evil.com", False),
        ("a@sub.hospital.org", False),
        ("a@hospital.org@evil.com", False),
        ("hospital.org@evil.com", False),
        ("a@hospital.org.", False),
        (" a@hospital.org", False),
        ("a@hospital.org\n", False),
        ("a\u200b@hospital.org", False),
        ("\u212aate@other.example", False),  # the Kelvin sign does not fold onto k
        ("chie\u0192@other.example", False),
        ("@hospital.org", False),
        ("hospital.org", False),
        ("", False),
        (None, False),
        (["a@hospital.org"], False),
    ],
)
def test_allow_list(email, ok):
    assert A.is_allowed(config(), email) is ok


def test_domain_is_the_part_after_the_last_at():
    assert A.email_domain("x@Hospital.Org") == "hospital.org"
    assert A.email_domain("x@hospital.org@evil.com") is None  # not one plain address at all


# ------------------------------------------------------------------------------------------------ verdicts
def user(**kw) -> dict:
    return {"is_logged_in": True, "email": "a@hospital.org", "email_verified": True, "exp": NOW + 600, **kw}


def test_verdicts():
    c = config()
    assert A.check_user(c, {}, NOW).status is A.Status.SIGNED_OUT
    assert A.check_user(c, {"is_logged_in": False, "email": "a@hospital.org"}, NOW).status is A.Status.SIGNED_OUT
    assert A.check_user(c, {"email": "a@hospital.org", "exp": NOW + 60}, NOW).status is A.Status.SIGNED_OUT
    assert A.check_user(c, user(), NOW).allowed
    assert A.check_user(c, user(email="a@evil-hospital.org"), NOW).status is A.Status.REFUSED
    assert A.check_user(c, user(email=None), NOW).status is A.Status.REFUSED
    v = A.check_user(c, user(email="mallory@evil.com"), NOW)
    assert "mallory" not in v.reason and "not on the list" in v.reason


@pytest.mark.parametrize(
    "flag, ok",
    [
        (True, True),
        ("true", True),
        ("TRUE", True),
        (False, False),
        ("false", False),
        (None, False),
        (0, False),
        ("", False),
    ],
)
def test_email_verified(flag, ok):
    assert A.check_user(config(), user(email_verified=flag), NOW).allowed is ok


def test_email_verified_absent_is_accepted():
    claims = user()
    del claims["email_verified"]
    assert A.check_user(config(), claims, NOW).allowed


@pytest.mark.parametrize(
    "exp, expired",
    [
        (NOW + 1, False),
        (NOW, True),
        (NOW - 1, True),
        (None, True),
        ("1900000000", True),
        (True, True),
        (float("nan"), True),
        (float("inf"), True),
    ],
)
def test_expiry(exp, expired):
    claims = user(exp=exp)
    if exp is None:
        del claims["exp"]
    v = A.check_user(config(), claims, NOW)
    assert (v.status is A.Status.EXPIRED) is expired
    assert (A.expiry_problem(claims, NOW) is not None) is expired
    if expired:
        assert "Sign in again" in v.reason


# ------------------------------------------------------------------------------------------------ configuration
def test_no_auth_section_is_login_off():
    assert A.parse_config({}) is None
    assert A.parse_config({"misc_dash_auth": {"allowed_domains": ["hospital.org"]}, "other": 1}) is None


def test_config_parsed():
    c = config()
    assert c == A.AuthConfig(frozenset({"chief@other.example"}), frozenset({"hospital.org"}), None)
    assert config(allowed_domains=["@Hospital.ORG"]).allowed_domains == {"hospital.org"}
    assert config(allowed_emails="one@x.org").allowed_emails == {"one@x.org"}
    named = A.parse_config(
        {
            "auth": {
                "redirect_uri": AUTH["redirect_uri"],
                "cookie_secret": AUTH["cookie_secret"],
                "entra": {k: AUTH[k] for k in A.PROVIDER_KEYS},
            },
            "misc_dash_auth": {"provider": "entra", "allowed_domains": ["hospital.org"]},
        }
    )
    assert named.provider == "entra"


@pytest.mark.parametrize(
    "auth, app, needle",
    [
        ({**AUTH, "cookie_secret": "short"}, None, "cookie_secret"),
        ({k: v for k, v in AUTH.items() if k != "cookie_secret"}, None, "cookie_secret"),
        ({k: v for k, v in AUTH.items() if k != "client_id"}, None, "client_id is missing"),
        ({**AUTH, "client_secret": ""}, None, "client_secret is missing"),
        ({**AUTH, "server_metadata_url": "idp.example/.well-known"}, None, "server_metadata_url"),
        ({**AUTH, "redirect_uri": "http://127.0.0.1:8501/"}, None, "/oauth2callback"),
        ({**AUTH, "redirect_uri": "/oauth2callback"}, None, "redirect_uri"),
        (AUTH, {}, "nobody could use"),
        (AUTH, {"allowed_domains": ["*.hospital.org"]}, "allowed_domains entry 1"),
        (AUTH, {"allowed_domains": ["hospital.org", "a@b.org"]}, "allowed_domains entry 2"),
        (AUTH, {"allowed_emails": ["a@b@c.org"]}, "allowed_emails entry 1"),
        (AUTH, {"allowed_emails": [1, 2]}, "must be a list of strings"),
        (AUTH, {"allowed_domains": ["hospital.org"], "provider": "bad_name"}, "provider"),
        (AUTH, {"allowed_domains": ["hospital.org"], "provider": "okta"}, "[auth.okta] is missing"),
        ("not a section", {}, "[auth] must be a section"),
    ],
)
def test_config_problems(auth, app, needle):
    secrets = {"auth": auth, "misc_dash_auth": {"allowed_domains": ["hospital.org"]} if app is None else app}
    with pytest.raises(A.AuthConfigError) as err:
        A.parse_config(secrets)
    assert any(needle in p for p in err.value.problems), err.value.problems
    # the problems name keys, never values
    assert "not-a-real-secret" not in str(err.value) and "x" * 40 not in str(err.value)


def test_core_module_has_no_streamlit():
    import subprocess
    import sys

    code = "import sys, misc_dash.auth; print('streamlit' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


# ------------------------------------------------------------------------------------------------ the app
def body(at: AppTest) -> str:
    parts = [m.value for m in at.markdown] + [t.value for t in at.get("text")]
    parts += [e.value for e in at.error] + [w.value for w in at.warning] + [i.value for i in at.info]
    return "\n".join(str(p) for p in parts).replace("\\", "")


def app(user_info: dict | None = None, secrets: dict | None = None, page: str | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    if secrets is not None:
        at.secrets = secrets
    if user_info is not None:
        at.user = user_info
    at.run()
    if page:
        at.switch_page(page).run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def live(**kw) -> dict:
    return user(exp=time.time() + 3600, **kw)


def test_login_off_app_unchanged():
    at = app()
    text = body(at)
    assert "n = 46" in text and "Signed in as" not in text
    assert not [b for b in at.button if b.label in ("Sign in", "Sign out")]
    at = app(secrets={"other": {"x": 1}}, page="pages/data.py")
    assert len(at.get("file_uploader")) == 1 and "Signed in as" not in body(at)


def test_login_on_signed_out_sees_the_sign_in_screen_only():
    at = app({"is_logged_in": False}, SECRETS)
    text = body(at)
    assert "n = 46" not in text and "Sign in with your hospital account" in text
    assert [b.label for b in at.button] == ["Sign in"]
    # a deep link to the Data page runs no page: no uploader
    at = app({"is_logged_in": False}, SECRETS, page="pages/data.py")
    assert not at.get("file_uploader") and "n = 46" not in body(at)


def test_login_on_allowed_user_sees_the_dashboard_and_can_sign_out():
    at = app(live(email="Alice@Hospital.org"), SECRETS)
    text = body(at)
    assert "n = 46" in text and "Signed in as Alice@Hospital.org" in text
    assert at.button(key="_auth_sign_out").label == "Sign out"
    # signing out itself is tested in the browser (tests/test_browser_oidc.py): AppTest's user is fixed per test


def test_login_on_allowed_user_may_upload():
    at = app(live(), SECRETS, page="pages/data.py")
    assert len(at.get("file_uploader")) == 1


def test_login_on_refused_and_expired_users_see_no_data():
    at = app(live(email="<b>mallory</b>@evil-hospital.org"), SECRETS)
    text = body(at)
    assert "n = 46" not in text and "not on the list" in text
    assert "Signed in as <b>mallory</b>@evil-hospital.org" in [t.value for t in at.get("text")][-1]
    assert "Sign out" in [b.label for b in at.button]
    at = app(live(email_verified=False), SECRETS)
    assert "n = 46" not in body(at) and "not verified" in body(at)
    at = app(user(exp=time.time() - 5), SECRETS)
    assert "n = 46" not in body(at) and "expired" in body(at)
    assert {"Sign in again", "Sign out"} <= {b.label for b in at.button}


def test_login_misconfigured_refuses_everyone():
    at = app(live(), {"auth": {**AUTH, "cookie_secret": "short"}, "misc_dash_auth": SECRETS["misc_dash_auth"]})
    text = body(at)
    assert "n = 46" not in text and "not configured correctly" in text and "cookie_secret" in text
    assert not at.button


def _upload_script():
    import streamlit as st

    from misc_dash.ui import state

    class File:
        name = "patients.csv"

        def getvalue(self):
            return b"patient_id\n1\n"

    state.load_upload([File()])
    st.text(repr(st.session_state.get(state.K_UPLOAD_PROBLEMS)))
    st.text(repr(st.session_state.get(state.K_UPLOAD_COHORT)))


def test_load_upload_refuses_when_not_signed_in():
    at = AppTest.from_function(_upload_script, default_timeout=30)
    at.secrets = SECRETS
    at.user = {"is_logged_in": False}
    at.run()
    problems, cohort = [t.value for t in at.get("text")]
    assert "Sign in to load a cohort" in problems and cohort == "None"
    at = AppTest.from_function(_upload_script, default_timeout=30)
    at.run()  # login off: read and validated as before (this file has problems of its own)
    problems, _ = [t.value for t in at.get("text")]
    assert "Sign in" not in problems and problems != "None"
