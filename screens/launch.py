"""The ``sfwizard`` command: a command runs the CLI; no command opens the wizard (Textual loads only then).

This module imports nothing heavy, so ``sfwizard check`` starts as fast as before the wizard existed.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sfwizard.cli import WizardOptions


def main(argv: Sequence[str] | None = None) -> int:
    from sfwizard.cli import main as cli_main

    return cli_main(argv, wizard=run_wizard)


def run_wizard(options: WizardOptions) -> int:
    if options.web:
        return serve_web(options)
    import os

    served = "TEXTUAL_DRIVER" in os.environ  # textual-serve runs the app with its web driver: no terminal needed
    if not served and (not sys.stdin.isatty() or not sys.stdout.isatty()):
        from sfwizard.errors import SfwizardError

        raise SfwizardError("the wizard needs a terminal (stdin and stdout are not one)",
                            "run it in a terminal, use --web for a browser tab, or run `sfwizard check`")
    from .app import WizardApp

    app = WizardApp(options)
    app.run()
    return app.return_code or 0


def serve_web(options: WizardOptions) -> int:
    """The same wizard in a browser tab on this machine (textual-serve), for a support call: behind a secret link,
    one tab at a time (sfwizard.screens.web)."""
    import shlex

    from .web import serve

    argv = [sys.executable, "-I", "-m", "sfwizard"]  # -I: never the source tree of the folder it runs in
    if options.demo:
        argv += ["--demo", "--scenario", options.scenario]
    if options.profile:
        argv += ["--profile", options.profile]
    if not options.keep_sign_in:
        argv.append("--no-keep")
    # the wizard's sign-in options, as given (each wizard the server starts signs in the same way)
    for flag, value in (("--client-id", options.client_id), ("--login-url", options.login_url),
                        ("--port", options.callback_port), ("--target-org", options.target_org)):
        if value is not None:
            argv += [flag, str(value)]
    if options.device:
        argv.append("--device")
    if options.sf_cli:
        argv.append("--sf-cli")
    command = shlex.join(argv)
    # --new starts one new recovery session: the first wizard's; a reload then resumes it, never makes another
    first = shlex.join([*argv, "--new"]) if options.new_session else None
    return serve(command, host=options.host, port=options.port, first_command=first)
