# -*- coding: utf-8 -*-
# Copyright: monsterr.mediaserver developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Run the wiring role alone through ansible-playbook against doubles on loopback (the role's tests)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import shutil
import subprocess
import sys

from ansible_collections.monsterr.mediaserver.tests.unit.plugins.filter.test_stack import resolve

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


def run_wiring(tmp_path, enabled, overrides, secrets, tags, *extra):
    """ansible-playbook of the wiring role for the catalog apps ``enabled`` (with ``overrides``, e.g. host_port of
    a double), the vault secrets ``secrets`` ({variable: value}) and ``--tags tags``; returns the CompletedProcess."""
    tool = os.path.join(os.path.dirname(sys.executable), "ansible-playbook")
    if not os.path.exists(tool):
        tool = shutil.which("ansible-playbook")
    assert tool, "ansible-playbook not found: run `make setup` (the project's .venv)"
    settings = {
        "catalog_resolved": resolve(enabled, overrides),
        "household_data_root": "/data", "household_no_log": True, "wiring_wait_timeout": 0, "wiring_timeout": 5,
        "wiring_secrets_dir": str(tmp_path / "secrets"),
        # the settings checks belong to preflight (tested on their own); this play runs the layer alone
        "__preflight_checked": ["wiring"],
    }
    settings.update(secrets)
    (tmp_path / "vars.json").write_text(json.dumps(settings))
    (tmp_path / "play.yml").write_text(
        "- hosts: localhost\n  connection: local\n  gather_facts: false\n"
        "  roles: [{role: monsterr.mediaserver.wiring}]\n")
    env = dict(os.environ, ANSIBLE_CONFIG=os.path.join(ROOT, "ansible.cfg"), ANSIBLE_NOCOLOR="1",
               ANSIBLE_STDOUT_CALLBACK="ansible.builtin.default",
               ANSIBLE_LOCALHOST_WARNING="False", ANSIBLE_INVENTORY_UNPARSED_WARNING="False")
    return subprocess.run([tool, str(tmp_path / "play.yml"), "-e", "@%s" % (tmp_path / "vars.json"),
                           "--tags", tags] + list(extra), cwd=ROOT, env=env, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, universal_newlines=True, timeout=300, check=False)
