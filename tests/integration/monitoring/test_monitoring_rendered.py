# -*- coding: utf-8 -*-
# Copyright: monsterr.mediaserver developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The monitoring role's files as the role really renders them, checked by the real tools from Debian:
promtool (package prometheus) and amtool (package prometheus-alertmanager).

The role runs on localhost (catalog + monitoring, a tiny playbook) with household_appdata_root in a temporary
directory; the Prometheus directory it writes mirrors /etc/prometheus in the container, and prometheus.yml names
its rule and file_sd files relative to itself, so `promtool check config` sees exactly what Prometheus will.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import glob
import json
import os
import re
import shutil
import subprocess
import sys

import pytest
import yaml

from alert_cases import build

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
ROLE = os.path.join(ROOT, "roles", "monitoring")
DEFAULTS = yaml.safe_load(open(os.path.join(ROLE, "defaults", "main.yml")))
CATALOG_DEFAULT = yaml.safe_load(open(os.path.join(ROOT, "roles", "catalog", "defaults", "main.yml")))["catalog_enabled"]
assert "alertmanager" in CATALOG_DEFAULT, "these tests expect Alertmanager in the default household"
SCRIPT = os.path.join(ROLE, "files", "usr", "local", "sbin", "monsterr-certificate-metrics")
ALL_ALERTS = ["HostHighCpu", "HostHighMemory", "HostDiskFull", "ContainerDown", "ContainerRestarting", "TargetDown",
              "ArrHealthIssues", "ArrQueueStalled", "CertificateExpiring"]
FOR_SETTINGS = {
    "HostHighCpu": "monitoring_alert_cpu_for", "HostHighMemory": "monitoring_alert_memory_for",
    "HostDiskFull": "monitoring_alert_disk_for", "ContainerDown": "monitoring_alert_container_down_for",
    "ContainerRestarting": "monitoring_alert_container_restarting_for", "TargetDown": "monitoring_alert_target_down_for",
    "ArrHealthIssues": "monitoring_alert_arr_health_for", "ArrQueueStalled": "monitoring_alert_arr_queue_stalled_for",
    "CertificateExpiring": "monitoring_alert_certificate_for",
}
TAGS = "monitoring:prometheus,monitoring:alertmanager,monitoring:grafana"

PROMTOOL = shutil.which("promtool")
AMTOOL = shutil.which("amtool")

pytestmark = [
    pytest.mark.integration,
    pytest.mark.needs(PROMTOOL, "promtool not found: run `make setup` (apt-get install prometheus)"),
]

RECEIVERS = {
    "monitoring_alertmanager_email_to": ["admin@example.test", "family@example.test"],
    "monitoring_alertmanager_smtp_smarthost": "smtp.example.test:587",
    "monitoring_alertmanager_smtp_username": "alerts@example.test",
    "monitoring_alertmanager_smtp_password": "not-a-real-password",
    "monitoring_alertmanager_webhook_urls": ["https://ntfy.example.test/monsterr-alerts"],
}
CUSTOM = {
    "monitoring_alert_cpu_percent": 90, "monitoring_alert_cpu_for": "10m",
    "monitoring_alert_memory_percent": 70, "monitoring_alert_memory_for": "20m",
    "monitoring_alert_disk_percent": 95, "monitoring_alert_disk_for": "7m",
    "monitoring_alert_container_down_for": "3m",
    "monitoring_alert_container_restarts": 4, "monitoring_alert_container_restarts_window": "30m",
    "monitoring_alert_container_restarting_for": "8m",
    "monitoring_alert_target_down_for": "2m",
    "monitoring_alert_arr_health_issues": 1, "monitoring_alert_arr_health_types": ["error"],
    "monitoring_alert_arr_health_for": "1h",
    "monitoring_alert_arr_queue_stalled_items": 2, "monitoring_alert_arr_queue_stalled_statuses": ["error", "warning"],
    "monitoring_alert_arr_queue_stalled_for": "45m",
    "monitoring_alert_certificate_days": 21, "monitoring_alert_certificate_for": "30m",
}


def params(overrides):
    """The thresholds the alert cases need, from the role's defaults and the overrides of a render."""
    v = dict(DEFAULTS, **overrides)
    return {
        "cpu": v["monitoring_alert_cpu_percent"], "memory": v["monitoring_alert_memory_percent"],
        "disk": v["monitoring_alert_disk_percent"], "restarts": v["monitoring_alert_container_restarts"],
        "restarts_window": v["monitoring_alert_container_restarts_window"],
        "arr_health_issues": v["monitoring_alert_arr_health_issues"], "arr_health_types": v["monitoring_alert_arr_health_types"],
        "queue_items": v["monitoring_alert_arr_queue_stalled_items"],
        "queue_statuses": v["monitoring_alert_arr_queue_stalled_statuses"],
        "cert_days": v["monitoring_alert_certificate_days"],
    }


def _tool(name):
    local = os.path.join(os.path.dirname(sys.executable), name)
    return local if os.path.exists(local) else shutil.which(name)


def run(cmd, **kwargs):
    return subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True, check=False, **kwargs)


class Render(object):
    """One run of catalog + monitoring on localhost into base/appdata."""

    def __init__(self, base, settings):
        self.base, self.appdata = str(base), os.path.join(str(base), "appdata")
        self.settings = dict({
            "household_domain": "media.example.test",
            "household_appdata_root": self.appdata,
            "household_no_log": False,
            "catalog_enabled": CATALOG_DEFAULT,  # alertmanager is in the default set
            "monitoring_reload_containers": False,
        }, **settings)
        with open(os.path.join(self.base, "vars.yml"), "w") as handle:
            yaml.safe_dump(self.settings, handle)
        with open(os.path.join(self.base, "hosts"), "w") as handle:
            handle.write("localhost ansible_connection=local ansible_python_interpreter=%s\n" % sys.executable)
        with open(os.path.join(self.base, "play.yml"), "w") as handle:
            handle.write("- hosts: localhost\n  gather_facts: false\n  roles:\n"
                         "    - {role: monsterr.mediaserver.catalog, tags: [monitoring:prometheus]}\n"
                         "    - {role: monsterr.mediaserver.monitoring}\n")

    def play(self, *extra):
        env = dict(os.environ, ANSIBLE_CONFIG=os.path.join(ROOT, "ansible.cfg"), ANSIBLE_NOCOLOR="1",
                   ANSIBLE_CALLBACK_RESULT_FORMAT="json", ANSIBLE_CACHE_PLUGIN_CONNECTION=os.path.join(self.base, "facts"))
        env.pop("ANSIBLE_FORCE_COLOR", None)
        cmd = [_tool("ansible-playbook"), "-i", os.path.join(self.base, "hosts"), os.path.join(self.base, "play.yml"),
               "-e", "@" + os.path.join(self.base, "vars.yml"), "--tags", TAGS] + list(extra)
        return run(cmd, cwd=ROOT, env=env)

    def path(self, *parts):
        return os.path.join(self.appdata, *parts)

    @property
    def rules_file(self):
        return self.path("prometheus", "config", "rules", "monsterr.yml")


def changed(output):
    found = re.search(r"localhost\s*:\s*ok=\d+\s+changed=(\d+)\s+unreachable=0\s+failed=0", output)
    assert found, output[-3000:]
    return int(found.group(1))


@pytest.fixture(scope="module")
def default_render(tmp_path_factory):
    render = Render(tmp_path_factory.mktemp("monitoring-default"), RECEIVERS)
    first = render.play()
    assert first.returncode == 0, first.stdout[-5000:]
    render.first = first.stdout
    return render


@pytest.fixture(scope="module")
def custom_render(tmp_path_factory):
    render = Render(tmp_path_factory.mktemp("monitoring-custom"), CUSTOM)
    result = render.play()
    assert result.returncode == 0, result.stdout[-5000:]
    return render


def test_second_run_changes_nothing_and_check_mode_is_clean(default_render):
    assert changed(default_render.first) > 0
    again = default_render.play()
    assert again.returncode == 0 and changed(again.stdout) == 0, again.stdout[-3000:]
    check = default_render.play("--check", "--diff")
    assert check.returncode == 0 and changed(check.stdout) == 0, check.stdout[-3000:]


@pytest.mark.parametrize("which", ["default_render", "custom_render"])
def test_promtool_check_config_sees_the_rules_and_targets(which, request):
    render = request.getfixturevalue(which)
    config = render.path("prometheus", "config", "prometheus.yml")
    result = run([PROMTOOL, "check", "config", config])
    assert result.returncode == 0, result.stdout
    assert "SUCCESS: 1 rule files found" in result.stdout
    assert "WARNING" not in result.stdout, result.stdout   # e.g. a file_sd glob that matches nothing
    assert "SUCCESS: 9 rules found" in result.stdout, result.stdout
    assert run([PROMTOOL, "check", "rules", render.rules_file]).returncode == 0


def test_promtool_check_config_reads_the_file_sd_file(default_render, tmp_path):
    """The check is not blind to the targets file: a broken one fails it."""
    copy = tmp_path / "prometheus"
    shutil.copytree(default_render.path("prometheus", "config"), str(copy))
    (copy / "targets" / "catalog.json").write_text(json.dumps([{"targets": ["a:1"], "labels": {"bad label": "x"}}]))
    result = run([PROMTOOL, "check", "config", str(copy / "prometheus.yml")])
    assert result.returncode != 0 and "is not a valid label name" in result.stdout, result.stdout


def test_scrape_targets_come_from_the_catalog(default_render):
    groups = json.load(open(default_render.path("prometheus", "config", "targets", "catalog.json")))
    targets = dict((g["targets"][0], g["labels"]) for g in groups)
    assert sorted(targets) == sorted([
        "alertmanager:9093", "authelia:9959", "cadvisor:8080", "grafana:3000", "node-exporter:9100", "prometheus:9090",
        "prowlarr-exporter:9711", "radarr-exporter:9708", "sonarr-exporter:9707"])
    assert targets["sonarr-exporter:9707"] == {"job": "sonarr", "service": "sonarr", "group": "media", "exporter": "exportarr",
                                               "__scrape_interval__": "2m"}
    assert targets["node-exporter:9100"] == {"job": "node-exporter", "service": "node-exporter", "group": "monitoring",
                                             "exporter": "builtin"}
    assert targets["authelia:9959"]["group"] == "system"
    config = yaml.safe_load(open(default_render.path("prometheus", "config", "prometheus.yml")))
    assert config["global"]["scrape_interval"] == "30s"
    assert config["rule_files"] == ["rules/*.yml"]
    assert config["scrape_configs"][0]["file_sd_configs"][0]["files"] == ["targets/*.json"]
    assert config["alerting"]["alertmanagers"][0]["static_configs"][0]["targets"] == ["alertmanager:9093"]


@pytest.mark.parametrize("which,overrides", [("default_render", {}), ("custom_render", CUSTOM)])
def test_promtool_unit_tests_for_every_alert(which, overrides, request, tmp_path):
    render = request.getfixturevalue(which)
    rules = yaml.safe_load(open(render.rules_file))
    document, covered = build(render.rules_file, rules, params(overrides))
    assert sorted(covered) == sorted(ALL_ALERTS)
    # Each alert holds the `for` of its setting.
    settings = dict(DEFAULTS, **overrides)
    fors = dict((r["alert"], r["for"]) for r in rules["groups"][0]["rules"])
    assert fors == dict((alert, settings[var]) for alert, var in FOR_SETTINGS.items())
    test_file = tmp_path / "monsterr_test.yml"
    test_file.write_text(yaml.safe_dump(document, sort_keys=False))
    result = run([PROMTOOL, "test", "rules", str(test_file)])
    assert result.returncode == 0, result.stdout[-6000:]
    assert "SUCCESS" in result.stdout
    assert len(document["tests"]) >= 2 * len(ALL_ALERTS)


def test_unit_tests_catch_a_changed_threshold(custom_render, tmp_path):
    """The generated tests can fail: those for the default thresholds fail on the custom rules."""
    rules = yaml.safe_load(open(custom_render.rules_file))
    document, _ = build(custom_render.rules_file, rules, params({}))
    test_file = tmp_path / "monsterr_test.yml"
    test_file.write_text(yaml.safe_dump(document, sort_keys=False))
    result = run([PROMTOOL, "test", "rules", str(test_file)])
    assert result.returncode != 0 and "FAILED" in result.stdout, result.stdout[-3000:]
    failed = set(re.findall(r"name: (\w+) ", result.stdout))
    # Every alert with a threshold; TargetDown and ContainerDown have none (their `for` comes from the rule).
    assert failed == {"HostHighCpu", "HostHighMemory", "HostDiskFull", "ContainerRestarting", "ArrHealthIssues",
                      "ArrQueueStalled", "CertificateExpiring"}, result.stdout[-3000:]


@pytest.mark.needs(AMTOOL, "amtool not found: run `make setup` (apt-get install prometheus-alertmanager)")
def test_amtool_accepts_the_alertmanager_config(default_render):
    path = default_render.path("alertmanager", "config", "alertmanager.yml")
    result = run([AMTOOL, "check-config", path])
    assert result.returncode == 0, result.stdout
    assert "1 receivers" in result.stdout
    config = yaml.safe_load(open(path))
    receiver = config["receivers"][0]
    assert [e["to"] for e in receiver["email_configs"]] == RECEIVERS["monitoring_alertmanager_email_to"]
    assert [w["url"] for w in receiver["webhook_configs"]] == RECEIVERS["monitoring_alertmanager_webhook_urls"]
    assert config["global"]["smtp_smarthost"] == "smtp.example.test:587"
    assert config["global"]["smtp_auth_password"] == "not-a-real-password"
    assert config["route"]["receiver"] == receiver["name"]


def _exprs(panels):
    for panel in panels:
        for nested in _exprs(panel.get("panels", [])):
            yield nested
        for target in panel.get("targets", []):
            if target.get("expr"):
                yield panel["title"], target["expr"]


def _as_rules(exprs):
    """Grafana's own variables replaced by what they stand for, each expression a recording rule."""
    subst = [("$__rate_interval", "5m"), ("$__interval", "1m"), ("$__range", "1h"), ("$instance", ".+")]
    rules = []
    for i, (_, expr) in enumerate(exprs):
        for var, value in subst:
            expr = expr.replace(var, value)
        assert "$" not in expr, expr
        rules.append({"record": "dashboard:expr_%d" % i, "expr": expr})
    return {"groups": [{"name": "dashboards", "rules": rules}]}


def test_grafana_provisioning_and_dashboards(default_render, tmp_path):
    provisioning = default_render.path("grafana", "provisioning")
    datasources = yaml.safe_load(open(os.path.join(provisioning, "datasources", "monsterr.yml")))["datasources"]
    assert {(d["uid"], d["type"], d["url"]) for d in datasources} == {
        ("prometheus", "prometheus", "http://prometheus:9090"), ("alertmanager", "alertmanager", "http://alertmanager:9093")}
    provider = yaml.safe_load(open(os.path.join(provisioning, "dashboards", "monsterr.yml")))["providers"][0]
    assert provider["options"]["path"] == "/etc/grafana/provisioning/dashboards/monsterr"
    files = sorted(glob.glob(os.path.join(provisioning, "dashboards", "monsterr", "*.json")))
    assert [os.path.basename(f) for f in files] == ["arr.json", "containers.json", "host.json"]
    exprs, uids = [], set()
    for path in files:
        dashboard = json.load(open(path))
        uids.add(dashboard["uid"])
        assert dashboard["panels"], path
        for panel in dashboard["panels"]:
            assert panel["datasource"] == {"type": "prometheus", "uid": "prometheus"}, (path, panel["title"])
            assert panel["targets"], (path, panel["title"])
        exprs.extend(_exprs(dashboard["panels"]))
    assert len(uids) == 3 and len(exprs) >= 25
    rule_file = tmp_path / "dashboards.yml"
    rule_file.write_text(yaml.safe_dump(_as_rules(exprs)))
    result = run([PROMTOOL, "check", "rules", str(rule_file)])
    assert result.returncode == 0, result.stdout
    assert "SUCCESS: %d rules found" % len(exprs) in result.stdout


def test_the_expression_check_catches_a_bad_query(tmp_path):
    rule_file = tmp_path / "bad.yml"
    rule_file.write_text(yaml.safe_dump(_as_rules([("bad", "sum by (name) (rate(container_cpu_usage_seconds_total[5m])")])))
    result = run([PROMTOOL, "check", "rules", str(rule_file)])
    assert result.returncode != 0 and "parse error" in result.stdout, result.stdout


def test_only_what_the_catalog_enables_is_written(tmp_path):
    render = Render(tmp_path, {"catalog_enabled": ["prometheus"]})
    result = render.play()
    assert result.returncode == 0, result.stdout[-3000:]
    rules = yaml.safe_load(open(render.rules_file))
    assert [r["alert"] for r in rules["groups"][0]["rules"]] == ["TargetDown"]
    config = yaml.safe_load(open(render.path("prometheus", "config", "prometheus.yml")))
    assert "alerting" not in config
    groups = json.load(open(render.path("prometheus", "config", "targets", "catalog.json")))
    assert [g["targets"] for g in groups] == [["prometheus:9090"]]
    assert sorted(os.listdir(render.appdata)) == ["prometheus"]
    assert run([PROMTOOL, "check", "config", render.path("prometheus", "config", "prometheus.yml")]).returncode == 0


def test_switched_off_metrics_are_not_scraped(tmp_path):
    """`metrics: {exporter: none}` (no exportarr sidecar runs) leaves the service out of the file_sd file."""
    render = Render(tmp_path, {"catalog_enabled": ["prometheus", "sonarr", "radarr"],
                               "catalog_overrides": {"sonarr": {"metrics": {"exporter": "none"}}}})
    result = render.play()
    assert result.returncode == 0, result.stdout[-3000:]
    groups = json.load(open(render.path("prometheus", "config", "targets", "catalog.json")))
    assert sorted(g["targets"][0] for g in groups) == ["prometheus:9090", "radarr-exporter:9708"]


def test_directories_belong_to_the_household_as_the_stack_makes_them(default_render):
    """The stack layer gives every appdata directory the household's account and 0750; the same here, or each
    layer would undo the other on every run."""
    for parts in (("prometheus",), ("prometheus", "config"), ("prometheus", "config", "targets"),
                  ("alertmanager", "config"), ("grafana", "provisioning", "datasources"),
                  ("grafana", "provisioning", "dashboards", "monsterr")):
        info = os.stat(default_render.path(*parts))
        assert (info.st_uid, info.st_gid, oct(info.st_mode & 0o777)) == (2000, 2000, "0o750"), parts


def test_bad_settings_are_all_reported_before_any_change(tmp_path):
    render = Render(tmp_path, {
        "monitoring_scrape_interval": "30 seconds",
        "monitoring_scrape_timeout": "1m",
        "monitoring_alert_cpu_percent": 180,
        "monitoring_alert_arr_health_issues": -1,
        "monitoring_alert_certificate_for": "",
        "monitoring_alerts_disabled": ["HostHighCPU"],
        "monitoring_alertmanager_email_to": ["not-an-address"],
        "monitoring_alertmanager_webhook_urls": ["ntfy.example.test/topic"],
        "catalog_metrics_retention": "30 days",
    })
    result = render.play()
    assert result.returncode != 0
    out = result.stdout
    # The layer runs without preflight here: it checks itself with preflight's rules (plugins/filter/layer_problems.py).
    # One line per mistake: the timeout is not compared with an interval that is itself wrong.
    assert "Preflight found 9 problem(s); nothing was changed on the host" in out, out[-4000:]
    for fragment in ["monitoring_scrape_interval = '30 seconds' is not a Prometheus duration",
                     "monitoring_alert_cpu_percent = 180 is not a percentage", "monitoring_alert_arr_health_issues = -1 is not",
                     "monitoring_alert_certificate_for = '' is not a Prometheus duration",
                     "monitoring_alerts_disabled = ['HostHighCPU'] has 'HostHighCPU', which is not an alert",
                     "monitoring_alertmanager_email_to = ['not-an-address'] has 'not-an-address'",
                     "monitoring_alertmanager_webhook_urls = ['ntfy.example.test/topic'] has 'ntfy.example.test/topic'",
                     "monitoring_alertmanager_smtp_smarthost = '' is not host:port",
                     "catalog_metrics_retention = '30 days' is not a Prometheus duration"]:
        assert fragment in out, (fragment, out[-4000:])
    assert not os.path.exists(render.appdata)


def _certificate(directory, days):
    """A self-signed certificate valid for `days` from now, as certbot lays out a lineage."""
    lineage = directory / "media.example.test"
    lineage.mkdir(parents=True)
    result = run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                  "-days", str(days), "-subj", "/CN=media.example.test", "-keyout", str(lineage / "privkey.pem"),
                  "-out", str(lineage / "cert.pem")])
    assert result.returncode == 0, result.stdout
    end = run(["openssl", "x509", "-noout", "-enddate", "-in", str(lineage / "cert.pem")]).stdout.strip().split("=", 1)[1]
    return int(datetime.datetime.strptime(end, "%b %d %H:%M:%S %Y GMT").replace(tzinfo=datetime.timezone.utc).timestamp())


def test_certificate_metric_script_writes_a_valid_textfile(tmp_path):
    live, out = tmp_path / "live", tmp_path / "textfile"
    out.mkdir()
    expires = _certificate(live, 10)
    (live / "broken").mkdir()
    (live / "broken" / "cert.pem").write_text("not a certificate\n")
    result = run(["/bin/sh", SCRIPT, str(live), str(out)])
    assert result.returncode == 0, result.stdout
    assert "cannot read the expiry date of %s/broken/cert.pem" % live in result.stdout
    assert sorted(os.listdir(str(out))) == ["monsterr_certificates.prom"]
    text = (out / "monsterr_certificates.prom").read_text()
    assert 'monsterr_certificate_expiry_timestamp_seconds{cert_name="media.example.test"} %d\n' % expires in text
    assert "monsterr_certificate_read_errors 1\n" in text
    assert oct(os.stat(str(out / "monsterr_certificates.prom")).st_mode & 0o777) == "0o644"
    check = subprocess.run([PROMTOOL, "check", "metrics"], input=text, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           universal_newlines=True, check=False)
    assert check.returncode == 0, check.stdout


def test_certificate_metric_script_without_certificates(tmp_path):
    out = tmp_path / "textfile"
    out.mkdir()
    result = run(["/bin/sh", SCRIPT, str(tmp_path / "missing"), str(out)])
    assert result.returncode == 0, result.stdout
    text = (out / "monsterr_certificates.prom").read_text()
    assert "monsterr_certificate_expiry_timestamp_seconds{" not in text and "monsterr_certificate_read_errors 0" in text
