"""The proposed permission set as files: Metadata API XML a deploy accepts, an `sf`-ready project, private modes."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

from external_tools import REAL_SF, real_cli

from sfwizard.checks.security_proposal import Proposal
from sfwizard.recovery.permission_set import MD_NS, package_xml, permission_set_xml, write_project

MD = "{" + MD_NS + "}"
PROPOSAL = Proposal("PX_Integration_Least_Privilege", "Gainsight PX integration (least privilege)",
                    "What the <mappings> need & no more",
                    objects={"Account": frozenset({"read", "edit"}), "Subscription__c": frozenset({"read"})},
                    fields={"Account.PX_Score__c": frozenset({"read", "edit"}),
                            "Subscription__c.Plan__c": frozenset({"read"})})


def test_the_xml_is_a_permission_set_with_exactly_the_proposed_rights() -> None:
    root = ET.fromstring(permission_set_xml(PROPOSAL))
    assert root.tag == MD + "PermissionSet"
    assert root.findtext(MD + "description") == "What the <mappings> need & no more"  # escaped, read back as text
    objects = {op.findtext(MD + "object"): {c.tag[len(MD):]: c.text for c in op}
               for op in root.findall(MD + "objectPermissions")}
    assert objects["Account"]["allowEdit"] == "true" and objects["Account"]["allowCreate"] == "false"
    assert objects["Subscription__c"]["allowEdit"] == "false" and objects["Subscription__c"]["allowRead"] == "true"
    assert all(o["modifyAllRecords"] == "false" and o["viewAllRecords"] == "false" for o in objects.values())
    fields = {fp.findtext(MD + "field"): fp.findtext(MD + "editable") for fp in root.findall(MD + "fieldPermissions")}
    assert fields == {"Account.PX_Score__c": "true", "Subscription__c.Plan__c": "false"}
    perms = [up.findtext(MD + "name") for up in root.findall(MD + "userPermissions")]
    assert perms == ["ApiEnabled"]  # no Modify All Data, no View All Data
    order = [c.tag[len(MD):] for c in root]  # Salesforce's own order: alphabetical by element
    assert order == sorted(order, key=lambda t: ["description", "fieldPermissions", "hasActivationRequired", "label",
                                                  "objectPermissions", "userPermissions"].index(t))


def test_the_manifest_names_the_set() -> None:
    root = ET.fromstring(package_xml(PROPOSAL, "60.0"))
    assert root.findtext(f"{MD}types/{MD}members") == PROPOSAL.name
    assert root.findtext(f"{MD}types/{MD}name") == "PermissionSet"
    assert root.findtext(MD + "version") == "60.0"


def test_the_project_is_private_and_deployable_as_written(tmp_path: Path) -> None:
    target = write_project(PROPOSAL, tmp_path / "p", "60.0")
    folder = tmp_path / "p/force-app/main/default/permissionsets"
    assert target == folder / "PX_Integration_Least_Privilege.permissionset-meta.xml"
    project = json.loads((tmp_path / "p/sfdx-project.json").read_text())
    assert project["packageDirectories"] == [{"path": "force-app", "default": True}]
    assert "sf project deploy start --manifest manifest/package.xml" in (tmp_path / "p/README.txt").read_text()
    for path in (tmp_path / "p").rglob("*"):
        mode = stat.S_IMODE(path.stat().st_mode)
        assert mode == (0o700 if path.is_dir() else 0o600), (path, oct(mode))


@real_cli
def test_the_salesforce_cli_converts_the_project_to_a_metadata_deploy(tmp_path: Path) -> None:
    folder = tmp_path / "proj"
    write_project(PROPOSAL, folder, "60.0")
    env = {**os.environ, "HOME": str(tmp_path), "SF_DISABLE_TELEMETRY": "true", "SF_SKIP_NEW_VERSION_CHECK": "true",
           "SF_AUTOUPDATE_DISABLE": "true", "SF_USE_GENERIC_UNIX_KEYCHAIN": "true"}
    out = subprocess.run([str(REAL_SF), "project", "convert", "source", "--manifest", "manifest/package.xml",
                          "--output-dir", str(tmp_path / "mdapi"), "--json"], cwd=folder, env=env,
                         capture_output=True, text=True, timeout=180)
    assert out.returncode == 0, out.stdout + out.stderr
    converted = tmp_path / "mdapi" / "permissionsets" / f"{PROPOSAL.name}.permissionset"
    assert converted.exists()  # the CLI recognised the file as a PermissionSet in source format
    assert ET.fromstring(converted.read_text()).tag == MD + "PermissionSet"
    manifest = ET.fromstring((tmp_path / "mdapi" / "package.xml").read_text())
    assert manifest.findtext(f"{MD}types/{MD}members") == PROPOSAL.name
