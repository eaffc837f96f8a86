"""Skilljar: the Last Sync Date seen from Salesforce, the 21-day backfill window, and what arrived."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sfwizard.checks.base import Outcome, check, fail, manual, ok, skipped, warn
from sfwizard.checks.context import CheckContext
from sfwizard.integrations.salesforce import soql_quote
from sfwizard.sftime import format_datetime, parse_datetime


def _objects(ctx: CheckContext) -> list[str]:
    return list((ctx.profile.backfill or {}).get("objects", []))


def last_sync(ctx: CheckContext) -> datetime | None:
    """The newest write by the integration user into the package's objects: one aggregate per object."""
    def fetch() -> datetime | None:
        user = ctx.integration_user()
        if user is None:
            return None
        latest = None
        for obj in _objects(ctx):
            rows = ctx.salesforce.query(f"SELECT MAX(LastModifiedDate) m FROM {obj} "
                                        f"WHERE LastModifiedById = {soql_quote(user['Id'])}")
            value = rows[0].get("m") if rows else None
            if value and (latest is None or parse_datetime(value) > latest):
                latest = parse_datetime(value)
        return latest
    return ctx.memo("skilljar_last_sync", fetch)


@check("skilljar.backfill_window", "Self-service backfill eligibility", "sync", profiles=("skilljar",))
def backfill_window(ctx: CheckContext) -> Outcome:
    window = int((ctx.profile.backfill or {}).get("window_days", 21))
    synced = last_sync(ctx)
    disconnected = ctx.disconnected_at or synced
    evidence: dict[str, Any] = {"last_sync_date_seen_in_salesforce": synced.isoformat() if synced else None,
                                "disconnected_at": disconnected.isoformat() if disconnected else None,
                                "window_days": window}
    if disconnected is None:
        return manual("ask.disconnect_date",
                      "read the disconnect date from the alert on Integrations → Salesforce in the Skilljar "
                      "dashboard", "enter it so the wizard can tell whether Backfill is offered", **evidence)
    age = ctx.now - disconnected
    evidence["days_disconnected"] = round(age.total_seconds() / 86400, 1)
    if age > timedelta(days=window):
        return fail("skilljar.backfill_window_passed",
                    f"disconnected {age.days} days ago: past the {window}-day self-service window",
                    "Skilljar offers Backfill only within 21 days of the disconnect",
                    f"Reconnect now, then {ctx.profile.support} Include: the disconnect date "
                    f"({disconnected:%Y-%m-%d}), the Last Sync Date ({synced:%Y-%m-%d %H:%M} UTC) " if synced else
                    f"Reconnect now, then {ctx.profile.support}", **evidence)
    start = synced or disconnected
    evidence["backfill_window"] = f"{start:%Y-%m-%d %H:%M} UTC → now"
    return ok(f"Backfill is available ({age.days} of {window} days used): it will push {start:%Y-%m-%d %H:%M} UTC "
              "→ now, once per click", **evidence)


@check("skilljar.backfill_arrived", "Backfilled records arrived in Salesforce", "validate", profiles=("skilljar",))
def backfill_arrived(ctx: CheckContext) -> Outcome:
    user = ctx.integration_user()
    if user is None:
        return skipped("skip.no_integration_user", "the integration user is not known yet")
    since = ctx.reauthorized_at or ctx.disconnected_at
    if since is None:
        return skipped("skip.not_reconnected", "no re-authorization recorded yet: reconnect first")
    counts = {}
    for obj in _objects(ctx):
        counts[obj] = ctx.salesforce.count(
            f"SELECT COUNT() FROM {obj} WHERE LastModifiedById = {soql_quote(user['Id'])} "
            f"AND LastModifiedDate >= {format_datetime(since)}")
    total = sum(counts.values())
    if total == 0:
        return warn("skilljar.backfill_not_arrived",
                    "nothing from Skilljar has arrived in Salesforce since the reconnect",
                    "Backfill was not clicked yet, or it is still running",
                    "click Backfill once on Integrations → Salesforce and run this check again", records=counts)
    return ok(f"{total} Skilljar record(s) written to Salesforce since the reconnect", records=counts)


INSTALLED_PACKAGES = (  # Salesforce's documented query (Tooling API, InstalledSubscriberPackage)
    "SELECT Id, SubscriberPackageId, SubscriberPackage.NamespacePrefix, SubscriberPackage.Name, "
    "SubscriberPackageVersion.Id, SubscriberPackageVersion.Name, SubscriberPackageVersion.MajorVersion, "
    "SubscriberPackageVersion.MinorVersion, SubscriberPackageVersion.PatchVersion, "
    "SubscriberPackageVersion.BuildNumber FROM InstalledSubscriberPackage ORDER BY SubscriberPackageId")
NAMESPACE = "skilljar"


def installed_version(ctx: CheckContext) -> tuple[str | None, str]:
    """The installed Skilljar package's version (MAJOR.MINOR.PATCH.BUILD) and why it may be unknown.

    Filtered here on the namespace (a WHERE on the relationship field is not documented for this object).
    """
    def fetch() -> tuple[str | None, str]:
        from sfwizard.integrations.salesforce import ApiError

        try:
            rows = ctx.salesforce.tooling_query(INSTALLED_PACKAGES)
        except ApiError as exc:  # the Tooling API may need more than this user has: say so, do not fail
            return None, f"the Tooling API refused: {exc.code}"
        for row in rows:
            pkg = row.get("SubscriberPackage") or {}
            if str(pkg.get("NamespacePrefix") or "").lower() == NAMESPACE:
                v = row.get("SubscriberPackageVersion") or {}
                parts = [v.get(k) for k in ("MajorVersion", "MinorVersion", "PatchVersion", "BuildNumber")]
                return ".".join(str(p if p is not None else 0) for p in parts), ""
        return None, "the Tooling API lists no package in the skilljar namespace"
    return ctx.memo("skilljar_version", fetch)


@check("skilljar.package", "Skilljar package: version and objects", "connect", profiles=("skilljar",))
def package(ctx: CheckContext) -> Outcome:
    described = ctx.describes(_objects(ctx))
    missing = [name for name, d in described.items() if d is None]
    version, unknown = installed_version(ctx)
    evidence = {"installed_version": version, "objects": sorted(described), "missing": missing}
    if unknown:
        evidence["version_unknown"] = unknown
    if missing:
        return fail("skilljar.package_missing",
                    f"the Skilljar package object(s) are missing or hidden: {', '.join(missing)}",
                    "the managed package is not installed in this org, or the user cannot see its objects",
                    "check you are in the right org; install the Skilljar package or grant access", **evidence)
    shown = f"Skilljar package {version} installed" if version else "the Skilljar package is installed"
    return ok(f"{shown}; its objects are present", **evidence)
