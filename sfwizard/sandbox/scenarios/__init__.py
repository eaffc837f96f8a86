"""Scenarios: one YAML file per situation (the built-ins live here), the loader that validates them,
the builder that turns them into state, and the generator of large, deterministic data sets."""
