"""Our Gainsight PX client against the sandbox."""

from __future__ import annotations

import time

from sfwizard.integrations.px import PxAPI
from sfwizard.integrations.transport import Http


def test_monitoring_down_after_the_advisory_through_our_client(start_sandbox) -> None:
    info = start_sandbox("revoked-token").info()
    http = Http(ca_cert=info["ca_cert"])
    try:
        rows = PxAPI(http, info["px_api_url"], info["px_api_key"]).integrations()
    finally:
        http.close()
    sf = next(r for r in rows if r.name == "Salesforce")
    kc = next(r for r in rows if "Knowledge" in r.name)
    assert sf.status == "DOWN"
    assert sf.last_error.startswith("INVALID_SESSION_ID")
    assert 2.9 * 86400 < time.time() - sf.last_success.timestamp() < 3.1 * 86400
    assert kc.status == "DOWN"  # the Knowledge Center rides on the same token
