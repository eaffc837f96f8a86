"""The sandbox's HTML templates: one escaping rule, no template left unused, hostile values stay text."""

from __future__ import annotations

import fnmatch
import html
import re
import ssl
from importlib import resources
from pathlib import Path

import httpx
import pytest

from sfwizard.sandbox import templates
from sfwizard.sandbox.admin.page import admin_page
from sfwizard.sandbox.admin.security import security_page
from sfwizard.sandbox.admin.view import state_json
from sfwizard.sandbox.salesforce import pages
from sfwizard.sandbox.scenarios import builder
from sfwizard.sandbox.scenarios.loader import load_scenario
from sfwizard.sandbox.templates import Markup

PACKAGES = ("sfwizard.sandbox.salesforce", "sfwizard.sandbox.admin")
HOSTILE = "<script>alert(1)</script>\"'&"
ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;&quot;&#x27;&amp;"


# -- the helper ---------------------------------------------------------------------------------------------

def test_fill_escapes_every_value_but_markup() -> None:
    out = templates.fill('<a title="$t">$t</a>$m $n$$', t=HOSTILE, m=Markup("<b>ok</b>"), n=None)
    assert out == f'<a title="{ESCAPED}">{ESCAPED}</a><b>ok</b> $'
    assert isinstance(out, Markup)
    assert templates.join(["<i>", Markup("<br>")]) == "&lt;i&gt;<br>"


def test_a_missing_value_is_an_error_not_a_gap() -> None:
    with pytest.raises(KeyError, match="message"):
        templates.render("sfwizard.sandbox.salesforce", "message.html", title="only the title")


# -- every template is used, and shipped ------------------------------------------------------------------

def _template_files() -> set[tuple[str, str]]:
    return {(pkg, f.name) for pkg in PACKAGES for f in resources.files(pkg).joinpath("templates").iterdir()
            if f.is_file()}


@pytest.fixture
def loaded(monkeypatch: pytest.MonkeyPatch):
    """The (package, file) pairs read from disk while the test runs (the cache is emptied around it)."""
    seen: set[tuple[str, str]] = set()
    read = templates._read

    def spy(package: str, name: str) -> str:
        seen.add((package, name))
        return read(package, name)

    monkeypatch.setattr(templates, "_read", spy)
    templates._source.cache_clear()
    yield seen
    templates._source.cache_clear()


def test_every_template_file_is_loaded_by_some_page(loaded) -> None:
    facts = pages.AllowFacts(app_name="App", user_name="Ada", username="ada@acme.example", org_name="Acme",
                             org_id="00D000000000001AAA", is_sandbox=True, scopes=("api",))
    pages.login_page(tx="t", csrf="c", app_name="App", error="bad password", saved=["ada@acme.example"])
    pages.allow_page(tx="t", csrf="c", facts=facts)
    pages.oauth_error_page("invalid_request", "missing", app_name="App")
    pages.device_code_page(tx="t", csrf="c", error="expired")
    pages.message_page("Logged out", "bye")
    for scenario in ("healthy", "skilljar-recent"):  # the PX cards, then the Skilljar card
        admin_page(state_json(load_scenario(scenario)), ("ok", "done"))
    from sfwizard.sandbox.admin.fixes import setup_page, setup_state

    setup_page("healthy", setup_state(load_scenario("healthy")), ("ok", "done"))  # Salesforce Setup's stand-in
    security_page(load_scenario("healthy"), ("ok", "done"))  # the Setup stand-in pages
    files = _template_files()
    assert files, "no template files found"
    assert files - loaded == set(), "template files no page loads"
    assert loaded - files == set(), "pages load files that do not exist"


def test_every_template_file_is_package_data() -> None:
    tomllib = pytest.importorskip("tomllib")
    pyproject = tomllib.loads((Path(__file__).parents[2] / "pyproject.toml").read_text(encoding="utf-8"))
    globs = pyproject["tool"]["setuptools"]["package-data"]
    missing = [f"{pkg}: templates/{name}" for pkg, name in sorted(_template_files())
               if not any(fnmatch.fnmatch(f"templates/{name}", g) for g in globs.get(pkg, []))]
    assert missing == [], "not installed with the package (pyproject.toml package-data)"


# -- a hostile org name, end to end ---------------------------------------------------------------------------

def _hidden(page: str, name: str) -> str:
    m = re.search(rf'name="{name}" value="([^"]*)"', page)
    assert m, f"no hidden field {name}"
    return html.unescape(m.group(1))


def test_a_hostile_org_name_is_text_on_the_allow_page_and_the_admin_page(start_sandbox, tls_certs) -> None:
    st = builder.new_state("hostile")
    org = builder.add_org(st, "main", HOSTILE)
    builder.add_profile(st, org, "System Administrator", modify_all=True, approve_uninstalled=True)
    builder.add_user(st, org, "admin@acme.example", first_name="Ada", last_name="Admin",
                     profile="System Administrator")
    app = builder.add_connected_app(st, "Gainsight PX", installed_in={"main"})
    sb = start_sandbox(st)
    base = sb.base_url
    with httpx.Client(verify=ssl.create_default_context(cafile=str(tls_certs.ca_cert)), timeout=10) as c:
        login = c.get(f"{base}/services/oauth2/authorize", params={
            "response_type": "code", "client_id": app.client_id, "scope": "api",
            "redirect_uri": "http://localhost:1717/OauthRedirect"})
        assert login.status_code == 200
        assert 'name="pw"' in login.text
        allow = c.post(f"{base}/services/oauth2/login", data={
            "tx": _hidden(login.text, "tx"), "csrf": _hidden(login.text, "csrf"), "username": "admin@acme.example",
            "pw": st.passwords[("main", "admin@acme.example")]}, follow_redirects=True)
        admin = c.get(f"{base}/")
    assert allow.status_code == 200
    assert "Allow Access?" in allow.text
    assert f'<td id="org">{ESCAPED}</td>' in allow.text
    assert "<script" not in allow.text, "the Salesforce pages carry no script, and echo none"
    assert admin.status_code == 200
    assert f"<td>{ESCAPED}</td>" in admin.text
    assert "<script>alert" not in admin.text
