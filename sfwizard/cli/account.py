"""``sfwizard login`` and ``sfwizard logout``."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from sfwizard.inert import inert

LOGIN_DESCRIPTION = """\
Sign in the way `sf org login web` does: the browser flow with PKCE and a one-shot
listener on http://localhost:PORT/OauthRedirect; the URL is always printed.

The browser must run on THIS machine (Salesforce sends it back to localhost). On a
remote terminal use --device, or forward the port first: ssh -L 1717:localhost:1717 HOST"""


class _LoginHelp(argparse.Action):
    """``login --help``, ending with where the settings come from (config.yaml's place is only looked up here)."""

    def __init__(self, option_strings: list[str], dest: str = argparse.SUPPRESS, **kwargs: Any) -> None:
        super().__init__(option_strings, dest=dest, default=argparse.SUPPRESS, nargs=0,
                         help="show this help (and where config.yaml lives) and exit")

    def __call__(self, parser: argparse.ArgumentParser, namespace: Any, values: Any, option_string: Any = None):
        from sfwizard import paths

        parser.epilog = ("Settings: flags, then SFWIZARD_* environment variables (SFWIZARD_CLIENT_ID,\n"
                         "SFWIZARD_LOGIN_URL, SFWIZARD_PORT, SFWIZARD_CA_CERT …), then config.yaml:\n"
                         f"  {paths.config_file()}\n"
                         "(keys: client_id, login_url, port, api_version, px_region, profile, status_url)")
        parser.print_help()
        parser.exit()


def add_account_commands(sub: Any) -> None:
    p = sub.add_parser("login", help="sign in to Salesforce (browser with PKCE, --device, or --sf-cli)",
                       description=LOGIN_DESCRIPTION, add_help=False,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("-h", "--help", action=_LoginHelp)
    p.add_argument("--login-url", help="production (default), test, or https://yourdomain.my.salesforce.com")
    p.add_argument("--client-id", help="the connected app's Consumer Key (or SFWIZARD_CLIENT_ID / config.yaml)")
    p.add_argument("--port", type=int, help="callback port on localhost (default 1717)")
    p.add_argument("--device", action="store_true",
                   help="no browser on this machine (a remote terminal): show a code to enter on another device")
    p.add_argument("--sf-cli", action="store_true", help="reuse an existing Salesforce CLI login")
    p.add_argument("--target-org", help="with --sf-cli: the CLI alias or username")
    p.add_argument("--no-browser", action="store_true",
                   help="print the URL but do not open a browser (open it yourself, on this machine)")
    p.add_argument("--demo", action="store_true", help="sign in to the bundled sandbox (then sign out again)")
    p.add_argument("--scenario", default="revoked-token", help="sandbox scenario for --demo")
    p.add_argument("--store-px-key", action="store_true",
                   help="read the Gainsight PX API key from the terminal and keep it in the OS keychain")
    p.set_defaults(func=_login)
    p = sub.add_parser("logout", help="revoke the saved Salesforce sign-in at Salesforce and delete it here")
    p.set_defaults(func=_logout)


def remote_terminal() -> bool:
    """Whether this terminal is reached over SSH (a browser opened here would not be the person's)."""
    import os

    return bool(os.environ.get("SSH_CONNECTION") or os.environ.get("SSH_TTY"))


def sign_in_message(url: str) -> str:
    """What the browser sign-in prints: the URL, and what a remote terminal must do for the loopback."""
    from urllib.parse import parse_qs, urlsplit

    redirect = (parse_qs(urlsplit(url).query).get("redirect_uri") or ["http://localhost:1717/OauthRedirect"])[0]
    port = urlsplit(redirect).port or 1717
    lines = ["Open this URL to sign in (it also opens in your browser when one is available):", f"  {url}",
             f"The browser must run on this machine: Salesforce sends it back to {redirect}."]
    remote = "You are on a remote terminal (SSH). " if remote_terminal() else "On a remote terminal: "
    lines.append(f"{remote}press Ctrl-C and run sfwizard login --device, or sign in after forwarding the port: "
                 f"ssh -L {port}:localhost:{port} HOST")
    return "\n".join(lines)


def _browser_here() -> bool:
    """Over SSH without a forwarded display, a browser opened here is not the person's (or is a text one that
    takes over the terminal): only the URL is printed then."""
    import os

    return not remote_terminal() or bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def _show_url(url: str) -> None:
    print(inert(sign_in_message(url)), file=sys.stderr)


def _login(args: argparse.Namespace) -> int:
    from sfwizard.integrations import credentials, signin
    from sfwizard.recovery.client import Endpoints
    from sfwizard.recovery.connection import connect

    if args.store_px_key:
        return _store_px_key()
    if args.demo:
        from sfwizard.demo import open_demo

        with open_demo(args.scenario) as conn:
            print(inert(conn.identity.line()) + "  [bundled sandbox; signed out again on exit]")
        return 0
    from sfwizard.integrations import settings

    conf = settings.resolve({"login_url": args.login_url, "client_id": args.client_id, "port": args.port})
    if args.sf_cli:
        tokens = signin.sf_cli_login(args.target_org)
    elif args.device:
        def on_code(code: str, uri: str) -> None:
            print(inert(f"On any device, open {uri} and enter the code: {code}", keep_newlines=False), file=sys.stderr)
        tokens = signin.device_login(conf.login_url, conf.require_client_id(), on_code=on_code,
                                     ca_cert=conf.ca_cert)
    else:
        tokens = signin.web_login(conf.login_url, conf.require_client_id(), port=conf.port,
                                  open_browser=not args.no_browser and _browser_here(), on_url=_show_url,
                                  ca_cert=conf.ca_cert)
    with connect(conf.profile, Endpoints(instance_url=tokens.instance_url, access_token=tokens.access_token,
                                         api_version=conf.api_version, ca_cert=conf.ca_cert)) as conn:
        line = conn.identity.line()
    where = credentials.save(tokens)
    print(inert(line))
    print(kept_message(where, tokens.source))
    return 0


def kept_message(where: str, source: str = "web") -> str:
    """Where the sign-in is now kept, and for how long (what ``login`` says after signing in)."""
    if source == "sf-cli":
        return ("The Salesforce CLI's access token is kept with it until `sfwizard logout` (no refresh token: sign "
                "in again when it expires; the CLI keeps its own login).")
    place = "in the OS keychain (service \"sfwizard\")" if where == "keyring" else \
        f"in plain text in {where} (mode 0600; no OS keychain was found)"
    return (f"The sign-in is kept {place} until you run `sfwizard logout`, which revokes it at Salesforce. "
            "A recovery in the wizard revokes it when the recovery ends unless you choose to keep it; the refresh "
            "token otherwise lasts as long as the connected app's refresh token policy allows.")


def _store_px_key() -> int:
    import getpass

    from sfwizard.errors import SfwizardError
    from sfwizard.integrations import credentials

    key = getpass.getpass("Gainsight PX API key (Administration → REST API; input hidden): ").strip()
    if not key:
        raise SfwizardError("no key entered", "run again and paste the key")
    where = credentials.save_px_key(key)
    print("Kept the Gainsight PX API key " + ("in the OS keychain." if where == "keyring" else
                                              f"in {where} (mode 0600: no working OS keychain here)."))
    return 0


def _logout(args: argparse.Namespace) -> int:
    from sfwizard.integrations import credentials, signin

    tokens = credentials.load()
    if tokens is None:
        print("Not signed in.")
        return 0
    from sfwizard.integrations import settings

    revoked = signin.revoke(tokens, settings.resolve().ca_cert) if tokens.source != "sf-cli" else False
    credentials.delete()
    if tokens.source == "sf-cli":
        print("Forgot the reused Salesforce CLI login (the CLI keeps its own; `sf org logout` ends it).")
    elif revoked:
        print("Signed out: the token is revoked at Salesforce and the local copy deleted.")
    else:
        print("The local copy is deleted, but Salesforce could not be reached to revoke the token: "
              "revoke it in Setup → Connected Apps OAuth Usage.")
    return 0
