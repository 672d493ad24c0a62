# -*- coding: utf-8 -*-
# Copyright: monsterr.mediaserver developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Bad inventories and bad hosts against the real site.yml: preflight stops the run, names every
problem (variable, value, fix) in one failure, and leaves the host exactly as it was.

Each case copies inventories/example, breaks it, and runs site.yml over the docker connection
against one long-lived container, plus a Debian 11 look-alike for the OS case (no systemd needed:
preflight only reads).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import re
import shutil
import subprocess
import sys
from collections import namedtuple

import pytest
import yaml

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
EXAMPLE = os.path.join(ROOT, "inventories", "example")
IMAGE = "monsterr/debian12-systemd:base"
CONTAINER = "monsterr-preflight-test"
OLD_IMAGE = "monsterr-preflight-test/debian11:local"
OLD_CONTAINER = "monsterr-preflight-test-debian11"
HOST = "media01"
# The demo's relaxed minimums, so that the container itself passes; a case may raise one again
# with a later -e (the last -e wins).
RELAXED = ["-e", "preflight_min_cpus=1", "-e", "preflight_min_ram_mb=256", "-e", "preflight_min_disk_gb=1"]


def _docker_works():
    try:
        return subprocess.run(["docker", "info"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              timeout=30, check=False).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


pytestmark = [
    pytest.mark.integration,
    pytest.mark.docker,
    pytest.mark.needs(_docker_works(), "`docker info` fails: these tests need a running Docker engine: run `make setup` "
                                       "(apt-get install docker.io) and `bash scripts/ensure-docker.sh`"),
]


def _docker(*args, check=True):
    return subprocess.run(["docker"] + list(args), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          universal_newlines=True, check=check)


def _tool(name):
    """The Ansible CLI of the Python running the tests (the project's venv), else the one on PATH."""
    local = os.path.join(os.path.dirname(sys.executable), name)
    return local if os.path.exists(local) else shutil.which(name)


Host = namedtuple("Host", "container facts data")


def _start(name, image, tmp_path_factory):
    """A container to check, its own facts cache, and the host directory mounted as its /data.

    Ansible's mount facts leave out the container's overlay root, so without a real filesystem
    under a checked path preflight has no free-disk figure to test. A bind mount stands in for the
    data disk of a real server; docker diff cannot see into it, so the tests check it stays empty.
    """
    _docker("rm", "-f", name, check=False)  # a leftover of an interrupted earlier run
    data = tmp_path_factory.mktemp(name + "-data")
    _docker("run", "-d", "--name", name, "-v", "%s:/data" % data, image, "sleep", "infinity")
    # Facts are cached per inventory host name, and every case calls its host media01: one cache per
    # container, or the Debian 12 container's facts would stand in for the Debian 11 one.
    host = Host(name, tmp_path_factory.mktemp(name + "-facts"), data)
    _warm_up(host)
    return host


def _diff(container):
    """Everything added, changed or deleted in the container's filesystem since it started."""
    return sorted(_docker("diff", container).stdout.splitlines())


def _env(host):
    env = dict(os.environ)
    env.pop("ANSIBLE_FORCE_COLOR", None)
    env.update({
        "ANSIBLE_CONFIG": os.path.join(ROOT, "ansible.cfg"),
        "ANSIBLE_CACHE_PLUGIN_CONNECTION": str(host.facts),
        "ANSIBLE_NOCOLOR": "1",
        # Pinned so that the failure line can be parsed whatever ansible.cfg asks for.
        "ANSIBLE_CALLBACK_RESULT_FORMAT": "json",
    })
    return env


def _connect(container):
    return ["-e", "ansible_connection=community.docker.docker", "-e", "ansible_host=%s" % container,
            "-e", "ansible_user=root"]


def _warm_up(host):
    """One ad-hoc ping, with become like the playbook, so the 'before' snapshot already holds
    whatever merely connecting leaves behind."""
    result = subprocess.run([_tool("ansible"), HOST, "-i", EXAMPLE, "-b", "-m", "ansible.builtin.ping"] + _connect(host.container),
                            cwd=ROOT, env=_env(host), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            universal_newlines=True, check=False)
    assert result.returncode == 0, result.stdout


@pytest.fixture(scope="session")
def image():
    if _docker("image", "inspect", IMAGE, check=False).returncode != 0:
        pytest.fail("image %s is missing: build it with `bash scripts/build-base-images.sh`" % IMAGE)
    return IMAGE


@pytest.fixture(scope="session")
def debian12(image, tmp_path_factory):
    try:
        yield _start(CONTAINER, image, tmp_path_factory)
    finally:
        _docker("rm", "-f", CONTAINER, check=False)


@pytest.fixture(scope="session")
def debian11(image, tmp_path_factory):
    """The same image claiming to be Debian 11 (bullseye), built locally: nothing is pulled."""
    context = tmp_path_factory.mktemp("debian11-image")
    (context / "os-release").write_text(
        'PRETTY_NAME="Debian GNU/Linux 11 (bullseye)"\nNAME="Debian GNU/Linux"\nVERSION_ID="11"\n'
        'VERSION="11 (bullseye)"\nVERSION_CODENAME=bullseye\nID=debian\nHOME_URL="https://www.debian.org/"\n')
    (context / "debian_version").write_text("11.11\n")
    (context / "Dockerfile").write_text(
        "FROM %s\n"
        "RUN rm -f /etc/os-release /usr/lib/os-release\n"
        "COPY os-release /usr/lib/os-release\n"
        "COPY os-release /etc/os-release\n"
        "COPY debian_version /etc/debian_version\n" % image)
    env = dict(os.environ, DOCKER_BUILDKIT="0")  # the legacy builder uses the local base image
    built = subprocess.run(["docker", "build", "-q", "-t", OLD_IMAGE, str(context)], env=env,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True, check=False)
    assert built.returncode == 0, built.stdout
    try:
        host = _start(OLD_CONTAINER, OLD_IMAGE, tmp_path_factory)
        assert "VERSION_CODENAME=bullseye" in _docker("exec", OLD_CONTAINER, "cat", "/etc/os-release").stdout
        yield host
    finally:
        _docker("rm", "-f", OLD_CONTAINER, check=False)
        _docker("rmi", "-f", OLD_IMAGE, check=False)


DELETE = object()


def _inventory(tmp_path, settings=None, host_vars=None):
    """A copy of inventories/example with settings changed (or DELETEd) in group_vars/mediaserver/main.yml."""
    inventory = tmp_path / "household"
    shutil.copytree(EXAMPLE, str(inventory))
    main = inventory / "group_vars" / "mediaserver" / "main.yml"
    data = yaml.safe_load(main.read_text())
    for name, value in (settings or {}).items():
        assert name in data, "the example inventory has no %s to change" % name
        if value is DELETE:
            del data[name]
        else:
            data[name] = value
    main.write_text("---\n" + yaml.safe_dump(data, default_flow_style=False))
    if host_vars:
        (inventory / "host_vars").mkdir()
        (inventory / "host_vars" / ("%s.yml" % HOST)).write_text("---\n" + yaml.safe_dump(host_vars, default_flow_style=False))
    return inventory


def _site(inventory, host, extra=()):
    command = [_tool("ansible-playbook"), "site.yml", "-i", str(inventory)] + _connect(host.container) + RELAXED + list(extra)
    result = subprocess.run(command, cwd=ROOT, env=_env(host), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            universal_newlines=True, check=False, timeout=300)
    return result.returncode, result.stdout


def _failure(output):
    """The problems of the one failed task, as preflight listed them."""
    failures = re.findall(r"^fatal: \[%s\]: FAILED! => (\{.*\})$" % HOST, output, re.MULTILINE)
    assert len(failures) == 1, output
    msg = json.loads(failures[0])["msg"]
    assert isinstance(msg, list) and msg, output
    assert re.match(r"^Preflight found %d problem\(s\); nothing was changed on the host:$" % (len(msg) - 1), msg[0]), msg
    return msg[1:]


Case = namedtuple("Case", "id settings host_vars extra host expected")

# `expected`: one fragment per problem; each names the variable (or host property) and shows the bad
# value as written. The run must report exactly these problems, each on its own line with a fix.
CASES = [
    Case("domain-missing", {"household_domain": DELETE}, None, [], "debian12",
         ["household_domain = '' is not set"]),
    Case("domain-with-scheme", {"household_domain": "https://media.example.org"}, None, [], "debian12",
         ["household_domain = 'https://media.example.org' is not a fully qualified domain name"]),
    Case("email-without-domain", {"household_acme_email": "admin@"}, None, [], "debian12",
         ["household_acme_email = 'admin@' is not an e-mail address"]),
    Case("timezone-typo", {"household_timezone": "Europe/Berlinn"}, None, [], "debian12",
         ["household_timezone = 'Europe/Berlinn' is not a known IANA time zone"]),
    Case("locale-word", {"household_locale": "english"}, None, [], "debian12",
         ["household_locale = 'english' is not a UTF-8 locale name"]),
    Case("user-with-space", {"household_user": "Media User"}, None, [], "debian12",
         ["household_user = 'Media User' is not a valid user name"]),
    Case("puid-not-a-number", {"household_puid": "abc"}, None, [], "debian12",
         ["household_puid = 'abc' is not an integer"]),
    Case("data-root-relative", {"household_data_root": "data"}, None, [], "debian12",
         ["household_data_root = 'data' is not an absolute path below /"]),
    Case("admin-cidr-prefix-33", {"household_admin_cidrs": ["192.168.1.0/33"]}, None, [], "debian12",
         ["household_admin_cidrs = ['192.168.1.0/33'] has bad entries: '192.168.1.0/33' is not a network in CIDR notation"]),
    Case("lan-cidrs-a-string", {"household_lan_cidrs": "192.168.1.0/24"}, None, [], "debian12",
         ["household_lan_cidrs = '192.168.1.0/24' is not a list"]),
    # host_vars win over group_vars: preflight checks the value the host really gets.
    Case("pgid-root-in-host-vars", None, {"household_pgid": 0}, [], "debian12",
         ["household_pgid = 0 is outside 1..65533"]),
    Case("ram-below-minimum", None, None, ["-e", "preflight_min_ram_mb=100000000"], "debian12",
         ["below preflight_min_ram_mb = 100000000"]),
    Case("cpus-below-minimum", None, None, ["-e", "preflight_min_cpus=4096"], "debian12",
         ["below preflight_min_cpus = 4096"]),
    Case("disk-below-minimum", None, None, ["-e", "preflight_min_disk_gb=1000000"], "debian12",
         ["free disk for /data (on /data) ="]),
    Case("unsupported-os", None, None, [], "debian11",
         ["host OS = 'Debian 11.11' is not supported"]),
    Case("three-at-once",
         {"household_timezone": "Berlin", "household_appdata_root": "opt/monsterr", "household_domain": "media"},
         None, [], "debian12",
         ["household_domain = 'media' is not a fully qualified domain name",
          "household_timezone = 'Berlin' is not a known IANA time zone (did you mean Europe/Berlin?)",
          "household_appdata_root = 'opt/monsterr' is not an absolute path below /"]),
]


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_bad_inventory_or_host_stops_before_any_change(case, request, tmp_path):
    host = request.getfixturevalue(case.host)
    inventory = _inventory(tmp_path, case.settings, case.host_vars)
    before = _diff(host.container)

    rc, output = _site(inventory, host, case.extra)

    assert rc != 0, output
    problems = _failure(output)
    assert len(problems) == len(case.expected), problems
    for fragment in case.expected:
        lines = [line for line in problems if fragment in line]
        assert len(lines) == 1, "%r not reported once in %r" % (fragment, problems)
        assert "Fix: " in lines[0], lines[0]
        assert fragment in output  # as the user sees it, not only after parsing
    if case.settings or case.host_vars:
        # The message says where to fix it: this household's inventory.
        assert all(str(inventory) in line for line in problems if line.startswith("household_")), problems
    assert "Fix: " in output
    assert re.search(r"^%s\s+: ok=\d+\s+changed=0\s+unreachable=0\s+failed=1 " % HOST, output, re.MULTILINE), output
    assert "monsterr.mediaserver.base :" not in output, "a layer after preflight ran"
    # Nothing at all was written, changed or deleted on the host.
    assert _diff(host.container) == before
    assert os.listdir(str(host.data)) == []


def test_example_inventory_passes_preflight(debian12):
    before = _diff(debian12.container)

    rc, output = _site(EXAMPLE, debian12, ["--tags", "preflight"])

    assert rc == 0, output
    assert re.search(r"^%s\s+: ok=\d+\s+changed=0\s+unreachable=0\s+failed=0 " % HOST, output, re.MULTILINE), output
    assert re.search(r"Check the household's settings and the host\] \*+\n(.*\n)?skipping: \[%s\]" % HOST, output), output
    assert _diff(debian12.container) == before
    assert os.listdir(str(debian12.data)) == []
