# -*- coding: utf-8 -*-
# Copyright: monsterr.mediaserver developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""promtool unit tests for every alert of the rendered rules file, built from the thresholds it was rendered
with and the `for` durations it holds.

For each alert two input sets: one just past the threshold and one just short of it (or the healthy state
for alerts that have no number). The first must not fire one step before its `for` has elapsed and must fire
once it has; the second must never fire.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

NODE = {"instance": "node-exporter:9100", "job": "node-exporter", "service": "node-exporter",
        "group": "monitoring", "exporter": "builtin"}
CADVISOR = {"instance": "cadvisor:8080", "job": "cadvisor", "service": "cadvisor", "group": "monitoring",
            "exporter": "builtin"}
SONARR = {"instance": "sonarr-exporter:9707", "job": "sonarr", "service": "sonarr", "group": "media",
          "exporter": "exportarr", "url": "http://sonarr:8989"}

_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800, "y": 31536000}


def minutes(duration):
    """A Prometheus duration in whole minutes (the tests step by one minute)."""
    seconds = sum(int(n) * _UNITS[u] for n, u in re.findall(r"([0-9]+)(ms|[ywdhms])", str(duration)))
    return int(seconds // 60)


def series(name, labels, values):
    body = ",".join('%s="%s"' % (k, v) for k, v in sorted(labels.items()))
    return {"series": "%s{%s}" % (name, body), "values": values}


def constant(value, length):
    return "%s+0x%d" % (value, length)


def expand(template, labels):
    """The rule's annotation with {{ $labels.x }} filled in, as Prometheus renders it."""
    return re.sub(r"\{\{\s*\$labels\.([a-zA-Z_][a-zA-Z0-9_]*)\s*\}\}", lambda m: labels.get(m.group(1), ""), template)


class Case(object):
    """fire: input series past the threshold, true from minute `start` (within `margin` minutes);
    quiet: lists of input series just short of it (each list one promtool test); labels: the alert's labels."""

    def __init__(self, fire, quiet, labels, start=0, margin=1):
        self.fire, self.quiet, self.labels, self.start, self.margin = fire, quiet, labels, start, margin


def _cpu(p, length):
    def idle(busy):
        return series("node_cpu_seconds_total", dict(NODE, cpu="0", mode="idle"),
                      "0+%sx%d" % (round(60 * (1 - busy / 100.0), 6), length))
    t = float(p["cpu"])
    # rate() over a window not yet full reads low, so the CPU reads busy from the second sample on.
    return Case([idle(min(t + 1, 99.9))], [[idle(t - 1)]], {"instance": NODE["instance"], "service": "node-exporter"},
                start=1, margin=1)


def _memory(p, length):
    total = 8 * 2 ** 30

    def mem(used):
        return [series("node_memory_MemTotal_bytes", NODE, constant(total, length)),
                series("node_memory_MemAvailable_bytes", NODE, constant(int(total * (1 - used / 100.0)), length))]
    t = float(p["memory"])
    return Case(mem(t + 1), [mem(t - 1)], dict(NODE))


def _disk(p, length):
    size = 500 * 10 ** 9

    def fs(used, fstype="ext4", mountpoint="/"):
        labels = dict(NODE, device="/dev/sda1", fstype=fstype, mountpoint=mountpoint)
        return [series("node_filesystem_size_bytes", labels, constant(size, length)),
                series("node_filesystem_avail_bytes", labels, constant(int(size * (1 - used / 100.0)), length))]
    t = float(p["disk"])
    labels = dict(NODE, device="/dev/sda1", fstype="ext4", mountpoint="/")
    # A full tmpfs is left out whatever its fill.
    ignored = fs(99.9, fstype="tmpfs", mountpoint="/run")
    return Case(fs(t + 1), [fs(t - 1), ignored], labels)


def _container_down(p, length, names):
    victim = "sonarr" if "sonarr" in names else names[0]
    up = series("up", CADVISOR, constant(1, length))

    def seen(name, values):
        return series("container_last_seen", dict(CADVISOR, name=name, id="/docker/%s" % name), values)
    present = [seen(n, "0+60x%d" % length) for n in names if n != victim]
    gone_at = 10
    fire = [up] + present + [seen(victim, "0+60x%d" % gone_at)]
    healthy = [up] + present + [seen(victim, "0+60x%d" % length)]
    # cAdvisor itself down: TargetDown speaks, not one ContainerDown per container.
    blind = [series("up", CADVISOR, constant(0, length))]
    # Gone after the lookback (5m), give or take a step depending on the engine's range bounds.
    return Case(fire, [healthy, blind], {"name": victim, "service": victim}, start=gone_at + 5, margin=2)


def _container_restarting(p, length):
    limit, window = int(p["restarts"]), minutes(p["restarts_window"])
    labels = dict(CADVISOR, name="sonarr", id="/docker/sonarr", image="lscr.io/linuxserver/sonarr:4.0.19")
    period = max(1, window // (limit + 2))   # at least limit+1 restarts in every window

    def started(change_at):
        return series("container_start_time_seconds", labels,
                      " ".join(str(1000 + 60 * sum(1 for c in change_at if c <= t)) for t in range(length + 1)))
    often = [t for t in range(period, length + 1, period)]
    just_below = list(range(1, limit + 1))   # exactly `limit` restarts, then stable
    return Case([started(often)], [[started(just_below)]], dict(labels, service="sonarr"),
                start=(limit + 1) * period, margin=1)


def _target_down(p, length):
    return Case([series("up", SONARR, constant(0, length))], [[series("up", SONARR, constant(1, length))]], dict(SONARR))


def _arr_health(p, length):
    limit, kind = int(p["arr_health_issues"]), p["arr_health_types"][0]

    def issues(n, issue_type=kind):
        return [series("sonarr_system_health_issues",
                       dict(SONARR, source="Check%d" % i, type=issue_type, message="problem %d" % i, wikiurl=""),
                       constant(1, length)) for i in range(n)]
    none = [series("sonarr_system_health_issues", dict(SONARR, source="", type="", message="", wikiurl=""), constant(0, length))]
    below = issues(limit) or none
    return Case(issues(limit + 1), [below, issues(limit + 3, "notice")], {"service": "sonarr"})


def _arr_queue(p, length):
    limit, status = int(p["queue_items"]), p["queue_statuses"][0]

    def queue(n, download_status=status):
        return [series("sonarr_queue_total", dict(SONARR, status="completed", download_status=download_status,
                                                  download_state="importBlocked"), constant(n, length))]
    return Case(queue(limit + 1), [queue(limit), queue(limit + 5, "ok")], {"service": "sonarr"})


def _certificate(p, length):
    days = float(p["cert_days"])
    labels = dict(NODE, cert_name="media.example.test")

    def expiry(at):
        return [series("monsterr_certificate_expiry_timestamp_seconds", labels, constant(int(at), length))]
    # Test time starts at 0 (time() is the evaluation time): one hour inside the threshold, and far
    # enough outside it that the whole test stays outside.
    return Case(expiry(days * 86400 - 3600), [expiry(days * 86400 + (length + 60) * 60)], labels)


BUILDERS = {
    "HostHighCpu": _cpu,
    "HostHighMemory": _memory,
    "HostDiskFull": _disk,
    "ContainerRestarting": _container_restarting,
    "TargetDown": _target_down,
    "ArrHealthIssues": _arr_health,
    "ArrQueueStalled": _arr_queue,
    "CertificateExpiring": _certificate,
}


def build(rules_file, rules, params):
    """The promtool test document for every alert in `rules` (the parsed rules file)."""
    tests, covered = [], []
    for group in rules["groups"]:
        for rule in group["rules"]:
            name = rule.get("alert")
            if not name:
                continue
            hold = minutes(rule.get("for", "0m"))
            length = 30 + hold + 30
            if name == "ContainerDown":
                names = re.findall(r'name="([^"]+)"', rule["expr"])
                case = _container_down(params, length, names)
            else:
                case = BUILDERS[name](params, length)
            labels = dict(case.labels, alertname=name, **rule.get("labels", {}))
            labels = dict((k, expand(v, labels)) for k, v in labels.items())
            annotations = dict((k, expand(v, labels)) for k, v in rule.get("annotations", {}).items())
            expected = dict(labels)
            expected.pop("alertname")
            before, after = case.start + hold - case.margin, case.start + hold + case.margin
            tests.append({
                "name": "%s fires past the threshold once its for (%s) has passed" % (name, rule.get("for")),
                "interval": "1m",
                "input_series": case.fire,
                "alert_rule_test": [
                    {"eval_time": "%dm" % before, "alertname": name, "exp_alerts": []},
                    {"eval_time": "%dm" % after, "alertname": name,
                     "exp_alerts": [{"exp_labels": expected, "exp_annotations": annotations}]},
                ],
            })
            for i, quiet in enumerate(case.quiet):
                tests.append({
                    "name": "%s stays quiet short of the threshold (%d)" % (name, i + 1),
                    "interval": "1m",
                    "input_series": quiet,
                    "alert_rule_test": [{"eval_time": "%dm" % t, "alertname": name, "exp_alerts": []}
                                        for t in (after, length)],
                })
            covered.append(name)
    return {"rule_files": [rules_file], "evaluation_interval": "1m", "tests": tests}, covered
