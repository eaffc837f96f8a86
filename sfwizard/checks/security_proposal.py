"""A least-privilege permission set for the integration user: exactly what its mappings need, as a file to deploy.

What the integration needs (``needs``): Read on every mapped object and field; Edit on the objects and fields it
pushes into (PX_ targets); Read on the custom objects it syncs (and their custom fields); Read on Knowledge
articles when Knowledge is used; for Skilljar, Read, Create and Edit on the package objects it writes, and Read on
the objects their lookups point to (a Student's Contact or Lead); and the API Enabled user permission. A field
whose access is not set per field (a required field, a system field: the describe's ``permissionable``) follows
its object and is left out, as the Metadata API would refuse it.

``sfwizard.recovery.permission_set`` writes it as a file a person deploys (never applied by sfwizard itself).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sfwizard.checks.context import CheckContext

OBJECT_RIGHTS = ("read", "create", "edit", "delete")


@dataclass(frozen=True)
class Proposal:
    name: str  # the permission set's API name
    label: str
    description: str
    objects: dict[str, frozenset[str]] = field(default_factory=dict)  # object → {read, create, edit}
    fields: dict[str, frozenset[str]] = field(default_factory=dict)  # "Account.PX_Score__c" → {read, edit}
    user_permissions: tuple[str, ...] = ("ApiEnabled",)

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "label": self.label,
                "objects": {o: sorted(r) for o, r in sorted(self.objects.items())},
                "fields": {f: sorted(r) for f, r in sorted(self.fields.items())},
                "user_permissions": list(self.user_permissions)}


def proposal_name(ctx: CheckContext) -> str:
    prefix = (ctx.profile.push_prefix or "").rstrip("_") or re.sub(r"\W", "", ctx.profile.vendor) or "Integration"
    return f"{prefix}_Integration_Least_Privilege"


def needed_objects(ctx: CheckContext) -> list[str]:
    """The objects the integration touches (their describes tell which fields take field-level security)."""
    objects = {m.salesforce.split(".", 1)[0] for m in ctx.mappings()} | set(ctx.custom_objects())
    if ctx.knowledge_used:
        objects.add("KnowledgeArticleVersion")
    objects |= set((ctx.profile.backfill or {}).get("objects", []))
    return sorted(objects)


def needs(ctx: CheckContext) -> Proposal:
    """What the integration needs, from the snapshot (mappings, custom objects, Knowledge) and the profile."""
    objects: dict[str, set[str]] = {}
    fields: dict[str, set[str]] = {}
    for m in ctx.mappings():
        obj = m.salesforce.split(".", 1)[0]
        objects.setdefault(obj, set()).add("read")
        fields.setdefault(m.salesforce, set()).add("read")
        if m.direction == "px_to_sf":
            objects[obj].add("edit")
            fields[m.salesforce].add("edit")
    for obj in ctx.custom_objects():
        objects.setdefault(obj, set()).add("read")
    if ctx.knowledge_used:
        objects.setdefault("KnowledgeArticleVersion", set()).add("read")
    for obj in (ctx.profile.backfill or {}).get("objects", []):
        objects.setdefault(obj, set()).update(("read", "create", "edit"))
    wholesale = set(ctx.custom_objects()) | set((ctx.profile.backfill or {}).get("objects", []))
    described = ctx.describes(list(objects)) if objects else {}
    looked_up: set[str] = set()
    for obj in sorted(wholesale):
        for f in (described.get(obj) or {}).get("fields", []):
            if f.get("custom") and f.get("permissionable"):
                rights = {"read", "edit"} if "edit" in objects[obj] and f.get("updateable") else {"read"}
                fields.setdefault(f"{obj}.{f['name']}", set()).update(rights)
                if f.get("type") == "reference":  # a lookup it sets (a Student's Contact) needs Read on its target
                    looked_up.update(str(t) for t in f.get("referenceTo") or ())
    for target in sorted(looked_up - set(objects)):
        objects[target] = {"read"}
    kept: dict[str, frozenset[str]] = {}
    for full, rights in fields.items():
        obj, _, name = full.partition(".")
        desc = described.get(obj)
        f = next((x for x in (desc or {}).get("fields", []) if x["name"].lower() == name.lower()), None)
        if f is not None and f.get("permissionable"):
            kept[f"{obj}.{f['name']}"] = frozenset(rights)
    vendor = ctx.profile.vendor
    return Proposal(
        name=proposal_name(ctx), label=f"{vendor} integration (least privilege)",
        description=f"Exactly what the {vendor} integration's mappings need: proposed by sfwizard's security review",
        objects={o: frozenset(r) for o, r in objects.items()
                 if described.get(o) is not None or o in looked_up or not described},
        fields=kept)
