# SPDX-License-Identifier: MIT
"""python3 -m batchpoint.sim [--only ID,...] FILE: bpsim's scenario runner with the host
written in Python. It replays the scenarios of FILE (the esm-scenarios.json format, described
by the file's own `format` object) through batchpoint.Engine with a simulated clock, stream and
function, and its config cases through Config, and checks each against its `expect`.

One line per case -- `PASS <id>`, `FAIL <id>: <first difference>`, `SKIP <id>: <why>` -- then
`N passed, N failed, N skipped`. Exit status 0 nothing failed, 1 a case failed, 2 bad usage or
a malformed file (the message names the JSON path).

Modules: load (the file; its records: stream), host (the simulated host and clock), expect
(a scenario's expectations), match (values and $matchers), config_cases (CreateEventSourceMapping
bodies against a small registry), report (the lines)."""
import sys

from .config_cases import run_case
from .expect import check, needs_payloads
from .host import run
from .checks import LoadError
from .load import load
from .report import Report, summary

USAGE = "usage: python3 -m batchpoint.sim [--only ID,...] FILE.json"


def run_scenario(f, s, rep):
    """Run every mapping of scenario @s into @rep."""
    for m in s.maps:
        if rep.failed or rep.skipped:
            break
        log = run(f, s, m, rep, needs_payloads(m))
        if log is not None and not rep.failed:
            check(s, m, log, rep)
    for i, a in enumerate(s.actions):
        for k in a.expect_response or ():
            rep.part(f"actions[{i}].expect_response.{k} (API-level)")
        if a.expect_state is not None:
            rep.part(f"actions[{i}].expect_state_eventually (API-level)")


def _args(argv):
    only, files = None, []
    it = iter(argv)
    for a in it:
        if a in ("-h", "--help"):
            print(USAGE)
            sys.exit(0)
        elif a == "--only":
            only = next(it, None)
            if only is None:
                raise ValueError("--only needs a list of ids")
        elif a.startswith("--only="):
            only = a[7:]
        elif a.startswith("-") and a != "-":
            raise ValueError(f"unknown option {a}")
        else:
            files.append(a)
    if len(files) != 1:
        raise ValueError("one scenario file expected")
    return (set(only.split(",")) if only is not None else None), files[0]


def main(argv=None, out=None):
    """The runner's command line; @return the exit status."""
    out = out or sys.stdout
    try:
        only, path = _args(sys.argv[1:] if argv is None else argv)
    except ValueError as exc:
        print(f"batchpoint.sim: {exc}\n{USAGE}", file=sys.stderr)
        return 2
    try:
        f = load(path)
    except LoadError as exc:
        print(f"batchpoint.sim: {path}: {exc}", file=sys.stderr)
        return 2
    ids = {x.id for x in f.scenarios} | {c.id for c in f.cases}
    for x in sorted((only or set()) - ids):
        print(f"batchpoint.sim: --only: no case \"{x}\" in {path}", file=sys.stderr)
        return 2
    counts = {"PASS": 0, "FAIL": 0, "SKIP": 0}
    for item, runner in [(s, lambda s, rep: run_scenario(f, s, rep)) for s in f.scenarios] + \
            [(c, run_case) for c in f.cases]:
        if only is not None and item.id not in only:
            continue
        rep = Report()
        runner(item, rep)
        counts[rep.status] += 1
        print(rep.line(item.id), file=out, flush=True)
    print(summary(counts), file=out, flush=True)
    return 1 if counts["FAIL"] else 0
