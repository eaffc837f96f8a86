"""The scenario format's ``security:`` block: what Salesforce would refuse is refused with file:line:column, and
what it plants is what a review then reads."""

from __future__ import annotations

from pathlib import Path

import pytest

from sfwizard.errors import SfwizardError
from sfwizard.sandbox.salesforce import security as sec
from sfwizard.sandbox.scenarios.loader import connection_info, load_scenario

BASE = "schema: 1\nname: x\nextends: diagnosis/sec-clean-integration\nsecurity:\n"


@pytest.mark.parametrize("body, where, words", [
    ("  login_ip_ranges:\n    Minimum Access - API Only Integrations: [10.0.0.9-10.0.0.1]\n", ":6:", "end"),
    ("  login_ip_ranges:\n    Nobody Profile: [10.0.0.0/8]\n", ":6:", "Nobody Profile"),
    ("  tokens:\n    - {user: ghost, app: gainsight}\n", ":6:", "ghost"),
    ("  tokens:\n    - {user: rep, app: nosuchapp}\n", ":6:", "nosuchapp"),
    ("  tokens:\n    - {user: rep, app: gainsight, created: -2d, last_used: -5d}\n", ":6:",
     "a token cannot be used before it was created"),
    ("  logins:\n    - {user: integration, app: gainsight, ip: 203.0.113.9, from: +1d}\n", ":6:",
     "cannot be in the future"),
    ("  logins:\n    - {user: integration, app: gainsight, ip: 203.0.113.9, from: -1d, to: -3d}\n", ":6:",
     "the logins end before they start"),
    ("  logins:\n    - {user: integration, app: gainsight, ip: not-an-ip, from: -1d}\n", ":6:", "not-an-ip"),
    ("  audit_trail:\n    - {at: -200d, by: admin, action: PermSetAssign, section: Manage Users, display: x}\n",
     ":6:", "180 days"),
    ("  connected_apps:\n    gainsight: {refresh_token: {policy: expire_after, period: 0}}\n", ":6:", "period"),
    ("  connected_apps:\n    gainsight: {approved: [No Such Set]}\n", ":6:", "No Such Set"),
    ("  event_monitoring: sometimes\n", ":5:", "sometimes"),
    ("  declared_egress: {ranges: [999.1.1.1/8], source: https://x.example}\n", ":5:", "999.1.1.1"),
])
def test_what_salesforce_would_refuse_is_one_positioned_line(tmp_path: Path, body: str, where: str,
                                                             words: str) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(BASE + body)
    with pytest.raises(SfwizardError) as err:
        load_scenario(str(path))
    message = err.value.message
    assert "\n" not in message
    assert words in message, message
    assert f"{path}{where}" in message, message


def test_the_block_plants_what_the_review_reads(tmp_path: Path) -> None:
    path = tmp_path / "ok.yaml"
    path.write_text(BASE + """\
  event_monitoring: developer
  networks: [{ip: 198.51.100.23, country: Netherlands, country_iso: NL, city: Amsterdam}]
  logins: [{user: integration, app: gainsight, ip: 198.51.100.23, from: -2d, to: -1d, count: 5}]
  tokens: [{user: rep, app: gainsight, created: -20d, last_used: -2d, use_count: 14}]
  login_ip_ranges:
    Minimum Access - API Only Integrations: [34.201.12.0/24, {start: 10.0.0.1, end: 10.0.0.9}]
  declared_egress: {ranges: [34.201.12.0/24], source: https://vendor.example/ips}
""")
    state = load_scenario(str(path))
    org = state.default_org
    planted = [r for r in org.table("LoginHistory").scan() if r["SourceIp"] == "198.51.100.23"]
    assert len(planted) == 5
    geo = org.table("LoginGeo").get(planted[0]["LoginGeoId"])
    assert (geo["City"], geo["Country"], geo["CountryIso"]) == ("Amsterdam", "Netherlands", "NL")
    ranges = sorted((r["StartAddress"], r["EndAddress"]) for r in org.table("LoginIpRange").scan())
    assert ranges == [("10.0.0.1", "10.0.0.9"), ("34.201.12.0", "34.201.12.255")]
    days = {str(r["LogDate"])[:10] for r in org.table("EventLogFile").scan()}
    assert len(days) <= sec.RETENTION_DAYS["developer"]  # Developer Edition keeps a day
    rep = org.user_by_username("owen.brooks@larkspur.example")
    assert [r["AppName"] for r in org.table("OauthToken").scan() if r["UserId"] == rep["Id"]] == ["Gainsight PX"]
    info = connection_info(state, certs=_NoCerts())
    assert info["declared_egress"] == {"ranges": ["34.201.12.0/24"], "source": "https://vendor.example/ips"}


class _NoCerts:
    ca_cert = Path("/dev/null")
