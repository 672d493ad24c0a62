# -*- coding: utf-8 -*-
# Copyright: monsterr.mediaserver developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The firewall opens the torrent port the catalog publishes (issue #14: changing catalog_torrent_port left the
DOCKER-USER chain allowing only 6881, so qBittorrent's published port was dropped, silently).

Real Ansible variable resolution: a play holding the catalog and ufw roles as site.yml does (their tasks skipped,
their defaults and vars loaded), the household's setting in the inventory, and the rule lists the ufw role
renders into ufw and into /etc/ufw/after.rules printed.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import subprocess
import sys

import pytest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))

PLAY = """---
- name: The firewall's rules as the ufw role computes them, beside the catalog (as in site.yml)
  hosts: mediaserver
  gather_facts: false
  roles:
    - role: monsterr.mediaserver.catalog
      when: false
    - role: monsterr.mediaserver.ufw
      when: false
  tasks:
    - name: Write the rules down
      ansible.builtin.copy:
        content: "{{ {'ufw': __ufw_rules, 'docker': __ufw_docker_allow} | to_json }}"
        dest: "{{ rules_file }}"
        mode: "0600"
"""


def rules(tmp_path, host_vars):
    (tmp_path / "play.yml").write_text(PLAY)
    inventory = {"mediaserver": {"hosts": {"media01": dict({"ansible_connection": "local",
                                                             "ansible_python_interpreter": sys.executable},
                                                            **host_vars)}}}
    (tmp_path / "hosts.yml").write_text(json.dumps(inventory))
    env = dict(os.environ, ANSIBLE_CONFIG=os.path.join(ROOT, "ansible.cfg"), ANSIBLE_NOCOLOR="1")
    env.pop("ANSIBLE_FORCE_COLOR", None)
    command = [os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), str(tmp_path / "play.yml"),
               "-i", str(tmp_path / "hosts.yml"), "-e", "rules_file=%s" % (tmp_path / "rules.json")]
    result = subprocess.run(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            universal_newlines=True, check=False, timeout=300)
    assert result.returncode == 0, result.stdout
    return json.loads((tmp_path / "rules.json").read_text())


def ports(rule_list, comment=None):
    return sorted((r["port"], r["proto"]) for r in rule_list if comment is None or r.get("comment") == comment)


@pytest.mark.parametrize("host_vars, expected", [
    ({}, [("6881", "tcp"), ("6881", "udp")]),
    ({"catalog_torrent_port": 51413}, [("51413", "tcp"), ("51413", "udp")]),
    # The household's own ufw_torrent_port still wins; 0 opens nothing.
    ({"catalog_torrent_port": 51413, "ufw_torrent_port": 0}, []),
])
def test_the_torrent_port_the_firewall_opens_is_the_one_the_catalog_publishes(tmp_path, host_vars, expected):
    found = rules(tmp_path, host_vars)
    print(json.dumps(found))
    # In ufw's rules (INPUT) and in the DOCKER-USER chain, where the container's published port is filtered.
    assert ports(found["ufw"], "torrent peers") == expected
    assert ports(found["docker"], "torrent peers") == expected
    # The rest of the public rules stay: the web ports and Plex.
    assert {("80", "tcp"), ("443", "tcp"), ("32400", "tcp")} <= set(ports(found["docker"]))
