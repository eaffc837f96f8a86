"""The production path: settings, the saved sign-in with refresh-once, and the IntegrationClient."""

from __future__ import annotations

import argparse
import contextlib
from collections.abc import Iterator
from typing import Any

from sfwizard.errors import SfwizardError
from sfwizard.integrations import credentials, settings, signin
from sfwizard.recovery.client import Endpoints, IntegrationClient


def identity_line(client: IntegrationClient) -> str:
    sf = client.salesforce
    org = sf.query("SELECT Id, Name, IsSandbox, InstanceName FROM Organization")[0]
    me = sf.userinfo()
    kind = "SANDBOX" if org["IsSandbox"] else "production"
    return f"Signed in to {org['Name']} ({org['Id']}, {kind}, {org['InstanceName']}) as {me.get('preferred_username')}"


@contextlib.contextmanager
def live_client(args: argparse.Namespace) -> Iterator[tuple[IntegrationClient, dict[str, Any]]]:
    conf = settings.resolve({"profile": getattr(args, "profile", None)})
    tokens = credentials.load()
    if tokens is None:
        raise SfwizardError("not signed in to Salesforce",
                            "sign in first: sfwizard login (or try: sfwizard check --demo)")
    current = {"tokens": tokens}

    def refresh() -> str:
        current["tokens"] = signin.refresh(current["tokens"], save=credentials.save, ca_cert=conf.ca_cert)
        return current["tokens"].access_token

    endpoints = Endpoints(instance_url=tokens.instance_url, access_token=tokens.access_token,
                          api_version=conf.api_version, px_api_url=conf.px_api_url, px_api_key=conf.px_api_key,
                          status_url=conf.status_url, ca_cert=conf.ca_cert)
    client = IntegrationClient(conf.profile, endpoints, refresh=refresh if tokens.refresh_token else None)
    snapshot = None
    if getattr(args, "snapshot", None):
        from sfwizard import snapshot as snap

        snapshot = snap.load(args.snapshot)
    try:
        yield client, {"snapshot": snapshot}
    finally:
        client.close()
