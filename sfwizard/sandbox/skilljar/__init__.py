"""The imitated Skilljar: the Salesforce integration's state and the self-service Backfill."""
