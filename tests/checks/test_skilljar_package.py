"""Skilljar as its current reconnection guide runs it: the installed managed package's version, read from
Salesforce's Tooling API (InstalledSubscriberPackage) — which the sandbox now serves — the package upgrade
as the first step of the reconnect, and only package objects confirmed public required.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from external_tools import REAL_SF, real_cli

from sfwizard.checks.base import Status
from sfwizard.errors import SfwizardError
from sfwizard.integrations.transport import ssl_context
from sfwizard.profiles import load_profile
from sfwizard.sandbox.faults import FaultInjector
from sfwizard.sandbox.http import sf_error

DOC_QUERY = ("SELECT Id, SubscriberPackageId, SubscriberPackage.NamespacePrefix, SubscriberPackage.Name, "
             "SubscriberPackageVersion.Id, SubscriberPackageVersion.Name, SubscriberPackageVersion.MajorVersion, "
             "SubscriberPackageVersion.MinorVersion, SubscriberPackageVersion.PatchVersion, "
             "SubscriberPackageVersion.BuildNumber FROM InstalledSubscriberPackage ORDER BY SubscriberPackageId")


def _scenario(tmp_path: Path, org_lines: str, name: str = "sj") -> str:
    path = tmp_path / f"{name}.yaml"
    path.write_text(f"schema: 1\nname: {name}\nextends: skilljar-recent\norgs:\n  prod:\n{org_lines}")
    return str(path)


def _token(c: httpx.Client, info: dict) -> str:
    return c.post(info["login_url"] + "/services/oauth2/token", data={
        "grant_type": "password", "client_id": info["client_id"], "client_secret": info["client_secret"],
        "username": info["username"], "password": info["password"]}).json()["access_token"]


def _get(c: httpx.Client, info: dict, path: str, q: str) -> httpx.Response:
    return c.get(f"{info['instance_url']}/services/data/v60.0/{path}", params={"q": q},
                 headers={"Authorization": f"Bearer {_token(c, info)}"})


# -- the sandbox's Tooling query -------------------------------------------------------------------------------

def test_the_tooling_query_lists_the_installed_package_at_the_scenarios_version(start_sandbox, tmp_path) -> None:
    sb = start_sandbox(_scenario(tmp_path, '    skilljar_package_version: "2.3.1.7"\n'))
    info = sb.info()
    with httpx.Client(verify=ssl_context(info["ca_cert"]), timeout=10) as c:
        r = _get(c, info, "tooling/query/", DOC_QUERY)
        data_api = _get(c, info, "query/", "SELECT Id FROM InstalledSubscriberPackage")
    assert r.status_code == 200, r.text
    body = r.json()
    assert {k: body[k] for k in ("size", "totalSize", "done", "queryLocator", "entityTypeName")} == {
        "size": 1, "totalSize": 1, "done": True, "queryLocator": None, "entityTypeName": "InstalledSubscriberPackage"}
    row = body["records"][0]
    assert row["Id"].startswith("0A3") and row["SubscriberPackageId"].startswith("033")
    assert row["attributes"]["url"].startswith("/services/data/v60.0/tooling/sobjects/InstalledSubscriberPackage/")
    assert (row["SubscriberPackage"]["NamespacePrefix"], row["SubscriberPackage"]["Name"]) == ("skilljar", "Skilljar")
    v = row["SubscriberPackageVersion"]
    assert v["Id"].startswith("04t")
    assert (v["MajorVersion"], v["MinorVersion"], v["PatchVersion"], v["BuildNumber"]) == (2, 3, 1, 7)  # numbers
    assert data_api.status_code == 400 and data_api.json()[0]["errorCode"] == "INVALID_TYPE"  # Tooling only


def test_an_org_without_the_package_lists_nothing(start_sandbox) -> None:
    info = start_sandbox("healthy").info()
    with httpx.Client(verify=ssl_context(info["ca_cert"]), timeout=10) as c:
        body = _get(c, info, "tooling/query", DOC_QUERY).json()
    assert (body["size"], body["records"]) == (0, [])


@pytest.mark.parametrize("value", ['"2.3"', "2.3", '"v2.3.1.7"'])
def test_a_bad_package_version_names_file_line_and_column(tmp_path, value: str) -> None:
    from sfwizard.sandbox.scenarios.loader import load_scenario

    path = _scenario(tmp_path, f"    skilljar_package_version: {value}\n")
    with pytest.raises(SfwizardError) as err:
        load_scenario(path)
    assert re.match(rf"{re.escape(path)}:6:\d+: orgs\.prod\.skilljar_package_version: ", err.value.message), \
        err.value.message


# -- the check ---------------------------------------------------------------------------------------------------

@contextmanager
def demo(scenario: str):
    from sfwizard import demo as demo_mod

    with demo_mod.open_demo(scenario) as conn:
        yield conn, demo_mod._SANDBOXES[-1]


def _package(conn) -> Any:
    ctx = conn.client.context(snapshot=conn.snapshot)
    return conn.client.run_checks(ctx, only=["skilljar.package"])[0]


def test_the_check_shows_the_installed_version_before_and_after_an_upgrade(tmp_path) -> None:
    with demo(_scenario(tmp_path, '    skilljar_package_version: "2.3.1.7"\n')) as (conn, sb):
        before = _package(conn)
        with sb.state.lock:
            sb.state.default_org.installed_packages[0]["version"] = "2.4.0.2"  # Install for All Users → Upgrade
        after = _package(conn)
    assert before.status == after.status == Status.PASS
    assert before.evidence["installed_version"] == "2.3.1.7" and "2.3.1.7" in before.summary
    assert after.evidence["installed_version"] == "2.4.0.2"


def test_a_refused_tooling_query_leaves_the_version_unknown_not_failed(monkeypatch) -> None:
    real = FaultInjector.before

    def before(self, req):
        if "/tooling/" in req.path:
            return sf_error(403, "INSUFFICIENT_ACCESS_OR_READONLY", "insufficient access rights on object id")
        return real(self, req)

    monkeypatch.setattr(FaultInjector, "before", before)
    with demo("skilljar-recent") as (conn, _):
        r = _package(conn)
    assert r.status == Status.PASS and r.evidence["installed_version"] is None
    assert r.evidence["version_unknown"] == "the Tooling API refused: INSUFFICIENT_ACCESS_OR_READONLY"


def test_an_unconfirmed_object_is_not_required() -> None:
    """A "Published Course" object is documented, but its API name is not confirmed anywhere public."""
    assert "skilljar__Published_Course__c" not in load_profile("skilljar").backfill["objects"]
    with demo("skilljar-recent") as (conn, sb):
        with sb.state.lock:
            org = sb.state.default_org
            name = "skilljar__Published_Course__c"
            del org.schema[name], org._schema_lower[name.lower()], org.tables[name]
        r = _package(conn)
    assert r.status == Status.PASS and r.evidence["missing"] == []


# -- the upgrade is the first step -------------------------------------------------------------------------------

def test_the_package_upgrade_comes_first_in_the_reconnect_step() -> None:
    p = load_profile("skilljar")
    said = p.actors_of("reauthorize")
    first_actor, first_text = next(iter(said.items()))
    assert first_actor == "platform_admin"  # shown first: it must not start with Reconnect
    assert first_text.index("package upgrade") < first_text.index("Reconnect")  # Skilljar's own button name
    assert said["salesforce_admin"].startswith("Step 1, before anyone reconnects: upgrade the Skilljar managed package")
    assert p.runbook["reauthorize"].startswith("First upgrade the Skilljar managed package")
    reconnect = [c for c in p.checklist if c.group == "Reconnect"]
    assert "upgraded" in reconnect[0].item and reconnect[0].proven_by == ("skilljar.package",) and reconnect[0].confirm


# -- the real CLI reads it the same way ------------------------------------------------------------------------



@real_cli
def test_sf_package_installed_list_reads_the_sandbox(start_sandbox, tmp_path) -> None:
    sb = start_sandbox(_scenario(tmp_path, '    skilljar_package_version: "2.3.1.7"\n'))
    info = sb.info()
    with httpx.Client(verify=ssl_context(info["ca_cert"]), timeout=10) as c:
        token = _token(c, info)
    env = {**os.environ, "HOME": str(tmp_path), "NODE_EXTRA_CA_CERTS": info["ca_cert"],
           "SF_USE_GENERIC_UNIX_KEYCHAIN": "true", "SF_DISABLE_TELEMETRY": "true",
           "SF_SKIP_NEW_VERSION_CHECK": "true", "SF_AUTOUPDATE_DISABLE": "true"}
    login = subprocess.run([str(REAL_SF), "org", "login", "access-token", "--instance-url", info["instance_url"],
                            "--no-prompt", "--alias", "sbx", "--json"], env={**env, "SF_ACCESS_TOKEN": token},
                           capture_output=True, text=True, timeout=120)
    assert login.returncode == 0, login.stdout
    out = subprocess.run([str(REAL_SF), "package", "installed", "list", "--target-org", "sbx", "--json"], env=env,
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stdout + out.stderr
    rows = json.loads(out.stdout)["result"]
    assert [(r["SubscriberPackageNamespace"], r["SubscriberPackageVersionNumber"]) for r in rows] == [
        ("skilljar", "2.3.1.7")]
