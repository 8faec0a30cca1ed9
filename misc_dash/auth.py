"""Optional login: the configuration, the allow-list and the expiry check (pure; the Streamlit glue is in
:mod:`misc_dash.ui.auth`).

Login is on when the secrets hold an ``[auth]`` section (Streamlit's own ``st.login`` settings: ``redirect_uri``,
``cookie_secret``, ``client_id``, ``client_secret``, ``server_metadata_url``), and off otherwise: the app is then
the open demo it always was. With login on, the ``[misc_dash_auth]`` section says who may see the data:

- ``allowed_emails``: full addresses, compared case-insensitively (ASCII letters only: ``K`` and the Kelvin sign
  ``\\u212a`` stay different, so no Unicode look-alike folds onto an allowed address);
- ``allowed_domains``: a signed-in user whose address ends in ``@`` + one of these, exactly (the part after the last
  ``@``: ``evil-hospital.org`` and ``sub.hospital.org`` do not match ``hospital.org``; list each one you mean).

An address with more than one ``@``, blank space or control characters is refused, as is one the identity provider
says is not verified (``email_verified`` false). Streamlit does not check the ID token's expiry after signing in:
:func:`check_user` does, on every run, and an expired sign-in counts as signed out. Any problem in the configuration
refuses everyone (fail closed) with the problems listed by name, never by value (:class:`AuthConfigError`).
"""

from __future__ import annotations

import enum
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass

AUTH_SECTION = "auth"
APP_SECTION = "misc_dash_auth"
PROVIDER_KEYS = ("client_id", "client_secret", "server_metadata_url")
MIN_COOKIE_SECRET = 32
CALLBACK_PATH = "/oauth2callback"

_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")
_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
_DOMAIN = re.compile(rf"{_LABEL}(?:\.{_LABEL})*")
_BAD_CHARS = re.compile(r"[\s\x00-\x1f\x7f\u0085\u2028\u2029\u200b-\u200f\u202a-\u202e\u2060-\u2064\ufeff]")
_URL = re.compile(r"https?://[^\s/?#]+(?:[/?#]\S*)?", re.IGNORECASE)
_PROVIDER_NAME = re.compile(r"[A-Za-z0-9-]+")


class AuthConfigError(ValueError):
    """The login configuration cannot be used. ``problems`` name the keys at fault, never their values (a
    secret must not reach a page or a log)."""

    def __init__(self, problems: list[str]):
        self.problems = tuple(problems)
        super().__init__("; ".join(self.problems))


@dataclass(frozen=True)
class AuthConfig:
    """Who may sign in. ``provider`` is the named ``[auth.NAME]`` section to sign in with, ``None`` for the
    settings directly in ``[auth]``."""

    allowed_emails: frozenset[str] = frozenset()
    allowed_domains: frozenset[str] = frozenset()
    provider: str | None = None


class Status(enum.Enum):
    SIGNED_OUT = "signed out"
    EXPIRED = "expired"
    REFUSED = "refused"
    ALLOWED = "allowed"


@dataclass(frozen=True)
class Verdict:
    """What the app does with the current user: ``reason`` is a plain sentence for them (it never repeats the
    address or any claim's value)."""

    status: Status
    reason: str = ""

    @property
    def allowed(self) -> bool:
        return self.status is Status.ALLOWED


# ------------------------------------------------------------------------------------------------ addresses
def ascii_lower(text: str) -> str:
    """Lower-case the ASCII letters only (``str.lower`` would fold the Kelvin sign onto ``k``)."""
    return text.translate(_ASCII_LOWER)


def normalize_email(value: object) -> str | None:
    """The address in comparable form, or ``None`` when it is not one plain address: exactly one ``@`` with
    something before it and a domain after it, no blank space, no control or invisible characters."""
    if not isinstance(value, str) or not value or len(value) > 320 or _BAD_CHARS.search(value):
        return None
    local, sep, domain = value.rpartition("@")
    if not sep or not local or "@" in local:
        return None
    domain = normalize_domain(domain)
    if domain is None:
        return None
    return f"{ascii_lower(local)}@{domain}"


def normalize_domain(value: object) -> str | None:
    """A domain in comparable form (ASCII lower case; an internationalised domain is written in its ``xn--``
    form), or ``None`` when it is not a plain domain name (a wildcard, a trailing dot, an ``@`` …)."""
    if not isinstance(value, str) or not value or len(value) > 253:
        return None
    domain = ascii_lower(value)
    return domain if _DOMAIN.fullmatch(domain) else None


def email_domain(email: object) -> str | None:
    """The part after the last ``@`` of a plain address, normalised; ``None`` for anything else."""
    normal = normalize_email(email)
    return None if normal is None else normal.rpartition("@")[2]


def is_allowed(config: AuthConfig, email: object) -> bool:
    """Whether the address is on the allow-list: listed itself, or its domain (exactly) listed."""
    normal = normalize_email(email)
    if normal is None:
        return False
    return normal in config.allowed_emails or normal.rpartition("@")[2] in config.allowed_domains


def email_verified(claims: Mapping) -> bool:
    """False when the provider says the address is not verified; an absent claim counts as verified (not every
    provider sends it), anything but true or ``"true"`` does not."""
    if "email_verified" not in claims:
        return True
    v = claims["email_verified"]
    return v is True or (isinstance(v, str) and ascii_lower(v.strip()) == "true")


# ------------------------------------------------------------------------------------------------ expiry
def expiry_problem(claims: Mapping, now: float) -> str | None:
    """Why the sign-in is no longer valid at ``now`` (seconds since the epoch), or ``None`` while it is: the ID
    token's ``exp`` has passed, or it has none that can be read (every OpenID Connect ID token carries one)."""
    exp = claims.get("exp")
    if isinstance(exp, bool) or not isinstance(exp, (int, float)) or not math.isfinite(exp):
        return "Your sign-in carries no expiry time the app can check. Sign in again."
    if now >= exp:
        return "Your session has expired. Sign in again to continue."
    return None


def check_user(config: AuthConfig, claims: Mapping, now: float) -> Verdict:
    """The verdict on the user ``claims`` (``st.user`` as a dict) at ``now``: signed out, expired, refused (with
    the reason) or allowed."""
    if claims.get("is_logged_in") is not True:
        return Verdict(Status.SIGNED_OUT)
    expired = expiry_problem(claims, now)
    if expired:
        return Verdict(Status.EXPIRED, expired)
    email = claims.get("email")
    if normalize_email(email) is None:
        return Verdict(Status.REFUSED, "Your sign-in did not include a plain e-mail address, so access is refused.")
    if not email_verified(claims):
        return Verdict(Status.REFUSED, "Your identity provider has not verified this e-mail address.")
    if not is_allowed(config, email):
        return Verdict(Status.REFUSED, "This address is not on the list of people allowed to use this dashboard.")
    return Verdict(Status.ALLOWED)


# ------------------------------------------------------------------------------------------------ configuration
def login_configured(secrets: Mapping) -> bool:
    """Login is on: the secrets have an ``[auth]`` section (whether or not it is complete)."""
    return AUTH_SECTION in secrets


def parse_config(secrets: Mapping) -> AuthConfig | None:
    """The login configuration from the secrets (a mapping of their sections), ``None`` when login is off (no
    ``[auth]`` section). Raises :class:`AuthConfigError` naming every problem."""
    if not login_configured(secrets):
        return None
    problems: list[str] = []
    auth = secrets.get(AUTH_SECTION)
    app = secrets.get(APP_SECTION, {})
    if not isinstance(auth, Mapping):
        raise AuthConfigError([f"[{AUTH_SECTION}] must be a section"])
    if not isinstance(app, Mapping):
        raise AuthConfigError([f"[{APP_SECTION}] must be a section"])

    redirect = auth.get("redirect_uri")
    if not _is_url(redirect):
        problems.append(f"[{AUTH_SECTION}] redirect_uri must be the app's absolute http(s) address")
    elif not str(redirect).split("?", 1)[0].endswith(CALLBACK_PATH):
        problems.append(f"[{AUTH_SECTION}] redirect_uri must end with {CALLBACK_PATH}")
    secret = auth.get("cookie_secret")
    if not isinstance(secret, str) or len(secret) < MIN_COOKIE_SECRET:
        problems.append(
            f"[{AUTH_SECTION}] cookie_secret must be a random string of at least {MIN_COOKIE_SECRET} characters"
        )

    provider = app.get("provider")
    if provider is not None and (not isinstance(provider, str) or not _PROVIDER_NAME.fullmatch(provider)):
        problems.append(f"[{APP_SECTION}] provider must be the name of an [{AUTH_SECTION}.NAME] section")
        provider = None
    where = f"[{AUTH_SECTION}.{provider}]" if provider else f"[{AUTH_SECTION}]"
    section = auth.get(provider) if provider else auth
    if not isinstance(section, Mapping):
        problems.append(f"{where} is missing")
    else:
        for key in PROVIDER_KEYS:
            value = section.get(key)
            if not isinstance(value, str) or not value.strip():
                problems.append(f"{where} {key} is missing")
            elif key == "server_metadata_url" and not _is_url(value):
                problems.append(f"{where} server_metadata_url must be an absolute http(s) address")

    emails = _string_list(app, "allowed_emails", problems)
    domains = _string_list(app, "allowed_domains", problems)
    allowed_emails = set()
    for i, e in enumerate(emails, 1):
        normal = normalize_email(e)
        if normal is None:
            problems.append(f"[{APP_SECTION}] allowed_emails entry {i} is not one plain e-mail address")
        else:
            allowed_emails.add(normal)
    allowed_domains = set()
    for i, d in enumerate(domains, 1):
        normal = normalize_domain(d[1:] if d.startswith("@") else d)
        if normal is None:
            problems.append(
                f"[{APP_SECTION}] allowed_domains entry {i} is not a plain domain name (no wildcard: list each "
                "domain, subdomains included, that may sign in)"
            )
        else:
            allowed_domains.add(normal)
    if not emails and not domains:
        problems.append(
            f"[{APP_SECTION}] lists no allowed_emails and no allowed_domains: nobody could use the dashboard"
        )
    if problems:
        raise AuthConfigError(problems)
    return AuthConfig(frozenset(allowed_emails), frozenset(allowed_domains), provider)


def _is_url(value: object) -> bool:
    return isinstance(value, str) and bool(_URL.fullmatch(value.strip()))


def _string_list(section: Mapping, key: str, problems: list[str]) -> list[str]:
    value = section.get(key, [])
    if isinstance(value, str):  # one address written without the brackets
        value = [value]
    if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) for v in value):
        problems.append(f"[{APP_SECTION}] {key} must be a list of strings")
        return []
    return [v.strip() for v in value]
