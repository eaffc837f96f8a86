"""The imitated Salesforce: its OAuth login server, REST API (query, describe, records, search, Bulk
API 2.0), the SOQL engine, and the orgs' schema, records and permissions."""
