"""Settings: flags over environment over config.yaml, and every value refused in one line when it is wrong.

No secret is ever read from the plain config file; a login URL, a status page and a port are checked
before anything is built from them.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from sfwizard import paths
from sfwizard.errors import SfwizardError
from sfwizard.integrations import settings


def _config(text: str) -> Path:
    path = paths.config_dir() / "config.yaml"
    path.write_text(text)
    return path


# -- where each value comes from ----------------------------------------------------------------------------

@pytest.mark.parametrize(("key", "in_config", "in_env", "flag", "expected"), [
    ("client_id", "from-config", "from-env", "from-flag", ("from-config", "from-env", "from-flag")),
    ("login_url", "test", "https://env.my.salesforce.com", "production",
     ("https://test.salesforce.com", "https://env.my.salesforce.com", "https://login.salesforce.com")),
    ("port", "1818", "1919", 0, (1818, 1919, 0)),
    ("api_version", "58.0", "59.0", "61", ("58.0", "59.0", "61.0")),
])
def test_flags_beat_env_beat_config(monkeypatch, key: str, in_config: str, in_env: str, flag: object,
                                    expected: tuple[object, object, object]) -> None:
    from_config, from_env, from_flag = expected
    _config(f"{key}: {in_config}\n")
    assert getattr(settings.resolve(), key) == from_config
    monkeypatch.setenv(f"SFWIZARD_{key.upper()}", in_env)
    assert getattr(settings.resolve(), key) == from_env
    assert getattr(settings.resolve({key: flag}), key) == from_flag
    assert getattr(settings.resolve({key: None}), key) == from_env  # a flag left unset does not hide the env


def test_ca_cert_comes_from_the_environment(monkeypatch, tmp_path) -> None:
    assert settings.resolve().ca_cert is None
    monkeypatch.setenv("SFWIZARD_CA_CERT", str(tmp_path / "ca.pem"))
    assert settings.resolve().ca_cert == str(tmp_path / "ca.pem")


def test_no_client_id_points_at_the_readme(monkeypatch) -> None:
    conf = settings.resolve()
    assert conf.client_id is None
    with pytest.raises(SfwizardError) as err:
        conf.require_client_id()
    assert "client id" in err.value.message
    assert "README" in err.value.hint
    assert "SFWIZARD_CLIENT_ID" in err.value.hint
    assert "--client-id" in err.value.hint
    monkeypatch.setenv("SFWIZARD_CLIENT_ID", "from-env")
    assert settings.resolve().require_client_id() == "from-env"


# -- the config file ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("key", ["px_api_key", "client_secret", "password"])
def test_a_secret_in_the_config_file_is_refused(key: str) -> None:
    path = _config(f"client_id: abc\n{key}: hunter2hunter2\n")
    with pytest.raises(SfwizardError) as err:
        settings.resolve()
    assert key in err.value.message
    assert str(path) in err.value.message
    assert "hunter2hunter2" not in str(err.value)


def test_an_unknown_config_key_names_file_and_line() -> None:
    path = _config("client_id: abc\nlogin_url: test\nclientid: typo\n")
    with pytest.raises(SfwizardError) as err:
        settings.resolve()
    assert err.value.message.startswith(f"{path}:3:1:")
    assert "'clientid'" in err.value.message
    assert "client_id" in err.value.hint


# -- login URL --------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("url", ["http://x", "http://localhost:8443", "ftp://login.salesforce.com", "https://"])
def test_login_url_must_be_https(url: str) -> None:
    with pytest.raises(SfwizardError, match="https"):
        settings.resolve({"login_url": url})


def test_login_url_names() -> None:
    assert settings.resolve().login_url == "https://login.salesforce.com"
    assert settings.resolve({"login_url": "test"}).login_url == "https://test.salesforce.com"
    assert settings.resolve({"login_url": "https://acme.my.salesforce.com/"}).login_url == \
        "https://acme.my.salesforce.com"


@pytest.mark.parametrize("url", ["https://x.my.salesforce.com/?a=b", "https://x.my.salesforce.com/#frag",
                                 "https://user@x.my.salesforce.com"])
def test_a_login_url_with_query_fragment_or_userinfo_is_refused(url: str) -> None:
    with pytest.raises(SfwizardError, match="not a Salesforce login URL"):
        settings.login_url(url)


def test_a_login_url_with_a_site_path_is_kept() -> None:
    assert settings.login_url("https://x.my.site.com/partners/") == "https://x.my.site.com/partners"


# -- port, API version, status page -----------------------------------------------------------------------------

@pytest.mark.parametrize("value", ["abc", "70000", "-5", "17.5"])
def test_a_bad_port_in_config_is_refused(value: str) -> None:
    _config(f"port: {value}\n")
    with pytest.raises(SfwizardError) as err:
        settings.resolve()
    assert value in err.value.message
    assert "port" in err.value.message


@pytest.mark.parametrize(("given", "wanted"), [("60", "60.0"), ("60.0", "60.0"), ("v61.0", "61.0")])
def test_api_version_is_normalised(given: str, wanted: str) -> None:
    _config(f"api_version: {given}\n")
    assert settings.resolve().api_version == wanted


@pytest.mark.parametrize("given", ["sixty", "60.1", "'60.0; DROP'"])
def test_a_bad_api_version_is_refused(given: str) -> None:
    _config(f"api_version: {given}\n")
    with pytest.raises(SfwizardError, match="not a Salesforce API version"):
        settings.resolve()


@pytest.mark.parametrize("url", ["http://status.example.com", "ftp://x", "status.example.com"])
def test_the_status_page_must_be_https(url: str) -> None:
    _config(f"status_url: {url}\n")
    with pytest.raises(SfwizardError, match="status_url must be an https URL"):
        settings.resolve()


def test_an_https_status_page_is_kept() -> None:
    _config("status_url: https://status.gainsight.com/\n")
    assert settings.resolve().status_url == "https://status.gainsight.com"
