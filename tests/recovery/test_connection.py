"""Opening a connection from the saved sign-in."""

from __future__ import annotations

import pytest

from sfwizard.errors import SfwizardError
from sfwizard.integrations import credentials, signin
from sfwizard.recovery.connection import open_saved


def test_a_revoked_saved_sign_in_fails_to_open_with_a_sign_in_error(sandbox, sign_in, monkeypatch) -> None:
    info = sandbox.info()
    monkeypatch.setenv("SFWIZARD_CA_CERT", info["ca_cert"])
    tokens = sign_in(info)
    credentials.save(tokens)
    assert signin.revoke(tokens, ca_cert=info["ca_cert"])
    with pytest.raises(SfwizardError) as err:
        with open_saved():
            pass  # opening reads the org and the user once: the revoked token fails there
    assert isinstance(err.value, signin.SignInRequired)
    assert "sfwizard login" in err.value.hint
