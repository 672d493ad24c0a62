"""Verify the monitoring role against the real Debian Prometheus, node exporter and Alertmanager.

Every check asks the running daemons: Prometheus' HTTP API for its targets, rules, metrics and alerts,
Alertmanager's for the alerts it received, the webhook sink for what Alertmanager sent, systemd for the
certificate timer, and openssl for the certificate the metric must match.
"""

import json
import time
from datetime import datetime, timezone

import pytest

PROM = "http://127.0.0.1:9090"
ALERTMANAGER = "http://127.0.0.1:9093"
CERT = "/etc/letsencrypt/live/media.example.test/cert.pem"


def get(host, url):
    out = host.check_output("python3 -c 'import sys, urllib.request; sys.stdout.write(urllib.request.urlopen(sys.argv[1], timeout=10).read().decode())' %s", url)
    return json.loads(out)


def wait_for(check, timeout=120, step=3):
    """check() returns a truthy value when done; retried until timeout, then the last value is returned."""
    deadline = time.time() + timeout
    while True:
        value = check()
        if value or time.time() > deadline:
            return value
        time.sleep(step)


@pytest.mark.parametrize("unit", ["prometheus", "prometheus-node-exporter", "prometheus-alertmanager"])
def test_daemons_run(host, unit):
    assert host.service(unit).is_running


def test_every_catalog_target_is_scraped_and_up(host):
    def targets():
        active = get(host, PROM + "/api/v1/targets")["data"]["activeTargets"]
        found = dict((t["labels"]["instance"], t) for t in active)
        return found if all(t["health"] == "up" for t in found.values()) and len(found) == 3 else None
    found = wait_for(targets)
    assert found, get(host, PROM + "/api/v1/targets")
    assert sorted(found) == ["alertmanager:9093", "node-exporter:9100", "prometheus:9090"]
    node = found["node-exporter:9100"]["labels"]
    assert node == {"instance": "node-exporter:9100", "job": "node-exporter", "service": "node-exporter",
                    "group": "monitoring", "exporter": "builtin"}
    assert found["node-exporter:9100"]["scrapeUrl"] == "http://node-exporter:9100/metrics"


def test_rules_of_the_enabled_sources_are_loaded(host):
    groups = get(host, PROM + "/api/v1/rules")["data"]["groups"]
    names = sorted(r["name"] for g in groups for r in g["rules"])
    # node-exporter, prometheus and the certificate metric are enabled; cAdvisor and exportarr are not.
    assert names == ["CertificateExpiring", "HostDiskFull", "HostHighCpu", "HostHighMemory", "TargetDown"]
    assert all(r["health"] == "ok" for g in groups for r in g["rules"]), groups


def test_prometheus_sends_to_the_alertmanager(host):
    active = wait_for(lambda: get(host, PROM + "/api/v1/alertmanagers")["data"]["activeAlertmanagers"])
    assert [a["url"] for a in active] == ["http://alertmanager:9093/api/v2/alerts"]


def test_certificate_timer_feeds_the_node_exporter(host):
    assert host.service("monsterr-certificate-metrics.timer").is_enabled
    assert host.service("monsterr-certificate-metrics.timer").is_running
    end = host.check_output("openssl x509 -noout -enddate -in %s", CERT).split("=", 1)[1]
    expected = int(datetime.strptime(end, "%b %d %H:%M:%S %Y GMT").replace(tzinfo=timezone.utc).timestamp())

    def sample():
        result = get(host, PROM + "/api/v1/query?query=monsterr_certificate_expiry_timestamp_seconds")["data"]["result"]
        return result
    result = wait_for(sample)
    assert len(result) == 1, result
    assert result[0]["metric"]["cert_name"] == "media.example.test"
    assert result[0]["metric"]["service"] == "node-exporter"
    assert int(float(result[0]["value"][1])) == expected


def test_certificate_alert_fires_and_reaches_the_receivers(host):
    def firing():
        alerts = get(host, PROM + "/api/v1/alerts")["data"]["alerts"]
        return [a for a in alerts if a["labels"]["alertname"] == "CertificateExpiring" and a["state"] == "firing"]
    alerts = wait_for(firing, timeout=150)
    assert alerts, get(host, PROM + "/api/v1/alerts")
    assert alerts[0]["labels"]["cert_name"] == "media.example.test"
    assert alerts[0]["labels"]["severity"] == "critical"

    def received():
        return [a for a in get(host, ALERTMANAGER + "/api/v2/alerts")
                if a["labels"]["alertname"] == "CertificateExpiring"]
    assert wait_for(received), get(host, ALERTMANAGER + "/api/v2/alerts")

    def delivered():
        if not host.file("/var/tmp/webhooks.jsonl").exists:
            return []
        lines = host.file("/var/tmp/webhooks.jsonl").content_string.splitlines()
        return [json.loads(line) for line in lines if "CertificateExpiring" in line]
    posts = wait_for(delivered, timeout=60)
    assert posts, "Alertmanager posted nothing to the webhook receiver"
    assert posts[0]["status"] == "firing"
    assert posts[0]["alerts"][0]["labels"]["household"]
    assert posts[0]["receiver"] == "household"


def test_target_down_stays_quiet(host):
    """Every catalog target being up, TargetDown stays quiet for them. (The packages started with Debian's own
    prometheus.yml in prepare; its series, e.g. job "node" on localhost:9100, linger for the 5m lookback after
    the role's configuration replaced it, and are none of the role's targets.)"""
    alerts = get(host, PROM + "/api/v1/alerts")["data"]["alerts"]
    catalog = ("alertmanager:9093", "node-exporter:9100", "prometheus:9090")
    assert not [a for a in alerts if a["labels"]["alertname"] == "TargetDown"
                and a["labels"].get("instance") in catalog], alerts
