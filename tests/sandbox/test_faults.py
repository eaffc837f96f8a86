"""Faults: the ``--fault`` specs and a scenario's ``faults:`` block, and what each does on the wire (the
Salesforce- and PX-specific ones are in tests/sandbox/salesforce/test_rest.py and tests/sandbox/px/)."""

from __future__ import annotations

import time

import httpx
import pytest

from sfwizard.errors import SfwizardError
from sfwizard.integrations.transport import tls_verify
from sfwizard.sandbox.faults import apply_spec
from sfwizard.sandbox.scenarios.loader import load_scenario
from sfwizard.sandbox.state import Faults


def _client(info: dict) -> httpx.Client:
    return httpx.Client(verify=tls_verify(info["ca_cert"]), timeout=10)


# -- the specs ------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("spec,attr,value", [
    ("latency=50~10", "latency_ms", 50), ("error=0.25:500", "error_status", 500), ("drop=0.1", "drop_rate", 0.1),
    ("expire-token=3", "token_expires_after", 3), ("request-limit=7", "request_limit_after", 7),
    ("px-rate=5", "px_rate_per_second", 5), ("px-429=0.5", "px_429_rate", 0.5),
])
def test_fault_specs_parse(spec: str, attr: str, value: object) -> None:
    f = Faults()
    apply_spec(f, spec)
    assert getattr(f, attr) == value


@pytest.mark.parametrize("spec", ["bogus=1", "error=2", "error=0.1:404", "latency=x", "drop"])
def test_bad_fault_spec_is_one_line_error(spec: str) -> None:
    with pytest.raises(SfwizardError) as err:
        apply_spec(Faults(), spec)
    assert "\n" not in str(err.value)
    assert spec.split("=")[0] in str(err.value)


def test_scenario_faults_block_applies(tmp_path) -> None:
    path = tmp_path / "flaky.yaml"
    path.write_text("schema: 1\nname: flaky\nextends: healthy\nfaults: {error: '0.2:503', expire-token: 5}\n")
    state = load_scenario(str(path))
    assert (state.faults.error_rate, state.faults.error_status, state.faults.token_expires_after) == (0.2, 503, 5)


# -- on the wire ----------------------------------------------------------------------------------------------

def test_error_fault_answers_5xx_as_salesforce_does(start_sandbox, caplog) -> None:
    info = start_sandbox("healthy", faults=["error=1.0:500"]).info()
    with _client(info) as c:
        r = c.get(info["instance_url"] + "/services/data/v60.0/limits", headers={"Authorization": "Bearer x"})
    assert r.status_code == 500
    assert r.json()[0]["errorCode"] == "UNKNOWN_EXCEPTION"
    assert "fault: 500" in caplog.text


def test_drop_fault_closes_the_connection(start_sandbox, caplog) -> None:
    info = start_sandbox("healthy", faults=["drop=1.0"]).info()
    with _client(info) as c, pytest.raises(httpx.TransportError):
        c.get(info["status_url"] + "/api/v2/status.json")
    assert "fault: dropped connection" in caplog.text


def test_latency_fault_delays_answers(start_sandbox) -> None:
    info = start_sandbox("healthy", faults=["latency=150"]).info()
    with _client(info) as c:
        t0 = time.monotonic()
        c.get(info["status_url"] + "/api/v2/status.json")
        assert time.monotonic() - t0 >= 0.15
