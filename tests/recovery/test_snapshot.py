"""The mapping snapshot: built from plain facts or the sandbox, a YAML file whose every error reads
``file:line:column: message``, a load that keeps everything written, a stable dump, and diffs."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest
import yaml

from sfwizard import snapshot, yamlspec
from sfwizard.errors import SfwizardError

FACTS = {
    "profile": "gainsight-px", "taken_at": "2026-11-20T10:00:00+00:00",
    "org": {"id": "00D000000000001EAA", "name": "Northwind", "instance": "NA135", "sandbox": False},
    "integration_user": {"username": "px.integration@northwind.example", "id": "005000000000001AAA"},
    "matching": {"account": {"salesforce": "Account.Id", "platform": "account.sfdcId"}},
    "mappings": [{"salesforce": "Account.Industry", "platform": "account.industry", "direction": "sf_to_px",
                  "type": "STRING"},
                 {"salesforce": "Account.PX_Health__c", "platform": "account.health", "direction": "px_to_sf"}],
    "custom_objects": ["Subscription__c"],
    "knowledge": {"enabled": True, "categories": ["Products"], "accessibility": ["Public", "Customer"]},
}


def test_build_from_plain_facts_fills_defaults_and_is_frozen() -> None:
    s = snapshot.build(FACTS)
    assert s.schema_version == snapshot.SCHEMA_VERSION
    assert s.org.name == "Northwind"
    assert s.push == {"enabled": True, "prefix": "PX_", "fields": ["Account.PX_Health__c"],
                      "schedule_gmt": ["03:00", "11:00", "19:00"]}
    assert s.schedule_gmt == {"fetch": "00:00", "map": "04:00", "push": ["03:00", "11:00", "19:00"]}
    assert s.knowledge.used
    assert s.knowledge.categories == ("Products",)
    assert s.to_complete == ()  # mappings and the user are there
    with pytest.raises(dataclasses.FrozenInstanceError):
        s.profile = "skilljar"  # type: ignore[misc]

    bare = snapshot.build({"profile": "skilljar", "org": {"id": "00D000000000002"}})
    assert any(t.startswith("field mappings") for t in bare.to_complete)
    assert any(t.startswith("integration_user.username") for t in bare.to_complete)
    assert bare.push["enabled"] is False
    assert bare.push["prefix"] == ""  # Skilljar pushes no PX_ fields
    assert re.match(r"\d{4}-\d\d-\d\dT", bare.taken_at)


def test_dump_has_a_header_and_a_stable_key_order() -> None:
    text = snapshot.dump(snapshot.build(FACTS))
    header = [line for line in text.splitlines() if line.startswith("#")]
    assert "to_complete" in header[1]
    assert "sfwizard check --snapshot" in "\n".join(header)
    keys = [k for k in yaml.safe_load(text)]
    assert keys == ["schema_version", "taken_at", "profile", "org", "integration_user", "flows", "matching",
                    "mappings", "custom_objects", "push", "schedule_gmt", "knowledge", "to_complete"]
    assert snapshot.dump(snapshot.build(FACTS)) == text  # same facts, same bytes
    assert "type: STRING" in text
    assert text.count("type:") == 1  # an unknown type is left out, not ""
    # every time quoted alike (bare 11:00 would be the number 660 to YAML 1.1)
    assert "fetch: '00:00'" in text
    assert "- '03:00'\n  - '11:00'" in text


def test_load_keeps_every_value_it_was_given(tmp_path: Path) -> None:
    """Admin edits to push and schedule survive a load (they used to be replaced by defaults)."""
    s = snapshot.build(FACTS)
    edited = dataclasses.replace(
        s, push={**s.push, "prefix": "GS_", "fields": ["Contact.PX_Score__c", "Account.PX_Health__c"],
                 "schedule_gmt": ["01:30"]},
        schedule_gmt={"fetch": "02:00", "map": "05:15", "push": ["01:30"]})
    p = tmp_path / "s.yaml"
    snapshot.save(edited, p)
    loaded = snapshot.load(p)
    assert loaded.push == edited.push
    assert loaded.schedule_gmt == edited.schedule_gmt
    assert loaded == edited
    changes = {c.path: c for c in snapshot.diff(s, loaded)}
    assert set(changes) == {"push.prefix", "push.fields", "push.schedule_gmt", "schedule_gmt.fetch",
                            "schedule_gmt.map", "schedule_gmt.push"}
    assert str(changes["schedule_gmt.fetch"]) == "~ schedule_gmt.fetch: '00:00' → '02:00'"


def test_a_new_push_mapping_joins_the_push_fields(tmp_path: Path) -> None:
    p = tmp_path / "s.yaml"
    snapshot.save(snapshot.build(FACTS), p)
    text = p.read_text().replace("mappings:\n", "mappings:\n- salesforce: Contact.PX_Score__c\n"
                                 "  platform: user.score\n  direction: px_to_sf\n", 1)
    p.write_text(text)
    assert snapshot.load(p).push["fields"] == ["Account.PX_Health__c", "Contact.PX_Score__c"]


def test_unquoted_timestamp_comes_back_as_text(tmp_path: Path) -> None:
    p = tmp_path / "s.yaml"
    snapshot.save(snapshot.build(FACTS), p)
    p.write_text(p.read_text().replace("taken_at: '2026-11-20T10:00:00+00:00'", "taken_at: 2026-11-20T10:00:00Z"))
    assert "taken_at: 2026-11-20T10:00:00Z" in p.read_text()
    assert snapshot.load(p).taken_at == "2026-11-20T10:00:00+00:00"


@pytest.mark.parametrize(("old", "new", "col", "message"), [
    ("fetch: 00:00", "fetch: 10:30", 3, 'expected a time like "04:00" in quotes (unquoted, YAML reads it as the'
                                         ' number 630)'),
    ("map: 04:00", "map: '25:00'", 3, "expected a time like \"04:00\" (24-hour, GMT); got '25:00'"),
])
def test_schedule_times_are_checked_with_line_and_column(tmp_path: Path, old: str, new: str, col: int,
                                                         message: str) -> None:
    p = tmp_path / "s.yaml"
    snapshot.save(snapshot.build(FACTS), p)
    text = p.read_text().replace(old.replace(": ", ": '") + "'", new)
    assert new in text
    p.write_text(text)
    line = text.splitlines().index(next(li for li in text.splitlines() if new in li)) + 1
    with pytest.raises(SfwizardError) as info:
        snapshot.load(p)
    assert info.value.message.startswith(f"{p}:{line}:{col}: schedule_gmt.")
    assert message in info.value.message
    assert "\n" not in str(info.value)


def test_diff_sees_a_type_change_and_keeps_doubly_mapped_fields_apart() -> None:
    before = snapshot.build(FACTS)
    retyped = dataclasses.replace(before, mappings=tuple(
        dataclasses.replace(m, type="PICKLIST") if m.salesforce == "Account.Industry" else m
        for m in before.mappings))
    assert [str(c) for c in snapshot.diff(before, retyped)] == \
        ["~ mappings[Account.Industry].type: 'STRING' → 'PICKLIST'"]

    def with_maps(*maps: snapshot.FieldMapping) -> snapshot.Snapshot:
        return dataclasses.replace(before, mappings=maps)

    out = snapshot.FieldMapping("Account.Name", "account.name", "sf_to_px")
    back = snapshot.FieldMapping("Account.Name", "account.display_name", "px_to_sf")
    also = snapshot.FieldMapping("Account.Name", "account.label", "sf_to_px")
    one, two = with_maps(out, back), with_maps(out, dataclasses.replace(back, platform="account.title"))
    assert [str(c) for c in snapshot.diff(one, two)] == \
        ["~ mappings[Account.Name px_to_sf].platform: 'account.display_name' → 'account.title'"]
    paths = {c.path for c in snapshot.diff(with_maps(out), with_maps(out, also))}
    assert paths == {"mappings[Account.Name → account.label].platform", "mappings[Account.Name → account.label]"
                     ".direction", "mappings[Account.Name → account.name].platform",
                     "mappings[Account.Name → account.name].direction", "mappings[Account.Name].platform",
                     "mappings[Account.Name].direction"}


def test_sandbox_state_carries_the_platform_schedule() -> None:
    state = {"profile": "gainsight-px", "orgs": [{"id": "00D1", "name": "N", "instance": "NA1", "is_sandbox": True}],
             "px": {"org_id": "00D1", "username": "u@x", "mappings": [], "push": {"enabled": False},
                    "schedule": {"fetch_gmt": "01:00", "map_gmt": "05:00", "push_gmt": ["03:00"]}}}
    s = snapshot.from_sandbox_state(state)
    assert s.schedule_gmt["fetch"] == "01:00"
    assert s.schedule_gmt["map"] == "05:00"
    assert s.org.sandbox is True


# -- from the sandbox, and back again ---------------------------------------------------------------

def _from_scenario(name: str) -> snapshot.Snapshot:
    from sfwizard.sandbox.admin.routes import state_json
    from sfwizard.sandbox.scenarios.loader import load_scenario

    return snapshot.from_sandbox_state(state_json(load_scenario(name)))


@pytest.mark.parametrize("scenario", ["healthy", "skilljar-recent"], ids=["healthy", "skilljar"])
def test_snapshot_dump_load_round_trip(tmp_path: Path, scenario: str) -> None:
    original = _from_scenario(scenario)
    p = tmp_path / "snap.yaml"
    snapshot.save(original, p)
    loaded = snapshot.load(p)
    assert loaded == original
    # and again: loading and saving a snapshot never grows it (to_complete used to double up)
    snapshot.save(loaded, p)
    assert snapshot.load(p) == original
    assert snapshot.dump(snapshot.load(p)) == snapshot.dump(original)


def test_snapshot_diff_reports_changed_added_removed_and_nothing_when_same() -> None:
    before = _from_scenario("healthy")
    assert snapshot.diff(before, before) == []
    reordered = dataclasses.replace(before, mappings=tuple(reversed(before.mappings)), taken_at="2020-01-01")
    assert snapshot.diff(before, reordered) == []

    by_sf = {m.salesforce: m for m in before.mappings}
    assert {"Account.Industry", "Contact.Title"} <= set(by_sf)
    mappings = [dataclasses.replace(m, platform="account.sector") if m.salesforce == "Account.Industry" else m
                for m in before.mappings if m.salesforce != "Contact.Title"]
    mappings.append(snapshot.FieldMapping("Account.Phone", "account.phone", "sf_to_px"))
    after = dataclasses.replace(before, mappings=tuple(mappings))
    changes = {(c.path, c.kind): c for c in snapshot.diff(before, after)}
    assert set(changes) == {
        ("mappings[Account.Industry].platform", "changed"),
        ("mappings[Contact.Title].platform", "removed"), ("mappings[Contact.Title].direction", "removed"),
        ("mappings[Account.Phone].platform", "added"), ("mappings[Account.Phone].direction", "added"),
    }
    changed = changes[("mappings[Account.Industry].platform", "changed")]
    assert (changed.before, changed.after) == ("account.industry", "account.sector")
    assert str(changed) == "~ mappings[Account.Industry].platform: 'account.industry' → 'account.sector'"
    assert str(changes[("mappings[Account.Phone].platform", "added")]).startswith("+ ")
    assert str(changes[("mappings[Contact.Title].platform", "removed")]).startswith("- ")


# -- YAML errors, one positioned line each ----------------------------------------------------------

# Line numbers below are the file's own (1-based); every case is a small, hand-made document.
MINIMAL = """\
schema_version: 1
profile: gainsight-px
org:
  id: 00D000000000001
  sandbox: false
mappings:
- salesforce: Account.Name
  platform: account.name
  direction: sf_to_px
- salesforce: Account.PX_Score__c
  platform: account.score
  direction: px_to_sf
"""

BAD_YAML = {
    "duplicate-key": (MINIMAL.replace("profile: gainsight-px\n", "profile: gainsight-px\nprofile: skilljar\n"),
                      3, 1, "duplicate key 'profile' (first at line 2)"),
    "duplicate-nested-key": (MINIMAL.replace("  sandbox: false\n", "  sandbox: false\n  id: 00D000000000002\n"),
                             6, 3, "duplicate key 'id' (first at line 4)"),
    "unknown-key": (MINIMAL.replace("  sandbox: false\n", "  sandbox: false\n  colour: red\n"),
                    6, 3, "org.colour: unknown key 'colour'"),
    "wrong-type-scalar": (MINIMAL.replace("sandbox: false", "sandbox: yes-please"),
                          5, 3, "org.sandbox: expected true or false, got the string 'yes-please'"),
    "mapping-where-list-belongs": (MINIMAL.split("mappings:")[0] + "mappings:\n  salesforce: Account.Name\n",
                                   6, 1, "mappings: expected a list, got a mapping"),
    "missing-required-org": ("schema_version: 1\nprofile: gainsight-px\nmappings: []\n",
                             1, 1, "missing required key 'org'"),
    "missing-required-nested": (MINIMAL.replace("  id: 00D000000000001\n", ""),
                                3, 1, "org: missing required key 'id'"),
    "bad-enum": (MINIMAL.replace("direction: px_to_sf", "direction: sideways"),
                 12, 3, "mappings[1].direction: expected one of sf_to_px, px_to_sf; got 'sideways'"),
    "tab-scanner-error": (MINIMAL.replace("  sandbox: false\n", "\tsandbox: false\n"),
                          5, 1, "found character '\\t' that cannot start any token"),
    "list-document": ("# a snapshot?\n- a\n- b\n", 2, 1, "expected a mapping, got a list"),
    "scalar-document": ("just some words\n", 1, 1, "expected a mapping, got the string 'just some words'"),
    "empty-document": ("", 1, 1, "expected a mapping, got nothing (null)"),
    "unhashable-key": (MINIMAL.replace("profile: gainsight-px\n", "profile: gainsight-px\n? [a, b]\n: c\n"),
                       3, 3, "unhashable key"),
}


def _assert_one_line_error(exc: SfwizardError, path: Path, line: int, col: int, message: str) -> None:
    text = str(exc)
    assert "\n" not in text
    assert "Traceback" not in text
    m = re.match(rf"{re.escape(str(path))}:(\d+):(\d+): (.*)$", exc.message)
    assert m, exc.message
    assert (int(m.group(1)), int(m.group(2))) == (line, col), exc.message
    assert not m.group(3).startswith(":"), f"an empty path left a stray colon: {exc.message}"
    assert message in m.group(3), exc.message


def test_minimal_snapshot_loads(tmp_path: Path) -> None:
    p = tmp_path / "ok.yaml"
    p.write_text(MINIMAL)
    s = snapshot.load(p)
    assert s.org.id == "00D000000000001"
    assert [m.direction for m in s.mappings] == ["sf_to_px", "px_to_sf"]
    assert s.push["fields"] == ["Account.PX_Score__c"]


@pytest.mark.parametrize("case", sorted(BAD_YAML))
def test_snapshot_yaml_errors_point_at_file_line_column(tmp_path: Path, case: str) -> None:
    text, line, col, message = BAD_YAML[case]
    p = tmp_path / f"{case}.yaml"
    p.write_text(text)
    with pytest.raises(SfwizardError) as info:
        snapshot.load(p)
    _assert_one_line_error(info.value, p, line, col, message)


def test_snapshot_that_is_not_utf8_is_a_one_line_error(tmp_path: Path) -> None:
    p = tmp_path / "binary.yaml"
    p.write_bytes(b"schema_version: 1\nprofile: \xff\xfe garbage\n")
    with pytest.raises(SfwizardError) as info:
        snapshot.load(p)
    _assert_one_line_error(info.value, p, 2, 10, "UTF-8")


def test_python_tags_are_refused_never_constructed(tmp_path: Path) -> None:
    marker = tmp_path / "PWNED"
    p = tmp_path / "evil.yaml"
    p.write_text(f"!!python/object/apply:os.system ['touch {marker}']\n")
    with pytest.raises(SfwizardError) as info:
        snapshot.load(p)
    _assert_one_line_error(info.value, p, 1, 1, "could not determine a constructor")
    assert not marker.exists()

    p.write_text(MINIMAL.replace("profile: gainsight-px", "profile: !!python/name:os.system"))
    with pytest.raises(SfwizardError) as info:
        snapshot.load(p)
    _assert_one_line_error(info.value, p, 2, 10, "python/name:os.system")
    with pytest.raises(SfwizardError, match="python/object:sfwizard.snapshot.OrgIdentity"):
        yamlspec.load_text("org: !!python/object:sfwizard.snapshot.OrgIdentity {id: x}\n", "t.yaml")
