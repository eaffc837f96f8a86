"""The web sign-in: PKCE end to end through the real loopback listener (approved by the demo's stand-in for
a person), and the listener's refusals, timeouts and ports."""

from __future__ import annotations

import base64
import hashlib
import socket
import threading
import time
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from sfwizard.demo import approve_in_sandbox
from sfwizard.errors import SfwizardError
from sfwizard.integrations import signin


def _redirect_uri(url: str) -> str:
    return parse_qs(urlsplit(url).query)["redirect_uri"][0]


def _state(url: str) -> str:
    return parse_qs(urlsplit(url).query)["state"][0]


def _nobody_listens(port: int) -> bool:
    """Nothing accepts connections on the port (a closed listener may still leave TIME_WAIT behind)."""
    with socket.socket() as s:
        s.settimeout(2)
        try:
            s.connect(("127.0.0.1", port))
        except ConnectionRefusedError:
            return True
        return False


def _ipv6_loopback() -> bool:
    try:
        with socket.socket(socket.AF_INET6) as s:
            s.bind(("::1", 0))
        return True
    except OSError:
        return False


def _bounded(fn, limit: float) -> dict:
    """Run fn on a daemon thread; a regression that hangs fails the test instead of stalling the suite."""
    out: dict = {}

    def run() -> None:
        try:
            out["value"] = fn()
        except BaseException as exc:  # noqa: BLE001 - handed to the test
            out["error"] = exc

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    worker.join(limit)
    assert not worker.is_alive(), f"still running after {limit} s"
    return out


# -- PKCE end to end ----------------------------------------------------------------------------------------
def test_pkce_sign_in_returns_working_tokens_for_the_admin(sandbox, web_login, approving, admin_id,
                                                           limits_status) -> None:
    info = sandbox.info()
    seen: dict = {}
    tokens = web_login(info, approving(info, seen))

    assert limits_status(info, tokens.access_token) == 200
    assert tokens.org_id == info["org_id"]
    assert tokens.user_id == admin_id
    assert tokens.id_url.endswith(f"/id/{tokens.org_id}/{tokens.user_id}")
    assert tokens.instance_url == info["instance_url"]
    assert (tokens.login_url, tokens.client_id, tokens.source) == (info["login_url"], info["client_id"], "web")
    assert tokens.refresh_token  # scope asked for refresh_token
    # What the browser was sent to: PKCE S256, a state, and a loopback redirect on the port we listened on.
    q = {k: v[0] for k, v in parse_qs(urlsplit(seen["url"]).query).items()}
    assert q["code_challenge_method"] == "S256"
    assert len(q["code_challenge"]) == 43
    assert len(q["state"]) >= 20
    assert q["redirect_uri"].startswith("http://localhost:")
    assert q["redirect_uri"].endswith("/OauthRedirect")
    assert "code_verifier" not in seen["url"]
    # The one-shot listener is gone once the sign-in returned.
    assert _nobody_listens(urlsplit(q["redirect_uri"]).port)


def test_pkce_pair_is_s256() -> None:
    verifier, challenge = signin.pkce_pair()
    assert 43 <= len(verifier) <= 128
    assert challenge == base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode().rstrip("=")
    assert signin.pkce_pair()[0] != verifier


# -- the loopback listener's refusals ------------------------------------------------------------------------
def test_a_wrong_state_is_refused_with_a_400_page_and_the_sign_in_waits_for_the_right_one(
        sandbox, web_login, limits_status) -> None:
    """A forged or stale answer (a cross-site <img>, an old tab) must not end the sign-in: it is refused with a
    400 page and the listener keeps waiting; the real answer that follows signs in."""
    info = sandbox.info()
    seen: dict = {}

    def forge_then_approve(url: str) -> None:
        redirect = _redirect_uri(url)
        seen["wrong"] = httpx.get(redirect + "?code=x&state=wrong", timeout=10)
        seen["missing"] = httpx.get(redirect + "?code=x", timeout=10)
        seen["error"] = httpx.get(redirect, params={"error": "access_denied", "state": "forged"}, timeout=10)
        threading.Thread(target=approve_in_sandbox, args=(url, info), daemon=True).start()

    tokens = web_login(info, forge_then_approve, timeout=20)
    for key in ("wrong", "missing", "error"):
        assert seen[key].status_code == 400, key
        assert "text/html" in seen[key].headers["content-type"]
        assert "refused" in seen[key].text.lower()
    assert tokens.org_id == info["org_id"]  # the right answer still signed in
    assert limits_status(info, tokens.access_token) == 200


def test_only_wrong_states_time_out_naming_the_timeout(sandbox, web_login) -> None:
    info = sandbox.info()

    def forge(url: str) -> None:
        httpx.get(_redirect_uri(url) + "?code=x&state=wrong", timeout=10)

    with pytest.raises(SfwizardError, match="no answer from the browser"):
        web_login(info, forge, timeout=1)


def test_the_listener_holds_every_loopback_address_localhost_names(sandbox, web_login, approving) -> None:
    """The redirect says localhost; the browser may pick ::1. Both are ours, on the same port."""
    info = sandbox.info()
    seen: dict = {}

    def check_then_approve(url: str) -> None:
        port = urlsplit(_redirect_uri(url)).port
        seen["port"] = port
        seen["v4"] = httpx.get(f"http://127.0.0.1:{port}/x", timeout=10).status_code
        if _ipv6_loopback():
            seen["v6"] = httpx.get(f"http://[::1]:{port}/x", timeout=10).status_code
        approving(info)(url)

    assert web_login(info, check_then_approve).access_token
    assert seen["v4"] == 404  # our listener's page for a stray path
    if "v6" in seen:
        assert seen["v6"] == 404


def test_a_port_taken_on_ipv6_loopback_is_refused(sandbox) -> None:
    """Another user who binds [::1]:PORT first would receive a browser that picks ::1 for localhost."""
    info = sandbox.info()
    if not _ipv6_loopback():
        pytest.skip("no IPv6 loopback on this machine")
    with socket.socket(socket.AF_INET6) as squatter:
        squatter.bind(("::1", 0))
        squatter.listen()
        port = squatter.getsockname()[1]
        with pytest.raises(SfwizardError) as err:
            signin.web_login(info["login_url"], info["client_id"], port=port, open_browser=False,
                             on_url=lambda url: None, ca_cert=info["ca_cert"], timeout=5)
    assert f"port {port}" in err.value.message


def test_a_denial_in_the_browser_ends_the_sign_in(sandbox, web_login) -> None:
    info = sandbox.info()
    seen: dict = {}

    def deny(url: str) -> None:
        seen["resp"] = httpx.get(_redirect_uri(url), params={"error": "access_denied", "state": _state(url),
                                                             "error_description": "end-user denied authorization"})

    with pytest.raises(SfwizardError) as err:
        web_login(info, deny, timeout=10)
    assert "Deny was clicked" in err.value.message  # a refusal, not a blocked app
    assert "click Allow" in err.value.hint
    assert seen["resp"].status_code == 200


def test_non_get_and_stray_paths_do_not_end_the_sign_in(sandbox, web_login, limits_status) -> None:
    info = sandbox.info()
    seen: dict = {}

    def poke_then_approve(url: str) -> None:
        redirect, state = _redirect_uri(url), _state(url)
        # Even with the right state, a non-GET never counts as the answer.
        seen["methods"] = {m: httpx.request(m, redirect, params={"code": "x", "state": state}).status_code
                           for m in ("POST", "PUT", "DELETE", "PATCH")}
        favicon = redirect.replace("/OauthRedirect", "/favicon.ico")
        seen["favicon"] = httpx.get(favicon).status_code
        threading.Thread(target=approve_in_sandbox, args=(url, info), daemon=True).start()

    tokens = web_login(info, poke_then_approve)
    assert seen["methods"] == {"POST": 405, "PUT": 405, "DELETE": 405, "PATCH": 405}
    assert seen["favicon"] == 404
    assert limits_status(info, tokens.access_token) == 200


def test_only_the_first_answer_counts(sandbox, web_login) -> None:
    """A second callback (a reload, a stray tab) cannot replace the code already received."""
    info = sandbox.info()
    seen: dict = {}

    def on_url(url: str) -> None:
        q = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
        seen["callback"] = q["redirect_uri"]
        seen["state"] = q["state"]
        approve_in_sandbox(url, info)  # synchronous: the real code has arrived before we return

    server_result: dict = {}
    real_finish = signin._Listener.finish

    def spy(self, result):
        real_finish(self, result)
        server_result["after_first"] = self.result
        real_finish(self, SfwizardError("a late wrong answer"))
        server_result["after_second"] = self.result

    signin._Listener.finish = spy
    try:
        tokens = web_login(info, on_url, timeout=10)
    finally:
        signin._Listener.finish = real_finish
    assert tokens.access_token
    assert isinstance(server_result["after_first"], str)
    assert server_result["after_second"] == server_result["after_first"]


# -- timeouts and silent connections ---------------------------------------------------------------------------
def test_no_answer_times_out_naming_the_timeout(sandbox, web_login) -> None:
    info = sandbox.info()
    seen: dict = {}
    t0 = time.monotonic()
    with pytest.raises(SfwizardError) as err:
        web_login(info, lambda url: seen.setdefault("url", url), timeout=1)
    assert 0.9 <= time.monotonic() - t0 < 5
    assert "within 1 s" in err.value.message
    assert "--device" in err.value.hint
    assert _nobody_listens(urlsplit(_redirect_uri(seen["url"])).port)  # the listener closed on the way out


def test_a_silent_preconnect_does_not_block_the_callback(sandbox, web_login) -> None:
    """A browser's speculative preconnect opens a connection and sends nothing."""
    info = sandbox.info()
    sockets: list[socket.socket] = []

    def silent_then_approve(url: str) -> None:
        sockets.append(socket.create_connection(("127.0.0.1", urlsplit(_redirect_uri(url)).port)))
        threading.Thread(target=approve_in_sandbox, args=(url, info), daemon=True).start()

    try:
        out = _bounded(lambda: web_login(info, silent_then_approve, timeout=20), 5)  # under the 10 s read timeout
        assert "error" not in out, out.get("error")
        assert out["value"].access_token
        assert out["value"].org_id == info["org_id"]
    finally:
        for s in sockets:
            s.close()


def test_a_silent_connection_does_not_stop_the_timeout(sandbox, web_login) -> None:
    info = sandbox.info()
    sockets: list[socket.socket] = []

    def silent(url: str) -> None:
        sockets.append(socket.create_connection(("127.0.0.1", urlsplit(_redirect_uri(url)).port)))

    try:
        out = _bounded(lambda: web_login(info, silent, timeout=0.5), 3)
        assert isinstance(out.get("error"), SfwizardError), out
        assert "no answer from the browser" in str(out["error"])
    finally:
        for s in sockets:
            s.close()


# -- ports -------------------------------------------------------------------------------------------------------
def test_a_taken_port_is_named_with_the_way_out(sandbox) -> None:
    info = sandbox.info()
    called: list[str] = []
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        port = busy.getsockname()[1]
        with pytest.raises(SfwizardError) as err:
            signin.web_login(info["login_url"], info["client_id"], port=port, open_browser=False,
                             on_url=called.append, ca_cert=info["ca_cert"], timeout=5)
    assert f"port {port}" in err.value.message
    assert "--port" in err.value.hint
    assert called == []  # no URL is shown for a sign-in that cannot finish


@pytest.mark.parametrize("port", [-1, 65536, 99999])
def test_an_impossible_port_is_one_line(port: int) -> None:
    with pytest.raises(SfwizardError) as err:
        signin.web_login("https://login.salesforce.com", "cid", port=port, open_browser=False,
                         on_url=lambda url: None, timeout=1)
    assert str(port) in err.value.message
    assert "--port" in err.value.hint
