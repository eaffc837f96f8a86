"""Skilljar's reconnect starts with upgrading its managed package: the installed version is read (Tooling API) and
shown at Re-authorize, and the upgrade is asked of a person — no API says which version is the latest; where the
scenario states it, the result says "installed X, latest Y"."""

from __future__ import annotations

import pytest

from sfwizard.checks.runner import REGISTRY


def _package_scenario(scenario_file, org_lines: str) -> str:
    return scenario_file("schema: 1\nname: sj\nextends: skilljar-recent\norgs:\n  prod:\n" + org_lines)


def _upgrade(check_json, path: str) -> dict:
    return check_json(path, "--only", "skilljar.package_upgrade")["by_id"]["skilljar.package_upgrade"]


def test_the_upgrade_check_sits_where_the_reconnect_starts() -> None:
    spec = REGISTRY["skilljar.package_upgrade"]
    assert spec.step == "reauthorize" and spec.profiles == ("skilljar",)


def test_an_older_installed_version_is_asked_to_be_upgraded_with_both_versions(check_json, scenario_file) -> None:
    r = _upgrade(check_json, _package_scenario(scenario_file, "    skilljar_package_version: 1.30.0.1\n"
                                                              "    skilljar_package_latest: 1.31.2.0\n"))
    assert (r["status"], r["reason"]) == ("manual", "ask.package_upgrade")
    assert "installed 1.30.0.1, latest 1.31.2.0" in r["summary"]
    assert "Install for All Users" in r["resolution"] and "Upgrade" in r["resolution"]
    assert (r["evidence"]["installed_version"], r["evidence"]["latest_version"]) == ("1.30.0.1", "1.31.2.0")


@pytest.mark.parametrize("latest", ["1.30.0.1", "1.29.9.9"])
def test_the_latest_installed_passes(check_json, scenario_file, latest: str) -> None:
    r = _upgrade(check_json, _package_scenario(scenario_file, "    skilljar_package_version: 1.30.0.1\n"
                                                              f"    skilljar_package_latest: {latest}\n"))
    assert r["status"] == "pass" and "1.30.0.1" in r["summary"]


def test_without_a_known_latest_a_person_is_asked_and_told_no_api_says_it(check_json, scenario_file) -> None:
    r = _upgrade(check_json, _package_scenario(scenario_file, "    skilljar_package_version: 1.30.0.1\n"))
    assert (r["status"], r["reason"]) == ("manual", "ask.package_upgrade")
    assert "installed 1.30.0.1" in r["summary"] and "no API says which is the latest" in r["summary"]
    assert r["evidence"]["latest_version"] is None


def test_the_latest_of_any_package_can_be_stated(scenario_file) -> None:
    from sfwizard.sandbox.scenarios.loader import load_scenario

    state = load_scenario(scenario_file("schema: 1\nname: pk\nextends: healthy\norgs:\n  prod:\n    packages:\n"
                                        "      - {namespace: gsx, name: Gainsight Extras, version: 2.0.1.4, "
                                        "latest: 2.1.0.0}\n"))
    assert state.default_org.installed_packages == [
        {"namespace": "gsx", "name": "Gainsight Extras", "version": "2.0.1.4", "latest": "2.1.0.0"}]


def test_a_package_installed_twice_is_refused_with_its_position(scenario_file) -> None:
    from sfwizard.errors import SfwizardError
    from sfwizard.sandbox.scenarios.loader import load_scenario

    path = scenario_file("schema: 1\nname: pk\nextends: healthy\norgs:\n  prod:\n    packages:\n"
                         "      - {namespace: gsx, name: A, version: 2.0.1.4}\n"
                         "      - {namespace: GSX, name: B, version: 2.0.1.5}\n")
    with pytest.raises(SfwizardError) as err:
        load_scenario(path)
    assert ":8:10: orgs.prod.packages[1].namespace" in err.value.message
    assert "one version of a managed package" in err.value.message
