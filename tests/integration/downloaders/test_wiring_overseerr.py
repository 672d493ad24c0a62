# -*- coding: utf-8 -*-
# Copyright: monsterr.mediaserver developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The wiring role's Overseerr links against the Overseerr double, through ansible-playbook (the real role, its
``wiring:companions`` tasks): a wrong API key fails the run with the module's message; a fresh Overseerr without
an admin stays pending and the run goes on.

Issue #12: a wrong key answered 403 like "no admin yet", so the role reported it as pending forever."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import shutil
import subprocess
import sys

import pytest

from ansible_collections.monsterr.mediaserver.tests.doubles.overseerr import OverseerrDouble
from ansible_collections.monsterr.mediaserver.tests.integration.downloaders.bench import free_port
from ansible_collections.monsterr.mediaserver.tests.unit.plugins.filter.test_stack import resolve

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
OVERSEERR_KEY = "b3ZlcnNlZXJyLXRlc3Qta2V5LWZvci10aGUtd2lyaW5nLQ="   # the catalog's pattern: 43 base64 + '='
WRONG_KEY = "d3Jvbmcta2V5LXdyb25nLWtleS13cm9uZy1rZXktd3Jvbmc="
SONARR_KEY = "0123456789abcdef0123456789abcdef"


def run_wiring(tmp_path, overseerr_url_port, api_key, *extra):
    tool = os.path.join(os.path.dirname(sys.executable), "ansible-playbook")
    if not os.path.exists(tool):
        tool = shutil.which("ansible-playbook")
    assert tool, "ansible-playbook not found: run `make setup` (the project's .venv)"
    settings = {
        "catalog_resolved": resolve(["sonarr", "overseerr"], {"overseerr": {"host_port": overseerr_url_port}}),
        "household_data_root": "/data", "household_no_log": True, "wiring_wait_timeout": 0, "wiring_timeout": 5,
        "wiring_secrets_dir": str(tmp_path / "secrets"),
        "vault_overseerr_api_key": api_key, "vault_sonarr_api_key": SONARR_KEY,
        # the settings checks belong to preflight (tested on their own); this play runs the layer alone
        "__preflight_checked": ["wiring"],
    }
    (tmp_path / "vars.json").write_text(json.dumps(settings))
    (tmp_path / "play.yml").write_text(
        "- hosts: localhost\n  connection: local\n  gather_facts: false\n"
        "  roles: [{role: monsterr.mediaserver.wiring}]\n")
    env = dict(os.environ, ANSIBLE_CONFIG=os.path.join(ROOT, "ansible.cfg"), ANSIBLE_NOCOLOR="1",
               ANSIBLE_STDOUT_CALLBACK="ansible.builtin.default",
               ANSIBLE_LOCALHOST_WARNING="False", ANSIBLE_INVENTORY_UNPARSED_WARNING="False")
    return subprocess.run([tool, str(tmp_path / "play.yml"), "-e", "@%s" % (tmp_path / "vars.json"),
                           "--tags", "wiring:companions"] + list(extra), cwd=ROOT, env=env, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, universal_newlines=True, timeout=300, check=False)


@pytest.fixture()
def overseerr():
    double = OverseerrDouble(OVERSEERR_KEY).start()
    yield double
    double.stop()


def test_a_wrong_key_fails_the_run_with_a_clear_message(tmp_path, overseerr):
    result = run_wiring(tmp_path, overseerr._httpd.server_address[1], WRONG_KEY)
    assert result.returncode != 0, result.stdout
    assert "Overseerr links failed:" in result.stdout and "the key is wrong" in result.stdout, result.stdout
    assert "overseerr -> sonarr" in result.stdout or "overseerr: GET 127.0.0.1:" in result.stdout
    assert WRONG_KEY not in result.stdout and SONARR_KEY not in result.stdout
    assert overseerr.servers["sonarr"] == []


def test_a_fresh_overseerr_without_an_admin_stays_pending(tmp_path, overseerr):
    overseerr.admin_exists = overseerr.initialized = False
    result = run_wiring(tmp_path, overseerr._httpd.server_address[1], OVERSEERR_KEY)
    assert result.returncode == 0, result.stdout
    assert "pending" in result.stdout and "Overseerr links failed" not in result.stdout, result.stdout
    assert OVERSEERR_KEY not in result.stdout and SONARR_KEY not in result.stdout


def test_an_unreachable_overseerr_fails_except_in_check_mode(tmp_path):
    """A check run on a fresh host (containers not started) reports "would be wired"; a real run fails."""
    port = free_port()
    checked = run_wiring(tmp_path, port, OVERSEERR_KEY, "--check")
    assert checked.returncode == 0 and "not reachable now (check mode)" in checked.stdout, checked.stdout
    real = run_wiring(tmp_path, port, OVERSEERR_KEY)
    assert real.returncode != 0 and "Overseerr links failed:" in real.stdout and "connection error" in real.stdout
