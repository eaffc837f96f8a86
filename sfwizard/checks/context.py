"""What checks share: the API clients, the profile, the snapshot, and facts fetched once.

Every fact is memoized, once per run even when several threads ask for it at the same time (the runner
runs checks concurrently): the first asker computes it, the others wait for its answer (or its error).
Salesforce reads go through ``read``/``prefetch``: independent reads travel together in composite/batch
requests (up to 25 each), so a fact that needs three queries costs one round trip, and the runner's plan
(``sfwizard.checks.prefetch``) fetches every check's reads in two or three such rounds. Queries aggregate
(COUNT(), MAX) or take samples: a run's API cost does not grow with the number of records.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from concurrent.futures import Executor, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, TypeVar

from sfwizard import ids
from sfwizard.integrations.salesforce import BATCH_MAX, IN_CHUNK, Read, SalesforceAPI, chunks, in_clause, soql_quote
from sfwizard.profiles import Profile

if TYPE_CHECKING:  # types only: the snapshot module loads YAML, the platform clients load on first use
    from sfwizard.checks.base import CheckResult
    from sfwizard.integrations.px import IntegrationStatus, PxAPI
    from sfwizard.integrations.px import Page as PxPage
    from sfwizard.integrations.statuspage import StatusPageAPI, StatusSummary
    from sfwizard.snapshot import FieldMapping, Snapshot

T = TypeVar("T")

# -- the reads, as text: the facts below and the runner's plan build them the same way (a read is memoized by
# its text, so a query the plan fetched is the query a check asks for) ------------------------------------------

ORG_SOQL = "SELECT Id, Name, IsSandbox, InstanceName, OrganizationType FROM Organization"
USER_FIELDS = "Id, Username, Name, IsActive, ProfileId, Profile.Name, LastPasswordChangeDate, LastLoginDate"
PSET_FIELDS = ("Id, Name, Label, IsOwnedByProfile, PermissionsApiEnabled, PermissionsModifyAllData, "
               "PermissionsViewAllData, PermissionsPasswordNeverExpires, PermissionsApproveUninstalledApps, "
               "PermissionsManageUsers")


def user_soql(where: str) -> str:
    return f"SELECT {USER_FIELDS} FROM User WHERE {where} LIMIT 1"


def username_is(username: str) -> str:
    """Usernames compare without case in Salesforce: lower-cased here so every asker writes the same text."""
    return f"Username = {soql_quote(username.lower())}"


def _assigned_to(username: str) -> str:
    """The user's permission sets (the profile's own among them) as a semi-join: no Id needs to be known first."""
    return ("(SELECT PermissionSetId FROM PermissionSetAssignment WHERE Assignee.Username = "
            f"{soql_quote(username.lower())})")


def psets_soql(username: str) -> str:
    return f"SELECT {PSET_FIELDS} FROM PermissionSet WHERE Id IN {_assigned_to(username)}"


def object_perms_soql(username: str, objects: list[str]) -> str:
    return ("SELECT SobjectType, PermissionsRead, PermissionsCreate, PermissionsEdit, PermissionsDelete FROM "
            f"ObjectPermissions WHERE ParentId IN {_assigned_to(username)} AND SobjectType IN {in_clause(objects)}")


def field_perms_soql(username: str, fields: list[str]) -> str:
    return ("SELECT Field, PermissionsRead, PermissionsEdit FROM FieldPermissions WHERE ParentId IN "
            f"{_assigned_to(username)} AND Field IN {in_clause(fields)}")


def tokens_soql(app: str) -> str:
    return ("SELECT Id, AppName, UserId, User.Username, User.Name, CreatedDate, LastUsedDate, UseCount "
            f"FROM OauthToken WHERE AppName = {soql_quote(app)} ORDER BY LastUsedDate DESC NULLS LAST LIMIT 50")


def logins_soql(app: str) -> str:
    return ("SELECT Id, UserId, LoginTime, LoginType, Status, Application FROM LoginHistory "
            f"WHERE Application = {soql_quote(app)} AND LoginTime = LAST_N_DAYS:30 ORDER BY LoginTime DESC LIMIT 50")


def key_of(read: Read) -> str:
    return f"sf:{read.kind}:{read.arg}"


class _Slot:
    """A fact being computed (or fetched): askers wait on ``done``; ``error`` is kept as an answer."""

    __slots__ = ("abandoned", "done", "error", "owner", "value")

    def __init__(self, owner: int | None) -> None:
        self.done = threading.Event()
        self.owner = owner  # the computing thread (None: fetched by ``prefetch``)
        self.value: Any = None
        self.error: BaseException | None = None
        self.abandoned = False  # the fetch gave up without an answer: the asker computes it itself


_IO = threading.local()  # set in the runner's I/O threads: a fact asked there runs its reads in line


def io_pool(workers: int) -> ThreadPoolExecutor:
    """The pool a run's concurrent reads go through (``CheckContext.io``)."""
    def mark() -> None:
        _IO.worker = True

    return ThreadPoolExecutor(max_workers=workers, thread_name_prefix="sfwizard-io", initializer=mark)


def stops_salesforce(exc: BaseException) -> bool:
    """A used-up API limit, a lost sign-in or an org that does not answer: no later Salesforce call can work."""
    from sfwizard.integrations.salesforce import ApiLimitExceeded, SalesforceUnreachable
    from sfwizard.integrations.signin import SignInRequired

    return isinstance(exc, (ApiLimitExceeded, SignInRequired, SalesforceUnreachable))


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
    disconnected_at: datetime | None = None  # when the integration stopped, as given (disconnect_time() reads it)
    known_article: str | None = None  # a Knowledge article title the admin knows exists
    now: datetime = field(default_factory=lambda: datetime.now(timezone.utc))
    results: dict[str, CheckResult] = field(default_factory=dict)  # id → result of this run so far
    sign_in_required: bool = False  # set by the runner: the checks could not run
    unreachable: list[str] = field(default_factory=list)  # set by the runner: checks that reached no service
    # No disconnect time given: the platform's DOWN integration's last success is it (read on first use).
    infer_disconnect: bool = False
    io: Executor | None = field(default=None, repr=False, compare=False)  # set by the runner for its run
    _memo: dict[str, Any] = field(default_factory=dict)  # key → a fact's value (tests may seed it)
    _slots: dict[str, _Slot] = field(default_factory=dict, repr=False, compare=False)  # in flight, or failed
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)
    _stop: BaseException | None = field(default=None, repr=False, compare=False)

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
        """The fact ``key``, computed by ``fn`` once per context, whichever threads ask and when.

        The first asker computes it; askers meanwhile wait and get its value or its error (an error is an
        answer too: asking again does not call again).
        """
        me = threading.get_ident()
        while True:
            with self._lock:
                if key in self._memo:
                    return self._memo[key]
                slot = self._slots.get(key)
                mine = slot is None
                if slot is None:
                    slot = self._slots[key] = _Slot(me)
            if mine:
                return self._compute(key, slot, fn)
            if slot.owner == me and not slot.done.is_set():
                raise RuntimeError(f"the fact {key!r} asked for itself")
            slot.done.wait()
            if slot.abandoned:
                continue
            if slot.error is not None:
                raise slot.error
            return slot.value  # type: ignore[no-any-return]

    def _compute(self, key: str, slot: _Slot, fn: Callable[[], T]) -> T:
        try:
            value = fn()
        except BaseException as exc:
            self._settle(key, error=exc)
            raise
        self._settle(key, value=value)
        return value

    def _settle(self, key: str, *, value: Any = None, error: BaseException | None = None,
                abandon: bool = False) -> None:
        with self._lock:
            slot = self._slots.get(key)
            if slot is None or slot.done.is_set():
                return
            if abandon:
                slot.abandoned = True
                del self._slots[key]
            elif error is not None:
                slot.error = error  # kept: later askers get the same answer
            else:
                slot.value = value
                self._memo[key] = value
                del self._slots[key]
        slot.done.set()

    # -- Salesforce reads, batched -------------------------------------------------------------------
    def read(self, read: Read) -> Any:
        """One Salesforce read, memoized by its text (what ``prefetch`` fetched is not asked again)."""
        return self.memo(key_of(read), lambda: self._read_one(read))

    def query(self, soql: str) -> list[dict[str, Any]]:
        return self.read(Read("query", soql))  # type: ignore[no-any-return]

    def count(self, soql: str) -> int:
        return self.read(Read("count", soql))  # type: ignore[no-any-return]

    def search(self, sosl: str) -> list[dict[str, Any]]:
        return self.read(Read("search", sosl))  # type: ignore[no-any-return]

    def tooling(self, soql: str) -> list[dict[str, Any]]:
        """A Tooling API query (no composite/batch carries one: each is its own request)."""
        def fetch() -> list[dict[str, Any]]:
            self._halt_if_stopped()
            return self._noting_stops(lambda: self.salesforce.tooling_query(soql))
        return self.memo("tooling:" + soql, fetch)

    def rest_get(self, path: str, params: dict[str, str] | None = None) -> Any:
        """A REST resource no composite/batch carries (``support/dataCategoryGroups``): its own request."""
        def fetch() -> Any:
            self._halt_if_stopped()
            return self._noting_stops(lambda: self.salesforce.get(path, params))
        return self.memo("get:" + path + "?" + "&".join(f"{k}={v}" for k, v in sorted((params or {}).items())), fetch)

    def prefetch(self, items: Iterable[Read | Callable[[], Any]]) -> None:
        """Fetch these reads at once: Salesforce reads not known yet in composite/batch requests (25 a request),
        each other item (a fact's bound method: a platform or status-page call, a Tooling query) alongside,
        all concurrently when the runner gave an I/O pool. Answers and errors land in the memo; nothing is
        raised here (whoever reads a fact gets its error)."""
        reads: list[Read] = []
        calls: list[Callable[[], Any]] = []
        for item in items:
            (reads if isinstance(item, Read) else calls).append(item)  # type: ignore[arg-type]
        todo: list[Read] = []
        with self._lock:
            for read in dict.fromkeys(reads):
                key = key_of(read)
                if key not in self._memo and key not in self._slots:
                    self._slots[key] = _Slot(None)
                    todo.append(read)
        jobs: list[Callable[[], None]] = [lambda c=c: self._fetch(c) for c in _split(todo)]
        jobs += [lambda c=c: _quietly(c) for c in calls]
        self._run_all(jobs)

    def _run_all(self, jobs: list[Callable[[], None]]) -> None:
        if len(jobs) > 1 and self.io is not None and not getattr(_IO, "worker", False):
            futures = [self.io.submit(job) for job in jobs[1:]]
            jobs[0]()
            for f in futures:
                f.result()
        else:
            for job in jobs:
                job()

    def _fetch(self, reads: list[Read]) -> None:
        """One composite/batch request (or a plain call for a lone read) and its answers into the memo."""
        settled = False
        try:
            try:
                self._halt_if_stopped()
                if len(reads) == 1 and reads[0].kind != "describe":
                    try:
                        answers = [self._direct(reads[0])]
                    except Exception as exc:  # noqa: BLE001 - the read's answer is its error
                        if stops_salesforce(exc):
                            raise
                        answers = [exc]
                else:
                    answers = self.salesforce.batch(reads)
            except BaseException as exc:
                if stops_salesforce(exc):
                    self.note_stop(exc)
                for read in reads:
                    self._settle(key_of(read), error=exc)
                settled = True
                return
            for read, answer in zip(reads, answers, strict=True):
                if isinstance(answer, BaseException) and stops_salesforce(answer):
                    self.note_stop(answer)
                    self._settle(key_of(read), error=answer)
                elif isinstance(answer, BaseException) and read.kind == "describe":
                    self._settle(key_of(read), value=None)  # an object not there (or hidden): None, as describe()
                elif isinstance(answer, BaseException):
                    self._settle(key_of(read), error=answer)
                else:
                    self._settle(key_of(read), value=answer)
            settled = True
        finally:
            if not settled:  # a bug on the way: whoever asks computes it
                for read in reads:
                    self._settle(key_of(read), abandon=True)

    def _read_one(self, read: Read) -> Any:
        self._halt_if_stopped()
        return self._noting_stops(lambda: self._direct(read))

    def _direct(self, read: Read) -> Any:
        sf = self.salesforce
        if read.kind == "query":
            return sf.query(read.arg)
        if read.kind == "count":
            return sf.count(read.arg)
        if read.kind == "search":
            return sf.search(read.arg)
        if read.kind == "describe":
            return sf.describe([read.arg])[read.arg]
        if read.kind == "limits":
            return sf.limits()
        raise ValueError(f"unknown read {read.kind}")

    def _noting_stops(self, fn: Callable[[], T]) -> T:
        try:
            return fn()
        except BaseException as exc:
            if stops_salesforce(exc):
                self.note_stop(exc)
            raise

    def note_stop(self, exc: BaseException) -> None:
        """Salesforce can no longer answer this run (a used-up limit, a lost sign-in, an org gone quiet)."""
        with self._lock:
            if self._stop is None:
                self._stop = exc

    @property
    def stopped(self) -> BaseException | None:
        """What stopped the Salesforce reads of this run, if anything did."""
        return self._stop

    def _halt_if_stopped(self) -> None:
        if self._stop is not None:
            raise self._stop

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
        return self.memo("org", lambda: self.query(ORG_SOQL)[0])

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
        return self.memo("app_logins", lambda: self.query(logins_soql(self.profile.connected_app)))

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

    def disconnect_time(self) -> datetime | None:
        """When the integration stopped: the time given (the admin's word, the session's), else — when asked to
        infer it — the last success of the platform's integration while it is DOWN (UP: no disconnect)."""
        if self.disconnected_at is not None or not self.infer_disconnect or self.px is None:
            return self.disconnected_at

        def infer() -> datetime | None:
            try:
                integ = self.px_integration()
            except Exception:  # the platform checks report it; inference just gives up
                return None
            return integ.last_success if integ is not None and integ.status != "UP" else None

        return self.memo("disconnect_inferred", infer)

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

    def px_subscription(self) -> dict[str, Any] | None:
        return self.memo("px_subscription", lambda: self.platform.subscription())

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


def _split(reads: list[Read]) -> list[list[Read]]:
    """Reads in requests of at most BATCH_MAX, as evenly as that allows."""
    if not reads:
        return []
    n = -(-len(reads) // BATCH_MAX)
    size = -(-len(reads) // n)
    return [reads[i:i + size] for i in range(0, len(reads), size)]


def _quietly(fn: Callable[[], Any]) -> None:
    """Run a fact for its memo: its error is kept there for whoever asks."""
    try:
        fn()
    except Exception:  # noqa: BLE001 - the memo holds it
        pass
