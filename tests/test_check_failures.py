"""The checks the scenario diagnoses do not already drive into their failing (or warning) state."""

from __future__ import annotations

import contextlib
import dataclasses
import threading
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest

from sfwizard import snapshot
from sfwizard.checks import reasons
from sfwizard.checks.base import CheckResult, Status
from sfwizard.demo import approve_in_sandbox
from sfwizard.integrations import signin
from sfwizard.recovery.client import Endpoints, IntegrationClient
from sfwizard.sandbox.admin.routes import state_json
from sfwizard.sandbox.scenarios.loader import load_scenario
from sfwizard.sandbox.server import Sandbox


@contextlib.contextmanager
def signed_in(state, certs, *, role: str = "admin", profile: str | None = None,
              px_key: str | None = None) -> Iterator[tuple[IntegrationClient, Any, Sandbox]]:
    sb = Sandbox(state, certs=certs).start()
    try:
        info = sb.info()
        who = next(u for u in info["users"] if u["role"] == role and u["org"] == state.default_org_key)

        def on_url(url: str) -> None:
            threading.Thread(target=approve_in_sandbox, args=(url, {**info, **who}), daemon=True).start()

        tokens = signin.web_login(info["login_url"], info["client_id"], port=0, open_browser=False, on_url=on_url,
                                  ca_cert=info["ca_cert"], timeout=30)
        client = IntegrationClient(profile or state.profile, Endpoints(
            instance_url=tokens.instance_url, access_token=tokens.access_token, px_api_url=info["px_api_url"],
            px_api_key=px_key or info["px_api_key"], status_url=info["status_url"], ca_cert=info["ca_cert"]))
        snap = snapshot.from_sandbox_state(state_json(state)) if state.platform else None
        try:
            yield client, snap, sb
        finally:
            client.close()
    finally:
        sb.stop()


def run(client: IntegrationClient, snap: Any, ids: list[str], **ctx: Any) -> dict[str, CheckResult]:
    results = client.run_checks(client.context(snapshot=snap, **ctx), only=ids)
    for r in results:
        assert not reasons.problem(r.status.value, r.reason), (r.id, reasons.problem(r.status.value, r.reason))
    return {r.id: r for r in results}


def test_a_non_admin_cannot_fix_permissions(tls_certs) -> None:
    with signed_in(load_scenario("healthy"), tls_certs, role="rep") as (client, snap, _):
        r = run(client, snap, ["before.salesforce_admin"])["before.salesforce_admin"]
    assert r.status == Status.WARN
    assert r.reason == "admin.cannot_manage_users"
    assert r.evidence["manage_users"] is False
    assert r.resolution


def test_a_refused_platform_key_fails_in_one_line(tls_certs) -> None:
    with signed_in(load_scenario("healthy"), tls_certs, px_key="wrong-key") as (client, snap, _):
        r = run(client, snap, ["before.platform_api"])["before.platform_api"]
    assert r.status == Status.FAIL
    assert r.reason == "service.error"
    assert "401" in r.summary  # the one line says what the platform answered…
    assert "SFWIZARD_PX_API_KEY" in r.resolution  # …and what to set


def test_mapping_checks_fail_on_missing_fields_and_attributes(tls_certs) -> None:
    with signed_in(load_scenario("healthy"), tls_certs) as (client, snap, _):
        extra = (snapshot.FieldMapping("Account.Gone__c", "account.industry", "sf_to_px"),
                 snapshot.FieldMapping("Account.Industry", "account.noSuchAttribute", "sf_to_px"))
        broken = dataclasses.replace(snap, mappings=snap.mappings + extra)
        res = run(client, broken, ["mapping.salesforce_fields", "mapping.platform_attributes"])
    assert res["mapping.salesforce_fields"].status == Status.FAIL
    assert res["mapping.salesforce_fields"].reason == "mapping.field_missing"
    assert "Account.Gone__c" in res["mapping.salesforce_fields"].evidence["missing"]
    assert res["mapping.platform_attributes"].status == Status.FAIL
    assert res["mapping.platform_attributes"].reason == "mapping.attribute_missing"
    assert "account.noSuchAttribute" in res["mapping.platform_attributes"].evidence["missing"]


def test_read_sources_names_the_missing_object(tls_certs) -> None:
    with signed_in(load_scenario("healthy"), tls_certs) as (client, snap, _):
        broken = dataclasses.replace(snap, custom_objects=snap.custom_objects + ("Lead",))
        r = run(client, broken, ["perm.read_sources"])["perm.read_sources"]
    assert r.status == Status.FAIL
    assert r.reason == "perm.object_read_missing"
    assert r.evidence["missing_objects"] == ["Lead"]
    assert "Read on object Lead" in r.evidence["missing"]  # named as Setup names it


def test_proactive_checks_warn(tls_certs) -> None:
    state = load_scenario("healthy")
    org = state.default_org
    integ = org.user(state.platform.integration.user_id)
    integ["LastPasswordChangeDate"] = state.loaded_at - timedelta(days=85)
    org.api_used = int(org.api_max * 0.9)
    with signed_in(state, tls_certs) as (client, snap, _):
        admin = dataclasses.replace(snap, integration_user=snapshot.IntegrationUser("avery.admin@northwind.example"))
        res = run(client, snap, ["proactive.password_age", "proactive.api_headroom"])
        mine = run(client, admin, ["proactive.dedicated_user"])["proactive.dedicated_user"]
    assert res["proactive.password_age"].status == Status.WARN
    assert res["proactive.password_age"].reason == "proactive.password_expiring"
    assert res["proactive.password_age"].evidence["age_days"] == 85
    assert res["proactive.api_headroom"].status == Status.WARN
    assert res["proactive.api_headroom"].reason == "proactive.api_high_usage"
    assert mine.status == Status.WARN
    assert mine.reason == "proactive.personal_user"
    assert "dedicated integration user" in mine.resolution  # the way out is the point


def test_knowledge_checks_fail(tls_certs) -> None:
    state = load_scenario("healthy")
    for article in state.default_org.table("KnowledgeArticleVersion").scan():
        article["IsVisibleInPrm"] = False
    with signed_in(state, tls_certs) as (client, snap, _):
        k = dataclasses.replace(snap.knowledge, categories=("Products.Retired",), accessibility=("Partner",))
        res = run(client, dataclasses.replace(snap, knowledge=k),
                  ["knowledge.categories", "knowledge.visibility", "knowledge.search"],
                  known_article="zzz no such article")
    assert res["knowledge.categories"].status == Status.FAIL
    assert res["knowledge.categories"].reason == "knowledge.category_missing"
    assert res["knowledge.categories"].evidence["missing"] == ["Products.Retired"]
    assert res["knowledge.visibility"].status == Status.FAIL
    assert res["knowledge.visibility"].reason == "knowledge.not_visible"
    assert res["knowledge.visibility"].evidence["counts"] == {"Partner": 0}
    assert res["knowledge.search"].status == Status.FAIL
    assert res["knowledge.search"].reason == "knowledge.article_not_found"
    assert res["knowledge.search"].evidence["searched"] == "zzz no such article"


def test_skilljar_package_missing_fails(tls_certs) -> None:
    with signed_in(load_scenario("healthy"), tls_certs, profile="skilljar") as (client, _, __):
        r = run(client, None, ["skilljar.package"])["skilljar.package"]
    assert r.status == Status.FAIL
    assert r.reason == "skilljar.package_missing"
    assert "skilljar__Student__c" in r.evidence["missing"]


def test_backfill_arrival_warns_then_passes(tls_certs) -> None:
    import httpx

    from sfwizard.integrations.transport import tls_verify

    state = load_scenario("skilljar-recent")
    with signed_in(state, tls_certs) as (client, _, sb):
        info = sb.info()
        now = state.now()
        before = run(client, None, ["skilljar.backfill_arrived"], reauthorized_at=now)["skilljar.backfill_arrived"]
        with httpx.Client(verify=tls_verify(info["ca_cert"])) as http:
            r = http.get(info["admin_url"] + "__sandbox__/skilljar/authorize")
            integ = next(u for u in info["users"] if u["role"] == "integration")
            approve_in_sandbox(info["login_url"] + r.headers["location"], {**info, **integ})
            assert http.post(info["admin_url"] + "__sandbox__/skilljar/backfill").status_code == 200
        after = run(client, None, ["skilljar.backfill_arrived"], reauthorized_at=now)["skilljar.backfill_arrived"]
    assert before.status == Status.WARN
    assert before.reason == "skilljar.backfill_not_arrived"
    assert "Backfill" in before.resolution  # names the button to click
    assert after.status == Status.PASS
    assert after.reason == ""
    assert sum(after.evidence["records"].values()) >= 35


@pytest.mark.parametrize("source,reason,evidence,symptom", [
    ("token.fresh", "token.app_blocked", {}, "ts.app_blocked"),
    ("proactive.api_headroom", "proactive.api_exhausted", {}, "ts.api_limit"),
    ("identity.org", "salesforce.limit_exceeded", {"errorCode": "REQUEST_LIMIT_EXCEEDED"}, "ts.api_limit"),
    ("token.fresh", "token.login_failed", {}, "ts.access_denied"),
])
def test_rarer_symptoms_are_recognised(source: str, reason: str, evidence: dict, symptom: str) -> None:
    from sfwizard.checks.base import CheckSpec, fail
    from sfwizard.checks.context import CheckContext
    from sfwizard.checks.runner import REGISTRY, run_checks
    from sfwizard.profiles import load_profile

    spec = CheckSpec(source, source, "reauthorize", lambda c: fail(reason, "words", "cause", "fix", **evidence),
                     ("gainsight-px",), ())
    ctx = CheckContext(load_profile("gainsight-px"))
    headroom = [REGISTRY["proactive.api_headroom"]] if source != "proactive.api_headroom" else []
    results = run_checks(ctx, [spec, *headroom, REGISTRY[symptom]])  # (headroom: what ts.api_limit looks at)
    r = results[-1]
    assert r.status == Status.FAIL
    assert r.reason == symptom
    assert r.evidence["seen_in"] == [source]
    assert r.cause
