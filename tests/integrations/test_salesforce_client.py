"""Our Salesforce client against the sandbox."""

from __future__ import annotations

from sfwizard.demo import demo_client


def test_large_extracts_take_the_bulk_path_in_few_calls() -> None:
    with demo_client("large-tenant") as (client, _):
        before = client.counter.counts.get("salesforce", 0)
        n = sum(1 for _ in client.salesforce.extract("SELECT Id, Name FROM Account", poll_seconds=0.01))
        calls = client.counter.counts["salesforce"] - before
    assert n >= 250_000
    assert calls <= 12  # a job, two polls and five 50,000-row pages, where query paging takes 125 calls
