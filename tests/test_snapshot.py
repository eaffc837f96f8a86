"""The mapping snapshot beyond test_client_records.py: build from plain facts, a load that keeps everything
written, the dump's header and order, time fields, and diff keys for types and doubly mapped fields."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest
import yaml

from sfwizard import snapshot
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
    assert s.schema_version == snapshot.SCHEMA_VERSION and s.org.name == "Northwind"
    assert s.push == {"enabled": True, "prefix": "PX_", "fields": ["Account.PX_Health__c"],
                      "schedule_gmt": ["03:00", "11:00", "19:00"]}
    assert s.schedule_gmt == {"fetch": "00:00", "map": "04:00", "push": ["03:00", "11:00", "19:00"]}
    assert s.knowledge.used and s.knowledge.categories == ("Products",)
    assert s.to_complete == ()  # mappings and the user are there
    with pytest.raises(dataclasses.FrozenInstanceError):
        s.profile = "skilljar"  # type: ignore[misc]

    bare = snapshot.build({"profile": "skilljar", "org": {"id": "00D000000000002"}})
    assert any(t.startswith("field mappings") for t in bare.to_complete)
    assert any(t.startswith("integration_user.username") for t in bare.to_complete)
    assert bare.push["enabled"] is False and bare.push["prefix"] == ""  # Skilljar pushes no PX_ fields
    assert re.match(r"\d{4}-\d\d-\d\dT", bare.taken_at)


def test_dump_has_a_header_and_a_stable_key_order() -> None:
    text = snapshot.dump(snapshot.build(FACTS))
    header = [line for line in text.splitlines() if line.startswith("#")]
    assert "to_complete" in header[1] and "sfwizard check --snapshot" in "\n".join(header)
    keys = [k for k in yaml.safe_load(text)]
    assert keys == ["schema_version", "taken_at", "profile", "org", "integration_user", "flows", "matching",
                    "mappings", "custom_objects", "push", "schedule_gmt", "knowledge", "to_complete"]
    assert snapshot.dump(snapshot.build(FACTS)) == text  # same facts, same bytes
    assert "type: STRING" in text and text.count("type:") == 1  # an unknown type is left out, not ""
    # every time quoted alike (bare 11:00 would be the number 660 to YAML 1.1)
    assert "fetch: '00:00'" in text and "- '03:00'\n  - '11:00'" in text


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
    assert loaded.push == edited.push and loaded.schedule_gmt == edited.schedule_gmt
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
    assert message in info.value.message and "\n" not in str(info.value)


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
    assert s.schedule_gmt["fetch"] == "01:00" and s.schedule_gmt["map"] == "05:00" and s.org.sandbox is True
