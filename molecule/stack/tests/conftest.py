"""The benchmark of the stack scenario, printed at the end of verify (a report, not a timed assertion): the
seconds and changed counts of each ansible-playbook run recorded by callback_plugins/stack_bench.py."""

import json
import os


def _runs():
    path = os.path.join(os.environ.get("MOLECULE_EPHEMERAL_DIRECTORY", ""), "stack-bench.jsonl")
    if not os.path.exists(path):
        return []
    with open(path) as handle:
        return [json.loads(line) for line in handle if line.strip()]


def _changed(run):
    return sum(h.get("changed", 0) for h in run["hosts"].values())


def pytest_terminal_summary(terminalreporter):
    runs = [r for r in _runs() if r["playbook"] == "converge.yml"]
    if not runs:
        return
    real = [r for r in runs if not r["check"]]
    write = terminalreporter.write_line
    terminalreporter.write_sep("-", "stack benchmark (wall seconds of whole ansible-playbook runs, docker connection)")
    names = {0: "first converge", 1: "no-op re-run (idempotence)"}
    for index, run in enumerate(real):
        name = run.get("label") or names.get(index, "converge")
        write("%-34s %7.1f s  changed=%d" % (name, run["seconds"], _changed(run)))
    for run in runs:
        if run["check"]:
            write("%-34s %7.1f s  changed=%d" % (run.get("label") or "check mode (molecule check)", run["seconds"],
                                                  _changed(run)))
    if len(real) >= 2 and real[1]["seconds"]:
        write("first converge / no-op re-run: %.1fx" % (real[0]["seconds"] / real[1]["seconds"]))
