"""Verify the monitoring layer in the running stack: Prometheus scrapes every target the monitoring role derived
from the catalog (file_sd), and every one is up: the exportarr sidecar of each *arr app, cAdvisor, Grafana, the
node exporter, Authelia, Alertmanager and Prometheus itself. Every check asks the running daemons: Prometheus' HTTP
API on 127.0.0.1:9090 (its host_url) for targets, queries, flags, rules and Alertmanagers; Alertmanager's on
127.0.0.1:9093 for the configuration it loaded.

The reload test changes the configuration through the role and puts it back (marker changes_household).
"""

import json
import os
import re
import tempfile
import urllib.parse

import pytest
import yaml

from helpers import (
    changed_tasks, entry, expected_targets, exporters, inspect, playbook, scenario_vars, services, wait_for)

PROM = "http://127.0.0.1:9090"
ALERTMANAGER = "http://127.0.0.1:9093"
# Prometheus, the node exporter and Alertmanager: Debian's programs; their reload test below.
RELOADED = ["alertmanager", "prometheus"]
TARGETS_FILE = "/opt/monsterr/prometheus/config/targets/catalog.json"


def get(host, url):
    """The decoded JSON of a GET on the instance."""
    return json.loads(host.check_output("curl -fsS --max-time 10 '%s'" % url))


def query(host, expr):
    return get(host, PROM + "/api/v1/query?query=" + urllib.parse.quote(expr))["data"]["result"]


def file_sd(host):
    """{address: labels} of the scrape targets the monitoring role rendered (file_sd)."""
    groups = json.loads(host.file(TARGETS_FILE).content_string)
    assert all(len(g["targets"]) == 1 for g in groups), groups
    return dict((g["targets"][0], g["labels"]) for g in groups)


@pytest.fixture(scope="module")
def active(host):
    """Prometheus' active targets by instance, once EVERY target of the rendered file_sd file is up (or the wait
    ran out: the tests then show which is not)."""
    expected = sorted(file_sd(host))

    def ready():
        targets = get(host, PROM + "/api/v1/targets?state=active")["data"]["activeTargets"]
        found = dict((t["labels"]["instance"], t) for t in targets)
        return found if sorted(found) == expected and all(t["health"] == "up" for t in found.values()) else None
    found = wait_for(ready, timeout=240)
    if not found:
        found = dict((t["labels"]["instance"], t)
                     for t in get(host, PROM + "/api/v1/targets?state=active")["data"]["activeTargets"])
    return found


# ---- scrape targets from the catalog (file_sd) -------------------------------------------------------------

def test_file_sd_lists_exactly_the_enabled_services_with_metrics(host):
    listed = file_sd(host)
    print("file_sd targets: %s" % sorted(listed))
    assert sorted(listed) == sorted(expected_targets())
    # The exporters a real household scrapes, each there: every exportarr sidecar, cAdvisor, Grafana, the node
    # exporter, Authelia.
    jobs = set(labels["job"] for labels in listed.values())
    assert set(exporters()) | {"cadvisor", "grafana", "node-exporter", "authelia"} <= jobs
    for address, service in expected_targets().items():
        assert listed[address]["job"] == service and listed[address]["service"] == service
        assert listed[address]["exporter"] == entry(service)["metrics"].get("exporter", "builtin")
    for app, sidecar in exporters().items():
        assert "%s:%s" % (sidecar, entry(app)["metrics"]["port"]) in listed
    assert listed["node-exporter:9100"] == {"job": "node-exporter", "service": "node-exporter", "group": "monitoring",
                                            "exporter": "builtin"}


def test_prometheus_scrapes_every_target_and_every_target_is_up(host, active):
    listed = file_sd(host)
    for instance, target in sorted(active.items()):
        print("%-22s job=%-14s health=%s lastError=%r" % (instance, target["labels"]["job"], target["health"],
                                                         target["lastError"]))
    assert sorted(active) == sorted(listed)
    down = dict((i, (t["health"], t["lastError"])) for i, t in active.items() if t["health"] != "up")
    assert down == {}
    for instance, target in active.items():
        assert target["lastError"] == ""
        assert target["labels"]["job"] == listed[instance]["job"]
        # Discovered from the file the role wrote (mounted read-only at /etc/prometheus).
        assert target["discoveredLabels"]["__meta_filepath"] == "/etc/prometheus/targets/catalog.json"
        assert target["scrapeUrl"] == "http://%s/metrics" % instance
    assert active["prometheus:9090"]["scrapeInterval"] == scenario_vars()["monitoring_scrape_interval"]


def test_every_exportarr_sidecar_reads_its_app_with_the_households_key(host, active):
    """exportarr's <app>_system_status is 1 only when the app answered the sidecar's API calls (URL and key)."""
    def status():
        result = query(host, '{__name__=~".+_system_status", exporter="exportarr"}')
        return dict((r["metric"]["service"], r["value"][1]) for r in result)
    found = wait_for(lambda: [status()] if set(status()) == set(exporters()) else None, timeout=60)
    found = found[0] if found else status()
    print("exportarr <app>_system_status: %s" % found)
    assert found == dict((app, "1") for app in exporters())


def test_cadvisor_reports_the_households_containers(host, active):
    """cAdvisor's per-container series name the project's containers (docker-only mode)."""
    result = wait_for(lambda: query(host, 'count by (name) (container_last_seen{job="cadvisor", name!=""})'))
    names = sorted(r["metric"]["name"] for r in result)
    print("cAdvisor sees: %s" % names)
    assert set(services()) <= set(names)


@pytest.mark.parametrize("job", sorted(set(expected_targets().values())))
def test_up_is_one(host, active, job):
    result = query(host, 'up{job="%s"}' % job)
    print("up{job=%r} = %s" % (job, [r["value"][1] for r in result]))
    assert [r["value"][1] for r in result] == ["1"]


def test_node_exporter_reports_the_host(host, active):
    result = wait_for(lambda: query(host, 'node_filesystem_avail_bytes{job="node-exporter"}'))
    print("node_filesystem_avail_bytes: %d series, e.g. %s" % (len(result), result[0]["metric"] if result else None))
    assert result and all(float(r["value"][1]) > 0 for r in result)
    assert all(r["metric"]["service"] == "node-exporter" and r["metric"]["exporter"] == "builtin" for r in result)
    # A live reading of the machine: as many CPUs as the instance sees.
    cpus = query(host, 'count(node_cpu_seconds_total{job="node-exporter", mode="idle"})')
    assert int(cpus[0]["value"][1]) == int(host.check_output("nproc --all"))


# ---- rules, Alertmanager, retention -----------------------------------------------------------------------

def test_alert_rules_of_the_enabled_sources_are_loaded(host, active):
    groups = get(host, PROM + "/api/v1/rules")["data"]["groups"]
    names = sorted(r["name"] for g in groups for r in g["rules"])
    print("rules: %s" % names)
    # node-exporter and prometheus are enabled (and the certificate metric with the node exporter).
    assert set(["HostHighCpu", "HostHighMemory", "HostDiskFull", "TargetDown", "CertificateExpiring"]) <= set(names)
    assert all(r["health"] == "ok" for g in groups for r in g["rules"]), groups
    assert [g["file"] for g in groups] == ["/etc/prometheus/rules/monsterr.yml"]


def test_prometheus_sends_alerts_to_the_alertmanager(host, active):
    found = wait_for(lambda: get(host, PROM + "/api/v1/alertmanagers")["data"]["activeAlertmanagers"])
    print("activeAlertmanagers: %s" % found)
    assert [a["url"] for a in found] == ["http://alertmanager:9093/api/v2/alerts"]


def test_alertmanager_loaded_the_inventory_receivers(host):
    settings = scenario_vars()
    status = get(host, ALERTMANAGER + "/api/v2/status")
    config = yaml.safe_load(status["config"]["original"])
    assert status["cluster"]["status"] == "ready"
    receiver = [r for r in config["receivers"] if r["name"] == config["route"]["receiver"]][0]
    assert [e["to"] for e in receiver["email_configs"]] == settings["monitoring_alertmanager_email_to"]
    assert config["global"]["smtp_smarthost"] == settings["monitoring_alertmanager_smtp_smarthost"]
    # Alertmanager masks URLs (secrets) in its status; the receiver's count is what it shows.
    assert len(receiver["webhook_configs"]) == len(settings["monitoring_alertmanager_webhook_urls"])
    assert config["route"]["group_wait"] == settings["monitoring_alertmanager_group_wait"]


def test_retention_is_the_inventory_value(host):
    flags = get(host, PROM + "/api/v1/status/flags")["data"]
    print("storage.tsdb.retention.time = %s" % flags["storage.tsdb.retention.time"])
    assert flags["storage.tsdb.retention.time"] == scenario_vars()["catalog_metrics_retention"]
    assert flags["storage.tsdb.path"] == "/prometheus"
    assert flags["web.enable-lifecycle"] == "true"


# ---- a configuration change reloads the running containers, without a restart -------------------------------

PLAY = """- name: Monitoring layer only
  hosts: mediaserver
  become: true
  gather_facts: false
  roles:
    - role: monsterr.mediaserver.catalog
    - role: monsterr.mediaserver.monitoring
"""


def monitoring_play(extra_vars):
    """Run catalog + monitoring (the role's own handlers reload the containers); returns the changed count."""
    with tempfile.NamedTemporaryFile("w", suffix=".yml", delete=False) as handle:
        handle.write(PLAY)
    try:
        rc, output = playbook(handle.name, "monitoring layer", "-e", json.dumps(extra_vars))
    finally:
        os.unlink(handle.name)
    assert rc == 0, output[-4000:]
    recap = re.search(r"\s*:\s*ok=\d+\s+changed=(\d+)\s+unreachable=0\s+failed=0", output)
    assert recap, output[-2000:]
    return int(recap.group(1)), output


def loaded(host):
    """(Prometheus' evaluation_interval, Alertmanager's group_wait) as the running daemons have them."""
    prom = yaml.safe_load(get(host, PROM + "/api/v1/status/config")["data"]["yaml"])
    am = yaml.safe_load(get(host, ALERTMANAGER + "/api/v2/status")["config"]["original"])
    return prom["global"]["evaluation_interval"], am["route"]["group_wait"]


def started(host):
    return dict((n, (inspect(host, n)["Id"], inspect(host, n)["State"]["StartedAt"])) for n in RELOADED)


def reloads(host):
    return (float(query(host, "prometheus_config_last_reload_success_timestamp_seconds")[0]["value"][1]),
            float(query(host, "alertmanager_config_last_reload_success_timestamp_seconds")[0]["value"][1]))


@pytest.mark.changes_household
def test_a_configuration_change_reloads_without_a_restart(host, active):
    settings = scenario_vars()
    original = (settings["monitoring_evaluation_interval"], settings["monitoring_alertmanager_group_wait"])
    assert loaded(host) == original
    before, reloaded_before = started(host), reloads(host)
    try:
        changed, output = monitoring_play({"monitoring_evaluation_interval": "7s",
                                           "monitoring_alertmanager_group_wait": "7s"})
        # prometheus.yml, alertmanager.yml and the two reload handlers.
        assert changed == 4, (changed_tasks(output), output[-2000:])
        assert loaded(host) == ("7s", "7s")
        assert started(host) == before, "a container was restarted or recreated"
        after = wait_for(lambda: [r for r in [reloads(host)] if r[0] > reloaded_before[0] and r[1] > reloaded_before[1]])
        assert after, (reloaded_before, reloads(host))
        assert query(host, "prometheus_config_last_reload_successful")[0]["value"][1] == "1"
        assert query(host, "alertmanager_config_last_reload_successful")[0]["value"][1] == "1"
        print("reload without restart: evaluation_interval and group_wait 7s loaded, containers kept (%s)"
              % ", ".join("%s %s" % (n, before[n][1]) for n in RELOADED))
    finally:
        changed, output = monitoring_play({})
    assert changed == 4, (changed_tasks(output), output[-2000:])
    assert loaded(host) == original
    assert started(host) == before
