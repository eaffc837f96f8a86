"""Data flow in both directions, judged on bounded samples so the cost never grows with the tenant."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from sfwizard.checks import causes
from sfwizard.checks.base import Outcome, check, fail, ok, skipped
from sfwizard.checks.context import CheckContext
from sfwizard.checks.reads import Reads
from sfwizard.checks.shared_reads import (
    ACCESS,
    DESCRIBE_MAPPED,
    DISCONNECT,
    INTEGRATION_USER,
    PX_INTEGRATION,
    PX_PAGES,
)
from sfwizard.integrations.salesforce import Read, chunks, in_clause, soql_quote
from sfwizard.sftime import format_datetime


def _since(ctx: CheckContext) -> datetime | None:
    return ctx.disconnect_time() or ctx.reauthorized_at


def _account_maps(ctx: CheckContext) -> list[Any]:
    return [m for m in ctx.source_mappings()
            if m.salesforce.startswith("Account.") and m.platform.startswith("account.")]


def current_reads(ctx: CheckContext) -> tuple[Read | None, list[Read]]:
    """flow.salesforce_to_platform's reads: how many Accounts changed since the disconnect (None when no time
    is known), and the sampled platform accounts' rows in Salesforce, 200 Ids a query."""
    maps = _account_maps(ctx)
    by_id = {a["sfdcId"][:15]: a for a in ctx.px_sample("accounts") if a.get("sfdcId")}
    fields = sorted({m.salesforce.split(".", 1)[1] for m in maps})
    since = _since(ctx)
    changed_filter = f" AND LastModifiedDate > {format_datetime(since)}" if since else ""
    changed = Read("count", f"SELECT COUNT() FROM Account WHERE Id != null{changed_filter}") if since else None
    rows = [Read("query", f"SELECT Id, LastModifiedDate, {', '.join(fields)} FROM Account "
                          f"WHERE Id IN {in_clause(chunk)}{changed_filter}") for chunk in chunks(list(by_id))]
    return changed, rows


def push_reads(ctx: CheckContext, user: dict[str, Any]) -> dict[str, tuple[Read, Read, str]]:
    """flow.platform_to_salesforce's reads, per pushed object: records the integration user wrote since the
    re-authorization (or the disconnect), and those of them with the first push target filled."""
    since = ctx.reauthorized_at or ctx.disconnect_time()
    by_object: dict[str, list[str]] = {}
    for m in ctx.push_mappings():
        obj, _, name = m.salesforce.partition(".")
        by_object.setdefault(obj, []).append(name)
    out = {}
    for obj, names in sorted(by_object.items()):
        where = f"LastModifiedById = {soql_quote(user['Id'])}"
        if since:
            where += f" AND LastModifiedDate > {format_datetime(since)}"
        out[obj] = (Read("count", f"SELECT COUNT() FROM {obj} WHERE {where}"),
                    Read("count", f"SELECT COUNT() FROM {obj} WHERE {where} AND {names[0]} != null"), names[0])
    return out


def _current(ctx: CheckContext) -> list[Read]:
    if ctx.px is None or not ctx.source_mappings():
        return []
    changed, rows = current_reads(ctx)
    return ([changed] if changed else []) + rows


def _pushes(ctx: CheckContext) -> list[Read]:
    user = ctx.integration_user()
    pushes = [m.salesforce for m in ctx.push_mappings()]
    if user is None or not pushes or unwritable(ctx, user, pushes):
        return []
    return [r for pair in push_reads(ctx, user).values() for r in pair[:2]]


CURRENT = Reads("flow_current", "salesforce", then=_current)  # the sampled accounts' rows changed since
PUSHES = Reads("flow_pushes", "salesforce", then=_pushes)  # the integration user's writes since


def relayed_cause(ctx: CheckContext) -> tuple[str, str] | None:
    """(cause, fix) when the platform reports the integration down with a Salesforce error code that names one
    (what the data-flow findings then follow from); None otherwise."""
    integ = ctx.px_integration() if ctx.px is not None else None
    code = causes.error_code_in(integ.last_error) if integ is not None and integ.status != "UP" else None
    if code is None:
        return None
    return causes.ERROR_CODES[code].words(code=code, status=code, app=ctx.profile.connected_app)


def _px_value(record: dict[str, Any], attribute: str) -> Any:
    if attribute in record:
        return record[attribute]
    return (record.get("customAttributes") or {}).get(attribute)


def _same(a: Any, b: Any) -> bool:
    if a in (None, "") and b in (None, ""):
        return True
    if isinstance(a, (int, float)) and isinstance(b, (int, float)) and not isinstance(a, bool):
        return abs(float(a) - float(b)) < 1e-6
    return str(a) == str(b)


def next_runs(schedule: list[dict[str, str]], now: datetime, count: int = 3) -> list[dict[str, str]]:
    """The next scheduled runs, in GMT and in this machine's local time."""
    out = []
    for day in range(3):
        for item in schedule:
            hh, mm = (int(x) for x in item["time"].split(":"))
            at = (now.astimezone(timezone.utc) + timedelta(days=day)).replace(hour=hh, minute=mm, second=0,
                                                                               microsecond=0)
            if at > now:
                out.append({"gmt": at.strftime("%a %H:%M GMT"), "local": at.astimezone().strftime("%a %H:%M %Z"),
                            "activity": item["activity"], "direction": item["direction"], "_at": at.isoformat()})
    out.sort(key=lambda r: r["_at"])
    return [{k: v for k, v in r.items() if k != "_at"} for r in out[:count]]


@check("flow.salesforce_to_platform", "Salesforce → platform data is current", "validate",
       profiles=("gainsight-px",), needs=("salesforce", "platform", "snapshot", "data_org"),
       reads=(PX_PAGES, PX_INTEGRATION, DISCONNECT, CURRENT))
def salesforce_to_platform(ctx: CheckContext) -> Outcome:
    maps = _account_maps(ctx)
    if not maps:
        return skipped("skip.no_mappings", "no Account → account mappings documented in the snapshot")
    sample = ctx.px_sample("accounts")
    by_id = {a["sfdcId"][:15]: a for a in sample if a.get("sfdcId")}
    since = _since(ctx)
    changed, row_reads = current_reads(ctx)
    ctx.prefetch([*([changed] if changed else []), *row_reads])  # one round trip
    changed_total = ctx.read(changed) if changed else None
    rows: list[dict[str, Any]] = []
    for read in row_reads:
        rows += ctx.read(read)
    stale = []
    for row in rows:
        px = by_id.get(row["Id"][:15], {})
        for m in maps:
            sf_field = m.salesforce.split(".", 1)[1]
            attr = m.platform.split(".", 1)[1]
            if not _same(row.get(sf_field), _px_value(px, attr)):
                stale.append({"sfdcId": row["Id"], "field": sf_field, "salesforce": row.get(sf_field),
                              "platform": _px_value(px, attr)})
                break
    evidence: dict[str, Any] = {"sampled_platform_accounts": len(by_id), "compared": len(rows),
                "changed_since_disconnect_in_org": changed_total, "stale": len(stale), "examples": stale[:5],
                "next_runs": next_runs(list(ctx.profile.schedule_gmt), ctx.now)}
    if not rows:  # a comparison over nothing is no pass: say why, and how to get a sample
        if not by_id:
            why = (f"none of the platform's {len(sample)} sampled accounts carries a Salesforce Id (sfdcId): the "
                   "platform has matched no account to Salesforce yet")
            how = ("check the account matching (Id → sfdcId) on the platform's Salesforce card, click Synchronize "
                   "and run this check again")
        elif since is not None and changed_total:
            why = (f"none of the {len(by_id)} sampled platform accounts is among the {changed_total} changed in "
                   "Salesforce since the disconnect (or their Ids are not in this org: identity.right_org)")
            how = ("change a mapped field (for example Industry) on an Account the platform already holds, click "
                   "Synchronize, and run this check again")
        else:
            why = (f"no account among the {len(by_id)} the platform holds has changed in Salesforce since the "
                   "disconnect" if since else f"none of the {len(by_id)} sampled Salesforce Ids exists in this org")
            how = ("change a mapped field (for example Industry) on an Account the platform holds, click "
                   "Synchronize, and run this check again")
        return skipped("skip.empty_sample", f"nothing to compare: {why}", why, how_to_get_a_sample=how, **evidence)
    if stale:
        nxt = evidence["next_runs"][0] if evidence["next_runs"] else None
        sync = ("click Synchronize on the Salesforce card and wait for it; historical data may take 2–3 sync "
                "cycles" + (f" — next scheduled {nxt['activity'].lower()}: {nxt['local']} ({nxt['gmt']})"
                            if nxt else ""))
        named = relayed_cause(ctx)  # stale because the platform is down for a cause Salesforce's code names
        return fail("flow.stale",
                    f"{len(stale)} of {len(rows)} sampled accounts changed in Salesforce are stale in the platform",
                    f"no sync has completed since the disconnect: {named[0]}" if named else
                    "no sync has completed since the disconnect (or a backfill is still processing)",
                    f"{named[1]}; then {sync}" if named else sync, **evidence)
    return ok(f"{len(rows)} sampled accounts match between Salesforce and the platform", **evidence)


def unwritable(ctx: CheckContext, user: dict[str, Any], pushes: list[str]) -> list[dict[str, str]]:
    """Push targets the integration user cannot be written into, seen from Salesforce: no prefix, gone,
    read-only, or no Edit for the integration user. (The describes and the user's access are the ones the
    mapping and permission checks read: no extra calls in a full run.)"""
    prefix = ctx.profile.push_prefix or "PX_"
    described = ctx.describes(sorted({m.salesforce.split(".", 1)[0] for m in ctx.mappings()}))
    access = ctx.user_access(user)
    out = []
    for target in pushes:
        obj, _, name = target.partition(".")
        fields = {f["name"].lower(): f for f in (described.get(obj) or {}).get("fields", [])}
        f = fields.get(name.lower())
        why = ("no_prefix" if not name.startswith(prefix) else "missing" if f is None
               else "read_only" if not f.get("updateable") else "no_edit" if not access.field_perm(target, "edit")
               else "")
        if why:
            out.append({"target": target, "why": why})
    return out


_WHY = {"no_prefix": "lacks the {prefix} prefix the platform pushes into", "missing": "does not exist",
        "read_only": "is read-only", "no_edit": "is not editable by the integration user"}


@check("flow.platform_to_salesforce", "Platform → Salesforce pushes arrive in PX_ fields", "validate",
       profiles=("gainsight-px",), needs=("salesforce", "snapshot", "data_org"),
       reads=(INTEGRATION_USER, ACCESS, DESCRIBE_MAPPED, PX_INTEGRATION, DISCONNECT, PUSHES))
def platform_to_salesforce(ctx: CheckContext) -> Outcome:
    """Judged from Salesforce: can the integration user write every push target, and did it? The platform's
    lastError is shown as written (its wording is not published, so nothing is read into it)."""
    user = ctx.integration_user()
    if user is None:
        return skipped("skip.no_integration_user", "the integration user is not known yet")
    pushes = [m.salesforce for m in ctx.push_mappings()]
    if not pushes:
        return skipped("skip.no_mappings", "the snapshot documents no pushes to Salesforce")
    since = ctx.reauthorized_at or ctx.disconnect_time()
    evidence: dict[str, Any] = {"integration_user": user["Username"], "since": since.isoformat() if since else None}
    integ = ctx.px_integration() if ctx.px is not None else None
    if integ is not None:
        evidence["platform_last_error"] = integ.last_error  # as the platform wrote it
    blocked = unwritable(ctx, user, pushes)
    if blocked:
        prefix = ctx.profile.push_prefix or "PX_"
        first = blocked[0]
        return fail("flow.push_failed",
                    f"the platform cannot push into {len(blocked)} Salesforce field(s): {first['target']} "
                    + _WHY[first["why"]].format(prefix=prefix),
                    "every push into such a field fails in Salesforce, whatever the platform reports",
                    f"point the push mappings at writable {prefix} fields the integration user can edit, then "
                    "Synchronize", unwritable=blocked, prefix_missing=any(b["why"] == "no_prefix" for b in blocked),
                    **evidence)
    written = 0
    reads = push_reads(ctx, user)
    ctx.prefetch(r for pair in reads.values() for r in pair[:2])  # one round trip for every object
    for obj, (wrote, with_first, first) in reads.items():
        n, filled = ctx.read(wrote), ctx.read(with_first)
        evidence[obj] = {"written_by_integration": n, f"with_{first}": filled}
        written += filled
    if written == 0:
        when = "the re-authorization" if ctx.reauthorized_at else "the disconnect" if since else "ever"
        if integ is not None and integ.status != "UP":
            named = relayed_cause(ctx)
            return fail("flow.no_push", f"no PX_ field has been written by the integration user since {when}",
                        f"the platform reports the integration {integ.status}: " + (
                            named[0] if named else "nothing can be pushed until it is re-authorized"),
                        f"{named[1]}; click Synchronize, then run this check again" if named else
                        "re-authorize (token.platform_status), click Synchronize, then run this check again",
                        **evidence)
        return fail("flow.no_push", f"no PX_ field has been written by the integration user since {when}",
                    "no push has run yet (pushes run at 03:00, 11:00 and 19:00 GMT) or pushes fail",
                    "click Synchronize, then run this check again", **evidence)
    return ok(f"{written} record(s) received platform values in PX_ fields from {user['Username']}", **evidence)


@check("flow.schedule", "Sync schedule", "impact", needs=())
def schedule(ctx: CheckContext) -> Outcome:
    sched = list(ctx.profile.schedule_gmt)
    if not sched:
        return skipped("skip.no_schedule", f"{ctx.profile.vendor} runs no fixed schedule")
    runs = next_runs(sched, ctx.now, count=5)
    table = [f"{s['time']} GMT ({_local(s['time'])}): {s['direction']} — {s['activity']}" for s in sched]
    nxt = runs[0]
    return ok(f"next: {nxt['activity']} at {nxt['local']} ({nxt['gmt']})", schedule=table, next_runs=runs)


def _local(hhmm: str) -> str:
    hh, mm = (int(x) for x in hhmm.split(":"))
    today = datetime.now(timezone.utc).replace(hour=hh, minute=mm, second=0, microsecond=0)
    return today.astimezone().strftime("%H:%M %Z")
