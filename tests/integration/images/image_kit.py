# -*- coding: utf-8 -*-
# Copyright: monsterr.mediaserver developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Helpers of the image smoke tests (tests/integration/images/; conftest.py holds the fixture): run the local test
images of tests/images/ the way the stack runs the real ones, from the production catalog entry
(roles/catalog/services/<app>.yml: command, user, environment, read_only, tmpfs, volumes, healthcheck), with the
Jinja in it rendered for a test household.

Every container runs on "Docker >= 26 loopback": ``--sysctl net.ipv6.conf.lo.disable_ipv6=0`` gives the
container ``::1`` on lo, as Docker 26+ (Debian 13's docker.io 26.1, the stack scenario's engine) does, while the
host's engine here (Debian 12's docker.io 20.10) leaves IPv6 off on lo. /etc/hosts already maps localhost to ::1 on
both. That is the condition under which busybox wget refuses an IPv4-only server on ``localhost`` (moby/moby#47062).

A missing Docker engine or image FAILS the test with the command that provides it; nothing is skipped.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import shutil
import subprocess
import time
import uuid

import jinja2
import pytest
import yaml

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
CATALOG = os.path.join(ROOT, "roles", "catalog", "services")
DOCKER26 = ["--sysctl", "net.ipv6.conf.lo.disable_ipv6=0"]
HOUSEHOLD = {"household_puid": 1000, "household_pgid": 1000, "household_domain": "example.test",
             "household_timezone": "Etc/UTC", "catalog_metrics_retention": "15d", "vault_plex_claim_token": ""}
BUILD = "bash scripts/build-service-images.sh %s"


def docker(*args, check=True, timeout=120):
    try:
        return subprocess.run(("docker",) + tuple(str(a) for a in args), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              universal_newlines=True, check=check, timeout=timeout)
    except FileNotFoundError:
        pytest.fail("docker not found: install Docker (make setup runs scripts/ensure-docker.sh)", pytrace=False)


def require_images(*names):
    """Fail (never skip) when the engine or one of the images is missing, naming the command that builds it."""
    if shutil.which("docker") is None:
        pytest.fail("docker not found: install Docker (make setup runs scripts/ensure-docker.sh)", pytrace=False)
    if docker("info", check=False, timeout=60).returncode:
        pytest.fail("the Docker engine is not running: start it with scripts/ensure-docker.sh", pytrace=False)
    missing = [n for n in names if docker("image", "inspect", "monsterr-test/%s:local" % n, check=False).returncode]
    if missing:
        pytest.fail("test images not built: %s. Build them: %s" % (", ".join("monsterr-test/%s:local" % n for n in missing),
                                                                BUILD % " ".join(missing)), pytrace=False)


def catalog_entry(app):
    """The production catalog entry of app with its Jinja rendered for the test household."""
    with open(os.path.join(CATALOG, "%s.yml" % app)) as handle:
        entry = yaml.safe_load(handle)[app]
    return render(entry)


def render(value):
    if isinstance(value, dict):
        return dict((k, render(v)) for k, v in value.items())
    if isinstance(value, list):
        return [render(v) for v in value]
    if isinstance(value, str) and "{{" in value:
        return jinja2.Environment(undefined=jinja2.StrictUndefined).from_string(value).render(**HOUSEHOLD)
    return value


def wait(predicate, timeout=30.0, interval=0.2):
    deadline = time.time() + timeout
    result = predicate()
    while not result and time.time() < deadline:
        time.sleep(interval)
        result = predicate()
    return result


class Containers(object):
    """Containers and networks a test started, removed at teardown (only those: the machine is shared)."""

    def __init__(self, base):
        self.base = base
        self.names = []
        self.networks = []

    def name(self, hint):
        name = "b1img-%s-%s" % (hint, uuid.uuid4().hex[:8])
        self.names.append(name)
        return name

    def network(self):
        name = "b1img-net-%s" % uuid.uuid4().hex[:8]
        docker("network", "create", name)
        self.networks.append(name)
        return name

    def run(self, image, *args, hint="c", docker_args=(), docker26=True):
        name = self.name(hint)
        docker("run", "-d", "--name", name, *(list(DOCKER26 if docker26 else []) + list(docker_args)),
               "monsterr-test/%s:local" % image, *args)
        return name

    def appdata(self, *parts, owner="1000:1000", mode=0o750):
        """A directory like the household's appdata (owned by the household account, 0750)."""
        path = os.path.join(str(self.base), *parts)
        os.makedirs(path, exist_ok=True)
        uid, gid = (int(x) for x in owner.split(":"))
        os.chown(path, uid, gid)
        os.chmod(path, mode)
        return path

    def run_app(self, app, image, prepare=None, extra_env=None, docker26=True, extra_args=()):
        """Run image as the stack runs the catalog entry of app; returns (container, entry, volume sources).

        Volumes: `config`/`config:<sub>` and `data` become directories owned 1000:1000 0750 (the catalog's own
        owner/group/mode when it sets them); absolute host paths are bound as given when read-only (the host's
        /, /sys, /var/run... as cAdvisor and the node exporter need them) when they exist, else replaced by a
        scratch directory (nothing is created on the host).
        prepare(sources) may write seed files before the start.
        """
        entry = catalog_entry(app)
        args = ["--security-opt", "no-new-privileges:true"] + list(extra_args)
        env = {}
        if entry.get("user_env"):
            env.update({"PUID": "1000", "PGID": "1000", "TZ": "Etc/UTC", "UMASK": "002"})
        env.update(dict((k, "" if v is None else str(v)) for k, v in (entry.get("environment") or {}).items()))
        for secret in (entry.get("secrets") or {}).values():
            if isinstance(secret, dict) and secret.get("env") and secret.get("generate"):
                env[secret["env"]] = uuid.uuid4().hex
        env.update(extra_env or {})
        for key, value in sorted(env.items()):
            args += ["-e", "%s=%s" % (key, value)]
        if entry.get("user") not in (None, ""):
            args += ["--user", str(entry["user"])]
        if entry.get("read_only"):
            args.append("--read-only")
        for path in entry.get("tmpfs") or []:
            args += ["--tmpfs", path]
        sources = {}
        for volume in entry.get("volumes") or []:
            source = volume["source"]
            if source.startswith("/") and volume.get("read_only") and os.path.exists(source):
                host = source
            elif source.startswith("/"):
                host = self.appdata("host" + source.replace("/", "_"))
            else:
                kind, _, sub = source.partition(":")
                owner = "%s:%s" % ({"root": 0}.get(volume.get("owner"), 1000), {"root": 0}.get(volume.get("group"), 1000))
                host = self.appdata(app if kind == "config" else "data", *([sub] if sub else []), owner=owner,
                                    mode=int(str(volume.get("mode") or "0750"), 8))
            sources[source] = host
            args += ["-v", "%s:%s%s" % (host, volume["target"], ":ro" if volume.get("read_only") else "")]
        if prepare:
            prepare(sources)
        name = self.run(image, *[str(c) for c in entry.get("command") or []], hint=app, docker_args=args,
                        docker26=docker26)
        return name, entry, sources

    def cleanup(self):
        for name in self.names:
            docker("rm", "-f", "-v", name, check=False)
        for name in self.networks:
            docker("network", "rm", name, check=False)


def probe(container, test, timeout=60.0):
    """Run a catalog health check test ([CMD-SHELL, cmd] or [CMD, argv...]) in the container the way Docker does,
    until it passes or timeout; returns the last CompletedProcess."""
    if test[0] == "CMD-SHELL":
        argv = ["/bin/sh", "-c", test[1]]
    elif test[0] == "CMD":
        argv = list(test[1:])
    else:
        raise AssertionError("unexpected healthcheck test %r" % (test,))
    last = []

    def attempt():
        last[:] = [docker("exec", container, *argv, check=False)]
        return last[0].returncode == 0

    wait(attempt, timeout=timeout, interval=0.5)
    return last[0]


def logs(container):
    return docker("logs", container, check=False).stdout[-4000:]


def process_ids(container):
    """(uid, gid) of the container's main process (PID 1 after the entry point's exec)."""
    status = docker("exec", container, "cat", "/proc/1/status").stdout
    uid = next(line.split()[1] for line in status.splitlines() if line.startswith("Uid:"))
    gid = next(line.split()[1] for line in status.splitlines() if line.startswith("Gid:"))
    return "%s:%s" % (uid, gid)


def families(container, port):
    """{"127.0.0.1": bool, "::1": bool}: whether a TCP connection to port on each loopback address is accepted,
    tried from inside the container (python3 is in every test image)."""
    code = ("import socket\nfor host in ('127.0.0.1', '::1'):\n    try:\n        socket.create_connection((host, %d), 3).close()"
            "\n        print(host, 'yes')\n    except OSError:\n        print(host, 'no')" % port)
    out = docker("exec", container, "python3", "-c", code).stdout.split()
    return {"127.0.0.1": out[1] == "yes", "::1": out[3] == "yes"}


def owner(path):
    st = os.stat(path)
    return "%d:%d" % (st.st_uid, st.st_gid)
