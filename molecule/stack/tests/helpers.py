"""Helpers of the stack scenario's tests (plain functions; the fixtures are in conftest.py): what the scenario
enables, as Ansible resolves it from the scenario's inventory (the default household plus NZBGet, with the local
images of tests/images/overrides.yml), and ways to ask the instance (Docker, HTTP on 127.0.0.1, the household's
secrets on the controller) or to re-run playbooks from the controller.

Nothing here hard-codes the list of apps: it comes from the resolved catalog, so the tests follow the catalog's
default household."""

import functools
import glob
import importlib.util
import json
import os
import re
import subprocess
import tempfile
import time

import yaml

INSTANCE = "monsterr-stack-deb13"
EPHEMERAL = os.environ.get("MOLECULE_EPHEMERAL_DIRECTORY", "")
ROOT = os.environ.get("MOLECULE_PROJECT_DIRECTORY") or \
    os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
APPDATA = "/opt/monsterr"
COMPOSE_DIR = APPDATA + "/compose"
# How a container that is up looks: with a health check it must be healthy; without one (the image has none,
# e.g. the distroless exportarr) running is all Docker can say.
READY = ("running healthy", "running (no health check)")

# Resolves the catalog exactly as the stack layer does (the catalog role's controller-side resolve), with the
# scenario's inventory, and writes what the tests compare against.
_RESOLVE_PLAY = """- name: Resolve the scenario's catalog for the tests
  hosts: mediaserver
  gather_facts: false
  tasks:
    - name: Resolve the catalog
      ansible.builtin.import_role:
        name: monsterr.mediaserver.catalog
        tasks_from: resolve
    - name: Write it for the tests
      ansible.builtin.copy:
        content: "{{ {'enabled': catalog_enabled, 'overrides': catalog_overrides, 'resolved': catalog_resolved,
                      'puid': household_puid, 'pgid': household_pgid} | to_json }}"
        dest: "%s"
        mode: "0600"
      delegate_to: localhost
"""


def inventory_dir():
    return os.path.dirname(os.environ["MOLECULE_INVENTORY_FILE"])


def scenario_vars():
    """The scenario's group_vars as written in molecule.yml (literal settings; catalog_enabled and catalog_overrides
    are templates there: use household() for their values)."""
    with open(os.environ["MOLECULE_FILE"]) as handle:
        return yaml.safe_load(handle)["provisioner"]["inventory"]["group_vars"]["mediaserver"]


@functools.lru_cache(maxsize=None)
def household():
    """{'enabled': [...], 'overrides': {...}, 'resolved': {name: resolved catalog entry}, 'puid', 'pgid'} as Ansible
    resolves them from the scenario's inventory."""
    handle, out = tempfile.mkstemp(suffix=".json")
    os.close(handle)
    with tempfile.NamedTemporaryFile("w", suffix=".yml", delete=False) as play:
        play.write(_RESOLVE_PLAY % out)
    try:
        env = dict(os.environ, ANSIBLE_FORCE_COLOR="0", ANSIBLE_NOCOLOR="1", STACK_BENCH_LABEL="resolve (tests)")
        proc = subprocess.run(["ansible-playbook", "--inventory", inventory_dir(), play.name], stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, universal_newlines=True, env=env, check=False)
        assert proc.returncode == 0, proc.stdout[-3000:]
        with open(out) as result:
            data = json.load(result)
    finally:
        os.unlink(play.name)
        os.unlink(out)
    data["resolved"] = dict((entry["name"], entry) for entry in data["resolved"])
    return data


def entry(name):
    """The resolved catalog entry of an enabled service."""
    return household()["resolved"][name]


def services():
    """The enabled services (sorted)."""
    return sorted(household()["resolved"])


def servarr_apps():
    """The enabled *arr apps (catalog api.kind servarr)."""
    return sorted(n for n in services() if (entry(n).get("api") or {}).get("kind") == "servarr")


def exporters():
    """{service: sidecar container} of the services whose metrics come from an exportarr sidecar."""
    out = {}
    for name, svc in household()["resolved"].items():
        metrics = svc.get("metrics") or {}
        if metrics.get("exporter") == "exportarr" and metrics.get("image"):
            out[name] = name + "-exporter"
    return out


def expected_containers():
    """Every container the household must run: one per enabled service and one per exportarr sidecar."""
    return sorted(services() + list(exporters().values()))


def household_owner():
    return "%s:%s" % (household()["puid"], household()["pgid"])


def expected_targets():
    """{address: service} of the enabled services with metrics: what the file_sd file must list."""
    out = {}
    for name, svc in household()["resolved"].items():
        metrics = svc.get("metrics") or {}
        exporter = metrics.get("exporter", "builtin")
        if metrics.get("port") and exporter != "none":
            out["%s:%s" % (name + "-exporter" if exporter == "exportarr" else name, metrics["port"])] = name
    return out


# ---- the household's secrets (on the controller) ---------------------------------------------------------

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


# ---- Docker on the instance ------------------------------------------------------------------------------

def inspect(host, name):
    return json.loads(host.check_output("docker inspect %s" % name))[0]


def containers(host):
    """{name: (id, started_at)} of every container on the instance."""
    out = {}
    ids = host.check_output("docker ps -aq").split()
    if ids:
        for data in json.loads(host.check_output("docker inspect %s" % " ".join(ids))):
            out[data["Name"].lstrip("/")] = (data["Id"], data["State"]["StartedAt"])
    return out


def project_containers(host):
    """The compose project's containers as `docker compose ps --all` lists them."""
    return sorted(host.check_output("cd %s && docker compose ps --all --format '{{.Name}}'" % COMPOSE_DIR).split())


def states(host, names):
    """{name: 'running healthy' | 'running (no health check)' | '<status> <health>'} in one docker inspect."""
    out = dict((n, "missing") for n in names)
    result = host.run("docker inspect %s" % " ".join(names))
    for data in json.loads(result.stdout or "[]"):
        state = data["State"]
        health = (state.get("Health") or {}).get("Status")
        out[data["Name"].lstrip("/")] = "%s %s" % (state["Status"], health) if health else \
            "%s (no health check)" % state["Status"]
    return out


def wait_ready(host, names, timeout=300):
    """Wait until every named container is running (and healthy where it has a health check); their states.

    Five minutes: CI runs this scenario beside the other lane on two cores, where ~25 containers restarting at once
    take far longer than alone (the limit only matters when something never gets ready)."""
    deadline = time.time() + timeout
    while True:
        found = states(host, names)
        if all(s in READY for s in found.values()) or time.time() > deadline:
            return found
        time.sleep(2)


def http(host, url, *args):
    """(status, body) of a curl on the instance."""
    cmd = "curl -s -o /tmp/body -w '%%{http_code}' %s '%s'; echo; cat /tmp/body" % (" ".join(args), url)
    out = host.run(cmd).stdout
    status, _, body = out.partition("\n")
    return int(status or 0), body


def wait_for(check, timeout=150, step=2):
    """check() returns a truthy value when done; retried until timeout, then the last value is returned."""
    deadline = time.time() + timeout
    while True:
        value = check()
        if value or time.time() > deadline:
            return value
        time.sleep(step)


# ---- playbooks from the controller -----------------------------------------------------------------------

def playbook(path, label, *args):
    """Run a playbook from the controller against the scenario's inventory; (rc, output)."""
    env = dict(os.environ, STACK_BENCH_LABEL=label, ANSIBLE_FORCE_COLOR="0", ANSIBLE_NOCOLOR="1")
    proc = subprocess.run(["ansible-playbook", "--inventory", inventory_dir(), path] + list(args),
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True, env=env,
                          check=False)
    return proc.returncode, proc.stdout


def changed_tasks(output):
    """The names of the tasks that reported changed in an ansible-playbook output (default callback)."""
    found, task = [], None
    for line in output.splitlines():
        if line.startswith("TASK [") or line.startswith("RUNNING HANDLER ["):
            task = line[line.index("[") + 1:line.rindex("]")] if "]" in line else line
        elif line.startswith("changed:") and task and task not in found:
            found.append(task)
    return found


def converge(label, extra_vars, *args):
    """Re-run the scenario's converge from the controller with extra vars; returns (changed, stdout)."""
    rc, output = playbook(os.path.join(os.environ["MOLECULE_SCENARIO_DIRECTORY"], "converge.yml"), label,
                          "-e", json.dumps(extra_vars), *args)
    assert rc == 0, output[-4000:]
    recap = re.search(r"%s\s*:\s*ok=\d+\s+changed=(\d+)" % INSTANCE, output)
    assert recap, output[-2000:]
    return int(recap.group(1)), output


# ---- HTTPS through the proxy, signed in at the portal (the Authelia double's TOTP) -----------------------

CA = "/root/monsterr-test-ca.pem"
VARS = scenario_vars() if os.environ.get("MOLECULE_FILE") else {}
DOMAIN = VARS.get("household_domain", "media.example.test")
USERS = dict((u["username"], u) for u in VARS.get("authelia_users", []))
PORTAL = "auth." + DOMAIN


def _double():
    """tests/doubles/authelia.py (its TOTP helpers: the codes of the device every user has in the double)."""
    path = os.path.join(ROOT, "tests", "doubles", "authelia.py")
    spec = importlib.util.spec_from_file_location("authelia_double", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def curl(host, name, path="/", scheme="https", headers=None, cookie=None, data=None, extra=""):
    """curl on the instance through the published port, SNI and Host = name.

    Returns (curl exit code, status or None, {lower-case header: [values]}, body)."""
    port = 443 if scheme == "https" else 80
    args = ["-sS", "--max-time", "10", "--cacert", CA, "--resolve", "%s:%d:127.0.0.1" % (name, port),
            "-D", "/tmp/proxy-test.h", "-o", "/tmp/proxy-test.b"]
    for key, value in (headers or {}).items():
        args += ["-H", "'%s: %s'" % (key, value)]
    if cookie:
        args += ["--cookie", "authelia_session=%s" % cookie]
    if data is not None:
        args += ["-H", "'Content-Type: application/json'", "--data-binary", "'%s'" % json.dumps(data)]
    cmd = ("rm -f /tmp/proxy-test.h /tmp/proxy-test.b; rc=0; curl %s %s '%s://%s%s' || rc=$?; echo \"rc=$rc\"; "
           "cat /tmp/proxy-test.h 2>/dev/null; echo '@@body@@'; cat /tmp/proxy-test.b 2>/dev/null"
           % (" ".join(args), extra, scheme, name, path))
    out = host.run(cmd).stdout
    head, _, body = out.partition("@@body@@\n")
    lines = head.replace("\r", "").split("\n")
    rc = int(re.search(r"rc=(\d+)", lines[0]).group(1))
    blocks = [b for b in "\n".join(lines[1:]).split("\n\n") if b.strip()]
    status, hdrs = None, {}
    if blocks:
        block = blocks[-1].strip().split("\n")
        status = int(block[0].split()[1])
        for line in block[1:]:
            key, _, value = line.partition(":")
            hdrs.setdefault(key.strip().lower(), []).append(value.strip())
    return rc, status, hdrs, body


def cookie_of(headers):
    for value in headers.get("set-cookie", []):
        found = re.match(r"^authelia_session=([^;]+);", value)
        if found:
            return found.group(1), value
    return None, None


def sign_in(host, username, password=None):
    """POST /api/firstfactor at the portal (through the proxy): (status, body, session id, Set-Cookie)."""
    password = USERS[username]["password"] if password is None else password
    _, status, headers, body = curl(host, PORTAL, "/api/firstfactor",
                                    data={"username": username, "password": password, "keepMeLoggedIn": False})
    sid, raw = cookie_of(headers)
    return status, body, sid, raw


def second_factor(host, username, sid):
    """POST /api/secondfactor/totp with the current code of the user's device: the two-factor session id."""
    double = _double()
    code = double.totp_code(double.totp_secret(secret("authelia", "storage_encryption_key"), username))
    _, status, headers, body = curl(host, PORTAL, "/api/secondfactor/totp", cookie=sid, data={"token": code})
    assert status == 200 and json.loads(body) == {"status": "OK"}, (status, body)
    return cookie_of(headers)[0]


