"""The mapping snapshot, pre-filled from what the APIs show; the admin completes what no API shows."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sfwizard.recovery.connection import Connection
    from sfwizard.snapshot import Snapshot


def facts_from_apis(conn: Connection) -> dict[str, Any]:
    """Org, integration user and the push fields that exist; mappings come from the admin (no public
    platform API lists them), so they are listed under ``to_complete``."""
    ident = conn.identity
    ctx = conn.context()
    user = ctx.integration_user()
    facts: dict[str, Any] = {
        "profile": conn.profile,
        "org": {"id": ident.org_id, "name": ident.org_name, "instance": ident.instance,
                "sandbox": ident.is_sandbox},
        "integration_user": {"username": user["Username"], "id": user["Id"]} if user else {},
        "to_complete": ["matching: the Account and Contact matching criteria from the platform's settings"],
    }
    prefix = conn.client.profile.push_prefix
    sf = conn.client.salesforce
    if prefix and sf is not None:
        described = sf.describe(["Account", "Contact"])
        push = [f"{obj}.{f['name']}" for obj, d in described.items() if d for f in d["fields"]
                if f["name"].startswith(prefix)]
        facts["to_complete"].append(f"mappings: which platform attribute feeds each {prefix} field "
                                    f"({', '.join(push) or 'none found'})")
    return facts


def snapshot_from_apis(conn: Connection) -> Snapshot:
    from sfwizard import snapshot

    return snapshot.build(facts_from_apis(conn))
