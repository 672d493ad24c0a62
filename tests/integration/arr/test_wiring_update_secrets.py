# -*- coding: utf-8 -*-
# Copyright: monsterr.mediaserver developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The wiring role's ``wiring_update_secrets`` against the Servarr double as Prowlarr, through ansible-playbook (the
real role, its ``wiring:prowlarr`` tasks).

Prowlarr returns the *arr keys of its applications masked, so after a household rotates Sonarr's key (e.g. the
64 -> 32 hex upgrade of #10) a default run cannot see the old key; one run with ``wiring_update_secrets=always``
must send the new one. A role that does not pass the setting through leaves Prowlarr with the old key."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.monsterr.mediaserver.tests.doubles.servarr import ServarrDouble
from ansible_collections.monsterr.mediaserver.tests.integration import wiring_play

PROWLARR_KEY = "0123456789abcdef0123456789abcdef"
OLD_SONARR_KEY = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa1"
NEW_SONARR_KEY = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb2"


def run_wiring(tmp_path, port, sonarr_key, *extra):
    result = wiring_play.run_wiring(tmp_path, ["sonarr", "prowlarr"], {"prowlarr": {"host_port": port}},
                                    {"vault_prowlarr_api_key": PROWLARR_KEY, "vault_sonarr_api_key": sonarr_key},
                                    "wiring:prowlarr", *extra)
    assert result.returncode == 0, result.stdout
    for key in (PROWLARR_KEY, OLD_SONARR_KEY, NEW_SONARR_KEY):
        assert key not in result.stdout
    return result


@pytest.fixture()
def prowlarr():
    double = ServarrDouble("prowlarr", PROWLARR_KEY).start()
    yield double
    double.stop()


def stored_keys(double):
    """The key each application holds, as stored (unmasked) by the double."""
    return [dict((f["name"], f.get("value")) for f in app["fields"]).get("apiKey")
            for app in double.state.store["applications"].values()]


def writes(double):
    return sum(n for method, n in double.stats()["by_method"].items() if method in ("POST", "PUT", "DELETE"))


def test_rotated_key_reaches_prowlarr_only_with_update_secrets_always(tmp_path, prowlarr):
    run_wiring(tmp_path, prowlarr.port, OLD_SONARR_KEY)
    assert stored_keys(prowlarr) == [OLD_SONARR_KEY]

    prowlarr.reset()
    run_wiring(tmp_path, prowlarr.port, NEW_SONARR_KEY)
    assert writes(prowlarr) == 0 and stored_keys(prowlarr) == [OLD_SONARR_KEY], "masked: a default run cannot see it"

    prowlarr.reset()
    run_wiring(tmp_path, prowlarr.port, NEW_SONARR_KEY, "-e", "wiring_update_secrets=always")
    assert writes(prowlarr) == 1 and stored_keys(prowlarr) == [NEW_SONARR_KEY]
