"""Our status-page client against the sandbox."""

from __future__ import annotations

from sfwizard.integrations.statuspage import StatusPageAPI
from sfwizard.integrations.transport import Http


def test_our_status_client_reads_it(start_sandbox) -> None:
    info = start_sandbox("status-incident").info()
    http = Http(ca_cert=info["ca_cert"])
    try:
        summary = StatusPageAPI(http, info["status_url"]).summary()
    finally:
        http.close()
    assert summary.indicator == "major"
    assert ("Salesforce Integration", "partial_outage") in summary.components
    assert summary.incidents[0].status == "identified"
