"""The admin page at ``/``: one card per imitated web UI, drawn from ``view.state_json``.

The markup lives in ``templates/`` (``page.html`` around the cards, ``admin.css``, ``sync_poll.js``);
the loops and either-or pieces are small fragments here. Every value is escaped by the template
helpers, and a missing one (None or "") shows as a dash, as the vendors' own pages show it.
"""

from __future__ import annotations

from typing import Any

from sfwizard.sandbox.px.sync import ACCESSIBILITY
from sfwizard.sandbox.templates import Markup, asset, fill, join, render

_PACKAGE = "sfwizard.sandbox.admin"
DASH = "—"


def _shown(values: dict[str, object]) -> dict[str, object]:
    return {k: DASH if not isinstance(v, Markup) and (v is None or v == "") else v for k, v in values.items()}


def _render(name: str, **values: object) -> Markup:
    return render(_PACKAGE, name, **_shown(values))


def _fill(snippet: str, **values: object) -> Markup:
    return fill(snippet, **_shown(values))


def _checked(on: bool) -> Markup:
    return Markup(" checked" if on else "")


def _orgs_card(s: dict[str, Any]) -> Markup:
    sandbox, production = Markup("<b class=warn>Sandbox</b>"), Markup("Production")
    rows = join(_fill("<tr><td>$name</td><td><code>$id</code></td><td>$instance</td><td>$kind</td></tr>",
                      name=o["name"], id=o["id"], instance=o["instance"],
                      kind=sandbox if o["is_sandbox"] else production)
                for o in s["orgs"])
    return _render("orgs.html", rows=rows)


def _sync_run(job: dict[str, Any] | None) -> Markup:
    if not job:
        return Markup("<span class=muted>no manual sync yet</span>")
    error = _fill(' <span class="warn">$error</span>', error=job["error"]) if job["error"] else Markup()
    return _fill('<progress id="sync-bar" data-state="$state" max="100" value="$percent"></progress> '
                 '<span id="sync-text">$state $done/$total</span>$error',
                 state=job["state"], percent=round(job["progress"] * 100), done=job["done"], total=job["total"],
                 error=error)


def _px_card(p: dict[str, Any]) -> Markup:
    return _render(
        "px.html",
        authorized=Markup("<b class=good>Authorized</b>" if p["authorized"] else "<b class=warn>Not authorized</b>"),
        status=p["status"], org_name=p["org_name"], org_id=p["org_id"],
        sandbox=Markup(" <b class=warn>(sandbox org)</b>" if p["org_is_sandbox"] else ""),
        username=p["username"], last_success=p["last_success"], records_processed=p["records_processed"],
        last_error=p["last_error"], run=_sync_run(p["job"]))


def _checkboxes(name: str, values: Any, ticked: Any) -> Markup:
    return join(_fill('<label><input type="checkbox" name="$name" value="$value"$checked> $value</label> ',
                      name=name, value=v, checked=_checked(v in ticked))
                for v in values)


def _knowledge_card(p: dict[str, Any]) -> Markup:
    k = p["knowledge"]
    categories = (_checkboxes("categories", k["available_categories"], k["categories"])
                  or Markup("<span class=muted>none in this org</span>"))
    return _render("knowledge.html", status=k["status"], last_error=k["last_error"],
                   enabled=_checked(k["enabled"]), categories=categories,
                   accessibility=_checkboxes("accessibility", ACCESSIBILITY, k["accessibility"]))


def _skilljar_card(j: dict[str, Any]) -> Markup:
    alert = (_fill("<p class=alert>Your Salesforce integration is disconnected (since $since). "
                   "Reconnect to resume syncing.</p>", since=j["disconnected_at"])
             if j["status"] == "disconnected" else Markup())
    if j["backfill_offered"]:
        backfill = _fill('<form method="post" action="/__sandbox__/skilljar/backfill">'
                         '<button type="submit">Backfill</button></form> '
                         "<span class=muted>pushes what changed from $since to now</span>", since=j["last_sync_at"])
    else:
        backfill = _fill("<p class=muted>Backfill not offered: $reason</p>", reason=j["backfill_reason"])
    done = join(_fill("<li>$start → $end: $records record(s)</li>", start=b["window_start"], end=b["window_end"],
                      records=b["records"])
                for b in j["backfills"])
    return _render("skilljar.html", alert=alert, status=j["status"], username=j["username"],
                   org_name=j["org_name"], last_sync_at=j["last_sync_at"], backfill=backfill,
                   backfills=_fill("<ul>$items</ul>", items=done) if done else Markup())


def admin_page(s: dict[str, Any], notice: tuple[str, str] | None = None) -> str:
    """The whole page for ``state_json``'s answer, with a one-time ``(kind "ok"/"error", text)`` notice."""
    cards = [_orgs_card(s)]
    if "px" in s:
        cards += [_px_card(s["px"]), _knowledge_card(s["px"])]
    if "skilljar" in s:
        cards.append(_skilljar_card(s["skilljar"]))
    return _render(
        "page.html", scenario=s["scenario"], description=s["description"],
        notice=_fill('<p class="notice $kind">$text</p>', kind=notice[0], text=notice[1]) if notice else Markup(),
        cards=Markup("\n".join(cards)), style=asset(_PACKAGE, "admin.css"),
        script=asset(_PACKAGE, "sync_poll.js"))
