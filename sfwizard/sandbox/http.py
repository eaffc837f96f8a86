"""Small request/response types and a router shared by every sandbox module."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs


@dataclass
class Request:
    method: str
    path: str  # without the query string, percent-decoding left to handlers
    query: dict[str, list[str]]
    headers: dict[str, str]  # lower-case names
    body: bytes = b""
    client: str = "127.0.0.1"

    def arg(self, name: str, default: str | None = None) -> str | None:
        values = self.query.get(name)
        return values[0] if values else default

    def header(self, name: str, default: str | None = None) -> str | None:
        return self.headers.get(name.lower(), default)

    def form(self) -> dict[str, str]:
        """Form fields of the body (first value of each), as OAuth token requests send them."""
        parsed = parse_qs(self.body.decode("utf-8", "replace"), keep_blank_values=True)
        return {k: v[0] for k, v in parsed.items()}

    def params(self) -> dict[str, str]:
        """Query-string and form fields together (the token endpoint accepts both)."""
        out = {k: v[0] for k, v in self.query.items()}
        ctype = self.header("content-type", "") or ""
        if self.body and "json" not in ctype:
            out.update(self.form())
        return out

    def json(self) -> Any:
        return json.loads(self.body.decode("utf-8")) if self.body else None

    def bearer(self) -> str | None:
        auth = self.header("authorization", "") or ""
        scheme, _, token = auth.partition(" ")
        if scheme.lower() in ("bearer", "oauth") and token.strip():
            return token.strip()
        return None


@dataclass
class Response:
    status: int = 200
    body: bytes = b""
    content_type: str = "application/json;charset=UTF-8"
    headers: list[tuple[str, str]] = field(default_factory=list)
    drop: bool = False  # close the connection without answering (fault injection)


def json_response(obj: Any, status: int = 200, headers: list[tuple[str, str]] | None = None) -> Response:
    return Response(status, json.dumps(obj, separators=(",", ":")).encode(), headers=list(headers or []))


def html_response(text: str, status: int = 200) -> Response:
    return Response(status, text.encode(), content_type="text/html;charset=UTF-8",
                    headers=[("Cache-Control", "no-store"), ("X-Frame-Options", "DENY")])


def text_response(text: str, status: int = 200, content_type: str = "text/plain;charset=UTF-8") -> Response:
    return Response(status, text.encode(), content_type=content_type)


def redirect(location: str, status: int = 302) -> Response:
    return Response(status, b"", content_type="text/plain", headers=[("Location", location),
                                                                    ("Cache-Control", "no-store")])


def no_content() -> Response:
    return Response(204, b"", content_type="")


def sf_error(status: int, code: str, message: str, fields: list[str] | None = None) -> Response:
    """Salesforce REST errors are a JSON array of {message, errorCode[, fields]}.

    A 401 also names the scheme the API expects, ``WWW-Authenticate: Token``, as Salesforce's REST API does.
    """
    err: dict[str, Any] = {"message": message, "errorCode": code}
    if fields is not None:
        err["fields"] = fields
    return json_response([err], status, headers=[("WWW-Authenticate", "Token")] if status == 401 else None)


def allow_header(methods: list[str]) -> str:
    """The methods a resource answers, as an ``Allow`` header lists them (GET brings HEAD with it)."""
    out = list(dict.fromkeys(m.upper() for m in methods))
    if "GET" in out and "HEAD" not in out:
        out.insert(out.index("GET") + 1, "HEAD")
    return ",".join(out)


def method_not_allowed(req: Request, methods: list[str]) -> Response:
    """405 with ``Allow`` (RFC 9110 §15.5.6), in the service's own error shape: TRACE, OPTIONS, CONNECT or any
    method a resource does not serve. (Python's http.server would answer 501 for a method it has no handler for;
    the real services answer 405.)"""
    allow = allow_header(methods)
    if req.path.startswith("/services/data"):
        resp = sf_error(405, "METHOD_NOT_ALLOWED", f"HTTP Method '{req.method}' not allowed. Allowed are {allow}")
    else:
        resp = json_response({"error": "method_not_allowed"}, 405)
    resp.headers.append(("Allow", allow))
    return resp


Handler = Callable[[Any, Request, "re.Match[str]"], Response]


@dataclass
class Route:
    method: str  # "GET", "POST", … or "*"
    pattern: re.Pattern[str]
    handler: Handler


def route(method: str, pattern: str, handler: Handler) -> Route:
    return Route(method, re.compile("^" + pattern + "$"), handler)


class Router:
    def __init__(self, routes: list[Route]) -> None:
        self.routes = routes

    def dispatch(self, state: Any, req: Request) -> Response:
        allowed: list[str] = []
        for r in self.routes:
            m = r.pattern.match(req.path)
            if not m:
                continue
            if r.method != "*" and r.method != req.method and not (r.method == "GET" and req.method == "HEAD"):
                allowed.append(r.method)
                continue
            return r.handler(state, req, m)
        if allowed:
            return method_not_allowed(req, allowed)
        if req.path.startswith("/services/data"):
            return sf_error(404, "NOT_FOUND", "The requested resource does not exist")
        return json_response({"error": "not_found", "path": req.path}, 404)
