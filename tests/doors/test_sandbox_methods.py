"""Every method to every route of every imitated service: never a 5xx, and a method a resource does not serve
answers 405 with ``Allow``, as the real services do (the review's schemathesis run found TRACE answered 501 on
every route). The paths are made from the router's own patterns, so a route added later is covered too."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest

try:  # Python 3.11+
    import re._constants as sre_c  # type: ignore[import-not-found]
    import re._parser as sre_p  # type: ignore[import-not-found]
except ImportError:  # pragma: no cover - Python 3.10
    import sre_constants as sre_c  # type: ignore[no-redef]
    import sre_parse as sre_p  # type: ignore[no-redef]

from sfwizard.integrations.transport import tls_verify
from sfwizard.sandbox.salesforce.rest import _api_routes
from sfwizard.sandbox.server import build_router

METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE", "PROPFIND")
_SAMPLE = {"word": "a", "digit": "0", "space": " "}


def example(pattern: str) -> str:
    """One string the pattern matches: the first branch, the fewest repeats, the first character of a class."""
    def gen(items: Any) -> str:
        out = []
        for op, av in items:
            if op is sre_c.LITERAL:
                out.append(chr(av))
            elif op is sre_c.SUBPATTERN:
                out.append(gen(av[-1]))
            elif op is sre_c.BRANCH:
                out.append(gen(av[1][0]))
            elif op is sre_c.IN:
                out.append(_first_in(av))
            elif op in (sre_c.MAX_REPEAT, sre_c.MIN_REPEAT):
                low, _, sub = av
                out.append(gen(sub) * low)
            elif op in (sre_c.ANY, sre_c.NOT_LITERAL):
                out.append("x")
            elif op is sre_c.CATEGORY:
                out.append(_category(av))
        return "".join(out)

    return gen(sre_p.parse(pattern))


def _category(cat: Any) -> str:
    name = str(cat).lower()
    return next((v for k, v in _SAMPLE.items() if k in name and "not" not in name), "x")


def _first_in(items: Any) -> str:
    if items and items[0][0] is sre_c.NEGATE:
        return "x"
    op, av = items[0]
    if op is sre_c.LITERAL:
        return chr(av)
    if op is sre_c.RANGE:
        return chr(av[0])
    return _category(av)


def _cases() -> list[tuple[str, set[str]]]:
    """(path, the methods its routes serve) for every route of the sandbox and of its REST API."""
    routes = build_router().routes
    paths: dict[str, set[str]] = {}
    for r in routes:
        if r.method == "*":
            continue
        path = example(r.pattern.pattern.strip("^$"))
        paths.setdefault(path, set())
    for r in _api_routes():
        paths.setdefault("/services/data/v60.0/" + example(r.pattern.pattern.strip("^$")), set())
    for path in paths:  # every route a path matches counts (a path may be served by two)
        if path.startswith("/services/data/v"):
            rest = path.removeprefix("/services/data/v60.0/")
            paths[path] = {r.method for r in _api_routes() if r.pattern.match(rest)}
        else:
            paths[path] = {r.method for r in routes if r.pattern.match(path)}
    return sorted(paths.items())


def test_the_paths_cover_every_route() -> None:
    cases = dict(_cases())
    assert len(cases) >= 50
    assert all(methods for methods in cases.values())
    assert "/services/oauth2/token" in cases and "/px/v1/accounts/x" in cases


def test_every_method_on_every_route_answers_without_a_5xx(sandbox, sign_in) -> None:
    info = sandbox.info()
    token = sign_in(info).access_token
    seen: dict[int, int] = {}
    bad: list[str] = []
    with httpx.Client(verify=tls_verify(info["ca_cert"]), timeout=30, base_url=info["instance_url"]) as client:
        for path, served in _cases():
            for method in METHODS:
                for auth in ({"Authorization": f"Bearer {token}", "X-APTRINSIC-API-KEY": info["px_api_key"]}, {}):
                    resp = client.request(method, path, headers=auth)
                    seen[resp.status_code] = seen.get(resp.status_code, 0) + 1
                    if resp.status_code >= 500:
                        bad.append(f"{method} {path} → {resp.status_code}")
                    unserved = method not in served and not (method == "HEAD" and "GET" in served)
                    if unserved and auth and resp.status_code != 405:
                        bad.append(f"{method} {path} → {resp.status_code}, not 405")
                    if resp.status_code == 405:
                        allow = set(resp.headers.get("allow", "").split(","))
                        if not served <= allow:
                            bad.append(f"{method} {path}: Allow {sorted(allow)} lacks {sorted(served - allow)}")
    assert not bad, "\n".join(bad[:30])
    print("statuses:", dict(sorted(seen.items())), "requests:", sum(seen.values()))
    assert seen.get(405, 0) > 100


@pytest.mark.parametrize("pattern,matches", [(r"/px/v1/accounts/([^/]+)", "/px/v1/accounts/x"),
                                             (r"/id/(?P<org>[A-Za-z0-9]{15,18})/(?P<user>[A-Za-z0-9]{15,18})/?",
                                              "/id/" + "A" * 15 + "/" + "A" * 15)])
def test_examples_match_their_pattern(pattern: str, matches: str) -> None:
    assert re.fullmatch(pattern, example(pattern))
    assert example(pattern) == matches
