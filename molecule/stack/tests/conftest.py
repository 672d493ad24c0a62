"""Shared by the stack scenario's tests: helpers that ask the instance and the controller (secrets, containers,
HTTP on the instance, re-converging from the controller), and the benchmark printed at the end of verify (a
report, not a timed assertion): the seconds and changed counts of each ansible-playbook run recorded by
callback_plugins/stack_bench.py, and the wiring layer's requests per app and resource kind (test_wiring.py).

Test files run in name order: test_stack.py and test_wiring.py look at the converged household; test_zz_changes.py
changes it (tag bump, service removal) and so runs last."""

import glob
import json
import os
import re
import subprocess
import time

import yaml

SERVICES = ["alertmanager", "authelia", "bazarr", "node-exporter", "nzbget", "overseerr", "prometheus", "prowlarr",
            "proxy", "qbittorrent", "radarr", "redis", "sonarr"]
ARRS = {"sonarr": ("v3", 8989, "Sonarr"), "radarr": ("v3", 7878, "Radarr"), "prowlarr": ("v1", 9696, "Prowlarr")}
USER_ENV = ["bazarr", "nzbget", "overseerr", "prowlarr", "qbittorrent", "radarr", "sonarr"]
CATEGORIES = ["tv", "movies", "music", "books", "audiobooks"]
# (container port/protocol) a container may publish on all addresses: the catalog's `publish` entries.
PUBLIC = {("qbittorrent", "6881/tcp"), ("qbittorrent", "6881/udp"), ("proxy", "80/tcp"), ("proxy", "443/tcp")}
# Containers with a read-only root filesystem (catalog read_only: true).
READ_ONLY = ["alertmanager", "node-exporter", "prometheus", "redis"]
EPHEMERAL = os.environ.get("MOLECULE_EPHEMERAL_DIRECTORY", "")


def secret(service, name):
    """A generated secret, read from the household's secrets dir on the controller (never printed)."""
    paths = glob.glob(os.path.join(EPHEMERAL, "inventory", "secrets", "*", service, name + ".txt"))
    assert len(paths) == 1, "expected one secrets file for %s/%s, found %s" % (service, name, paths)
    with open(paths[0]) as handle:
        return handle.read().strip()


def all_secrets():
    values = []
    for path in glob.glob(os.path.join(EPHEMERAL, "inventory", "secrets", "*", "*", "*.txt")):
        with open(path) as handle:
            values.append(handle.read().strip())
    return values


def inspect(host, name):
    return json.loads(host.check_output("docker inspect %s" % name))[0]


def containers(host):
    """{name: (id, started_at)} of every container on the instance."""
    out = {}
    for line in host.check_output("docker ps -aq").split():
        data = inspect(host, line)
        out[data["Name"].lstrip("/")] = (data["Id"], data["State"]["StartedAt"])
    return out


def http(host, url, *args):
    """(status, body) of a curl on the instance."""
    cmd = "curl -s -o /tmp/body -w '%%{http_code}' %s '%s'; echo; cat /tmp/body" % (" ".join(args), url)
    out = host.run(cmd).stdout
    status, _, body = out.partition("\n")
    return int(status or 0), body


def wait_healthy(host, names, timeout=180):
    deadline = time.time() + timeout
    while True:
        states = dict((n, host.run("docker inspect -f '{{.State.Status}} {{.State.Health.Status}}' %s" % n).stdout.strip())
                      for n in names)
        if all(s == "running healthy" for s in states.values()) or time.time() > deadline:
            return states
        time.sleep(2)


def converge(label, extra_vars, *args):
    """Re-run the scenario's converge from the controller with extra vars; returns (changed, stdout)."""
    env = dict(os.environ, STACK_BENCH_LABEL=label, ANSIBLE_FORCE_COLOR="0", ANSIBLE_NOCOLOR="1")
    proc = subprocess.run(
        ["ansible-playbook", "--inventory", os.path.dirname(os.environ["MOLECULE_INVENTORY_FILE"]),
         os.path.join(os.environ["MOLECULE_SCENARIO_DIRECTORY"], "converge.yml"), "-e", json.dumps(extra_vars)]
        + list(args),
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True, env=env, check=False)
    assert proc.returncode == 0, proc.stdout[-4000:]
    recap = re.search(r"monsterr-stack-deb13\s*:\s*ok=\d+\s+changed=(\d+)", proc.stdout)
    assert recap, proc.stdout[-2000:]
    return int(recap.group(1)), proc.stdout


def scenario_vars():
    with open(os.environ["MOLECULE_FILE"]) as handle:
        return yaml.safe_load(handle)["provisioner"]["inventory"]["group_vars"]["mediaserver"]


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
