"""The imitated Atlassian Statuspage v2 status page of the vendor."""
