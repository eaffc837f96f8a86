"""The sandbox's OAuth server, driven over HTTPS with httpx the way a browser and a client would."""

from __future__ import annotations

import base64
import hashlib
import hmac
import html
import logging
import re
import secrets
import ssl
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from sfwizard.sandbox.http import Request
from sfwizard.sandbox.salesforce.oauth import token_grant
from sfwizard.sandbox.salesforce.tokens import authenticate, token_store
from sfwizard.sandbox.scenarios import builder

REDIRECT = "http://localhost:1717/OauthRedirect"


@dataclass
class World:
    sb: object
    state: object
    app: object
    admin: dict
    std: dict
    base: str

    def password(self, username: str, org_key: str = "main") -> str:
        return self.state.passwords[(org_key, username.lower())]


def make_state(*, installed: bool = True, rotate: bool = False, app_name: str = "Gainsight PX"):
    st = builder.new_state("oauth-test")
    org = builder.add_org(st, "main", "Acme Corp")
    builder.add_profile(st, org, "System Administrator", modify_all=True, approve_uninstalled=True)
    builder.add_profile(st, org, "Standard User")
    admin = builder.add_user(st, org, "admin@acme.example", first_name="Ada", last_name="Admin",
                             profile="System Administrator")
    std = builder.add_user(st, org, "sam@acme.example", first_name="Sam", last_name="Standard",
                           profile="Standard User")
    app = builder.add_connected_app(st, app_name, installed_in={"main"} if installed else (),
                                    rotate_refresh_tokens=rotate)
    return st, app, admin, std


@pytest.fixture
def ssl_ctx(tls_certs):
    return ssl.create_default_context(cafile=str(tls_certs.ca_cert))


@pytest.fixture
def world(start_sandbox):
    def _make(**kw) -> World:
        st, app, admin, std = make_state(**kw)
        sb = start_sandbox(st)
        return World(sb, st, app, admin, std, sb.base_url)
    return _make


@pytest.fixture
def browser(ssl_ctx):
    clients: list[httpx.Client] = []

    def _new() -> httpx.Client:
        c = httpx.Client(verify=ssl_ctx, follow_redirects=False, timeout=10)
        clients.append(c)
        return c
    yield _new
    for c in clients:
        c.close()


# -- helpers -------------------------------------------------------------------------------------------
def pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(64)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode().rstrip("=")
    return verifier, challenge


def hidden(page: str, name: str) -> str:
    m = re.search(rf'name="{name}" value="([^"]*)"', page)
    assert m, f"no hidden field {name}"
    return html.unescape(m.group(1))


def authorize(c: httpx.Client, w: World, *, state: str | None = "st-123", challenge: str | None = None,
              redirect_uri: str = REDIRECT, **extra: str) -> httpx.Response:
    params = {"response_type": "code", "client_id": w.app.client_id, "redirect_uri": redirect_uri,
              "scope": "api refresh_token id", **extra}
    if state is not None:
        params["state"] = state
    if challenge:
        params.update(code_challenge=challenge, code_challenge_method="S256")
    return c.get(f"{w.base}/services/oauth2/authorize", params=params)


def login(c: httpx.Client, w: World, page: httpx.Response, username: str, password: str) -> httpx.Response:
    assert page.status_code == 200
    assert 'name="pw"' in page.text
    return c.post(f"{w.base}/services/oauth2/login", data={"tx": hidden(page.text, "tx"),
                                                          "csrf": hidden(page.text, "csrf"),
                                                          "username": username, "pw": password})


def decide(c: httpx.Client, w: World, to_allow: httpx.Response, decision: str) -> httpx.Response:
    assert to_allow.status_code == 302, to_allow.text
    page = c.get(to_allow.headers["location"])
    assert page.status_code == 200
    assert "Allow Access?" in page.text
    return c.post(f"{w.base}/setup/secur/RemoteAccessAuthorizationPage.apexp", data={
        "tx": hidden(page.text, "tx"), "csrf": hidden(page.text, "csrf"), "decision": decision})


def query_of(resp: httpx.Response) -> dict[str, str]:
    assert resp.status_code == 302
    return {k: v[0] for k, v in parse_qs(urlsplit(resp.headers["location"]).query).items()}


def get_code(c: httpx.Client, w: World, challenge: str | None, username: str | None = None,
             state: str = "st-123") -> str:
    username = username or w.admin["Username"]
    done = decide(c, w, login(c, w, authorize(c, w, challenge=challenge, state=state), username,
                              w.password(username)), "allow")
    assert done.headers["location"].startswith(REDIRECT + "?")
    q = query_of(done)
    assert q["state"] == state
    return q["code"]


def token(c: httpx.Client, w: World, **form: str) -> httpx.Response:
    return c.post(f"{w.base}/services/oauth2/token", data=form)


def exchange(c: httpx.Client, w: World, code: str, verifier: str | None, **extra: str) -> httpx.Response:
    form = {"grant_type": "authorization_code", "code": code, "client_id": w.app.client_id,
            "redirect_uri": REDIRECT, **extra}
    if verifier is not None:
        form["code_verifier"] = verifier
    return token(c, w, **form)


def refresh(c: httpx.Client, w: World, refresh_token: str) -> httpx.Response:
    return token(c, w, grant_type="refresh_token", refresh_token=refresh_token, client_id=w.app.client_id)


def userinfo(c: httpx.Client, w: World, access: str) -> httpx.Response:
    return c.get(f"{w.base}/services/oauth2/userinfo", headers={"Authorization": f"Bearer {access}"})


def rows(w: World, table: str, org_key: str = "main") -> list[dict]:
    with w.state.lock:
        return [dict(r) for r in w.state.orgs[org_key].table(table).scan()]


# -- authorization code + PKCE ---------------------------------------------------------------------------
def test_pkce_happy_path(world, browser, caplog, assert_no_leak):
    caplog.set_level(logging.DEBUG, logger="sfwizard")
    w = world()
    c = browser()
    verifier, challenge = pkce()
    page = authorize(c, w, challenge=challenge)
    assert "sfwizard sandbox" in page.text
    assert "Log In" in page.text
    assert "Gainsight PX" in page.text
    to_allow = login(c, w, page, "admin@acme.example", w.password("admin@acme.example"))
    cookie = to_allow.headers.get_list("set-cookie")
    sid = next(h for h in cookie if h.startswith("sid="))
    assert "Secure" in sid
    assert "HttpOnly" in sid
    assert "SameSite=Lax" in sid
    allow_page = c.get(to_allow.headers["location"])
    for text in ("Allow Access?", "Gainsight PX", "Ada Admin", "admin@acme.example", "Acme Corp",
                 w.state.default_org.id, "PRODUCTION", ">Allow<", ">Deny<"):
        assert text in allow_page.text, text
    done = c.post(f"{w.base}/setup/secur/RemoteAccessAuthorizationPage.apexp", data={
        "tx": hidden(allow_page.text, "tx"), "csrf": hidden(allow_page.text, "csrf"), "decision": "allow"})
    q = query_of(done)
    assert done.headers["location"].startswith(REDIRECT + "?code=")
    assert q["state"] == "st-123"
    assert q["code"].startswith("aPrx")

    resp = exchange(c, w, q["code"], verifier)
    assert resp.status_code == 200, resp.text
    assert resp.headers["cache-control"] == "no-store"
    body = resp.json()
    assert list(body) == ["access_token", "refresh_token", "signature", "scope", "instance_url", "id",
                          "token_type", "issued_at"]
    org_id, user_id = w.state.default_org.id, w.admin["Id"]
    assert body["id"] == f"{w.base}/id/{org_id}/{user_id}"
    assert body["instance_url"] == w.base
    assert body["token_type"] == "Bearer"
    assert body["access_token"].startswith(org_id[:15] + "!")
    assert body["issued_at"].isdigit()
    assert body["scope"] == "api refresh_token id"
    signed = (body["id"] + body["issued_at"]).encode()
    mac = hmac.new(w.app.client_secret.encode(), signed, hashlib.sha256)
    expected = base64.b64encode(mac.digest()).decode()
    assert body["signature"] == expected
    assert userinfo(c, w, body["access_token"]).json()["user_id"] == user_id

    oauth_rows = rows(w, "OauthToken")
    assert [(r["AppName"], r["UserId"]) for r in oauth_rows] == [("Gainsight PX", user_id)]
    remote = [r for r in rows(w, "LoginHistory") if r["LoginType"] == "Remote Access 2.0"]
    assert len(remote) == 1
    assert remote[0]["Application"] == "Gainsight PX"
    assert remote[0]["Status"] == "Success"
    assert remote[0]["SourceIp"] == "127.0.0.1"
    assert remote[0]["LoginUrl"] == urlsplit(w.base).netloc
    ui = [r for r in rows(w, "LoginHistory") if r["LoginType"] == "Application"]
    assert [r["Status"] for r in ui] == ["Success"]

    assert "login ok for admin@acme.example" in caplog.text
    assert_no_leak({"the log": caplog.text}, {
        "code": q["code"], "access token": body["access_token"], "refresh token": body["refresh_token"],
        "password": w.password("admin@acme.example"), "client secret": w.app.client_secret, "verifier": verifier})


def test_wrong_verifier_refused(world, browser):
    w = world()
    c = browser()
    _, challenge = pkce()
    code = get_code(c, w, challenge)
    resp = exchange(c, w, code, pkce()[0])
    assert resp.status_code == 400
    assert resp.json() == {"error": "invalid_grant", "error_description": "invalid code verifier"}
    assert exchange(c, w, code, None).json()["error_description"] == "invalid code verifier"


def test_replayed_code_refused_and_its_tokens_revoked(world, browser):
    w = world()
    c = browser()
    verifier, challenge = pkce()
    code = get_code(c, w, challenge)
    first = exchange(c, w, code, verifier).json()
    assert userinfo(c, w, first["access_token"]).status_code == 200
    again = exchange(c, w, code, verifier)
    assert again.status_code == 400
    assert again.json() == {"error": "invalid_grant", "error_description": "invalid authorization code"}
    assert userinfo(c, w, first["access_token"]).status_code == 403
    refreshed = token(c, w, grant_type="refresh_token", refresh_token=first["refresh_token"],
                      client_id=w.app.client_id)
    assert refreshed.json()["error"] == "invalid_grant"
    assert rows(w, "OauthToken") == []


def test_code_is_bound_to_client_and_redirect_and_expires(world, browser):
    w = world()
    other = builder.add_connected_app(w.state, "Other App", installed_in={"main"})
    c = browser()
    verifier, challenge = pkce()
    code = get_code(c, w, challenge)
    assert exchange(c, w, code, verifier, redirect_uri="http://localhost:9999/cb").json() == {
        "error": "redirect_uri_mismatch", "error_description": "redirect_uri must match configuration"}
    assert exchange(c, w, code, verifier, client_id=other.client_id).json()["error_description"] == \
        "invalid authorization code"
    with w.state.lock:
        token_store(w.state).codes[code].expires -= timedelta(minutes=16)
    assert exchange(c, w, code, verifier).json() == {"error": "invalid_grant",
                                                     "error_description": "expired authorization code"}


def test_state_is_echoed_exactly(world, browser):
    w = world()
    c = browser()
    odd = "a b&c=d/é"
    code = get_code(c, w, pkce()[1], state=odd)
    assert code


def test_code_without_pkce_needs_the_secret(world, browser):
    w = world()
    c = browser()
    code = get_code(c, w, None)
    assert exchange(c, w, code, None).json()["error"] == "invalid_client"
    assert exchange(c, w, code, None, client_secret="wrong").json() == {
        "error": "invalid_client", "error_description": "invalid client credentials"}
    assert exchange(c, w, code, None, client_secret=w.app.client_secret).status_code == 200


@pytest.mark.parametrize("uri", ["https://evil.example/cb", "http://localhost.evil.example:1717/cb",
                                 "http://127.0.0.1@evil.example:80/", "http://localhost/no-port",
                                 "http://localhost:1717/cb#frag"])
def test_non_loopback_redirect_refused(world, browser, uri):
    w = world()
    c = browser()
    resp = authorize(c, w, redirect_uri=uri)
    assert resp.status_code == 302
    loc = resp.headers["location"]
    assert loc.startswith(f"{w.base}/setup/secur/RemoteAccessErrorPage.apexp?")
    assert query_of(resp) == {"error": "redirect_uri_mismatch",
                              "error_description": "redirect_uri must match configuration"}
    page = c.get(loc)
    assert page.status_code == 200
    assert "redirect_uri_mismatch" in page.text


def test_loopback_variants_and_registered_redirects_accepted(world, browser):
    w = world()
    w.app.redirect_uris = ("https://px.example/callback",)
    c = browser()
    for uri in ("http://127.0.0.1:5555/cb", "http://[::1]:5555/cb", "https://px.example/callback"):
        assert authorize(c, w, redirect_uri=uri).status_code == 200, uri


def test_unknown_client_gets_error_page_not_redirect(world, browser):
    w = world()
    c = browser()
    resp = c.get(f"{w.base}/services/oauth2/authorize", params={
        "response_type": "code", "client_id": "nope", "redirect_uri": REDIRECT})
    assert query_of(resp) == {"error": "invalid_client_id", "error_description": "client identifier invalid"}
    assert not resp.headers["location"].startswith(REDIRECT)


def test_deny_redirects_access_denied(world, browser):
    w = world()
    c = browser()
    page = authorize(c, w, challenge=pkce()[1])
    done = decide(c, w, login(c, w, page, "admin@acme.example", w.password("admin@acme.example")), "deny")
    assert done.headers["location"] == (REDIRECT + "?error=access_denied&error_description=end-user+denied"
                                        "+authorization&state=st-123")


def test_wrong_password_shows_login_again_and_logs_history(world, browser):
    w = world()
    c = browser()
    page = authorize(c, w)
    again = login(c, w, page, "admin@acme.example", "not-it")
    assert again.status_code == 200
    assert "Please check your username and password" in again.text
    assert 'value="admin@acme.example"' in again.text
    statuses = [(r["Status"], r["UserId"]) for r in rows(w, "LoginHistory")]
    assert statuses == [("Invalid Password", w.admin["Id"])]
    ok = login(c, w, again, "admin@acme.example", w.password("admin@acme.example"))
    assert ok.status_code == 302
    assert "RemoteAccessAuthorizationPage" in ok.headers["location"]


def test_session_cookie_skips_login_and_prompt_login_forces_it(world, browser):
    w = world()
    c = browser()
    get_code(c, w, pkce()[1])
    second = authorize(c, w)
    assert second.status_code == 302
    assert "RemoteAccessAuthorizationPage" in second.headers["location"]
    forced = authorize(c, w, prompt="login")
    assert forced.status_code == 200
    assert 'name="pw"' in forced.text
    assert "admin@acme.example" in forced.text  # the saved-usernames switcher
    c.get(f"{w.base}/secur/logout.jsp")
    assert authorize(c, w).status_code == 200


def test_forged_or_stale_form_posts_refused(world, browser):
    w = world()
    c = browser()
    page = authorize(c, w)
    resp = c.post(f"{w.base}/services/oauth2/login", data={
        "tx": hidden(page.text, "tx"), "csrf": "forged", "username": "admin@acme.example",
        "pw": w.password("admin@acme.example")})
    assert resp.status_code == 400
    resp = c.post(f"{w.base}/services/oauth2/login", headers={"Origin": "https://evil.example"}, data={
        "tx": hidden(page.text, "tx"), "csrf": hidden(page.text, "csrf"), "username": "admin@acme.example",
        "pw": w.password("admin@acme.example")})
    assert resp.status_code == 400


def test_pages_escape_what_they_echo(start_sandbox, browser):
    st, app, *_ = make_state(app_name='<script>alert("x")</script>')
    sb = start_sandbox(st)
    w = World(sb, st, app, {}, {}, sb.base_url)
    c = browser()
    page = authorize(c, w, login_hint='"><img src=x>')
    assert "<script>alert" not in page.text
    assert "&lt;script&gt;" in page.text
    assert "<img src=x>" not in page.text
    err = c.get(f"{w.base}/setup/secur/RemoteAccessErrorPage.apexp",
                params={"error": "<b>x</b>", "error_description": "<i>y</i>"})
    assert "<b>x</b>" not in err.text
    assert "&lt;b&gt;x&lt;/b&gt;" in err.text


# -- refresh, password ----------------------------------------------------------------------------------
def _tokens_via_browser(w: World, c: httpx.Client) -> dict:
    verifier, challenge = pkce()
    return exchange(c, w, get_code(c, w, challenge), verifier).json()


def test_refresh_without_rotation(world, browser):
    w = world()
    c = browser()
    first = _tokens_via_browser(w, c)
    for _ in range(2):  # the same refresh token keeps working
        resp = token(c, w, grant_type="refresh_token", refresh_token=first["refresh_token"],
                     client_id=w.app.client_id)
        assert resp.status_code == 200
        body = resp.json()
        assert "refresh_token" not in body
        assert body["access_token"] != first["access_token"]
        assert userinfo(c, w, body["access_token"]).status_code == 200
    assert token(c, w, grant_type="refresh_token", refresh_token="5Aep861bogus",
                 client_id=w.app.client_id).json() == {"error": "invalid_grant",
                                                       "error_description": "expired access/refresh token"}


def test_refresh_with_rotation_kills_the_old_one(world, browser):
    w = world(rotate=True)
    c = browser()
    first = _tokens_via_browser(w, c)
    resp = refresh(c, w, first["refresh_token"])
    body = resp.json()
    assert resp.status_code == 200
    assert body["refresh_token"] != first["refresh_token"]
    old = refresh(c, w, first["refresh_token"])
    assert old.status_code == 400
    assert old.json()["error_description"] == "expired access/refresh token"
    newer = refresh(c, w, body["refresh_token"])
    assert newer.status_code == 200
    assert "refresh_token" in newer.json()


def test_password_grant(world, browser):
    w = world()
    c = browser()
    good = token(c, w, grant_type="password", username="admin@acme.example",
                 password=w.password("admin@acme.example"), client_id=w.app.client_id,
                 client_secret=w.app.client_secret)
    assert good.status_code == 200
    body = good.json()
    assert "refresh_token" not in body
    assert body["id"].endswith(w.admin["Id"])
    bad = token(c, w, grant_type="password", username="admin@acme.example", password="wrong",
                client_id=w.app.client_id, client_secret=w.app.client_secret)
    assert bad.status_code == 400
    assert bad.json() == {"error": "invalid_grant", "error_description": "authentication failure"}
    assert "Invalid Password" in [r["Status"] for r in rows(w, "LoginHistory")]
    assert token(c, w, grant_type="password", username="admin@acme.example",
                 password=w.password("admin@acme.example"), client_id=w.app.client_id,
                 client_secret="nope").json() == {"error": "invalid_client",
                                                  "error_description": "invalid client credentials"}
    assert token(c, w, grant_type="password", username="x", password="y", client_id="nope",
                 client_secret="z").json() == {"error": "invalid_client_id",
                                               "error_description": "client identifier invalid"}
    # Salesforce also reads the token request from the query string.
    q = c.post(f"{w.base}/services/oauth2/token", params={
        "grant_type": "password", "username": "admin@acme.example",
        "password": w.password("admin@acme.example"), "client_id": w.app.client_id,
        "client_secret": w.app.client_secret})
    assert q.status_code == 200


def test_token_endpoint_reads_chunked_and_basic_auth(world, browser):
    """node-fetch (jsforce, the sf CLI) streams the form with Transfer-Encoding: chunked."""
    w = world()
    c = browser()
    form = (f"grant_type=password&username=admin%40acme.example&password="
            f"{w.password('admin@acme.example')}").encode()

    def chunks():
        yield form[:10]
        yield form[10:]
    creds = base64.b64encode(f"{w.app.client_id}:{w.app.client_secret}".encode()).decode()
    resp = c.post(f"{w.base}/services/oauth2/token", content=chunks(), headers={
        "content-type": "application/x-www-form-urlencoded", "authorization": f"Basic {creds}"})
    assert resp.status_code == 200, resp.text
    assert resp.json()["id"].endswith(w.admin["Id"])


def test_inactive_user_is_refused(world, browser):
    w = world()
    c = browser()
    first = _tokens_via_browser(w, c)
    with w.state.lock:
        w.state.default_org.user(w.admin["Id"])["IsActive"] = False
    resp = refresh(c, w, first["refresh_token"])
    assert resp.status_code == 400
    assert resp.json()["error"] == "invalid_grant"


def test_unsupported_grant_type_and_contract(world):
    w = world()
    assert token_grant(w.state, {"grant_type": "magic"}) == (
        400, {"error": "unsupported_grant_type", "error_description": "grant type not supported"})
    assert token_grant(w.state, {})[0] == 400


# -- device flow ----------------------------------------------------------------------------------------
def _device_start(c: httpx.Client, w: World) -> dict:
    # The sf CLI posts multipart/form-data here; so does this test.
    resp = c.post(f"{w.base}/services/oauth2/token", files={
        "client_id": (None, w.app.client_id), "response_type": (None, "device_code"),
        "scope": (None, "refresh_token web api")})
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert set(body) == {"device_code", "user_code", "verification_uri", "interval"}
    assert body["verification_uri"] == f"{w.base}/setup/connect"
    assert body["interval"] == 5
    return body


def _poll(c: httpx.Client, w: World, device_code: str) -> httpx.Response:
    return token(c, w, grant_type="device", client_id=w.app.client_id, code=device_code)


def _age_poll(w: World, device_code: str) -> None:
    with w.state.lock:
        dev = token_store(w.state).devices[device_code]
        dev.last_poll -= timedelta(seconds=dev.interval)


def _approve_device(c: httpx.Client, w: World, user_code: str, decision: str) -> httpx.Response:
    page = c.get(f"{w.base}/setup/connect")
    assert "Connect to Your Device" in page.text
    bad = c.post(f"{w.base}/setup/connect", data={
        "tx": hidden(page.text, "tx"), "csrf": hidden(page.text, "csrf"), "user_code": "ZZZZZZZZ"})
    assert "invalid or has expired" in bad.text
    login_page = c.post(f"{w.base}/setup/connect", data={
        "tx": hidden(bad.text, "tx"), "csrf": hidden(bad.text, "csrf"), "user_code": user_code.lower()})
    to_allow = login(c, w, login_page, "admin@acme.example", w.password("admin@acme.example"))
    return decide(c, w, to_allow, decision)


def test_device_flow_pending_slow_down_approve(world, browser):
    w = world()
    device, person = browser(), browser()
    start = _device_start(device, w)
    dc = start["device_code"]
    first = _poll(device, w, dc)
    assert first.status_code == 400
    assert first.json()["error"] == "authorization_pending"
    fast = _poll(device, w, dc)
    assert fast.status_code == 400
    assert fast.json()["error"] == "slow_down"
    done = _approve_device(person, w, start["user_code"], "allow")
    assert done.status_code == 200
    assert "You're connected" in html.unescape(done.text)
    _age_poll(w, dc)
    resp = _poll(device, w, dc)
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert "refresh_token" in body
    assert body["id"].endswith(w.admin["Id"])
    assert _poll(device, w, dc).json()["error"] == "invalid_grant"  # a device code is used once


def test_device_flow_denied(world, browser):
    w = world()
    device, person = browser(), browser()
    start = _device_start(device, w)
    done = _approve_device(person, w, start["user_code"], "deny")
    assert "Access denied" in done.text
    assert _poll(device, w, start["device_code"]).json() == {
        "error": "access_denied", "error_description": "end-user denied authorization"}


def test_device_flow_expiry_and_disabled(world, browser):
    w = world()
    c = browser()
    start = _device_start(c, w)
    with w.state.lock:
        token_store(w.state).devices[start["device_code"]].expires -= timedelta(minutes=11)
    assert _poll(c, w, start["device_code"]).json()["error"] == "expired_token"
    w.app.device_flow = False
    resp = token(c, w, response_type="device_code", client_id=w.app.client_id)
    assert resp.json() == {"error": "invalid_grant",
                           "error_description": "device flow is not enabled for the app"}


# -- revoke, userinfo, identity -------------------------------------------------------------------------
def test_revoke_then_use_fails(world, browser):
    w = world()
    c = browser()
    body = _tokens_via_browser(w, c)
    access = body["access_token"]
    assert c.post(f"{w.base}/services/oauth2/revoke", data={"token": access}).status_code == 200
    assert userinfo(c, w, access).status_code == 403
    assert userinfo(c, w, access).text == "Bad_OAuth_Token"
    with w.state.lock:
        denied = authenticate(w.state, Request("GET", "/services/data/v60.0/limits", {},
                                               {"authorization": f"Bearer {access}"}))
    assert denied.status == 401
    assert b"INVALID_SESSION_ID" in denied.body
    rest = c.get(f"{w.base}/services/data/v60.0/limits", headers={"Authorization": f"Bearer {access}"})
    assert rest.status_code in (401, 404)  # 401 once the REST module serves limits
    if rest.status_code == 401:
        assert rest.json()[0]["errorCode"] == "INVALID_SESSION_ID"
    again = c.post(f"{w.base}/services/oauth2/revoke", data={"token": access})
    assert again.status_code == 400
    assert parse_qs(again.text) == {"error": ["unsupported_token_type"],
                                    "error_description": ["this token type is not supported"]}
    # The refresh token still lives, so the (app, user) row stays until that goes too.
    assert len(rows(w, "OauthToken")) == 1
    refreshed = token(c, w, grant_type="refresh_token", refresh_token=body["refresh_token"],
                      client_id=w.app.client_id).json()
    by_get = c.get(f"{w.base}/services/oauth2/revoke", params={"token": body["refresh_token"]})
    assert by_get.status_code == 200
    assert userinfo(c, w, refreshed["access_token"]).status_code == 403  # access tokens from it die too
    assert rows(w, "OauthToken") == []


def test_userinfo_and_identity_shapes(world, browser):
    w = world()
    c = browser()
    body = _tokens_via_browser(w, c)
    auth = {"Authorization": f"Bearer {body['access_token']}"}
    org_id, user_id = w.state.default_org.id, w.admin["Id"]
    info = c.get(f"{w.base}/services/oauth2/userinfo", headers=auth).json()
    assert info["sub"] == body["id"]
    assert info["user_id"] == user_id
    assert info["organization_id"] == org_id
    assert info["preferred_username"] == "admin@acme.example"
    assert info["name"] == "Ada Admin"
    assert info["email"]
    assert info["zoneinfo"] == "America/Los_Angeles"
    assert info["locale"] == "en_US"
    assert info["is_app_installed"] is True
    assert info["user_type"] == "STANDARD"
    assert info["urls"]["rest"] == f"{w.base}/services/data/v{{version}}/"

    ident = c.get(body["id"], headers=auth)
    assert ident.status_code == 200
    data = ident.json()
    for key in ("id", "asserted_user", "user_id", "organization_id", "username", "nick_name", "display_name",
                "email", "email_verified", "first_name", "last_name", "timezone", "active", "user_type",
                "language", "locale", "utcOffset", "last_modified_date", "is_app_installed", "urls"):
        assert key in data, key
    assert data["id"] == body["id"]
    assert data["username"] == "admin@acme.example"
    assert data["active"] is True
    assert data["utcOffset"] == -28_800_000
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", data["last_modified_date"])
    assert set(data["urls"]) == {
        "enterprise", "metadata", "partner", "rest", "sobjects", "search", "query", "recent", "tooling_soap",
        "tooling_rest", "profile", "feeds", "groups", "users", "feed_items", "feed_elements", "custom_domain"}
    assert data["urls"]["enterprise"] == f"{w.base}/services/Soap/c/{{version}}/{org_id[:15]}"
    assert data["urls"]["custom_domain"] == w.base
    versioned = c.get(body["id"], params={"version": "60.0"}, headers=auth).json()
    assert versioned["urls"]["rest"] == f"{w.base}/services/data/v60.0/"

    other = c.get(f"{w.base}/id/{org_id}/{w.std['Id']}", headers=auth)
    assert other.status_code == 403
    assert c.get(body["id"]).status_code == 403  # no token
    assert c.get(body["id"], headers={"Authorization": "Bearer nope"}).text == "Bad_OAuth_Token"


# -- uninstalled apps, the wrong org --------------------------------------------------------------------
def test_uninstalled_app_blocked_for_users_without_the_permission(world, browser):
    w = world(installed=False)
    c = browser()
    page = authorize(c, w, challenge=pkce()[1])
    resp = login(c, w, page, "sam@acme.example", w.password("sam@acme.example"))
    assert resp.status_code == 302
    loc = resp.headers["location"]
    assert loc.startswith(f"{w.base}/setup/secur/RemoteAccessErrorPage.apexp?")
    q = query_of(resp)
    assert q["error"] == "invalid_client"
    assert q["error_description"] == "app must be installed into org"
    err = c.get(loc)
    assert "OAUTH_APPROVAL_ERROR_GENERIC" in err.text
    assert "Gainsight PX" in err.text
    failed = [r for r in rows(w, "LoginHistory") if r["LoginType"] == "Remote Access 2.0"]
    assert [(r["UserId"], r["Application"]) for r in failed] == [(w.std["Id"], "Gainsight PX")]
    assert failed[0]["Status"] != "Success"
    assert token(c, w, grant_type="password", username="sam@acme.example",
                 password=w.password("sam@acme.example"), client_id=w.app.client_id,
                 client_secret=w.app.client_secret).json()["error"] == "invalid_client"
    # An admin holding Approve Uninstalled Connected Apps gets through.
    admin = browser()
    assert get_code(admin, w, pkce()[1])


def test_wrong_org_login_hint(start_sandbox, browser):
    st, app, admin, _ = make_state()
    other = builder.add_org(st, "other", "Acme Sandbox (UAT)", is_sandbox=True)
    builder.add_profile(st, other, "System Administrator", modify_all=True, approve_uninstalled=True)
    uat = builder.add_user(st, other, "admin@acme.example.uat", first_name="Ada", last_name="Admin",
                           profile="System Administrator")
    app.installed_in.add("other")
    st.login_hint = ("other", uat["Id"])
    sb = start_sandbox(st)
    w = World(sb, st, app, admin, {}, sb.base_url)
    c = browser()
    verifier, challenge = pkce()
    to_allow = authorize(c, w, challenge=challenge)
    assert to_allow.status_code == 302  # no login form: the remembered session is used
    allow_page = c.get(to_allow.headers["location"])
    assert "Acme Sandbox (UAT)" in allow_page.text
    assert "SANDBOX" in allow_page.text
    assert "admin@acme.example.uat" in allow_page.text
    assert other.id in allow_page.text
    assert "Not you? Log in as someone else" in allow_page.text
    not_you = re.search(r'id="not-you" href="([^"]+)"', allow_page.text).group(1)
    assert 'name="pw"' in c.get(w.base + html.unescape(not_you)).text
    done = c.post(f"{w.base}/setup/secur/RemoteAccessAuthorizationPage.apexp", data={
        "tx": hidden(allow_page.text, "tx"), "csrf": hidden(allow_page.text, "csrf"), "decision": "allow"})
    body = exchange(c, w, query_of(done)["code"], verifier).json()
    assert body["id"] == f"{w.base}/id/{other.id}/{uat['Id']}"  # the wrong org, as in real life
    assert [r["UserId"] for r in rows(w, "OauthToken", "other")] == [uat["Id"]]
    assert rows(w, "OauthToken", "main") == []
    # prompt=login (what a careful client sends) shows the form instead.
    assert 'name="pw"' in authorize(browser(), w, prompt="login").text
