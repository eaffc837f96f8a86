"""The reason codes: why a check did not pass, in a form a program can rely on.

Every non-passing result carries one code beside its words (a passing one carries ""). Codes are
stable: the words may be reworded at any time, a code is renamed only with a new JSON ``schema``.
Troubleshooting and any other consumer (the wizard, ``check --json`` readers) decide on codes and
evidence, never on the summary's wording.

A code is ``prefix.name``; the prefix says where it comes from:

- one prefix per subject of the checks (``status``, ``admin``, ``platform``, ``org``, ``token``,
  ``perm``, ``mapping``, ``flow``, ``knowledge``, ``proactive``, ``skilljar``) and ``ts`` for the
  troubleshooting symptoms seen;
- ``salesforce``, ``signin``, ``net``, ``service``, ``check``: made by the runner when a check could not
  finish (an API error, a lost sign-in, no connection, a bug);
- ``skip`` for skipped results and ``ask`` for what a person must confirm.

``python -m sfwizard.checks.reasons`` prints the table the README shows.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Reason:
    code: str
    meaning: str  # one line, for the README's table and for tooltips


def _group(*pairs: tuple[str, str]) -> tuple[Reason, ...]:
    return tuple(Reason(code, meaning) for code, meaning in pairs)


REASONS: tuple[Reason, ...] = (
    *_group(
        ("status.integration_affected", "the vendor's status page reports an outage or open incident on the "
                                        "Salesforce integration"),
        ("status.incident_elsewhere", "the status page reports an incident or degraded component elsewhere on "
                                      "the platform"),
        ("status.maintenance", "a maintenance on the integration is in progress or starts within a day "
                               "(evidence: its window)"),
    ),
    *_group(
        ("admin.api_disabled", "the signed-in Salesforce user lacks API Enabled"),
        ("admin.cannot_manage_users", "the signed-in Salesforce user lacks Manage Users, so cannot fix the "
                                      "integration user's permissions"),
    ),
    *_group(
        ("platform.no_integration", "the platform's API answers but lists no Salesforce integration"),
    ),
    *_group(
        ("org.sandbox", "the connected org is a sandbox, not production"),
        ("org.mismatch", "the platform's records' Salesforce Ids are not found in the connected org"),
        ("org.snapshot_mismatch", "the mapping snapshot was taken in another org than the connected one"),
        ("org.platform_elsewhere", "the signed-in org is the right one, but the platform's token or records come "
                                   "from another org"),
        ("org.sandbox_copy", "the wizard is signed in to a sandbox that holds the platform's records' Ids (a full "
                             "copy shares production's): the platform's data most likely lives in production"),
    ),
    *_group(
        ("token.app_blocked", "Salesforce blocked the integration's connected app (not installed in the org)"),
        ("token.password_expired", "the integration user's password expired: Salesforce refuses its logins and "
                                   "calls (LoginHistory, or INVALID_OPERATION_WITH_EXPIRED_PASSWORD)"),
        ("token.password_locked", "the integration user is locked out after too many failed logins"),
        ("token.invalid_password", "the integration's login gave a wrong password"),
        ("token.user_frozen", "the integration user is frozen and cannot log in"),
        ("token.user_inactive", "the integration user's login was refused: the user is deactivated"),
        ("token.login_failed", "the integration's last login to Salesforce was refused for a reason its status "
                               "names (quoted in the evidence)"),
        ("token.other_user", "the integration's fresh token belongs to another user than the integration user"),
        ("token.other_org", "the platform reports the integration UP but this org holds no token of its connected "
                            "app: the approval went to another org"),
        ("token.not_granted", "no token has been granted to the integration's connected app since the "
                              "disconnect"),
        ("token.platform_down", "the platform reports the Salesforce integration not UP (evidence "
                                "salesforce_error_code and cause_reason: the Salesforce error it relays, if any)"),
        ("token.revoked", "a cause: Salesforce no longer accepts the integration's session (INVALID_SESSION_ID, "
                          "invalid_grant)"),
        ("token.no_sync_since", "the platform reports UP but no sync has succeeded for over 26 hours"),
    ),
    *_group(
        ("perm.user_inactive", "the integration user is deactivated"),
        ("perm.api_disabled", "the integration user lacks API Enabled"),
        ("perm.object_read_missing", "the integration user lacks Read on a mapped source object"),
        ("perm.field_read_missing", "the integration user lacks field-level Read on a mapped source field"),
        ("perm.object_edit_missing", "the integration user lacks Edit on the object of a push target"),
        ("perm.field_edit_missing", "the integration user lacks field-level Edit on a push target"),
    ),
    *_group(
        ("mapping.field_missing", "a mapped Salesforce field does not exist or is hidden"),
        ("mapping.type_mismatch", "a mapped Salesforce field's type does not fit the platform attribute's type"),
        ("mapping.push_without_prefix", "a push target's name lacks the platform's prefix (PX_)"),
        ("mapping.push_read_only", "a push target is a read-only (formula or system) field"),
        ("mapping.attribute_missing", "a mapped platform attribute does not exist"),
        ("mapping.custom_object_missing", "a custom object the snapshot lists is gone or hidden"),
        ("mapping.undocumented_push_field", "prefixed fields exist in the org that the snapshot does not list"),
    ),
    *_group(
        ("flow.stale", "records changed in Salesforce hold old values in the platform"),
        ("flow.push_failed", "a push target cannot be written in Salesforce (no prefix, gone, read-only, or no Edit "
                             "for the integration user), so the platform's pushes fail"),
        ("flow.no_push", "nothing has been pushed into the prefixed fields since the re-authorization"),
    ),
    *_group(
        ("knowledge.category_missing", "a data category the Knowledge settings use no longer exists"),
        ("knowledge.not_enabled", "the snapshot says Knowledge is used, but the org has no Knowledge (no data "
                                  "categories for articles)"),
        ("knowledge.categories_empty", "no online article is in the categories the knowledge source is configured "
                                       "with"),
        ("knowledge.not_visible", "no online article in the configured categories is visible in a chosen channel"),
        ("knowledge.no_articles", "no online Knowledge article exists in the configured categories"),
        ("knowledge.article_not_found", "searching for a known article finds nothing"),
        ("knowledge.article_outside_categories", "the known article is online but outside the configured "
                                                 "categories, so the bot does not find it"),
    ),
    *_group(
        ("skilljar.package_missing", "the Skilljar managed package's objects are missing or hidden"),
        ("skilljar.backfill_window_passed", "the disconnect is older than the self-service Backfill window"),
        ("skilljar.backfill_not_arrived", "nothing from Skilljar has arrived in Salesforce since the reconnect"),
    ),
    *_group(
        ("proactive.password_expiring", "the integration user's password may expire within 14 days"),
        ("proactive.password_expired", "the integration user's password is older than its policy (as the API shows "
                                       "the policy): Salesforce has expired it"),
        ("proactive.api_exhausted", "the org's daily API requests are used up"),
        ("proactive.api_high_usage", "over 80% of the org's daily API requests are used"),
        ("proactive.personal_user", "the integration runs as the admin signed in now, not a dedicated user"),
    ),
    *_group(
        ("ts.authorization_incomplete", "symptom seen: authorization fails or never completes"),
        ("ts.app_blocked", "symptom seen: the connected app is blocked by Salesforce"),
        ("ts.access_denied", "symptom seen: \"Access Denied\" in Salesforce (a permission is missing)"),
        ("ts.login_refused", "symptom seen: Salesforce refuses the integration user's login (its password, a "
                             "lockout, a frozen or deactivated user)"),
        ("ts.wrong_org", "symptom seen: the wrong org or user is connected"),
        ("ts.stale_data", "symptom seen: data appears stale"),
        ("ts.push_without_prefix", "symptom seen: the platform → Salesforce push is failing"),
        ("ts.knowledge_no_results", "symptom seen: the Knowledge Center bot shows no results"),
        ("ts.api_limit", "symptom seen: the API limit is exhausted"),
    ),
    *_group(
        ("salesforce.refused", "Salesforce answered a call with an error; evidence errorCode names it"),
        ("salesforce.limit_exceeded", "Salesforce refused a call: the daily API limit is used up"),
        ("signin.required", "the Salesforce sign-in is no longer valid and could not be refreshed"),
        ("signin.password_expired", "the signed-in user's password expired: Salesforce refuses every call of theirs "
                                    "(INVALID_OPERATION_WITH_EXPIRED_PASSWORD)"),
        ("signin.user_inactive", "the signed-in user is deactivated or frozen: Salesforce refuses its sign-in"),
        ("net.unreachable", "a service could not be reached: the connection failed, dropped or timed out"),
        ("net.tls_untrusted", "a service's TLS certificate is not trusted here (a TLS-inspecting proxy whose CA "
                              "sfwizard was not given, or a wrong host)"),
        ("service.error", "a service answered in a way the check cannot use (refused key, rate limit, "
                          "HTTP error)"),
        ("check.crashed", "the check itself failed (a bug); the cause names the exception"),
    ),
    *_group(
        ("skip.no_salesforce", "not signed in to Salesforce"),
        ("skip.no_platform_key", "no platform API key configured"),
        ("skip.no_platform_api", "the platform has no public API for this"),
        ("skip.no_status_page", "no status page configured"),
        ("skip.no_snapshot", "no mapping snapshot given"),
        ("skip.no_integration_user", "the integration user is not known yet"),
        ("skip.no_password_date", "the integration user's last password change is not known"),
        ("skip.no_mappings", "the snapshot documents no mapping of the kind this check compares"),
        ("skip.nothing_to_compare", "neither a snapshot org nor platform records to compare the org with"),
        ("skip.empty_sample", "the bounded sample held nothing to compare; evidence says why and how to get one "
                              "(how_to_get_a_sample)"),
        ("skip.no_schedule", "the platform runs no fixed sync schedule"),
        ("skip.not_used", "the snapshot says the feature is not used"),
        ("skip.not_configured", "the snapshot configures nothing this check could compare (no categories, no "
                                "channels)"),
        ("skip.no_knowledge", "Salesforce Knowledge is not enabled in this org (knowledge.categories names it)"),
        ("skip.not_reconnected", "no re-authorization or disconnect recorded yet"),
        ("skip.depends_on", "the checks this one reads did not run"),
        ("skip.no_package", "the managed package is not installed (skilljar.package says so): nothing to upgrade"),
        ("skip.wrong_org", "not checked: the wizard is signed in to another org than the one the platform's data "
                           "lives in (identity.right_org)"),
        ("skip.consequence", "a troubleshooting symptom that follows from another one seen in this run "
                             "(evidence explained_by)"),
        ("skip.limit_exceeded", "not run: an earlier call found the Salesforce API limit used up"),
        ("skip.unreachable", "not run or not judged: a service the check reads could not be reached"),
        ("skip.signin_required", "not run: the Salesforce sign-in was lost earlier in the run"),
        ("skip.password_expired", "not run: the signed-in user's password expired, so Salesforce answers none of "
                                  "their calls"),
        ("skip.user_inactive", "not run: the signed-in user is deactivated or frozen"),
    ),
    *_group(
        ("ask.people_present", "a person confirms both admins are present"),
        ("ask.knowledge_toggle", "a person confirms the Knowledge Base toggle (no API shows it)"),
        ("ask.disconnect_date", "a person reads the disconnect date from the platform's dashboard"),
        ("ask.package_upgrade", "a person upgrades the managed package (or confirms it is the latest) before "
                                "reconnecting: no API says which version is the latest"),
    ),
    # -- the security review (issue 22): findings worded as evidence; what the org would not show is a skip --
    *_group(
        ("sec.login_outside_ranges", "the integration user logged in successfully from a network outside the vendor "
                                     "egress ranges the admin declared (evidence: networks, when, from where)"),
        ("sec.tokens_other_users", "users besides the integration user hold OAuth tokens of the vendor's apps "
                                   "(evidence other_holders)"),
        ("sec.over_privileged", "the integration user can reach more than its mappings need (Modify or View All "
                                "Data, other objects or fields); evidence proposal is the least-privilege set"),
        ("sec.not_api_only", "the integration user can log in to the Salesforce UI, or is a person's own login"),
        ("sec.no_ip_ranges", "the integration user's profile has no login IP ranges"),
        ("sec.app_all_users", "every user may self-authorize the vendor's connected app"),
        ("sec.integration_user_not_approved", "the vendor's app admits only approved users and the integration "
                                              "user is not one: its next authorization will be refused"),
        ("sec.refresh_never_expires", "the vendor's app's refresh tokens are valid until revoked"),
        ("sec.refresh_fixed_expiry", "the vendor's app's refresh tokens expire a fixed time after issue, used or not"),
        ("sec.setup_changes", "Setup changes by others touched the app, the integration user, its profile or "
                              "permission sets in the review's window"),
        ("skip.no_permission", "not read: the signed-in user lacks the permission it needs (evidence could_not_read "
                               "says what, which permission and why)"),
        ("ask.vendor_egress", "a person declares the vendor's egress IP ranges (with where they were published) so "
                              "that logins from elsewhere can be marked"),
        ("skip.query_refused", "not read: Salesforce refused the query the row needs for another reason than a "
                               "permission (evidence could_not_read and errorCode say which and why)"),
        ("ask.integration_user", "a person names the integration user: several users hold the vendor's tokens and "
                                 "no mapping snapshot names one"),
    ),
)

CATALOG: dict[str, Reason] = {r.code: r for r in REASONS}
if len(CATALOG) != len(REASONS):  # pragma: no cover - a duplicate is a typo caught at import
    raise ValueError("duplicate reason code in the catalog")

RUNNER_PREFIXES = ("salesforce.", "signin.", "net.", "service.", "check.")


def problem(status: str, reason: str) -> str:
    """What is wrong with a (status, reason) pair, or "" when it is right.

    A pass carries ""; every other status a catalogued code: ``skip.*`` for skipped, ``ask.*`` for
    manual, any other prefix for fail and warn.
    """
    if status == "pass":
        return "" if reason == "" else f"a passing result carries reason {reason!r}"
    if reason not in CATALOG:
        return f"reason {reason!r} is not in the catalog (sfwizard/checks/reasons.py)"
    prefix = reason.split(".", 1)[0]
    expected = {"skipped": "skip", "manual": "ask"}.get(status)
    if expected and prefix != expected:
        return f"a {status} result must carry a {expected}.* reason, not {reason!r}"
    if not expected and prefix in ("skip", "ask"):
        return f"a {status} result cannot carry {reason!r}"
    return ""


def markdown_table() -> str:
    """The README's table of codes, in catalog order."""
    rows = ["| Reason | Meaning |", "| --- | --- |"]
    rows += [f"| `{r.code}` | {r.meaning} |" for r in REASONS]
    return "\n".join(rows)


if __name__ == "__main__":
    print(markdown_table())
