"""What a refusal names, and what fixes it: a login's LoginHistory status, and Salesforce's error codes.

A cause is named only from evidence that shows it, the most specific first: a refused login's own status
(Password Expired, Password Lockout, Invalid Password, User Is Frozen, Connected App Not Installed…), an error
code Salesforce answered (or the platform relayed: REQUEST_LIMIT_EXCEEDED, API_CURRENTLY_DISABLED…).

LoginHistory's Status texts are not documented as a list (salesforce.stackexchange.com/q/146422 collects what
admins see: "Invalid Password", "Password Lockout", "User is Inactive", "User Is Frozen", "Failed: …"), so a
status is read by the words that tell one refusal from another, and an unknown one is quoted as it is. The
platform's ``lastError`` has no published wording either: only a Salesforce error code standing in it as a whole
token (``INVALID_OPERATION_WITH_EXPIRED_PASSWORD``, ``invalid_grant``) is read — Salesforce's identifier, not the
platform's words — and nothing else in it ever names a cause.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Cause:
    reason: str  # the reason code a check reports it with (sfwizard/checks/reasons.py)
    cause: str  # why, in words ({app} the connected app, {status} the text that showed it)
    fix: str  # what to do, in the order to do it

    def words(self, **names: str) -> tuple[str, str]:
        return self.cause.format(**names), self.fix.format(**names)


REAUTHORIZE = "then authorize again in the platform, logged in as the integration user"

PASSWORD_EXPIRED = Cause(
    "token.password_expired",
    "the integration user's password expired, and Salesforce refuses its logins and calls until it is reset "
    "({status})",
    "reset the integration user's password (Setup → Users → Reset Password), or give it a password policy that "
    "never expires (Password Policies: Never, or the 'Password Never Expires' permission in a permission set); "
    + REAUTHORIZE)
PASSWORD_LOCKED = Cause(
    "token.password_locked",
    "too many failed logins locked the integration user out ({status})",
    "unlock the integration user (Setup → Users → Unlock), look up what kept trying a wrong password (Setup → "
    "Login History), " + REAUTHORIZE)
INVALID_PASSWORD = Cause(
    "token.invalid_password",
    "the login gave a wrong password for the integration user ({status})",
    "find the integration user's current password (reset it if nobody knows it), " + REAUTHORIZE)
USER_FROZEN = Cause(
    "token.user_frozen",
    "the integration user is frozen: it cannot log in ({status})",
    "unfreeze the integration user (Setup → Users → Unfreeze), " + REAUTHORIZE)
USER_INACTIVE = Cause(
    "token.user_inactive",
    "the integration user is deactivated: it cannot log in ({status})",
    "reactivate the integration user (Setup → Users → Edit → Active), " + REAUTHORIZE)
APP_BLOCKED = Cause(
    "token.app_blocked",
    "since 2025 Salesforce blocks connected apps that are not installed in the org ({status})",
    "install the {app} connected app in Setup → Connected Apps OAuth Usage (Install), or give the approving user "
    "'Approve Uninstalled Connected Apps', then authorize again")
LOGIN_REFUSED = Cause(
    "token.login_failed",
    "Salesforce refused the login: {status}",
    "Setup → Login History shows the refusal: fix what it names, " + REAUTHORIZE)

# The words that tell refusals apart, most specific first (the first that matches names the cause).
_STATUS_WORDS: tuple[tuple[tuple[str, ...], Cause], ...] = (
    (("password expired", "expired password"), PASSWORD_EXPIRED),
    (("lockout", "locked"), PASSWORD_LOCKED),
    (("frozen",), USER_FROZEN),
    (("inactive",), USER_INACTIVE),
    (("uninstalled", "not installed", "oauth_approval", "not approved", "blocked"), APP_BLOCKED),
    (("invalid password",), INVALID_PASSWORD),
)
RANK = {c.reason: i for i, (_, c) in enumerate(_STATUS_WORDS)}


def login_cause(status: str) -> Cause:
    """The cause a refused login's LoginHistory status names (the generic refusal when it names none)."""
    text = status.lower()
    return next((c for words, c in _STATUS_WORDS if any(w in text for w in words)), LOGIN_REFUSED)


# -- Salesforce's error codes, as Salesforce answers them or as a platform relays them -----------------------------

LIMIT = Cause(
    "salesforce.limit_exceeded",
    "the org's daily API requests are used up: Salesforce refuses every call until the 24-hour window rolls "
    "(REQUEST_LIMIT_EXCEEDED)",
    "wait for the 24-hour window to roll, or ask Salesforce for a temporary increase; pause other heavy "
    "integrations, then run the checks again")
SESSION_GONE = Cause(
    "token.revoked",
    "Salesforce no longer accepts the integration's session: its token was revoked or expired ({code})",
    "re-authorize: the platform admin clicks Authorize on the Salesforce card and the Salesforce admin approves, "
    "logged in as the integration user")
API_DISABLED = Cause(
    "perm.api_disabled",
    "the integration user lacks the API Enabled permission: Salesforce refuses its calls ({code})",
    "add API Enabled to the integration user's profile or to a permission set assigned to it, then Synchronize")
API_DISABLED_FOR_ORG = Cause(
    "salesforce.refused",
    "this org's edition has no API access ({code})",
    "ask Salesforce (or the org's account team) to enable API access for the org")
NO_ACCESS = Cause(
    "salesforce.refused",
    "the integration user lacks access to an object or field the sync reads or writes ({code})",
    "grant the access the permission checks name, in a permission set for the integration user")

FIELD_GONE = Cause(
    "salesforce.refused",
    "a field the sync names is gone or hidden from the integration user (field-level security hides a field as if "
    "it did not exist) ({code})",
    "the mapping and permission checks name the field: restore it, grant the integration user Read on it, or remap")

ERROR_CODES: dict[str, Cause] = {
    "INVALID_FIELD": FIELD_GONE,
    "REQUEST_LIMIT_EXCEEDED": LIMIT,
    "INVALID_SESSION_ID": SESSION_GONE,
    "invalid_grant": SESSION_GONE,
    "INVALID_OPERATION_WITH_EXPIRED_PASSWORD": PASSWORD_EXPIRED,
    "API_CURRENTLY_DISABLED": API_DISABLED,
    "API_DISABLED_FOR_ORG": API_DISABLED_FOR_ORG,
    "INSUFFICIENT_ACCESS_OR_READONLY": NO_ACCESS,
}
_CODE = re.compile(r"(?<![A-Za-z0-9_])(" + "|".join(map(re.escape, ERROR_CODES)) + r")(?![A-Za-z0-9_])")


def error_code_in(text: str | None) -> str | None:
    """The Salesforce error code standing in ``text`` as a whole token (the first), or None."""
    m = _CODE.search(text or "")
    return m.group(1) if m else None
