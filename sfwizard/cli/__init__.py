"""The ``sfwizard`` command. Imports stay lazy so ``--help`` and ``check`` start fast."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sfwizard import __version__
from sfwizard.cli.args import login_url_arg, port_arg, text_arg
from sfwizard.errors import SfwizardError
from sfwizard.inert import inert


@dataclass(frozen=True)
class WizardOptions:
    """What ``sfwizard`` with no command was asked for: typed, so no Namespace crosses into the wizard."""

    demo: bool = False
    scenario: str = "revoked-token"
    profile: str | None = None
    web: bool = False
    host: str = "127.0.0.1"
    port: int = 8000
    new_session: bool = False
    debug: bool = False
    keep_sign_in: bool = True  # False (--no-keep): a one-off recovery, no refresh token, the sign-in in memory only
    # the sign-in options `login` takes, for the wizard's own sign-in (None: from the settings)
    client_id: str | None = None
    login_url: str | None = None
    callback_port: int | None = None
    device: bool = False
    sf_cli: bool = False
    target_org: str | None = None

    def sign_in_flags(self) -> dict[str, Any]:
        """These options as settings flags (``setup_from_settings(profile, flags)``): given ones win over the
        environment and config.yaml, for this run only."""
        method = "device" if self.device else "sf_cli" if self.sf_cli or self.target_org else None
        return {k: v for k, v in {"client_id": self.client_id, "login_url": self.login_url,
                                  "port": self.callback_port, "sign_in": method,
                                  "target_org": self.target_org}.items() if v is not None}


WizardLauncher = Callable[[WizardOptions], int]


class _Parser(argparse.ArgumentParser):
    """argparse, with a mistake on the command line as one line and the way to the help (not the usage dump)."""

    def error(self, message: str):  # type: ignore[override]
        self.exit(2, f"{self.prog}: {message} — see: {self.prog} --help\n")


class _Commands:
    """The subparsers, each given ``--debug`` too (so it works after the command, as people type it)."""

    def __init__(self, sub: Any, common: argparse.ArgumentParser) -> None:
        self._sub, self._common = sub, common

    def add_parser(self, name: str, **kwargs: Any) -> argparse.ArgumentParser:
        kwargs.setdefault("parents", []).append(self._common)
        return self._sub.add_parser(name, **kwargs)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="sfwizard",
        description="Guided, verified recovery of a disconnected Salesforce integration. With no command, "
                    "the wizard opens (--demo: against the bundled sandbox).",
    )
    parser.add_argument("--version", action="version", version=f"sfwizard {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks and debug logs")
    wizard = parser.add_argument_group("the wizard (no command)")
    wizard.add_argument("--demo", dest="w_demo", action="store_true",
                        help="run the wizard against the bundled sandbox, started in the background")
    wizard.add_argument("--scenario", dest="w_scenario", default="revoked-token", metavar="NAME|PATH",
                        help="the sandbox scenario for --demo (see `sfwizard scenarios`; default: revoked-token)")
    wizard.add_argument("--profile", dest="w_profile", choices=("gainsight-px", "skilljar"),
                        help="the platform (default: the scenario's in --demo, else from settings)")
    wizard.add_argument("--web", dest="w_web", action="store_true",
                        help="serve the wizard in a browser tab on this machine (textual-serve)")
    wizard.add_argument("--web-port", dest="w_port", type=port_arg, default=8000, metavar="N",
                        help="port for --web on 127.0.0.1 (default 8000)")
    wizard.add_argument("--new", dest="w_new", action="store_true",
                        help="start a new recovery session instead of offering to resume the last one")
    wizard.add_argument("--no-keep", dest="w_keep", action="store_false",
                        help="a one-off recovery: sign in without a refresh token, keep the sign-in in memory only "
                             "(never in the keychain or a file) and revoke it when the wizard closes")
    signin = parser.add_argument_group("the wizard's sign-in to Salesforce (as `sfwizard login` takes them)")
    signin.add_argument("--client-id", dest="w_client_id", type=text_arg, metavar="ID",
                        help="the connected app's Consumer Key (else from Settings)")
    signin.add_argument("--login-url", dest="w_login_url", type=login_url_arg, metavar="URL",
                        help="production (default), test, or https://yourdomain.my.salesforce.com")
    signin.add_argument("--port", dest="w_callback_port", type=port_arg, metavar="N",
                        help="the sign-in callback port on localhost (default 1717)")
    how = signin.add_mutually_exclusive_group()
    how.add_argument("--device", dest="w_device", action="store_true",
                     help="offer the device code first (no browser on this machine, or over SSH)")
    how.add_argument("--sf-cli", dest="w_sf_cli", action="store_true",
                     help="offer an existing Salesforce CLI login first")
    signin.add_argument("--target-org", dest="w_target_org", type=text_arg, metavar="ALIAS",
                        help="with --sf-cli: the CLI alias or username to use")
    common = _Parser(add_help=False)
    common.add_argument("--debug", action="store_true", default=argparse.SUPPRESS,
                        help="show tracebacks and debug logs")
    sub = _Commands(parser.add_subparsers(dest="command", metavar="COMMAND"), common)

    from sfwizard.cli.account import add_account_commands
    from sfwizard.cli.check import add_check_command
    from sfwizard.cli.records import add_record_commands
    from sfwizard.cli.review import add_review_command
    from sfwizard.cli.sandbox import add_sandbox_commands

    add_check_command(sub)
    add_sandbox_commands(sub)
    add_account_commands(sub)
    add_record_commands(sub)
    add_review_command(sub)
    return parser


def _add_log_file() -> None:
    """A log in the user data folder for the support bundle (redacted like every other output), 0600.

    Best effort: a data folder that cannot be written, or a disk that fills up later, never stops a command."""
    from sfwizard import paths

    try:
        handler: logging.Handler = _private_log_class()(paths.data_dir() / "sfwizard.log")
    except (OSError, SfwizardError):
        return
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    handler.setLevel(logging.INFO)
    logging.getLogger().addHandler(handler)


def _private_log_class() -> type:
    import os
    from logging.handlers import RotatingFileHandler

    class PrivateLog(RotatingFileHandler):
        """A rotating log whose files are created 0600; a write that fails is dropped without a traceback."""

        def __init__(self, path: Any) -> None:
            super().__init__(path, maxBytes=1_000_000, backupCount=2, encoding="utf-8", delay=False)

        def _open(self) -> Any:
            fd = os.open(self.baseFilename, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
            if os.fstat(fd).st_mode & 0o077:
                os.fchmod(fd, 0o600)
            return open(fd, "a", encoding=self.encoding, errors="backslashreplace")  # noqa: SIM115

        def handleError(self, record: logging.LogRecord) -> None:  # noqa: N802 - logging's name
            pass  # the log is a convenience for the support bundle: a full disk must not print a traceback

    return PrivateLog


# What a terminal that cannot show our punctuation gets instead (the rest of what it cannot show is escaped).
_PLAIN = {"—": "-", "–": "-", "‘": "'", "’": "'", "“": '"', "”": '"', "…": "...", "→": "->", "←": "<-",
          "·": "-", "✔": "v", "✘": "x", "•": "*", "\u00a0": " "}


def _plain_or_escaped(exc: UnicodeError) -> tuple[str, int]:
    if not isinstance(exc, UnicodeEncodeError):
        raise exc
    text = exc.object[exc.start:exc.end]
    return "".join(_PLAIN.get(ch) or ch.encode("ascii", "backslashreplace").decode("ascii") for ch in text), exc.end


def _tolerant_output() -> None:
    """A name the terminal's encoding cannot show (PYTHONIOENCODING=ascii, a Japanese org name) is printed as
    an escape (our own dashes and arrows as their ASCII look-alikes), never a UnicodeEncodeError."""
    import codecs

    try:
        codecs.lookup_error("sfwizard-plain")
    except LookupError:
        codecs.register_error("sfwizard-plain", _plain_or_escaped)
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            try:
                reconfigure(errors="sfwizard-plain")
            except (ValueError, OSError, TypeError, LookupError):
                pass


def _inert_tracebacks() -> None:
    """A traceback (behind --debug) quotes exception messages, which may carry a server's words: it is written
    with its control characters made inert, like every other line this command prints."""
    if getattr(sys.excepthook, "_sfwizard_inert", False):
        return
    previous = sys.excepthook

    def hook(kind: Any, value: Any, tb: Any) -> None:
        import traceback

        try:
            sys.stderr.write(inert("".join(traceback.format_exception(kind, value, tb))))
        except Exception:  # noqa: BLE001 - the last resort must not fail: the standard hook then
            previous(kind, value, tb)

    hook._sfwizard_inert = True  # type: ignore[attr-defined]
    sys.excepthook = hook


def main(argv: Sequence[str] | None = None, wizard: WizardLauncher | None = None) -> int:
    """Run a command; with none, hand the wizard's options to ``wizard`` (the Textual launcher passes
    itself in, so this core never imports the UI)."""
    _tolerant_output()
    _inert_tracebacks()
    parser = build_parser()
    args = parser.parse_args(argv)
    func: Callable[[argparse.Namespace], int] | None = getattr(args, "func", None)
    if func is None and wizard is not None:
        # The wizard owns the terminal: logs go to the log file only, never over the screen.
        _add_log_file()
        logging.getLogger().setLevel(logging.DEBUG if args.debug else logging.INFO)
    else:
        logging.basicConfig(level=logging.DEBUG if args.debug else logging.INFO,
                            format="%(asctime)s %(levelname)s %(message)s", stream=sys.stderr)
        if args.command not in (None, "sandbox", "scenarios"):
            _add_log_file()
    from sfwizard.redact import install_log_redaction

    for handler in logging.getLogger().handlers:
        install_log_redaction(handler)
    if func is None:
        if wizard is None:
            parser.print_help()
            return 2
        options = WizardOptions(demo=args.w_demo, scenario=args.w_scenario, profile=args.w_profile, web=args.w_web,
                                port=args.w_port, new_session=args.w_new, debug=args.debug,
                                keep_sign_in=args.w_keep,
                                client_id=args.w_client_id, login_url=args.w_login_url,
                                callback_port=args.w_callback_port, device=args.w_device, sf_cli=args.w_sf_cli,
                                target_org=args.w_target_org)
        func = lambda _args: wizard(options)  # noqa: E731 - the one place a launcher stands in for a command
    try:
        return func(args)
    except SfwizardError as exc:
        if args.debug:
            raise
        print(inert(f"sfwizard: {exc}"), file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # a bug: one line for the person, the traceback behind --debug
        if args.debug:
            raise
        print(inert(f"sfwizard: unexpected error: {type(exc).__name__}: {exc} — run again with --debug and "
                    "send the output with the support bundle (sfwizard report)"), file=sys.stderr)
        return 2
