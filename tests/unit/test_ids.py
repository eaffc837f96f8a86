"""Salesforce Ids: the 15→18 checksum, validity, comparison and the ids the sandbox makes."""

from __future__ import annotations

from sfwizard import ids


def test_id_checksum_matches_salesforce_example() -> None:
    # The 15→18 example from Salesforce's documentation.
    assert ids.to18("001D000000IqhSL") == "001D000000IqhSLIAZ"
    assert ids.is_valid("001D000000IqhSLIAZ")
    assert not ids.is_valid("001D000000IqhSLIAA")
    assert ids.same_id("001D000000IqhSL", "001D000000IqhSLIAZ")


def test_make_id_is_valid_prefixed_and_distinct() -> None:
    made = {ids.make_id("003", n) for n in range(2000)}
    assert len(made) == 2000
    assert [i for i in made if not i.startswith("003")] == []
    assert [i for i in made if len(i) != 18] == []
    assert [i for i in made if not ids.is_valid(i)] == []
