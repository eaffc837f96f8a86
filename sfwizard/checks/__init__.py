"""The automated checks, one module per subject.

This package imports nothing: ``sfwizard.checks.runner`` imports every check module (registering
them, in step order) and runs them; ``base`` holds the types, ``reasons`` the reason codes.
"""
