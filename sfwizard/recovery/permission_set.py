"""The proposed least-privilege permission set as a file a Salesforce admin deploys — never applied by sfwizard.

``write_project`` writes a Salesforce DX project: the permission set in source format
(``force-app/main/default/permissionsets/<Name>.permissionset-meta.xml``: the Metadata API's PermissionSet type,
stored in the ``permissionsets`` directory), a manifest naming it (``manifest/package.xml``) and
``sfdx-project.json``; deploy it with ``sf project deploy start --manifest manifest/package.xml``. Files are 0600 in
0700 folders, as everything sfwizard writes.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from sfwizard.checks.security_proposal import Proposal

MD_NS = "http://soap.sforce.com/2006/04/metadata"


def permission_set_xml(p: Proposal) -> str:
    """The permission set in Metadata API form (its elements in the order Salesforce writes them)."""
    def el(name: str, value: Any) -> str:
        text = ("true" if value else "false") if isinstance(value, bool) else escape(str(value))
        return f"        <{name}>{text}</{name}>"

    out = ['<?xml version="1.0" encoding="UTF-8"?>', f'<PermissionSet xmlns="{MD_NS}">',
           f"    <description>{escape(p.description)}</description>"]
    for full, rights in sorted(p.fields.items()):
        out += ["    <fieldPermissions>", el("editable", "edit" in rights), el("field", full),
                el("readable", True), "    </fieldPermissions>"]
    out += ["    <hasActivationRequired>false</hasActivationRequired>", f"    <label>{escape(p.label)}</label>"]
    for obj, rights in sorted(p.objects.items()):
        out += ["    <objectPermissions>", el("allowCreate", "create" in rights), el("allowDelete", "delete" in rights),
                el("allowEdit", "edit" in rights), el("allowRead", True), el("modifyAllRecords", False),
                el("object", obj), el("viewAllRecords", False), "    </objectPermissions>"]
    for perm in p.user_permissions:
        out += ["    <userPermissions>", el("enabled", True), el("name", perm), "    </userPermissions>"]
    out.append("</PermissionSet>")
    return "\n".join(out) + "\n"


def package_xml(p: Proposal, api_version: str) -> str:
    return "\n".join([
        '<?xml version="1.0" encoding="UTF-8"?>', f'<Package xmlns="{MD_NS}">', "    <types>",
        f"        <members>{escape(p.name)}</members>", "        <name>PermissionSet</name>", "    </types>",
        f"    <version>{escape(api_version)}</version>", "</Package>"]) + "\n"


def write_project(p: Proposal, folder: Path, api_version: str = "60.0") -> Path:
    """The proposal as a Salesforce DX project in ``folder`` (made 0700, files 0600); returns the permission set
    file's path. Deploy from the folder: ``sf project deploy start --manifest manifest/package.xml``."""
    from sfwizard.fileio import private_dir, write_atomic

    sets = private_dir(folder)
    for part in ("force-app", "main", "default", "permissionsets"):  # each level 0700, not only the last
        sets = private_dir(sets / part)
    private_dir(folder / "manifest")
    target = sets / f"{p.name}.permissionset-meta.xml"
    write_atomic(target, permission_set_xml(p).encode(), what="the proposed permission set")
    write_atomic(folder / "manifest" / "package.xml", package_xml(p, api_version).encode(), what="package.xml")
    project = {"packageDirectories": [{"path": "force-app", "default": True}], "name": "sfwizard-least-privilege",
               "namespace": "", "sourceApiVersion": api_version}
    write_atomic(folder / "sfdx-project.json", (json.dumps(project, indent=2) + "\n").encode(), what="sfdx-project")
    readme = (f"The least-privilege permission set sfwizard proposes for the integration user: {p.label}.\n"
              "Review it, then deploy from this folder:\n\n"
              "    sf project deploy start --manifest manifest/package.xml --target-org YOUR_ORG\n\n"
              "then assign it to the integration user and remove the broader permission sets it replaces:\n\n"
              f"    sf org assign permset --name {p.name} --on-behalf-of INTEGRATION_USERNAME --target-org YOUR_ORG\n")
    write_atomic(folder / "README.txt", readme.encode(), what="README")
    return target
