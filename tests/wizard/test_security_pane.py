"""The Security review step as the Salesforce admin uses it: the review read when the step is shown, another
user's token of the vendor's app named and revoked from the wizard after a confirmation (the sandbox's OauthToken
row gone), the least-privilege permission set written, and a hardening step applied in Salesforce's Setup turning
its row green by itself while the step is on screen."""

from __future__ import annotations

from typing import Any

import pytest
from sfwizard.screens.app import WizardApp

from sfwizard.cli import WizardOptions


async def to_security(d: Any) -> None:
    await d.demo_sign_in()
    d.rec.session.completed += ["connect", "impact"]  # the steps between are not at issue here
    d.frame.go_to("mappings")  # the snapshot names the integration user: the review knows whose tokens are whose
    await d.settled("mappings")
    await d.press("v")
    await d.until(lambda: d.idle() and d.pane.draft is not None, "the mapping screens read", 30)
    await d.press("w")
    await d.gate_open("mappings", 30)
    await d.next("security")
    await d.until(lambda: d.step == "security" and "sec.tokens" in d.rec.navigator.results, "the review", 60)


@pytest.mark.usefixtures("fast_waits")
def test_another_users_token_is_named_and_revoked_after_a_confirmation(driver_for) -> None:
    app = WizardApp(WizardOptions(demo=True, scenario="diagnosis/sec-stray-tokens"))

    async def body(d: Any) -> None:
        await to_security(d)
        stray = d.rec.revocable_tokens()
        assert stray, d.rec.navigator.results["sec.tokens"].summary
        holder = stray[0]["user"]
        assert holder in d.pane.query_one("#review").text
        await d.press("k")
        await d.dialog("ChoiceDialog")
        await d.pilot.click("#t0")
        await d.dialog("ConfirmDialog")
        await d.type("Sam Salesforce")
        await d.press("enter")
        await d.until(lambda: bool((d.rec.session.facts.get("security_revocations") or {}).get("value")),
                      "the revocation recorded", 30)
        record = d.rec.session.facts["security_revocations"]["value"][-1]
        assert record["who"] == "Sam Salesforce" and record["tokens"][0]["user"] == holder
        await d.until(lambda: all(t["user"] != holder for t in d.rec.revocable_tokens()), "the review again", 30)
        assert "DeleteToken" not in str(d.rec.session.to_dict())  # never kept

    driver_for.run(app, body, (120, 40))


@pytest.mark.usefixtures("fast_waits")
def test_the_least_privilege_permission_set_is_written_never_applied(driver_for) -> None:
    app = WizardApp(WizardOptions(demo=True, scenario="diagnosis/sec-over-privileged"))

    async def body(d: Any) -> None:
        await to_security(d)
        await d.until(lambda: "sec.reach" in d.rec.navigator.results, "the reach", 30)
        await d.press("p")
        await d.until(lambda: d.rec.navigator.has_fact("permission_set_written"), "the file", 30)
        from pathlib import Path

        path = Path(d.rec.session.facts["permission_set_written"]["value"])
        assert path.name.endswith(".permissionset-meta.xml") and path.is_file()
        assert (path.stat().st_mode & 0o077) == 0  # private to the user

    driver_for.run(app, body, (120, 40))


@pytest.mark.usefixtures("fast_waits")
def test_a_hardening_step_applied_in_setup_turns_its_row_green_by_itself(driver_for) -> None:
    """While the step is on screen the review is read again every few seconds: the refresh-token policy set in
    Salesforce's Setup (the sandbox's stand-in page) turns sec.refresh_policy green with no key pressed."""
    import httpx

    from sfwizard.integrations.transport import ssl_context

    app = WizardApp(WizardOptions(demo=True, scenario="skilljar-recent"))

    async def body(d: Any) -> None:
        await to_security(d)
        await d.until(lambda: "sec.refresh_policy" in d.rec.navigator.results, "the policy row", 30)
        assert d.rec.navigator.results["sec.refresh_policy"].status.value == "warn"
        demo = d.rec.demo
        with httpx.Client(verify=ssl_context(demo.ca_cert), timeout=10) as c:
            resp = c.post(demo.admin_url.rstrip("/") + "/__sandbox__/security/refresh-policy",
                          json={"app": "Skilljar", "policy": "expire_if_unused", "period": 90, "unit": "days"})
        assert resp.status_code == 200, resp.text
        keys = d.keys
        await d.until(lambda: d.rec.navigator.results.get("sec.refresh_policy") is not None
                      and d.rec.navigator.results["sec.refresh_policy"].status.value == "pass", "green by itself", 30)
        assert d.keys == keys  # no key pressed
        table = d.pane.query_one("#checks")
        await d.until(lambda: table.get_cell("sec.refresh_policy", "status").plain == "pass", "the row redrawn", 10)

    driver_for.run(app, body, (120, 40))
