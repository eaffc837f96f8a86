"""The sandbox server itself."""

from __future__ import annotations

import socket

import pytest

from sfwizard.errors import SfwizardError
from sfwizard.sandbox.scenarios.builder import new_state
from sfwizard.sandbox.server import Sandbox


def test_port_in_use_is_a_clear_error(tls_certs) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        with pytest.raises(SfwizardError) as err:
            Sandbox(new_state(), port=port, certs=tls_certs)
    assert f"port {port}" in err.value.message
    assert "--port" in err.value.hint
