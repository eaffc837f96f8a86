"""Facts about the org, read once per run: the org and the signed-in user, the integration user and its access,
the connected app's tokens and logins, describes and limits (``shared_reads`` declares what they read)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sfwizard import ids
from sfwizard.checks.batching import SalesforceReads
from sfwizard.checks.soql import (
    ORG_SOQL,
    field_perms_soql,
    logins_soql,
    object_perms_soql,
    psets_soql,
    tokens_soql,
    user_soql,
    username_is,
)
from sfwizard.integrations.salesforce import IN_CHUNK, Read, chunks, soql_quote

if TYPE_CHECKING:
    from sfwizard.profiles import Profile
    from sfwizard.snapshot import FieldMapping, Snapshot


@dataclass
class UserAccess:
    """One user's effective permissions, read through the same objects an admin sees in Setup."""

    user: dict[str, Any]
    permission_sets: list[dict[str, Any]]
    api_enabled: bool
    modify_all: bool
    view_all: bool
    objects: dict[str, dict[str, bool]]  # SobjectType → {read, create, edit, delete}
    fields: dict[str, dict[str, bool]]  # "Account.PX_Score__c" → {read, edit}

    def object_perm(self, sobject: str, perm: str) -> bool:
        if self.modify_all or (perm == "read" and self.view_all):
            return True
        return self.objects.get(sobject, {}).get(perm, False)

    def field_perm(self, field_name: str, perm: str) -> bool:
        """Custom fields need field-level security; standard fields follow the object."""
        sobject, _, name = field_name.partition(".")
        if not self.object_perm(sobject, "read" if perm == "read" else "edit"):
            return False
        if self.modify_all or not name.endswith("__c"):
            return True
        if perm == "read" and self.view_all:
            return True
        return self.fields.get(field_name, {}).get(perm, False)


def org_facts(org: dict[str, Any], url: str = "") -> dict[str, Any]:
    """An Organization row as evidence: Id, name, production or SANDBOX, instance, and the URL signed in to
    (its host is the org's My Domain)."""
    out = {"id": org["Id"], "name": org.get("Name"), "kind": "SANDBOX" if org.get("IsSandbox") else "production",
           "instance": org.get("InstanceName")}
    if url:
        out["url"] = url
    return out


class SalesforceFacts(SalesforceReads):
    """Mixed into ``CheckContext`` (its fields: ``profile``, ``snapshot``)."""

    profile: Profile
    snapshot: Snapshot | None

    if TYPE_CHECKING:  # (SnapshotFacts)
        def mappings(self) -> tuple[FieldMapping, ...]: ...
        def custom_objects(self) -> tuple[str, ...]: ...

    def organization(self) -> dict[str, Any]:
        return self.memo("org", lambda: self.query(ORG_SOQL)[0])

    def wrong_org(self) -> dict[str, Any] | None:
        """Where the wizard is signed in and where the platform's data lives, when the snapshot says they
        differ; None when they agree or nothing tells (no snapshot, or a snapshot without an org Id)."""
        def compare() -> dict[str, Any] | None:
            snap = self.snapshot.org if self.snapshot else None
            if snap is None or not snap.id or self.sf is None:
                return None
            try:
                org = self.organization()
            except Exception:  # identity.org reports it; nothing here can tell the orgs apart
                return None
            if ids.same_id(snap.id, org["Id"]):
                return None
            return {"signed_in": org_facts(org, self.sf.instance_url),
                    "data_org": {"id": snap.id, "name": snap.name, "kind": "SANDBOX" if snap.sandbox else
                                 "production", "source": "snapshot"}}
        return self.memo("wrong_org", compare)

    def userinfo(self) -> dict[str, Any]:
        """The signed-in user (``/services/oauth2/userinfo``; the connection knows it already)."""
        return self.memo("userinfo", self.salesforce.userinfo)

    def me_soql(self) -> str:
        return user_soql(f"Id = {soql_quote(self.userinfo()['user_id'])}")

    def me(self) -> dict[str, Any]:
        """The signed-in user's User row."""
        return self.memo("me", lambda: self.query(self.me_soql())[0])

    def app_tokens(self) -> list[dict[str, Any]]:
        """OauthToken rows of the integration's connected app (every user)."""
        return self.memo("app_tokens", lambda: self.query(tokens_soql(self.profile.connected_app)))

    def app_logins(self) -> list[dict[str, Any]]:
        """The app's recent logins, successes and failures (LoginHistory keeps six months)."""
        app = self.profile.connected_app

        def mine() -> list[dict[str, Any]]:
            rows = self.query(logins_soql(app))
            return [r for r in rows if str(r.get("Application") or "").lower() == app.lower()][:50]
        return self.memo("app_logins", mine)

    def integration_user_soql(self) -> str | None:
        """How the integration user is found without another read first: by the snapshot's username."""
        username = self.snapshot.integration_user.username if self.snapshot else ""
        return user_soql(username_is(username)) if username else None

    def integration_user(self) -> dict[str, Any] | None:
        """The Salesforce user the integration runs as: the snapshot's, else the app's token owner."""
        def find() -> dict[str, Any] | None:
            soql = self.integration_user_soql()
            if soql is None:
                user_ids = [t["UserId"] for t in self.app_tokens()] or [
                    row["UserId"] for row in self.app_logins() if row.get("Status") == "Success"]
                if not user_ids:
                    return None
                soql = user_soql(f"Id = {soql_quote(user_ids[0])}")
            rows = self.query(soql)
            return rows[0] if rows else None

        return self.memo("integration_user", find)

    def access_scope(self) -> tuple[list[str], list[str]]:
        """The objects and fields whose permissions the checks judge: the mapped ones and the custom objects."""
        objects = sorted({m.salesforce.split(".", 1)[0] for m in self.mappings()} | set(self.custom_objects()))
        fields = sorted({m.salesforce for m in self.mappings()})
        return objects, fields

    def access_reads(self, username: str) -> list[Read]:
        """The reads behind ``user_access``: permission sets, and object and field permissions on the scope."""
        objects, fields = self.access_scope()
        reads = [Read("query", psets_soql(username))]
        reads += [Read("query", object_perms_soql(username, part)) for part in chunks(objects, IN_CHUNK)]
        reads += [Read("query", field_perms_soql(username, part)) for part in chunks(fields, IN_CHUNK)]
        return reads

    def permission_sets(self, username: str) -> list[dict[str, Any]]:
        """The user's permission sets (the profile's own among them), with the permissions the checks read."""
        return self.memo(f"psets:{username.lower()}", lambda: self.query(psets_soql(username)))

    def user_access(self, user: dict[str, Any]) -> UserAccess:
        """One round trip, whatever the number of mapped fields: permission sets, object and field permissions
        on the mapped objects and fields, in one composite/batch (when the plan has not fetched them yet)."""
        def fetch() -> UserAccess:
            username = str(user["Username"])
            reads = self.access_reads(username)
            self.prefetch(reads)
            psets = self.permission_sets(username)
            objects: dict[str, dict[str, bool]] = {}
            fields: dict[str, dict[str, bool]] = {}
            for read in reads[1:]:
                for row in self.read(read):
                    if "SobjectType" in row:
                        slot = objects.setdefault(row["SobjectType"], {})
                        for perm in ("Read", "Create", "Edit", "Delete"):
                            slot[perm.lower()] = slot.get(perm.lower(), False) or bool(row.get(f"Permissions{perm}"))
                    else:
                        slot = fields.setdefault(row["Field"], {})
                        slot["read"] = slot.get("read", False) or bool(row.get("PermissionsRead"))
                        slot["edit"] = slot.get("edit", False) or bool(row.get("PermissionsEdit"))
            return UserAccess(
                user=user, permission_sets=psets,
                api_enabled=any(p.get("PermissionsApiEnabled") for p in psets),
                modify_all=any(p.get("PermissionsModifyAllData") for p in psets),
                view_all=any(p.get("PermissionsViewAllData") for p in psets),
                objects=objects, fields=fields,
            )

        return self.memo(f"access:{user['Id']}", fetch)

    def describes(self, objects: Iterable[str]) -> dict[str, dict[str, Any] | None]:
        """Describe results (None: not there, or hidden from the signed-in user), in one batch for all."""
        names = sorted(set(objects))
        self.prefetch([Read("describe", n) for n in names])
        return {n: self.read(Read("describe", n)) for n in names}

    def limits(self) -> dict[str, Any]:
        return self.read(Read("limits"))  # type: ignore[no-any-return]
