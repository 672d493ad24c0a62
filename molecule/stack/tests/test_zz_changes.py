"""Re-converge the stack scenario from the controller with one image tag bumped (that container recreated, and
with it only the services that depend on it; the wiring intact: nothing to re-wire), then with one service
removed (its container goes, its appdata stays). Named to sort last: it changes the instance every other test
file looks at."""

import copy

import pytest
import yaml

from conftest import SERVICES, all_secrets, containers, converge, http, inspect, scenario_vars, secret, wait_healthy


@pytest.fixture(scope="module")
def bumped_overrides():
    overrides = copy.deepcopy(scenario_vars()["catalog_overrides"])
    overrides["radarr"]["image"] = "monsterr-test/servarr:bump"
    return overrides


def dependents(host, name):
    """The services whose compose definition depends_on ``name`` (catalog depends_on)."""
    services = yaml.safe_load(host.file("/opt/monsterr/compose/compose.yml").content_string)["services"]
    return sorted(n for n, service in services.items() if name in (service.get("depends_on") or {}))


def test_bumping_one_tag_recreates_that_container_and_only_its_dependents(host, bumped_overrides):
    before = containers(host)
    changed, output = converge("tag bump", {"catalog_overrides": bumped_overrides})
    after = containers(host)
    assert sorted(after) == SERVICES
    recreated = sorted(n for n in SERVICES if after[n][0] != before[n][0])
    restarted = sorted(n for n in SERVICES if after[n][0] == before[n][0] and after[n][1] != before[n][1])
    assert "radarr" in recreated
    # Compose also recreates (or restarts) the services that depend on a recreated one: here Bazarr and Overseerr
    # (catalog depends_on: [sonarr, radarr]). Nothing else is touched.
    assert set(recreated + restarted) - {"radarr"} <= set(dependents(host, "radarr")), (recreated, restarted)
    states = wait_healthy(host, sorted(set(recreated + restarted)))
    assert all(state == "running healthy" for state in states.values()), states
    assert inspect(host, "radarr")["Config"]["Image"] == "monsterr-test/servarr:bump"
    assert wait_healthy(host, ["radarr"])["radarr"] == "running healthy"
    key = secret("radarr", "api_key")
    assert http(host, "http://127.0.0.1:7878/api/v3/system/status", "-H 'X-Api-Key: %s'" % key)[0] == 200
    # Nothing of a secret reaches the run's output.
    assert not [s for s in all_secrets() if s in output]
    print("tag bump: changed=%d, recreated %s, restarted %s" % (changed, recreated, restarted))
    # compose.yml and the compose apply; the wiring finds everything in place (the apps keep it in /config).
    assert changed == 2


def test_removing_a_service_removes_its_container_and_keeps_its_appdata(host, bumped_overrides):
    before = containers(host)
    enabled = [s for s in scenario_vars()["catalog_enabled"] if s != "prowlarr"]
    changed, _ = converge("remove prowlarr", {"catalog_overrides": bumped_overrides, "catalog_enabled": enabled})
    after = containers(host)
    assert "prowlarr" not in after
    assert sorted(after) == sorted(n for n in SERVICES if n != "prowlarr")
    # Authelia restarts: its access rules lost prowlarr's site (nginx only reloads, its container stays).
    assert all(after[n] == before[n] for n in after if n != "authelia"), "other containers were touched"
    assert host.file("/opt/monsterr/prowlarr/config.xml").exists
    assert host.run("curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:9696/ping").stdout != "200"
    assert changed >= 1
