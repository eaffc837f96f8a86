"""Diagnosis on tenants nobody wrote a scenario for (issue 11): one file per subject, and the suite."""
