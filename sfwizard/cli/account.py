"""``sfwizard login`` and ``sfwizard logout``."""

from __future__ import annotations

import argparse
import sys
from typing import Any


def add_account_commands(sub: Any) -> None:
    p = sub.add_parser("login", help="sign in to Salesforce (browser with PKCE, --device, or --sf-cli)",
                       description="Sign in the way `sf org login web` does; the URL is always printed.")
    p.add_argument("--login-url", help="production (default), test, or https://yourdomain.my.salesforce.com")
    p.add_argument("--client-id", help="the connected app's Consumer Key (or SFWIZARD_CLIENT_ID / config.yaml)")
    p.add_argument("--port", type=int, help="callback port on localhost (default 1717)")
    p.add_argument("--device", action="store_true", help="no browser here: show a code to enter elsewhere")
    p.add_argument("--sf-cli", action="store_true", help="reuse an existing Salesforce CLI login")
    p.add_argument("--target-org", help="with --sf-cli: the CLI alias or username")
    p.add_argument("--no-browser", action="store_true", help="print the URL but do not open a browser")
    p.add_argument("--demo", action="store_true", help="sign in to the bundled sandbox (then sign out again)")
    p.add_argument("--scenario", default="revoked-token", help="sandbox scenario for --demo")
    p.add_argument("--store-px-key", action="store_true",
                   help="read the Gainsight PX API key from the terminal and keep it in the OS keychain")
    p.set_defaults(func=_login)
    p = sub.add_parser("logout", help="revoke the saved Salesforce sign-in and delete it")
    p.set_defaults(func=_logout)


def _show_url(url: str) -> None:
    print(f"Open this URL to sign in (it also opens in your browser when one is available):\n  {url}",
          file=sys.stderr)


def _login(args: argparse.Namespace) -> int:
    from sfwizard.integrations import credentials, signin
    from sfwizard.recovery.client import Endpoints
    from sfwizard.recovery.connection import connect

    if args.store_px_key:
        return _store_px_key()
    if args.demo:
        from sfwizard.demo import open_demo

        with open_demo(args.scenario) as conn:
            print(conn.identity.line() + "  [bundled sandbox; signed out again on exit]")
        return 0
    from sfwizard.integrations import settings

    conf = settings.resolve({"login_url": args.login_url, "client_id": args.client_id, "port": args.port})
    if args.sf_cli:
        tokens = signin.sf_cli_login(args.target_org)
    elif args.device:
        def on_code(code: str, uri: str) -> None:
            print(f"On any device, open {uri} and enter the code: {code}", file=sys.stderr)
        tokens = signin.device_login(conf.login_url, conf.require_client_id(), on_code=on_code,
                                     ca_cert=conf.ca_cert)
    else:
        tokens = signin.web_login(conf.login_url, conf.require_client_id(), port=conf.port,
                                  open_browser=not args.no_browser, on_url=_show_url, ca_cert=conf.ca_cert)
    with connect(conf.profile, Endpoints(instance_url=tokens.instance_url, access_token=tokens.access_token,
                                         api_version=conf.api_version, ca_cert=conf.ca_cert)) as conn:
        line = conn.identity.line()
    where = credentials.save(tokens)
    print(line + (" (kept in the OS keychain)" if where == "keyring" else ""))
    return 0


def _store_px_key() -> int:
    import getpass

    from sfwizard.errors import SfwizardError
    from sfwizard.integrations import credentials

    key = getpass.getpass("Gainsight PX API key (Administration → REST API; input hidden): ").strip()
    if not key:
        raise SfwizardError("no key entered", "run again and paste the key")
    if not credentials.keyring_set("px_api_key", key):
        raise SfwizardError("no working OS keychain to keep the key in",
                            "set SFWIZARD_PX_API_KEY in the environment instead")
    print("Kept the Gainsight PX API key in the OS keychain.")
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
