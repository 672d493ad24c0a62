"""Re-converge the stack scenario from the controller with one image tag bumped (that container recreated, and
with it only the services that depend on it; the wiring intact: nothing to re-wire) and one service removed (its
container and its exportarr sidecar go, its appdata stays), then back to the scenario's own settings (the service
comes back with its kept appdata and wiring). The tests of this file run in its order; the last one
puts the household back as it found it. Marker changes_household: they run after the tests that look at the
household as converged."""

import copy
import json

import pytest
import yaml

from helpers import (
    READY, all_secrets, changed_tasks, containers, converge, expected_containers, exporters, household, http,
    inspect, secret, servarr_apps, wait_ready)

pytestmark = pytest.mark.changes_household

BUMPED = "radarr"
REMOVED = "prowlarr"


def bumped_overrides():
    """The scenario's catalog_overrides with radarr's image under a new tag (prepare tagged it), as a release is."""
    overrides = copy.deepcopy(household()["overrides"])
    overrides[BUMPED]["image"] = overrides[BUMPED]["image"].rsplit(":", 1)[0] + ":bump"
    return overrides


def dependents(host, name):
    """The services whose compose definition depends_on ``name`` (catalog depends_on, exportarr sidecars)."""
    services = yaml.safe_load(host.file("/opt/monsterr/compose/compose.yml").content_string)["services"]
    return sorted(n for n, service in services.items() if name in (service.get("depends_on") or {}))


def up(host, names):
    states = wait_ready(host, names)
    return dict((n, s) for n, s in states.items() if s not in READY)


def test_a_new_tag_and_a_removed_service_touch_only_what_they_concern(host):
    """One re-converge with radarr's image under a new tag and prowlarr no longer enabled: radarr is recreated, and
    with it only what depends on it (Bazarr, Overseerr: catalog depends_on; its exportarr sidecar); prowlarr's
    container and sidecar go, its appdata stays; Authelia restarts (its access rules lost prowlarr's site; nginx only
    reloads). Nothing else is touched, and the wiring finds everything in place (the apps keep it in /config)."""
    expected = expected_containers()
    before = containers(host)
    enabled = [s for s in household()["enabled"] if s != REMOVED]
    changed, output = converge("tag bump + remove " + REMOVED,
                               {"catalog_overrides": bumped_overrides(), "catalog_enabled": enabled})
    after = containers(host)
    gone = sorted([REMOVED, exporters()[REMOVED]] if REMOVED in exporters() else [REMOVED])
    assert sorted(after) == sorted(n for n in expected if n not in gone)
    recreated = sorted(n for n in after if after[n][0] != before[n][0])
    restarted = sorted(n for n in after if after[n][0] == before[n][0] and after[n][1] != before[n][1])
    print("tag bump + removal: changed=%d, recreated %s, restarted %s" % (changed, recreated, restarted))
    assert BUMPED in recreated
    assert set(recreated + restarted) - {BUMPED} <= set(dependents(host, BUMPED)) | {"authelia"}, (recreated, restarted)
    assert up(host, sorted(after)) == {}
    assert inspect(host, BUMPED)["Config"]["Image"] == bumped_overrides()[BUMPED]["image"]
    key = secret(BUMPED, "api_key")
    assert http(host, "http://127.0.0.1:7878/api/v3/system/status", "-H 'X-Api-Key: %s'" % key)[0] == 200
    # The removed service's appdata stays; nothing answers on its port.
    assert host.file("/opt/monsterr/%s/config.xml" % REMOVED).exists
    assert host.run("curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:9696/ping").stdout != "200"
    # Nothing of a secret reaches the run's output; no wiring write was needed (no wiring task changed).
    assert not [s for s in all_secrets() if s in output]
    tasks = changed_tasks(output)
    print("changed tasks: %s" % tasks)
    assert changed >= 2, (changed_tasks(output), output[-2000:])
    assert "TASK [monsterr.mediaserver.wiring" in output
    assert [t for t in tasks if t.startswith("monsterr.mediaserver.wiring")] == []


def test_the_scenarios_own_settings_bring_the_household_back(host):
    """Back to molecule.yml's settings: radarr on its own tag again, prowlarr (and its sidecar) back with the
    appdata it kept: the same key, its applications (the wiring) in place."""
    changed, output = converge("back to the scenario", {})
    print("back: changed=%d" % changed)
    assert sorted(containers(host)) == expected_containers()
    assert up(host, expected_containers()) == {}
    assert inspect(host, BUMPED)["Config"]["Image"] == household()["overrides"][BUMPED]["image"]
    status, body = http(host, "http://127.0.0.1:9696/api/v1/applications", "-H 'X-Api-Key: %s'" % secret(REMOVED, "api_key"))
    assert status == 200 and len(json.loads(body)) == len([a for a in servarr_apps() if a != REMOVED]), body
    assert changed >= 1, (changed_tasks(output), output[-2000:])
