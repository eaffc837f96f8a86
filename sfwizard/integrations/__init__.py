"""The vendors' APIs and the wizard's own Salesforce sign-in: HTTP transport, Salesforce, Gainsight PX,
status pages, sign-in, where credentials are kept, and settings.

Checks and screens reach a vendor only through here."""
