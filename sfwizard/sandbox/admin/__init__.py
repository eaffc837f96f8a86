"""The control plane: the admin page at ``/`` and its JSON twin under ``/__sandbox__/`` stand in for
what people click in the vendors' web UIs (Authorize, Synchronize, Knowledge, Reconnect, Backfill)."""
