"""The Textual UI: one thin module per wizard step, calling only sfwizard's integration client.

Filled by the wizard issue; nothing in ``sfwizard`` imports this package.
"""
