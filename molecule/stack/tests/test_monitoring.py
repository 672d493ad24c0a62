"""Verify the monitoring layer in the running stack: Debian's Prometheus, node exporter and Alertmanager run as
the catalog's containers (tests/images/*) with the configuration the monitoring role rendered. Every check asks
the running daemons: Prometheus' HTTP API on 127.0.0.1:9090 (its host_url) for targets, queries, flags, rules
and Alertmanagers; Alertmanager's on 127.0.0.1:9093 for the configuration it loaded; Docker for the containers.

The reload test changes the configuration through the role and puts it back, so the instance is left as found.
"""

import json
import os
import re
import subprocess
import tempfile
import time
import urllib.parse

import pytest
import yaml

PROM = "http://127.0.0.1:9090"
ALERTMANAGER = "http://127.0.0.1:9093"
# The monitoring containers this scenario runs; each is a file_sd target of its own.
MONITORING = ["alertmanager", "node-exporter", "prometheus"]
TARGETS_FILE = "/opt/monsterr/prometheus/config/targets/catalog.json"
ROOT = os.environ.get("MOLECULE_PROJECT_DIRECTORY", os.path.join(os.path.dirname(__file__), "..", "..", ".."))


def scenario_vars():
    with open(os.environ["MOLECULE_FILE"]) as handle:
        return yaml.safe_load(handle)["provisioner"]["inventory"]["group_vars"]["mediaserver"]


def get(host, url):
    """The decoded JSON of a GET on the instance."""
    return json.loads(host.check_output("curl -fsS --max-time 10 '%s'" % url))


def query(host, expr):
    return get(host, PROM + "/api/v1/query?query=" + urllib.parse.quote(expr))["data"]["result"]


def wait_for(check, timeout=90, step=2):
    """check() returns a truthy value when done; retried until timeout, then the last value is returned."""
    deadline = time.time() + timeout
    while True:
        value = check()
        if value or time.time() > deadline:
            return value
        time.sleep(step)


def inspect(host, name):
    return json.loads(host.check_output("docker inspect %s" % name))[0]


def expected_targets():
    """{address: service} of the enabled services with metrics, from the shipped catalog files and the scenario's
    overrides: what the file_sd file must list, no more and no less."""
    settings = scenario_vars()
    overrides = settings.get("catalog_overrides") or {}
    out = {}
    for name in settings["catalog_enabled"]:
        with open(os.path.join(ROOT, "roles", "catalog", "services", name + ".yml")) as handle:
            entry = yaml.safe_load(handle)[name]
        metrics = dict(entry.get("metrics") or {}, **((overrides.get(name) or {}).get("metrics") or {}))
        exporter = metrics.get("exporter", "builtin")
        if metrics.get("port") and exporter != "none":
            address = "%s:%s" % (name + "-exporter" if exporter == "exportarr" else name, metrics["port"])
            out[address] = name
    return out


@pytest.fixture(scope="module")
def active(host):
    """Prometheus' active targets by instance, once every monitoring container's target is up."""
    def ready():
        targets = get(host, PROM + "/api/v1/targets?state=active")["data"]["activeTargets"]
        found = dict((t["labels"]["instance"], t) for t in targets)
        mine = [t for t in found.values() if t["labels"].get("service") in MONITORING]
        return found if len(mine) == len(MONITORING) and all(t["health"] == "up" for t in mine) else None
    found = wait_for(ready)
    assert found, get(host, PROM + "/api/v1/targets")
    return found


# ---- containers -------------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", MONITORING)
def test_monitoring_container_runs_as_the_household_read_only(host, name):
    data = inspect(host, name)
    assert data["State"]["Running"] and data["RestartCount"] == 0, data["State"]
    if name != "node-exporter":          # the catalog gives the node exporter no health check
        assert data["State"]["Health"]["Status"] == "healthy"
    assert data["Config"]["User"] == "2000:2000"
    assert host.check_output("ps -o uid= -p %d" % data["State"]["Pid"]).strip() == "2000"
    assert data["HostConfig"]["ReadonlyRootfs"] is True
    assert list(data["NetworkSettings"]["Networks"]) == ["monsterr"]
    bindings = [b for found in (data["HostConfig"]["PortBindings"] or {}).values() for b in found]
    # Prometheus and Alertmanager have a web UI behind the proxy: a 127.0.0.1 port for the host only.
    assert all(b["HostIp"] == "127.0.0.1" for b in bindings), bindings
    assert len(bindings) == (0 if name == "node-exporter" else 1)


# ---- scrape targets from the catalog (file_sd) -------------------------------------------------------------

def test_file_sd_lists_exactly_the_enabled_services_with_metrics(host):
    groups = json.loads(host.file(TARGETS_FILE).content_string)
    listed = dict((g["targets"][0], g["labels"]) for g in groups)
    print("file_sd targets: %s" % sorted(listed))
    assert all(len(g["targets"]) == 1 for g in groups)
    assert sorted(listed) == sorted(expected_targets())
    # The *arr apps run without their exportarr sidecar here (metrics: {exporter: none}): no target for them.
    assert not [a for a in listed if a.split(":")[0] in ("sonarr", "radarr", "prowlarr")]
    for address, service in expected_targets().items():
        assert listed[address]["job"] == service and listed[address]["service"] == service
    assert listed["node-exporter:9100"] == {"job": "node-exporter", "service": "node-exporter", "group": "monitoring",
                                            "exporter": "builtin"}


def test_prometheus_scrapes_what_file_sd_lists_and_the_monitoring_targets_are_up(host, active):
    groups = json.loads(host.file(TARGETS_FILE).content_string)
    assert sorted(active) == sorted(g["targets"][0] for g in groups)
    for name in MONITORING:
        target = [t for t in active.values() if t["labels"]["service"] == name][0]
        print("%-14s health=%s lastError=%r scrapeUrl=%s" % (name, target["health"], target["lastError"],
                                                             target["scrapeUrl"]))
        assert target["health"] == "up" and target["lastError"] == ""
        assert target["labels"]["job"] == name
        # Discovered from the file the role wrote (mounted read-only at /etc/prometheus).
        assert target["discoveredLabels"]["__meta_filepath"] == "/etc/prometheus/targets/catalog.json"
        assert target["scrapeUrl"] == "http://%s/metrics" % target["labels"]["instance"]
    assert active["prometheus:9090"]["scrapeInterval"] == scenario_vars()["monitoring_scrape_interval"]


@pytest.mark.parametrize("job", MONITORING)
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
        env = dict(os.environ, ANSIBLE_FORCE_COLOR="0", ANSIBLE_NOCOLOR="1")
        proc = subprocess.run(
            ["ansible-playbook", "--inventory", os.path.dirname(os.environ["MOLECULE_INVENTORY_FILE"]), handle.name,
             "-e", json.dumps(extra_vars)],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True, env=env, check=False)
    finally:
        os.unlink(handle.name)
    assert proc.returncode == 0, proc.stdout[-4000:]
    recap = re.search(r"\s*:\s*ok=\d+\s+changed=(\d+)\s+unreachable=0\s+failed=0", proc.stdout)
    assert recap, proc.stdout[-2000:]
    return int(recap.group(1)), proc.stdout


def loaded(host):
    """(Prometheus' evaluation_interval, Alertmanager's group_wait) as the running daemons have them."""
    prom = yaml.safe_load(get(host, PROM + "/api/v1/status/config")["data"]["yaml"])
    am = yaml.safe_load(get(host, ALERTMANAGER + "/api/v2/status")["config"]["original"])
    return prom["global"]["evaluation_interval"], am["route"]["group_wait"]


def started(host):
    return dict((n, (inspect(host, n)["Id"], inspect(host, n)["State"]["StartedAt"])) for n in MONITORING)


def reloads(host):
    return (float(query(host, "prometheus_config_last_reload_success_timestamp_seconds")[0]["value"][1]),
            float(query(host, "alertmanager_config_last_reload_success_timestamp_seconds")[0]["value"][1]))


def test_a_configuration_change_reloads_without_a_restart(host, active):
    settings = scenario_vars()
    original = (settings["monitoring_evaluation_interval"], settings["monitoring_alertmanager_group_wait"])
    assert loaded(host) == original
    before, reloaded_before = started(host), reloads(host)
    try:
        changed, output = monitoring_play({"monitoring_evaluation_interval": "7s",
                                           "monitoring_alertmanager_group_wait": "7s"})
        # prometheus.yml, alertmanager.yml and the two reload handlers.
        assert changed == 4, output[-3000:]
        assert loaded(host) == ("7s", "7s")
        assert started(host) == before, "a container was restarted or recreated"
        after = wait_for(lambda: [r for r in [reloads(host)] if r[0] > reloaded_before[0] and r[1] > reloaded_before[1]])
        assert after, (reloaded_before, reloads(host))
        assert query(host, "prometheus_config_last_reload_successful")[0]["value"][1] == "1"
        assert query(host, "alertmanager_config_last_reload_successful")[0]["value"][1] == "1"
        print("reload without restart: evaluation_interval and group_wait 7s loaded, containers kept (%s)"
              % ", ".join("%s %s" % (n, before[n][1]) for n in MONITORING))
    finally:
        changed, output = monitoring_play({})
    assert changed == 4, output[-3000:]
    assert loaded(host) == original
    assert started(host) == before
