"""What checks share: the API clients, the profile, the snapshot, and facts fetched once.

Every fact is memoized, so twenty checks that need the integration user's permissions cost the
three queries once. Queries aggregate (COUNT(), MAX) or take samples: a run's API cost does not
grow with the number of records.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, TypeVar

from sfwizard import ids
from sfwizard.integrations.salesforce import SalesforceAPI, in_clause, soql_quote
from sfwizard.profiles import Profile

if TYPE_CHECKING:  # types only: the snapshot module loads YAML, the platform clients load on first use
    from sfwizard.checks.base import CheckResult
    from sfwizard.integrations.px import IntegrationStatus, PxAPI
    from sfwizard.integrations.px import Page as PxPage
    from sfwizard.integrations.statuspage import StatusPageAPI, StatusSummary
    from sfwizard.snapshot import FieldMapping, Snapshot

T = TypeVar("T")


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


@dataclass
class CheckContext:
    profile: Profile
    sf: SalesforceAPI | None = None
    px: PxAPI | None = None
    status: StatusPageAPI | None = None
    snapshot: Snapshot | None = None  # the admin's record of the integration (sfwizard.snapshot)
    reauthorized_at: datetime | None = None  # when the person clicked Authorize/Reconnect (session)
    disconnected_at: datetime | None = None  # when the integration stopped (admin's word or inferred)
    known_article: str | None = None  # a Knowledge article title the admin knows exists
    now: datetime = field(default_factory=lambda: datetime.now(timezone.utc))
    results: dict[str, CheckResult] = field(default_factory=dict)  # id → result of this run so far
    sign_in_required: bool = False  # set by the runner: the checks could not run
    unreachable: list[str] = field(default_factory=list)  # set by the runner: checks that reached no service
    _memo: dict[str, Any] = field(default_factory=dict)

    # -- availability --------------------------------------------------------------------------
    def has(self, need: str) -> bool:
        if need == "data_org":
            return self.sf is not None and self.wrong_org() is None
        return {"salesforce": self.sf is not None, "platform": self.px is not None,
                "status": self.status is not None, "snapshot": self.snapshot is not None}.get(need, False)

    def why_missing(self, need: str) -> str:
        if need == "data_org" and self.sf is not None:
            w = self.wrong_org() or {}
            here, there = w.get("signed_in", {}), w.get("data_org", {})
            return (f"not checked in {here.get('name')} ({here.get('id')}): the platform's data lives in "
                    f"{there.get('name') or 'another org'} ({there.get('id')}); identity.right_org says so")
        return {
            "salesforce": "not signed in to Salesforce (run: sfwizard login)",
            "data_org": "not signed in to Salesforce (run: sfwizard login)",
            "platform": f"no {self.profile.vendor} API access (set SFWIZARD_PX_API_KEY)"
            if self.profile.platform_api else f"{self.profile.vendor} has no public API for this",
            "status": "no status page configured",
            "snapshot": "no mapping snapshot yet (run: sfwizard snapshot -o mappings.yaml)",
        }[need]

    def missing_reason(self, need: str) -> str:
        """The skip.* reason code for a missing prerequisite (see ``why_missing`` for the words)."""
        if need == "platform":
            return "skip.no_platform_key" if self.profile.platform_api else "skip.no_platform_api"
        if need == "data_org":
            return "skip.wrong_org" if self.sf is not None else "skip.no_salesforce"
        return {"salesforce": "skip.no_salesforce", "status": "skip.no_status_page",
                "snapshot": "skip.no_snapshot"}[need]

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

    def memo(self, key: str, fn: Callable[[], T]) -> T:
        if key not in self._memo:
            self._memo[key] = fn()
        return self._memo[key]

    @property
    def salesforce(self) -> SalesforceAPI:
        assert self.sf is not None, "a check that calls Salesforce must declare needs=(\"salesforce\",)"
        return self.sf

    @property
    def platform(self) -> PxAPI:
        assert self.px is not None, "a check that calls the platform must declare needs=(\"platform\",)"
        return self.px

    # -- Salesforce facts ----------------------------------------------------------------------
    def organization(self) -> dict[str, Any]:
        return self.memo("org", lambda: self.salesforce.query(
            "SELECT Id, Name, IsSandbox, InstanceName, OrganizationType FROM Organization")[0])

    def app_tokens(self) -> list[dict[str, Any]]:
        """OauthToken rows of the integration's connected app (every user)."""
        app = soql_quote(self.profile.connected_app)
        return self.memo("app_tokens", lambda: self.salesforce.query(
            "SELECT Id, AppName, UserId, User.Username, User.Name, CreatedDate, LastUsedDate, UseCount "
            f"FROM OauthToken WHERE AppName = {app} ORDER BY LastUsedDate DESC NULLS LAST LIMIT 50"))

    def app_logins(self) -> list[dict[str, Any]]:
        """The app's recent logins, successes and failures (LoginHistory keeps six months)."""
        app = soql_quote(self.profile.connected_app)
        return self.memo("app_logins", lambda: self.salesforce.query(
            "SELECT Id, UserId, LoginTime, LoginType, Status, Application FROM LoginHistory "
            f"WHERE Application = {app} AND LoginTime = LAST_N_DAYS:30 ORDER BY LoginTime DESC LIMIT 50"))

    def integration_user(self) -> dict[str, Any] | None:
        """The Salesforce user the integration runs as: the snapshot's, else the app's token owner."""
        def find() -> dict[str, Any] | None:
            username = self.snapshot.integration_user.username if self.snapshot else ""
            where = ""
            if username:
                where = f"Username = {soql_quote(username)}"
            else:
                user_ids = [t["UserId"] for t in self.app_tokens()] or [
                    row["UserId"] for row in self.app_logins() if row.get("Status") == "Success"]
                if not user_ids:
                    return None
                where = f"Id = {soql_quote(user_ids[0])}"
            rows = self.salesforce.query(
                "SELECT Id, Username, Name, IsActive, ProfileId, Profile.Name, LastPasswordChangeDate, "
                f"LastLoginDate FROM User WHERE {where} LIMIT 1")
            return rows[0] if rows else None

        return self.memo("integration_user", find)

    def user_access(self, user_id: str) -> UserAccess:
        """Three queries, whatever the number of mapped fields: sets, object and field permissions."""
        def fetch() -> UserAccess:
            sf = self.salesforce
            uid = soql_quote(user_id)
            user = sf.query(f"SELECT Id, Username, Name, IsActive, ProfileId FROM User WHERE Id = {uid}")[0]
            psets = sf.query(
                "SELECT Id, Name, Label, IsOwnedByProfile, PermissionsApiEnabled, PermissionsModifyAllData, "
                "PermissionsViewAllData, PermissionsPasswordNeverExpires FROM PermissionSet WHERE Id IN "
                f"(SELECT PermissionSetId FROM PermissionSetAssignment WHERE AssigneeId = {uid})")
            ids = [p["Id"] for p in psets]
            objects: dict[str, dict[str, bool]] = {}
            fields: dict[str, dict[str, bool]] = {}
            if ids:
                for op in sf.query("SELECT SobjectType, PermissionsRead, PermissionsCreate, PermissionsEdit, "
                                   f"PermissionsDelete FROM ObjectPermissions WHERE ParentId IN {in_clause(ids)}"):
                    slot = objects.setdefault(op["SobjectType"], {})
                    for perm in ("Read", "Create", "Edit", "Delete"):
                        slot[perm.lower()] = slot.get(perm.lower(), False) or bool(op.get(f"Permissions{perm}"))
                for fp in sf.query("SELECT Field, PermissionsRead, PermissionsEdit FROM FieldPermissions "
                                   f"WHERE ParentId IN {in_clause(ids)}"):
                    slot = fields.setdefault(fp["Field"], {})
                    slot["read"] = slot.get("read", False) or bool(fp.get("PermissionsRead"))
                    slot["edit"] = slot.get("edit", False) or bool(fp.get("PermissionsEdit"))
            return UserAccess(
                user=user, permission_sets=psets,
                api_enabled=any(p.get("PermissionsApiEnabled") for p in psets),
                modify_all=any(p.get("PermissionsModifyAllData") for p in psets),
                view_all=any(p.get("PermissionsViewAllData") for p in psets),
                objects=objects, fields=fields,
            )

        return self.memo(f"access:{user_id}", fetch)

    def describes(self, objects: list[str]) -> dict[str, dict[str, Any] | None]:
        """Describe results for the mapped objects, fetched in one batch for all checks."""
        def fetch() -> dict[str, dict[str, Any] | None]:
            return self.salesforce.describe(sorted(set(objects)))
        return self.memo("describe:" + ",".join(sorted(set(objects))), fetch)

    # -- platform facts ------------------------------------------------------------------------
    def px_integrations(self) -> list[IntegrationStatus]:
        return self.memo("px_integrations", lambda: self.platform.integrations())

    def px_integration(self) -> IntegrationStatus | None:
        """The platform's Salesforce data integration, as its monitoring API reports it: every row whose
        name could be it (PX publishes no names), DOWN when any of them is (``integrations.px.combine``)."""
        def fetch() -> IntegrationStatus | None:
            from sfwizard.integrations.px import combine, salesforce_rows

            return combine(salesforce_rows(self.px_integrations()))
        return self.memo("px_integration", fetch)

    def _px_page(self, kind: str) -> PxPage:
        from sfwizard.integrations.px import MATCHED, PX_PAGE

        return self.memo(f"px_page_{kind}", lambda: self.platform.page(kind, PX_PAGE, filters=(MATCHED[kind],)))

    def px_sample(self, kind: str) -> list[dict[str, Any]]:
        """One page (1,000) of the platform's accounts or users that the integration matched to Salesforce
        (unmatched ones are normal and say nothing about the org): the bounded sample checks compare."""
        return self._px_page(kind).records

    def px_total(self, kind: str) -> int | None:
        """How many accounts or users the platform holds matched to Salesforce (``totalHits``, same call)."""
        return self._px_page(kind).total_hits

    def px_attributes(self, kind: str) -> list[dict[str, Any]]:
        return self.memo(f"px_attributes:{kind}", lambda: self.platform.attributes(kind))

    def status_summary(self) -> StatusSummary:
        assert self.status is not None, "a check that reads the status page must declare needs=(\"status\",)"
        return self.memo("status", self.status.summary)

    # -- the snapshot --------------------------------------------------------------------------
    def mappings(self) -> tuple[FieldMapping, ...]:
        """Field mappings documented in the snapshot (no public platform API lists them)."""
        return self.snapshot.mappings if self.snapshot else ()

    def source_mappings(self) -> tuple[FieldMapping, ...]:
        """Salesforce → platform mappings: the fields the integration reads."""
        return tuple(m for m in self.mappings() if m.direction == "sf_to_px")

    def push_mappings(self) -> tuple[FieldMapping, ...]:
        """Platform → Salesforce mappings: the fields the integration writes."""
        return tuple(m for m in self.mappings() if m.direction == "px_to_sf")

    def custom_objects(self) -> tuple[str, ...]:
        return self.snapshot.custom_objects if self.snapshot else ()

    @property
    def knowledge_used(self) -> bool:
        """The snapshot says the Knowledge Center is used (or was enabled); False without a snapshot."""
        return bool(self.snapshot and (self.snapshot.knowledge.used or self.snapshot.knowledge.enabled))
