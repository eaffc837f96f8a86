"""HTML for the sandbox's login server: login, Allow Access?, device code entry, errors.

Laid out like Salesforce's own pages so a person recognises each step, but branded "sfwizard sandbox"
so no one mistakes it for the real thing. Every value echoed into a page goes through ``esc``.
No JavaScript: the pages work in any browser and in a scripted one.
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape
from urllib.parse import quote

_CSS = """
*{box-sizing:border-box}
body{margin:0;background:#f3f3f3;font-family:"Salesforce Sans",Arial,Helvetica,sans-serif;color:#16325c}
.wrap{max-width:440px;margin:48px auto;padding:0 16px}
.brand{text-align:center;margin-bottom:20px}
.brand .name{font-size:22px;font-weight:bold;color:#0070d2;vertical-align:middle}
.brand .tag{display:block;font-size:12px;color:#54698d;margin-top:4px}
.card{background:#fff;border:1px solid #d8dde6;border-radius:4px;padding:24px 24px 20px}
h1{font-size:20px;margin:0 0 16px;font-weight:normal;color:#16325c}
label{display:block;font-size:13px;color:#54698d;margin:12px 0 4px}
input[type=text],input[type=password]{width:100%;font-size:15px;padding:10px;border:1px solid #d8dde6;
  border-radius:4px}
.btn{display:inline-block;font-size:15px;padding:10px 22px;border-radius:4px;border:1px solid #0070d2;
  background:#0070d2;color:#fff;cursor:pointer}
.btn.wide{width:100%;margin-top:18px}
.btn.plain{background:#fff;color:#0070d2}
.error{background:#fff1f0;border:1px solid #c23934;color:#c23934;border-radius:4px;padding:10px;
  font-size:14px;margin-bottom:12px}
.saved{margin:0 0 14px;padding:0;list-style:none}
.saved li{margin:4px 0}
.saved a{display:block;padding:8px 10px;border:1px solid #d8dde6;border-radius:4px;text-decoration:none;
  color:#16325c;font-size:14px}
.muted{font-size:13px;color:#54698d}
.facts{width:100%;border-collapse:collapse;font-size:14px;margin:10px 0 14px}
.facts th{text-align:left;font-weight:normal;color:#54698d;padding:5px 8px 5px 0;width:34%;vertical-align:top}
.facts td{padding:5px 0;word-break:break-all}
.badge{display:inline-block;font-size:12px;font-weight:bold;padding:2px 8px;border-radius:10px;
  letter-spacing:.5px}
.badge.sandbox{background:#ffb75d;color:#3e3e3c}
.badge.production{background:#c23934;color:#fff}
ul.scopes{font-size:14px;padding-left:20px;margin:8px 0 14px}
.buttons{display:flex;gap:12px;justify-content:flex-end;margin-top:18px}
.code{font-family:monospace;font-size:18px;letter-spacing:2px}
a{color:#0070d2}
footer{text-align:center;font-size:12px;color:#54698d;margin-top:18px}
"""

_CLOUD = ('<svg width="44" height="30" viewBox="0 0 44 30" aria-hidden="true" style="vertical-align:middle">'
          '<path fill="#00a1e0" d="M18 4a9 9 0 0 1 14 3 8 8 0 0 1 11 7 8 8 0 0 1-8 8H9a7 7 0 0 1-2-13 '
          '8 8 0 0 1 11-5z"/></svg>')


def esc(value: object) -> str:
    return escape("" if value is None else str(value), quote=True)


def page(title: str, body: str) -> str:
    return (
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">"
        "<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">"
        f"<title>{esc(title)} | sfwizard sandbox</title><style>{_CSS}</style></head><body>"
        "<div class=\"wrap\"><div class=\"brand\">" + _CLOUD +
        " <span class=\"name\">sfwizard sandbox</span>"
        "<span class=\"tag\">A local stand-in for Salesforce login. Not Salesforce.</span></div>"
        f"{body}<footer>sfwizard sandbox &middot; 127.0.0.1 only</footer></div></body></html>"
    )


def _hidden(tx: str, csrf: str) -> str:
    return (f'<input type="hidden" name="tx" value="{esc(tx)}">'
            f'<input type="hidden" name="csrf" value="{esc(csrf)}">')


def login_page(*, tx: str, csrf: str, app_name: str, username: str = "", error: str = "",
               saved: list[str] | None = None) -> str:
    saved_html = ""
    if saved:
        links = "".join(
            f'<li><a href="/services/oauth2/login?tx={quote(tx)}&amp;username={quote(u)}">{esc(u)}</a></li>'
            for u in saved)
        saved_html = f'<p class="muted">Saved usernames</p><ul class="saved">{links}</ul>'
    err = f'<div class="error" role="alert">{esc(error)}</div>' if error else ""
    body = (
        '<div class="card"><h1>Log In</h1>'
        f'<p class="muted">to continue to <strong>{esc(app_name)}</strong></p>{err}{saved_html}'
        '<form method="post" action="/services/oauth2/login" autocomplete="off">'
        + _hidden(tx, csrf) +
        '<label for="username">Username</label>'
        f'<input type="text" id="username" name="username" value="{esc(username)}" autofocus>'
        '<label for="password">Password</label><input type="password" id="password" name="pw">'
        '<button class="btn wide" type="submit" id="Login">Log In</button></form></div>'
    )
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
        text = _SCOPE_TEXT.get(s, f"{s}")
        if text not in lines:
            lines.append(text)
    scopes = "".join(f"<li>{esc(t)}</li>" for t in lines)
    body = (
        '<div class="card"><h1>Allow Access?</h1>'
        f'<p><strong>{esc(facts.app_name)}</strong> is asking to:</p><ul class="scopes">{scopes}</ul>'
        '<table class="facts">'
        f'<tr><th>User</th><td id="user">{esc(facts.user_name)} ({esc(facts.username)})</td></tr>'
        f'<tr><th>Org</th><td id="org">{esc(facts.org_name)}</td></tr>'
        f'<tr><th>Org Id</th><td id="org-id">{esc(facts.org_id)}</td></tr>'
        f'<tr><th>Org type</th><td><span class="badge {kind.lower()}" id="org-type">{kind}</span></td></tr>'
        '</table>'
        f'<p class="muted">Do you want to allow access for {esc(facts.username)}? '
        f'<a id="not-you" href="/services/oauth2/login?tx={quote(tx)}">'
        'Not you? Log in as someone else</a></p>'
        '<form method="post" action="/setup/secur/RemoteAccessAuthorizationPage.apexp">'
        + _hidden(tx, csrf) +
        '<div class="buttons">'
        '<button class="btn plain" type="submit" name="decision" value="deny" id="deny">Deny</button>'
        '<button class="btn" type="submit" name="decision" value="allow" id="allow">Allow</button>'
        '</div></form></div>'
    )
    return page("Allow Access?", body)


def oauth_error_page(error: str, description: str, *, app_name: str = "") -> str:
    """Salesforce's RemoteAccessErrorPage: the flow stops here and nothing goes back to the app."""
    if error == "invalid_client" and "installed" in description:
        detail = ("OAUTH_APPROVAL_ERROR_GENERIC : An unexpected error has occured during authentication. "
                  "Please try again.")
    else:
        detail = f"error={error} error_description={description}"
    app = (f'<p>Connected app: <strong id="app">{esc(app_name)}</strong></p>' if app_name else "")
    body = (
        '<div class="card"><h1>OAuth Error</h1>'
        '<p>We can\'t authorize you because of an OAuth error. For more information, contact your '
        'Salesforce administrator.</p>'
        f'{app}<div class="error" id="detail">{esc(detail)}</div>'
        f'<p class="muted">error: <code>{esc(error)}</code><br>'
        f'error_description: <code>{esc(description)}</code></p>'
        '</div>'
    )
    return page("OAuth Error", body)


def device_code_page(*, tx: str, csrf: str, error: str = "", user_code: str = "") -> str:
    err = f'<div class="error" role="alert">{esc(error)}</div>' if error else ""
    body = (
        '<div class="card"><h1>Connect to Your Device</h1>'
        f'<p class="muted">Enter the code shown on your device.</p>{err}'
        '<form method="post" action="/setup/connect" autocomplete="off">'
        + _hidden(tx, csrf) +
        '<label for="user_code">Code</label>'
        f'<input type="text" id="user_code" name="user_code" class="code" value="{esc(user_code)}" autofocus>'
        '<button class="btn wide" type="submit" id="connect">Connect</button></form></div>'
    )
    return page("Connect to Your Device", body)


def message_page(title: str, message: str) -> str:
    body = f'<div class="card"><h1>{esc(title)}</h1><p id="message">{esc(message)}</p></div>'
    return page(title, body)
