"""HTML for the sandbox's login server: login, Allow Access?, device code entry, errors.

Laid out like Salesforce's own pages so a person recognises each step, but branded "sfwizard sandbox"
so no one mistakes it for the real thing. The markup lives in ``templates/`` (``layout.html`` around
each page's body, ``login.css``); every value echoed into a page is escaped by ``templates.render``.
No JavaScript: the pages work in any browser and in a scripted one.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote

from sfwizard.sandbox.templates import Markup, asset, fill, join, render

_PACKAGE = "sfwizard.sandbox.salesforce"


def page(title: str, body: Markup) -> str:
    return render(_PACKAGE, "layout.html", title=title, style=asset(_PACKAGE, "login.css"), body=body)


def _login_link(tx: str, username: str | None = None) -> str:
    """The login page of the same transaction (an unescaped URL: ``render`` escapes it)."""
    url = f"/services/oauth2/login?tx={quote(tx)}"
    return url if username is None else f"{url}&username={quote(username)}"


def _error(error: str) -> Markup:
    return fill('<div class="error" role="alert">$error</div>', error=error) if error else Markup()


def login_page(*, tx: str, csrf: str, app_name: str, username: str = "", error: str = "",
               saved: list[str] | None = None) -> str:
    saved_html = Markup()
    if saved:
        links = join(fill('<li><a href="$href">$username</a></li>', href=_login_link(tx, u), username=u)
                     for u in saved)
        saved_html = fill('<p class="muted">Saved usernames</p><ul class="saved">$links</ul>', links=links)
    body = render(_PACKAGE, "login.html", tx=tx, csrf=csrf, app_name=app_name, username=username,
                  error=_error(error), saved=saved_html)
    return page("Login", body)


@dataclass(frozen=True)
class AllowFacts:
    """What the Allow page shows: enough to notice the wrong org before clicking Allow."""

    app_name: str
    user_name: str
    username: str
    org_name: str
    org_id: str
    is_sandbox: bool
    scopes: tuple[str, ...]


_SCOPE_TEXT = {
    "api": "Manage user data via APIs (api)",
    "refresh_token": "Perform requests at any time (refresh_token, offline_access)",
    "offline_access": "Perform requests at any time (refresh_token, offline_access)",
    "id": "Access the identity URL service (id, profile, email, address, phone)",
    "profile": "Access the identity URL service (id, profile, email, address, phone)",
    "email": "Access the identity URL service (id, profile, email, address, phone)",
    "openid": "Access unique user identifiers (openid)",
    "web": "Manage user data via Web browsers (web)",
    "full": "Full access (full)",
}


def allow_page(*, tx: str, csrf: str, facts: AllowFacts) -> str:
    kind = "SANDBOX" if facts.is_sandbox else "PRODUCTION"
    lines: list[str] = []
    for s in facts.scopes:
        text = _SCOPE_TEXT.get(s, s)
        if text not in lines:
            lines.append(text)
    body = render(
        _PACKAGE, "allow.html", tx=tx, csrf=csrf, app_name=facts.app_name,
        scopes=join(fill("<li>$text</li>", text=t) for t in lines),
        user_name=facts.user_name, username=facts.username, org_name=facts.org_name, org_id=facts.org_id,
        kind=kind, kind_class=kind.lower(), not_you=_login_link(tx))
    return page("Allow Access?", body)


def oauth_error_page(error: str, description: str, *, app_name: str = "") -> str:
    """Salesforce's RemoteAccessErrorPage: the flow stops here and nothing goes back to the app."""
    if error == "invalid_client" and "installed" in description:
        detail = ("OAUTH_APPROVAL_ERROR_GENERIC : An unexpected error has occured during authentication. "
                  "Please try again.")
    else:
        detail = f"error={error} error_description={description}"
    app = (fill('<p>Connected app: <strong id="app">$app_name</strong></p>', app_name=app_name) if app_name
           else Markup())
    body = render(_PACKAGE, "oauth_error.html", app=app, detail=detail, error=error, description=description)
    return page("OAuth Error", body)


def device_code_page(*, tx: str, csrf: str, error: str = "", user_code: str = "") -> str:
    body = render(_PACKAGE, "device_code.html", tx=tx, csrf=csrf, error=_error(error), user_code=user_code)
    return page("Connect to Your Device", body)


def message_page(title: str, message: str) -> str:
    return page(title, render(_PACKAGE, "message.html", title=title, message=message))
