"""The automated checks. Importing this package registers every check module, in step order."""

from sfwizard.checks import (  # noqa: F401
    base,
    before,
    dataflow,
    identity,
    knowledge,
    mappings,
    permissions,
    proactive,
    skilljar,
    token,
    troubleshoot,
)
