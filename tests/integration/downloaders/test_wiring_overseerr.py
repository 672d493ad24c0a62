# -*- coding: utf-8 -*-
# Copyright: monsterr.mediaserver developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The wiring role's Overseerr links against the Overseerr double, through ansible-playbook (the real role, its
``wiring:companions`` tasks): a wrong API key fails the run with the module's message; a fresh Overseerr without
an admin stays pending and the run goes on.

Issue #12: a wrong key answered 403 like "no admin yet", so the role reported it as pending forever."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.monsterr.mediaserver.tests.doubles.overseerr import OverseerrDouble
from ansible_collections.monsterr.mediaserver.tests.integration import wiring_play
from ansible_collections.monsterr.mediaserver.tests.integration.downloaders.bench import free_port

OVERSEERR_KEY = "b3ZlcnNlZXJyLXRlc3Qta2V5LWZvci10aGUtd2lyaW5nLQ="   # the catalog's pattern: 43 base64 + '='
WRONG_KEY = "d3Jvbmcta2V5LXdyb25nLWtleS13cm9uZy1rZXktd3Jvbmc="
SONARR_KEY = "0123456789abcdef0123456789abcdef"


def run_wiring(tmp_path, overseerr_url_port, api_key, *extra):
    return wiring_play.run_wiring(tmp_path, ["sonarr", "overseerr"], {"overseerr": {"host_port": overseerr_url_port}},
                                  {"vault_overseerr_api_key": api_key, "vault_sonarr_api_key": SONARR_KEY},
                                  "wiring:companions", *extra)


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
