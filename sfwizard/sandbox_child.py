"""The sandbox as a child process (``sfwizard sandbox``), for its connection line.

Apart from ``sfwizard.demo`` so that starting it imports nothing but the standard library: the wizard starts
the demo's sandbox first and imports the core while it comes up.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from sfwizard.errors import SfwizardError


@contextlib.contextmanager
def sandbox_process(scenario: str) -> Iterator[dict[str, Any]]:
    """The sandbox in a process of its own (``sfwizard sandbox``), for its connection line.

    What a person's wizard would meet in production: the services answer from elsewhere. In the wizard's own
    process the sandbox would share the interpreter with the screen — its request handling holding the GIL,
    its state lengthening every garbage collection — and so make the screen stall (benchmarks/run.py measures
    it); in a process of its own it costs the screen nothing.
    """
    import json
    import subprocess
    import sys
    import tempfile

    from sfwizard import redact

    # -I: the working folder is not put on sys.path — from a clone's root it would import the source tree
    # instead of what is installed (a non-editable install has sfwizard.screens; the source tree does not).
    code = "import sys; from sfwizard.cli import main; sys.exit(main(sys.argv[1:]))"
    with tempfile.TemporaryFile("w+") as errors:
        # --until-stdin-closes: the sandbox stops when this process goes, even by kill -9 (its stdin pipe closes).
        proc = subprocess.Popen([sys.executable, "-I", "-c", code, "sandbox", "--scenario", scenario,
                                 "--until-stdin-closes"],
                                stdout=subprocess.PIPE, stderr=errors, stdin=subprocess.PIPE, text=True)
        try:
            line = proc.stdout.readline() if proc.stdout else ""
            if not line:
                proc.wait(timeout=10)
                errors.seek(0)
                said = [x for x in errors.read().splitlines() if x.strip()]
                raise SfwizardError(f"the sandbox did not start: {said[-1] if said else f'exit {proc.returncode}'}",
                                    "run it alone to see why: sfwizard sandbox --scenario " + scenario)
            info = json.loads(line)
            redact.default().add(info["password"], info["client_secret"], info["px_api_key"],
                                 *(u["password"] for u in info["users"]))
            yield info
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            for pipe in (proc.stdout, proc.stdin):
                if pipe:
                    pipe.close()
