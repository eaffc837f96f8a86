"""The positioned YAML loader: safe tags only, duplicate keys refused, schema errors as ``file:line:column``."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from sfwizard import yamlspec as y
from sfwizard.errors import SfwizardError

SPEC = y.Obj({
    "name": y.Str(),
    "count": y.Int(0),
    "ratio": y.Float(0, 1),
    "enabled": y.Bool(),
    "kind": y.Enum(("alpha", "beta")),
    "when": y.RelTime(),
    "tags": y.ListOf(y.Str()),
    "people": y.MapOf(y.Obj({"email": y.Str(), "admin": y.Bool()}, required=("email",), defaults={"admin": False})),
}, required=("name",))


def load(text: str, now: datetime | None = None) -> dict:
    return y.validate(y.load_text(text, "f.yaml"), SPEC, "f.yaml", now=now)


def error_of(text: str) -> str:
    with pytest.raises(SfwizardError) as err:
        load(text)
    assert err.value.hint  # every error says what to do next
    assert "\n" not in err.value.message
    return err.value.message


def test_a_valid_document_comes_back_with_defaults() -> None:
    now = datetime(2026, 11, 20, 10, 0, tzinfo=timezone.utc)
    got = load("name: x\ncount: 3\nratio: 0.5\nenabled: true\nkind: beta\nwhen: -3d\ntags: [a, b]\n"
               "people:\n  ann: {email: ann@example.com}\n", now)
    assert got == {"name": "x", "count": 3, "ratio": 0.5, "enabled": True, "kind": "beta",
                   "when": now - timedelta(days=3), "tags": ["a", "b"],
                   "people": {"ann": {"email": "ann@example.com", "admin": False}}}


@pytest.mark.parametrize("text,expected", [
    # the second occurrence is the one pointed at, and the first is named
    ("name: x\ncount: 1\ncount: 2\n", "f.yaml:3:1: duplicate key 'count' (first at line 2)"),
    ("name: x\npeople:\n  ann:\n    email: a@b.c\n    email: d@e.f\n", "f.yaml:5:5: duplicate key 'email'"),
    ("name: x\npeople:\n  ann: {email: a@b.c, admn: true}\n", "f.yaml:3:23: people.ann.admn: unknown key 'admn'"),
    ("name: x\nbogus: 1\n", "f.yaml:2:1: bogus: unknown key 'bogus' (expected one of: name, count,"),
    ("name: x\ncount: many\n", "f.yaml:2:1: count: expected an integer, got the string 'many'"),
    ("name: x\ncount: true\n", "f.yaml:2:1: count: expected an integer, got a boolean"),
    ("name: x\ntags: [a, 7]\n", "f.yaml:2:11: tags[1]: expected a string, got a number"),
    ("name: x\ntags: a\n", "f.yaml:2:1: tags: expected a list, got the string 'a'"),
    ("count: 1\n", "f.yaml:1:1: missing required key 'name'"),
    ("name: x\npeople:\n  ann:\n    admin: true\n", "f.yaml:3:3: people.ann: missing required key 'email'"),
    ("name: x\nkind: gamma\n", "f.yaml:2:1: kind: expected one of alpha, beta; got 'gamma'"),
    ("name: x\nratio: 1.5\n", "f.yaml:2:1: ratio: must be at least 0 and at most 1"),
    ("name: x\ncount: -1\n", "f.yaml:2:1: count: must be at least 0"),
    ("name: x\nwhen: yesterday\n", "f.yaml:2:1: when: not a time: 'yesterday'"),
    ("name: x\nwhen: 3\n", "f.yaml:2:1: when: expected a time like -3d"),
])
def test_errors_name_the_file_line_and_column(text: str, expected: str) -> None:
    assert error_of(text).startswith(expected)


def test_syntax_errors_are_positioned_too() -> None:
    with pytest.raises(SfwizardError) as err:
        y.load_text("name: x\ntags: [a, b\nmore: 1\n", "f.yaml")
    assert err.value.message.startswith("f.yaml:3:")


def test_unsafe_tags_are_refused() -> None:
    with pytest.raises(SfwizardError) as err:
        y.load_text("x: !!python/object/apply:os.system [echo hi]\n", "f.yaml")
    assert err.value.message.startswith("f.yaml:1:4:")


def test_relative_times_share_one_now_and_iso_times_are_utc() -> None:
    now = datetime(2026, 11, 20, 10, 0, tzinfo=timezone.utc)
    spec = y.Obj({"a": y.RelTime(), "b": y.RelTime(), "c": y.RelTime(), "d": y.RelTime(), "e": y.RelTime()})
    got = y.validate(y.load_text("a: now\nb: -2h\nc: -30m\nd: '2026-01-02T03:04:05Z'\ne: 2026-01-02 03:04:05\n",
                                 "t.yaml"), spec, "t.yaml", now=now)
    assert got["a"] == now
    assert got["b"] == now - timedelta(hours=2)
    assert got["c"] == now - timedelta(minutes=30)
    assert got["d"] == got["e"] == datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc)


def test_without_a_given_now_relative_times_count_from_the_present() -> None:
    got = y.validate(y.load_text("a: -1d\n", "t.yaml"), y.Obj({"a": y.RelTime()}), "t.yaml")
    assert abs(datetime.now(timezone.utc) - timedelta(days=1) - got["a"]) < timedelta(seconds=5)


def test_one_of_and_optional() -> None:
    spec = y.Obj({"n": y.OneOf((y.Int(), y.Obj({"generate": y.Int()}, required=("generate",)))),
                  "o": y.Optional(y.Str())})
    assert y.validate(y.load_text("n: {generate: 4}\no: null\n", "t"), spec, "t") == {"n": {"generate": 4}, "o": None}
    with pytest.raises(SfwizardError, match=r"^t:1:5: n.count: unknown key 'count'"):
        y.validate(y.load_text("n: {count: 4}\n", "t"), spec, "t")


# -- hostile documents -----------------------------------------------------------------------------------------

def _bomb(levels: int = 9) -> str:
    text = "a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n"
    for i in range(1, levels + 1):
        text += f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]\n"
    return text + f"name: *a{levels}\n"


def test_an_alias_bomb_is_refused_where_it_goes_off() -> None:
    with pytest.raises(SfwizardError) as err:
        load(_bomb())
    # at the first anchor past the budget (a5: 9**6 values), long before anything is built
    assert err.value.message.startswith("f.yaml:6:5:") and "alias bomb" in err.value.message


def test_aliases_used_as_people_use_them_still_work() -> None:
    text = "base: &b {email: a@example.com}\npeople:\n  ann: *b\n  bob: {<<: *b, admin: true}\nname: x\n"
    spec = y.Obj({"base": y.AnyValue(), "name": y.Str(), "people": SPEC.fields["people"]})
    got = y.validate(y.load_text(text, "f.yaml"), spec, "f.yaml")
    assert got["people"] == {"ann": {"email": "a@example.com", "admin": False},
                             "bob": {"email": "a@example.com", "admin": True}}


@pytest.mark.parametrize("text,where,says", [
    ("a: &x [*x]\n", "f.yaml:1:4", "refers to a node that contains it"),
    ("a: " + "[" * 100 + "]" * 100 + "\n", "f.yaml:1:", "nested more than 64 levels"),
    ("name: x\nwhen: 2024-02-30\n", "f.yaml:2:7", "cannot read this value (day is out of range"),
    ("name: x\ncount: " + "9" * 5000 + "\n", "f.yaml:2:8", "cannot read this value"),
])
def test_documents_that_cannot_be_built_are_positioned(text: str, where: str, says: str) -> None:
    message = error_of(text)
    assert message.startswith(where) and says in message


def test_no_error_renders_a_huge_value() -> None:
    huge = "x" * 1_000_000
    for text in (f"name: [{huge}]\n", f"name: x\nkind: {huge}\n", f"name: x\n{huge}: 1\n", f"name: x\nwhen: {huge}\n"):
        message = error_of(text)
        assert len(message) < 500, message[:200]
    assert y.show("x" * 100) == repr("x" * 60) + "… (100 characters)"
    assert y.show(list(range(10**5))) == "a list of 100,000 items"
