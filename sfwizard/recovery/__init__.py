"""A recovery: the client facade, the connection opener, the recovery session, the navigator, the
checklist and the report."""
