"""Fixtures and hooks of the stack scenario's tests (the plain helpers are in helpers.py), and the benchmark
printed at the end of verify (a report, not a timed assertion): the seconds and changed counts of each
ansible-playbook run recorded by callback_plugins/stack_bench.py, and the wiring layer's requests per app and
resource kind (test_wiring.py).

No test relies on another test file or on file names to run correctly. Tests that change the household (re-converge
with other settings, restore from a backup) carry the marker `changes_household` and put the household back as
they found it; the hook below runs them after the others, so that the others look at the household exactly as
converge and the idempotence run left it, with every container started long before."""

import json
import os

import pytest

from helpers import EPHEMERAL, second_factor, sign_in


def pytest_configure(config):
    config.addinivalue_line("markers", "changes_household: re-converges or restores; puts the household back as found")


def pytest_collection_modifyitems(items):
    """Tests that change the household run after every other test (a stable sort keeps the files' own order)."""
    items.sort(key=lambda item: item.get_closest_marker("changes_household") is not None)


def _runs():
    path = os.path.join(os.environ.get("MOLECULE_EPHEMERAL_DIRECTORY", ""), "stack-bench.jsonl")
    if not os.path.exists(path):
        return []
    with open(path) as handle:
        return [json.loads(line) for line in handle if line.strip()]


def _changed(run):
    return sum(h.get("changed", 0) for h in run["hosts"].values())


def _wiring(run):
    role = (run.get("roles") or {}).get("wiring")
    return " wiring %2d runs %4.1f s" % (role["executions"], role["seconds"]) if role else ""


@pytest.fixture(scope="module")
def admin_session(host):
    """alice (admins) signed in at the portal with both factors: her session id."""
    status, body, sid, _ = sign_in(host, "alice")
    assert status == 200, body
    return second_factor(host, "alice", sid)


# ---- the wiring benchmark: requests the Servarr doubles counted, per app and resource kind ---------------------

WIRING_BENCH = os.path.join(EPHEMERAL, "wiring-bench.json")
BENCH_COLUMNS = (("first", "first run"), ("noop", "no-op run"), ("drift", "drift repair"))


def record_bench(column, counts):
    """Keep one column of the wiring benchmark: {app: {kind: [reads, writes]}}.

    "first" is what the doubles counted since they started: the first converge and the no-op runs after it
    (idempotence, check, ...); it is kept with the number of those runs, so that the summary can take their
    reads (the no-op column, once each) out again.
    """
    bench = {}
    if os.path.exists(WIRING_BENCH):
        with open(WIRING_BENCH) as handle:
            bench = json.load(handle)
    bench[column] = counts
    if column == "first":
        bench["runs_before"] = len([r for r in _runs() if r["playbook"] == "converge.yml"])
    with open(WIRING_BENCH, "w") as handle:
        json.dump(bench, handle)


@pytest.fixture(scope="session")
def bench():
    """The wiring benchmark's recorder: bench(column, counts)."""
    return record_bench


def wiring_bench_lines():
    if not os.path.exists(WIRING_BENCH):
        return []
    with open(WIRING_BENCH) as handle:
        bench = json.load(handle)
    later = max(0, bench.pop("runs_before", 1) - 1)
    if bench.get("first") and bench.get("noop"):
        for app, kinds in bench["first"].items():
            for kind, cell in kinds.items():
                cell[0] = max(0, cell[0] - later * bench["noop"].get(app, {}).get(kind, [0, 0])[0])
    rows = sorted(set((app, kind) for column in bench.values() for app, kinds in column.items() for kind in kinds))
    lines = ["%-9s %-22s" % ("app", "resource kind") + "".join(" %13s" % title for _, title in BENCH_COLUMNS),
             "%-9s %-22s" % ("", "") + "".join(" %13s" % "reads/writes" for _ in BENCH_COLUMNS)]
    totals = dict((column, [0, 0]) for column, _ in BENCH_COLUMNS)
    for app, kind in rows:
        cells = []
        for column, _ in BENCH_COLUMNS:
            counts = (bench.get(column) or {}).get(app, {}).get(kind)
            cells.append(" %13s" % ("%d/%d" % tuple(counts) if counts else "-"))
            if counts:
                totals[column][0] += counts[0]
                totals[column][1] += counts[1]
        lines.append("%-9s %-22s" % (app, kind) + "".join(cells))
    lines.append("%-9s %-22s" % ("all", "") + "".join(
        " %13s" % ("%d/%d" % tuple(totals[column]) if bench.get(column) else "-") for column, _ in BENCH_COLUMNS))
    lines.append("first run: the first converge, counted from the doubles' start less the")
    lines.append("reads of the %d no-op runs before verify (each reads the no-op column)" % later)
    return lines


def pytest_terminal_summary(terminalreporter):
    runs = [r for r in _runs() if r["playbook"] == "converge.yml"]
    if not runs:
        return
    real = [r for r in runs if not r["check"]]
    write = terminalreporter.write_line
    terminalreporter.write_sep("-", "stack benchmark")
    write("wall seconds of whole ansible-playbook runs (docker connection);")
    write("wiring: the wiring layer's module executions on the host, its seconds")
    names = {0: "first converge", 1: "no-op re-run (idempotence)"}
    for index, run in enumerate(real):
        name = run.get("label") or names.get(index, "converge")
        write("%-27s %6.1f s changed=%-2d%s" % (name, run["seconds"], _changed(run), _wiring(run)))
    for run in runs:
        if run["check"]:
            write("%-27s %6.1f s changed=%-2d%s" % (run.get("label") or "check (molecule check)", run["seconds"],
                                                   _changed(run), _wiring(run)))
    if len(real) >= 2 and real[1]["seconds"]:
        write("first converge / no-op re-run: %.1fx" % (real[0]["seconds"] / real[1]["seconds"]))
    lines = wiring_bench_lines()
    if lines:
        terminalreporter.write_sep("-", "wiring benchmark")
        write("requests the doubles counted per app and resource kind (read = GET, write =")
        write("POST/PUT/DELETE; Overseerr's connection test is a read; /ping left out)")
        for line in lines:
            write(line)
