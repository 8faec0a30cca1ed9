"""The optional login's Streamlit side: read the configuration from ``st.secrets``, judge ``st.user`` on every
run (:func:`misc_dash.auth.check_user`), draw the sign-in screen or "Signed in as … / Sign out".

Login off (no ``[auth]`` section): nothing is drawn and every check passes. A secrets file that exists but cannot
be read counts as a broken configuration (fail closed), never as login off. Neither the address nor any token is
ever logged.
"""

from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass

import streamlit as st

from .. import auth as A

_LOG = logging.getLogger("misc_dash")


@dataclass(frozen=True)
class LoginGate:
    """This run's login state: ``on`` (configured), the ``config`` or the ``problems`` with it, the verdict."""

    on: bool
    config: A.AuthConfig | None = None
    problems: tuple[str, ...] = ()
    verdict: A.Verdict | None = None
    email: str | None = None

    @property
    def open(self) -> bool:
        """The data may be shown: login is off, or the user is signed in, allowed and not expired."""
        return not self.on or (self.verdict is not None and self.verdict.allowed)


def _secrets() -> dict:
    """The secrets as a dict; ``None`` when a secrets file exists but cannot be read."""
    try:
        if st.secrets.load_if_toml_exists():
            return st.secrets.to_dict()
    except Exception:  # unreadable: fail closed below
        return None
    paths = st.get_option("secrets.files") or []
    return None if any(os.path.exists(p) for p in paths) else {}


def login_gate() -> LoginGate:
    """Judge the current user against the configuration (cheap: called on every run)."""
    secrets = _secrets()
    if secrets is None:
        return LoginGate(True, problems=("the secrets file could not be read",))
    if not A.login_configured(secrets):
        return LoginGate(False)
    try:
        config = A.parse_config(secrets)
    except A.AuthConfigError as exc:
        return LoginGate(True, problems=exc.problems)
    try:
        claims = st.user.to_dict()
    except Exception:  # no user information at all: signed out
        claims = {}
    email = claims.get("email") if isinstance(claims.get("email"), str) else None
    return LoginGate(True, config, verdict=A.check_user(config, claims, time.time()), email=email)


def upload_allowed() -> bool:
    """Uploads are accepted: login is off, or the user is signed in and allowed."""
    return login_gate().open


def _sign_out() -> None:
    st.logout()  # this run and the next see a signed-out user; the browser is sent to /auth/logout


def _sign_in_button(gate: LoginGate, label: str = "Sign in") -> None:
    provider = gate.config.provider if gate.config else None
    if st.button(label, type="primary", key="_auth_sign_in"):
        st.login(provider) if provider else st.login()


def show_sign_in(gate: LoginGate) -> None:
    """The sign-in screen (signed out, expired, refused or misconfigured), then stop the run: no page runs."""
    st.title("MIS-C Cohort Explorer")
    st.text("A dashboard of a MIS-C cohort for the care team. Sign in with your hospital account to see it.")
    if gate.problems:
        _LOG.error("login misconfigured: %s", "; ".join(gate.problems))
        st.error(
            "Sign-in is not configured correctly on this server, so nobody can sign in. Ask the administrator to "
            "check the secrets: " + "; ".join(gate.problems) + ".",
            icon=":material/error:",
        )
        st.stop()
    verdict = gate.verdict
    if verdict is None or verdict.status is A.Status.SIGNED_OUT:
        _sign_in_button(gate)
    elif verdict.status is A.Status.EXPIRED:
        st.warning(verdict.reason, icon=":material/schedule:")
        _sign_in_button(gate, "Sign in again")
        st.button("Sign out", key="_auth_sign_out", on_click=_sign_out)
    else:
        _LOG.warning("login refused: %s", verdict.reason)
        if gate.email:
            st.text(f"Signed in as {gate.email}")
        st.error(verdict.reason + " No data is shown.", icon=":material/block:")
        st.button("Sign out", key="_auth_sign_out", on_click=_sign_out)
    st.stop()


def show_signed_in(gate: LoginGate) -> None:
    """ "Signed in as … / Sign out" in the sidebar (nothing when login is off). The address is plain text."""
    if not gate.on:
        return
    with st.sidebar:
        st.text(f"Signed in as {gate.email or '?'}")
        st.button("Sign out", key="_auth_sign_out", on_click=_sign_out)
