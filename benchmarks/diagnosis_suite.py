"""Run the diagnosis suite against a source tree and say, per tenant, whether it was named right.

    python benchmarks/diagnosis_suite.py                       # this tree
    python benchmarks/diagnosis_suite.py --tree ../scratch/base  # another checkout (the code before a change)

Each ``sfwizard/sandbox/scenarios/diagnosis/*.yaml`` of THIS tree goes through ``sfwizard check --demo
--scenario FILE --json`` run by the given tree, and is held against its ``expect:`` block
(``sfwizard.sandbox.scenarios.expect``). A tree whose scenario format cannot express a file (an unknown
key, a value it refuses) counts the file as "not expressible". The table and the totals go to stdout.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(HERE))

from sfwizard.sandbox.scenarios.expect import evaluate  # noqa: E402
from sfwizard.sandbox.scenarios.loader import diagnosis_suite, load_expectation  # noqa: E402


def without_expectation(text: str) -> str:
    """The tenant alone: the ``expect:`` block is the suite's, not the scenario's (older trees refuse it)."""
    out, skipping = [], False
    for line in text.splitlines(keepends=True):
        if line.startswith("expect:"):
            skipping = True
            continue
        if skipping and line.strip() and not line[0].isspace() and not line.startswith("#"):
            skipping = False
        if not skipping:
            out.append(line)
    return "".join(out)


def run(tree: Path, scenario: Path, python: str) -> tuple[dict | None, str]:
    with tempfile.TemporaryDirectory() as home:
        copy = Path(home) / scenario.name
        copy.write_text(without_expectation(scenario.read_text(encoding="utf-8")), encoding="utf-8")
        env = {**os.environ, "PYTHONPATH": str(tree), "SFWIZARD_HOME": home,
               "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring"}
        proc = subprocess.run([python, "-m", "sfwizard", "check", "--demo", "--scenario", str(copy), "--json"],
                              capture_output=True, text=True, env=env, cwd=tree, timeout=600)
    try:
        return json.loads(proc.stdout), ""
    except ValueError:
        lines = [line for line in proc.stderr.splitlines() if line.startswith("sfwizard:")] or \
            proc.stderr.strip().splitlines()[-1:] or ["no output"]
        return None, lines[0]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tree", type=Path, default=HERE, help="the source tree whose sfwizard runs the suite")
    parser.add_argument("--python", default=sys.executable, help="the interpreter (with the dependencies)")
    args = parser.parse_args()
    totals = {"named right": 0, "missed": 0, "false alarm": 0, "not expressible": 0}
    rows = []
    for path in diagnosis_suite():
        doc, error = run(args.tree.resolve(), path, args.python)
        if doc is None:
            totals["not expressible"] += 1
            rows.append((path.stem, "not expressible", [error.split(": ", 1)[-1] if "/" in error else error]))
            continue
        verdict = evaluate(load_expectation(str(path)), doc)
        kinds = (["missed"] if verdict.missed else []) + (["false alarm"] if verdict.false_alarms else [])
        for kind in kinds or ["named right"]:
            totals[kind] += 1
        rows.append((path.stem, " + ".join(kinds) or "named right", verdict.lines()))
    print(f"tree: {args.tree.resolve()}")
    for name, verdict, notes in rows:
        print(f"{name:<36} {verdict}")
        for note in notes:
            print(f"{'':<38}{note[:150]}")
    print("\n" + ", ".join(f"{n} {k}" for k, n in totals.items()) + f" (of {len(rows)} tenants)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
