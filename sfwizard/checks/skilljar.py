"""Skilljar: the Last Sync Date seen from Salesforce, the 21-day backfill window, and what arrived."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sfwizard.checks.base import Outcome, check, fail, manual, ok, skipped, warn
from sfwizard.checks.context import CheckContext
from sfwizard.checks.reads import Reads
from sfwizard.checks.shared_reads import APP_LOGINS, APP_TOKENS, DISCONNECT, INTEGRATION_USER, ORG
from sfwizard.integrations.salesforce import Read, soql_quote
from sfwizard.sftime import format_datetime, parse_datetime


def _objects(ctx: CheckContext) -> list[str]:
    return list((ctx.profile.backfill or {}).get("objects", []))


def last_sync_reads(ctx: CheckContext, user: dict[str, Any]) -> list[Read]:
    return [Read("query", f"SELECT MAX(LastModifiedDate) m FROM {obj} WHERE LastModifiedById = "
                          f"{soql_quote(user['Id'])}") for obj in _objects(ctx)]


def last_sync(ctx: CheckContext) -> datetime | None:
    """The newest write by the integration user into the package's objects: one aggregate per object, all in
    one round trip."""
    def fetch() -> datetime | None:
        user = ctx.integration_user()
        if user is None:
            return None
        latest = None
        reads = last_sync_reads(ctx, user)
        ctx.prefetch(reads)
        for read in reads:
            rows = ctx.read(read)
            value = rows[0].get("m") if rows else None
            if value and (latest is None or parse_datetime(value) > latest):
                latest = parse_datetime(value)
        return latest
    return ctx.memo("skilljar_last_sync", fetch)


LIVE = timedelta(hours=24)  # a connected Skilljar uses its token at least this often


def connection(ctx: CheckContext) -> dict[str, Any]:
    """Whether Skilljar's connection is live, read from Salesforce (nothing in Skilljar's API shows it).

    A disconnect (a revoked token, a password change) deletes the connected app's grant for the user; a
    Reconnect makes a new one. So: a token of the Skilljar app held by the integration user and granted
    after the known disconnect means reconnected; with no disconnect known, such a token used within the
    last 24 hours means connected (a live connector uses it at every sync), unless a login of the app was
    refused after it. Writes by the integration user are not used: a quiet academy writes nothing for days.
    What Salesforce cannot show — Skilljar marking itself Disconnected on an error of its own while the grant
    stays — the dashboard's alert does: once the person enters its date, only a grant after it counts.
    """
    user = ctx.integration_user()
    tokens = [t for t in ctx.app_tokens() if user and t.get("UserId") == user["Id"]]
    since = ctx.disconnect_time()

    def when(t: dict[str, Any], key: str) -> datetime | None:
        return parse_datetime(t[key]) if t.get(key) else None

    out: dict[str, Any] = {"connected": False, "reconnected_at": None, "token_last_used": None}
    used = max(filter(None, (when(t, "LastUsedDate") for t in tokens)), default=None)
    out["token_last_used"] = used.isoformat() if used else None
    if since is not None:
        granted = [when(t, "CreatedDate") for t in tokens]
        after = sorted(g for g in granted if g and g > since)
        if after:
            out.update(connected=True, reconnected_at=after[0].isoformat(),
                       connected_by=f"a {ctx.profile.connected_app} token granted to {user['Username']} after "
                                    "the disconnect")
        return out
    refused = [r for r in ctx.app_logins() if r.get("Status") != "Success" and user
               and r.get("UserId") == user["Id"]]
    last_refused = max(filter(None, (parse_datetime(r["LoginTime"]) for r in refused if r.get("LoginTime"))),
                       default=None)
    if used is not None and ctx.now - used <= LIVE and (last_refused is None or last_refused < used):
        out.update(connected=True, connected_by=f"a {ctx.profile.connected_app} token used "
                                                f"{used:%Y-%m-%d %H:%M} UTC by {user['Username']}")
    return out


def _last_sync(ctx: CheckContext) -> list[Read]:
    user = ctx.integration_user()
    return last_sync_reads(ctx, user) if user else []


LAST_SYNC = Reads("skilljar_last_sync", "salesforce", then=_last_sync)  # the newest write by the integration user


@check("skilljar.backfill_window", "Self-service backfill eligibility", "sync", profiles=("skilljar",),
       needs=("salesforce", "data_org"),
       reads=(INTEGRATION_USER, APP_TOKENS, APP_LOGINS, DISCONNECT, LAST_SYNC, ORG))
def backfill_window(ctx: CheckContext) -> Outcome:
    """Whether Skilljar offers the self-service Backfill, and until when.

    Skilljar's rule: Backfill is offered only after a disconnect and only within 21 days of it; the 21
    days run from the *disconnect*, which can be later than the Last Sync Date. Hence:

    - connected (``connection``) with no disconnect known and no reconnect in this recovery: there is nothing
      to catch up and no Backfill is offered — a pass that says so, never "Backfill is available";
    - a disconnect time known (the person read it off the dashboard's alert, or the session kept it):
      deadline = disconnect + 21 days; before it Backfill is offered (after Reconnect), past it only
      Support can backfill — the support route with what to send;
    - not connected and no disconnect time: only the dashboard's alert shows it, so ask for it; the Last
      Sync Date seen in Salesforce bounds it (the disconnect is not before the last sync).
    """
    window = int((ctx.profile.backfill or {}).get("window_days", 21))
    synced = last_sync(ctx)
    disconnected = ctx.disconnect_time()
    state = connection(ctx)
    evidence: dict[str, Any] = {"last_sync_date_seen_in_salesforce": synced.isoformat() if synced else None,
                                "disconnected_at": disconnected.isoformat() if disconnected else None,
                                "window_days": window, **state}
    if disconnected is None:
        # Connected and no recovery under way: nothing to catch up. A reconnect made during this recovery
        # (``reauthorized_at``) is connected too, but there was a disconnect: its date decides the window.
        if state["connected"] and ctx.reauthorized_at is None:
            return ok(f"Skilljar is connected ({state['connected_by']}): no disconnect to catch up, so no Backfill "
                      "is offered or needed", **evidence)
        if synced is not None:
            earliest = synced + timedelta(days=window)
            evidence["earliest_deadline"] = earliest.isoformat()
        return manual("ask.disconnect_date",
                      "enter the disconnect date and time shown in the alert on Integrations → Salesforce in the "
                      "Skilljar dashboard: the 21 days run from the disconnect, which no API shows",
                      "enter it so the wizard can tell whether Backfill is offered and until when"
                      + (f" (the deadline is no earlier than {synced + timedelta(days=window):%Y-%m-%d %H:%M} UTC: "
                         "the disconnect is not before the Last Sync Date)" if synced else ""), **evidence)
    deadline = disconnected + timedelta(days=window)
    left = (deadline - ctx.now).total_seconds() / 86400
    evidence.update(deadline=deadline.isoformat(), days_left=round(left, 1),
                    days_disconnected=round((ctx.now - disconnected).total_seconds() / 86400, 1))
    if left <= 0:
        send = [f"the disconnect date ({disconnected:%Y-%m-%d %H:%M} UTC)",
                f"the Last Sync Date ({synced:%Y-%m-%d %H:%M} UTC)" if synced else "the Last Sync Date",
                f"the org Id ({ctx.organization()['Id']})"]
        user = ctx.integration_user()
        if user:
            send.append(f"the integration user ({user['Username']})")
        send.append("the report this wizard writes")
        return fail("skilljar.backfill_window_passed",
                    f"the {window}-day self-service window closed on {deadline:%Y-%m-%d %H:%M} UTC "
                    f"({-left:.1f} days ago)",
                    f"Skilljar offers Backfill only within {window} days of the disconnect",
                    f"Reconnect now, then {ctx.profile.support} Send: " + "; ".join(send), **evidence)
    start = synced or disconnected
    evidence["backfill_window"] = f"{start:%Y-%m-%d %H:%M} UTC → now"
    step = "click Backfill" if state["connected"] else "Reconnect, then click Backfill"
    return ok(f"Backfill is available until {deadline:%Y-%m-%d %H:%M} UTC ({left:.1f} days left): {step}; it "
              f"pushes {start:%Y-%m-%d %H:%M} UTC → now, once per click", **evidence)


def arrived_since(ctx: CheckContext) -> datetime | None:
    """Since when backfilled records count as arrived: the session's re-authorization, else the reconnect
    Salesforce shows (None: not reconnected)."""
    if ctx.reauthorized_at is not None:
        return ctx.reauthorized_at
    state = connection(ctx)
    return parse_datetime(state["reconnected_at"]) if state["connected"] and state.get("reconnected_at") else None


def arrived_reads(ctx: CheckContext, user: dict[str, Any], since: datetime) -> dict[str, Read]:
    return {obj: Read("count", f"SELECT COUNT() FROM {obj} WHERE LastModifiedById = {soql_quote(user['Id'])} "
                               f"AND LastModifiedDate >= {format_datetime(since)}") for obj in _objects(ctx)}


def _arrived(ctx: CheckContext) -> list[Read]:
    user = ctx.integration_user()
    since = arrived_since(ctx) if user else None
    return list(arrived_reads(ctx, user, since).values()) if user and since is not None else []


ARRIVED = Reads("skilljar_arrived", "salesforce", then=_arrived)  # the records written since the reconnect


@check("skilljar.backfill_arrived", "Backfilled records arrived in Salesforce", "validate", profiles=("skilljar",),
       needs=("salesforce", "data_org"), reads=(INTEGRATION_USER, APP_TOKENS, APP_LOGINS, DISCONNECT, ARRIVED))
def backfill_arrived(ctx: CheckContext) -> Outcome:
    user = ctx.integration_user()
    if user is None:
        return skipped("skip.no_integration_user", "the integration user is not known yet")
    since = ctx.reauthorized_at  # the session's word: when the person clicked Reconnect
    if since is None:
        state = connection(ctx)
        if not state["connected"]:
            return skipped("skip.not_reconnected", "not reconnected yet: Reconnect in Skilljar first, then Backfill",
                           **state)
        if not state.get("reconnected_at"):
            return skipped("skip.not_reconnected", "Skilljar is connected and no disconnect is recorded: no "
                           "Backfill to arrive", **state)
        since = parse_datetime(state["reconnected_at"])
    reads = arrived_reads(ctx, user, since)
    ctx.prefetch(reads.values())
    counts = {obj: ctx.read(read) for obj, read in reads.items()}
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
            rows = ctx.tooling(INSTALLED_PACKAGES)
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


PACKAGE = Reads("skilljar_package", "salesforce",
                first=lambda ctx: [*(Read("describe", o) for o in _objects(ctx)), lambda: installed_version(ctx)])


@check("skilljar.package", "Skilljar package: version and objects", "connect", profiles=("skilljar",),
       needs=("salesforce", "data_org"), reads=(PACKAGE,))
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


def _parts(version: str) -> tuple[int, ...]:
    return tuple(int(p) for p in version.split("."))


@check("skilljar.package_upgrade", "Skilljar package upgraded before reconnecting", "reauthorize",
       profiles=("skilljar",), needs=("salesforce", "data_org"), reads=(PACKAGE,))
def package_upgrade(ctx: CheckContext) -> Outcome:
    """Skilljar's reconnection guide starts with upgrading its managed package (Install for All Users →
    Upgrade), then re-authenticating as the same integration user. The installed version is read (Tooling
    API); which version is the latest no API says — a person confirms the upgrade, unless the latest is known
    (``CheckContext.latest_versions``: a demo's scenario states it) and already installed."""
    version, unknown = installed_version(ctx)
    latest = ctx.latest_versions.get(NAMESPACE)
    evidence: dict[str, Any] = {"installed_version": version, "latest_version": latest}
    if unknown:
        evidence["version_unknown"] = unknown
    if version is None and not unknown.startswith("the Tooling API refused"):
        return skipped("skip.no_package", "the Skilljar package is not installed: skilljar.package says so",
                       **evidence)
    how = ("open the Skilljar package's install link (Skilljar's reconnection guide has it), choose Install for All "
           "Users and click Upgrade; then Reconnect in Skilljar as the same integration user")
    if version is not None and latest is not None and _parts(version) >= _parts(latest):
        return ok(f"Skilljar package {version} installed: the latest ({latest})", **evidence)
    if version is not None and latest is not None:
        return manual("ask.package_upgrade", f"upgrade the Skilljar package first: installed {version}, latest "
                      f"{latest} — then Reconnect", how, **evidence)
    shown = f"installed {version}" if version else f"installed version unknown ({unknown})"
    return manual("ask.package_upgrade", f"upgrade the Skilljar package to its latest version before reconnecting "
                  f"({shown}; no API says which is the latest) and confirm", how, **evidence)
