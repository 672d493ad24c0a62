# -*- coding: utf-8 -*-
# Copyright: monsterr.mediaserver developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""preflight's optional DNS check against a real DNS server on loopback (dnspython over UDP).

preflight only reads, so it runs against this machine (connection local) with relaxed minimums.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import re
import socket
import subprocess
import sys
import threading

import dns.flags
import dns.message
import dns.rcode
import dns.rrset
import pytest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
PUBLIC = "198.51.100.7"
# What the zone holds: the apex and Sonarr (at tv., the example household's override) point at the public
# address, Radarr (movies.) elsewhere, the rest do not exist (the default catalog exposes more subdomains).
ZONE = {"media.example.org.": PUBLIC, "tv.media.example.org.": PUBLIC, "movies.media.example.org.": "203.0.113.9"}


@pytest.fixture(scope="module")
def dns_server():
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    sock.settimeout(0.2)
    asked = []
    stop = threading.Event()

    def serve():
        while not stop.is_set():
            try:
                wire, peer = sock.recvfrom(4096)
            except socket.timeout:
                continue
            query = dns.message.from_wire(wire)
            question = query.question[0]
            name = question.name.to_text().lower()
            asked.append(name)
            answer = dns.message.make_response(query)
            answer.flags |= dns.flags.AA
            if name in ZONE:
                answer.answer.append(dns.rrset.from_text(question.name, 60, "IN", "A", ZONE[name]))
            else:
                answer.set_rcode(dns.rcode.NXDOMAIN)
            sock.sendto(answer.to_wire(), peer)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield sock.getsockname()[1], asked
    stop.set()
    thread.join()
    sock.close()


def preflight(port, *extra):
    playbook = os.path.join(ROOT, "tests", "integration", "preflight_only.yml")
    env = dict(os.environ, ANSIBLE_CONFIG=os.path.join(ROOT, "ansible.cfg"), ANSIBLE_NOCOLOR="1",
               ANSIBLE_CALLBACK_RESULT_FORMAT="json", ANSIBLE_GATHERING="implicit")
    env.pop("ANSIBLE_FORCE_COLOR", None)
    command = [os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), playbook, "-i", "localhost,",
               "-c", "local", "-e", "ansible_python_interpreter=%s" % sys.executable, "-e", "preflight_dns_check=true", "-e", "preflight_dns_server=127.0.0.1",
               "-e", "preflight_dns_port=%d" % port] + list(extra)
    result = subprocess.run(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            universal_newlines=True, check=False, timeout=300)
    failures = re.findall(r"^fatal: \[localhost\]: FAILED! => (\{.*\})$", result.stdout, re.MULTILINE)
    return result.returncode, [line for f in failures for line in json.loads(f)["msg"][1:]], result.stdout


def test_reports_each_name_that_does_not_point_at_the_host(dns_server):
    port, asked = dns_server
    rc, problems, out = preflight(port, "-e", "preflight_dns_public_ipv4=%s" % PUBLIC)
    assert rc != 0, out
    assert "DNS: movies.media.example.org resolves to 203.0.113.9, not the public address preflight_dns_public_ipv4 = %s." \
        % PUBLIC in " ".join(problems)
    assert any(p.startswith("DNS: prowlarr.media.example.org does not resolve (NXDOMAIN). Fix: add an A record")
               for p in problems), problems
    assert not any("DNS: tv.media.example.org " in p or "DNS: media.example.org " in p for p in problems), problems
    dns_lines = [p for p in problems if p.startswith("DNS: ")]
    # the default catalog exposes 12 names besides the apex; 2 of the 13 resolve correctly
    assert len(dns_lines) == len(set(asked)) - 2, (dns_lines, asked)
    assert "media.example.org." in asked and "tv.media.example.org." in asked


def test_all_names_resolving_passes(dns_server):
    port, _ = dns_server
    rc, problems, out = preflight(port, "-e", "preflight_dns_public_ipv4=%s" % PUBLIC,
                                  "-e", '{"catalog_enabled": ["sonarr"]}')
    assert rc == 0 and problems == [], out


def test_public_address_is_required(dns_server):
    port, _ = dns_server
    rc, problems, out = preflight(port)
    assert rc != 0
    assert problems == ["preflight_dns_public_ipv4 = '' is not an IPv4 address. Fix: set it to your router's public "
                        "IPv4 address, or set preflight_dns_check: false."], out
