#!/usr/bin/env python3
# -*- coding: utf-8 -*-
# Copyright: monsterr.mediaserver developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A stand-in for cAdvisor v0.60 (ghcr.io/google/cadvisor), standard library only. Debian does not package cAdvisor
and no registry can be reached here: the ``cadvisor`` test image (tests/images/cadvisor) installs this file as
``/usr/bin/cadvisor`` with the upstream entry point ``/usr/bin/cadvisor -logtostderr``.

Upstream facts reproduced (google/cadvisor: deploy/Dockerfile, cmd/cadvisor.go flags, cmd/internal/http handlers,
metrics/prometheus.go metric and label names; container/docker for the docker factory):

- Go ``flag`` command line: ``-name value``, ``-name=value``, ``--name...`` alike, booleans without a value; an
  unknown flag prints ``flag provided but not defined: -x`` and the usage, exit 2. Read here: ``-port`` (8080),
  ``-listen_ip`` (empty: Go's ``:8080`` is one dual-stack socket), ``-docker`` (``unix:///var/run/docker.sock``),
  ``-docker_only``, ``-housekeeping_interval``, ``-store_container_labels`` (default true),
  ``-whitelisted_container_labels``, ``-prometheus_endpoint`` (``/metrics``), ``-url_base_prefix``; the other
  documented flags are accepted.
- Runs as root (the image has no USER) and reads the Docker socket read-only (GET only): every running container
  becomes series labelled ``id`` (its cgroup: ``/system.slice/docker-<id>.scope`` with the systemd cgroup driver,
  ``/docker/<id>`` with cgroupfs), ``image``, ``name`` (the container name without ``/``) and, with
  ``-store_container_labels``, ``container_label_<label>`` for each Docker label (names sanitised as Prometheus
  does). When the socket cannot be used, the docker factory fails to register (logged) and only the root container
  ``/`` is reported, as upstream.
- Metrics: ``container_last_seen``, ``container_start_time_seconds``, ``container_cpu_usage_seconds_total``
  (``cpu="total"``), ``container_memory_usage_bytes``, ``container_memory_working_set_bytes`` (usage minus
  inactive_file), ``container_network_receive_bytes_total`` / ``transmit`` (``interface``), ``machine_cpu_cores``,
  ``machine_memory_bytes``, ``cadvisor_version_info``; values from the Docker API (inspect and one-shot stats).
- ``/healthz`` answers ``ok``; ``/`` redirects to ``/containers/``.

Shortcuts (documented, deliberate): values are read from the Docker API at each scrape, not sampled by a
housekeeping loop; the root container's values come from this machine's /proc; no disk/filesystem, process, OOM
or hardware metrics; no web UI beyond a page listing the containers.

Run: ``python3 tests/doubles/cadvisor.py -logtostderr -port 8080``.
"""

from __future__ import absolute_import, division, print_function

import errno
import http.client
import json
import os
import re
import signal
import socket
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

VERSION = os.environ.get("CADVISOR_DOUBLE_VERSION", "v0.60.6")
# flag -> (default, is boolean)
FLAGS = {
    "port": ("8080", False), "listen_ip": ("", False), "docker": ("unix:///var/run/docker.sock", False),
    "docker_only": ("false", True), "housekeeping_interval": ("1s", False), "max_housekeeping_interval": ("60s", False),
    "allow_dynamic_housekeeping": ("true", True), "store_container_labels": ("true", True),
    "whitelisted_container_labels": ("", False), "prometheus_endpoint": ("/metrics", False),
    "url_base_prefix": ("", False), "logtostderr": ("false", True), "alsologtostderr": ("false", True),
    "v": ("0", False), "disable_metrics": ("", False), "enable_metrics": ("", False), "storage_duration": ("2m0s", False),
    "profiling": ("false", True), "http_auth_file": ("", False), "http_digest_file": ("", False),
    "raw_cgroup_prefix_whitelist": ("", False), "docker_env_metadata_whitelist": ("", False),
    "enable_load_reader": ("false", True), "event_storage_age_limit": ("default=24h", False),
    "event_storage_event_limit": ("default=100000", False), "application_metrics_count_limit": ("100", False),
    "machine_id_file": ("/etc/machine-id,/var/lib/dbus/machine-id", False), "containerd": ("/run/containerd/containerd.sock", False),
    "podman": ("unix:///var/run/podman/podman.sock", False), "docker_root": ("/var/lib/docker", False),
}


def glog(level, message):
    """glog's line: Lmmdd hh:mm:ss.uuuuuu pid file:line] message (to stderr with -logtostderr)."""
    now = datetime.now()
    sys.stderr.write("%s%s %7d cadvisor.py:0] %s\n" % (level, now.strftime("%m%d %H:%M:%S.%f"), os.getpid(), message))
    sys.stderr.flush()


def parse_flags(argv):
    values = dict((name, default) for name, (default, _) in FLAGS.items())
    i = 0
    while i < len(argv):
        arg = argv[i]
        if not arg.startswith("-") or arg in ("-", "--"):
            break
        name, eq, value = arg.lstrip("-").partition("=")
        if name not in FLAGS:
            sys.stderr.write("flag provided but not defined: -%s\nUsage of /usr/bin/cadvisor:\n" % name)
            for flag in sorted(FLAGS):
                sys.stderr.write("  -%s\n    \t(default %s)\n" % (flag, json.dumps(FLAGS[flag][0])))
            raise SystemExit(2)
        if FLAGS[name][1]:
            values[name] = value if eq else "true"
        else:
            if not eq:
                i += 1
                if i >= len(argv):
                    sys.stderr.write("flag needs an argument: -%s\n" % name)
                    raise SystemExit(2)
                value = argv[i]
            values[name] = value
        i += 1
    return values


class UnixHTTPConnection(http.client.HTTPConnection):
    def __init__(self, path, timeout=10):
        http.client.HTTPConnection.__init__(self, "localhost", timeout=timeout)
        self.path = path

    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(self.timeout)
        self.sock.connect(self.path)


class Docker(object):
    """A read-only Docker Engine API client (GET only) on a unix socket."""

    def __init__(self, endpoint):
        if not endpoint.startswith("unix://"):
            raise OSError(errno.EPROTONOSUPPORT, "only unix:// docker endpoints are reproduced: %s" % endpoint)
        self.path = endpoint[len("unix://"):]

    def get(self, url):
        conn = UnixHTTPConnection(self.path)
        try:
            conn.request("GET", url)
            response = conn.getresponse()
            body = response.read()
            if response.status != 200:
                raise OSError(errno.EIO, "docker: GET %s: %d %s" % (url, response.status, body[:200]))
            return json.loads(body.decode("utf-8"))
        finally:
            conn.close()


def sanitize(name):
    """Prometheus label name sanitisation (cAdvisor's DefaultContainerLabels: container_label_<name>)."""
    return re.sub(r"[^a-zA-Z0-9_]", "_", name)


def escape(value):
    return str(value).replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def parse_time(text):
    match = re.match(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(\.\d+)?(Z|[+-]\d\d:\d\d)$", text or "")
    if not match:
        return 0.0
    base = datetime.strptime(match.group(1) + (match.group(3).replace("Z", "+00:00")), "%Y-%m-%dT%H:%M:%S%z")
    return base.timestamp() + float(match.group(2) or 0)


class Collector(object):
    def __init__(self, flags):
        self.flags = flags
        self.docker = None
        self.cgroup_driver = "systemd"
        self.docker_version = ""
        self.whitelist = [x for x in flags["whitelisted_container_labels"].split(",") if x]
        try:
            docker = Docker(flags["docker"])
            info = docker.get("/info")
            self.cgroup_driver = info.get("CgroupDriver") or "cgroupfs"
            self.docker_version = info.get("ServerVersion", "")
            self.docker = docker
            glog("I", "Registering Docker factory")
        except (OSError, ValueError) as exc:
            glog("W", "Registration of the docker container factory failed: %s" % exc)

    def cgroup_id(self, container_id):
        if self.cgroup_driver == "systemd":
            return "/system.slice/docker-%s.scope" % container_id
        return "/docker/%s" % container_id

    def containers(self):
        """[(labels, values)] for the root container and every running Docker container."""
        now = time.time()
        out = [({"id": "/"}, self.root_values(now))]
        if self.docker is None:
            return out
        try:
            listing = self.docker.get("/containers/json")
        except (OSError, ValueError) as exc:
            glog("E", "Failed to list containers: %s" % exc)
            return out
        with ThreadPoolExecutor(max_workers=16) as pool:
            fetched = list(pool.map(self.fetch, [item["Id"] for item in listing]))
        for item, (inspect, stats) in zip(listing, fetched):
            if inspect is None:
                continue
            labels = {"id": self.cgroup_id(item["Id"]), "image": (inspect.get("Config") or {}).get("Image", ""),
                      "name": (inspect.get("Name") or "").lstrip("/")}
            if self.flags["store_container_labels"] == "true":
                for key, value in ((inspect.get("Config") or {}).get("Labels") or {}).items():
                    labels["container_label_" + sanitize(key)] = value
            else:
                for key in self.whitelist:
                    labels["container_label_" + sanitize(key)] = ((inspect.get("Config") or {}).get("Labels") or {}).get(key, "")
            memory = stats.get("memory_stats") or {}
            usage = memory.get("usage", 0)
            inactive = (memory.get("stats") or {}).get("inactive_file", (memory.get("stats") or {}).get("total_inactive_file", 0))
            values = {"last_seen": now, "start": parse_time((inspect.get("State") or {}).get("StartedAt")),
                      "cpu": ((stats.get("cpu_stats") or {}).get("cpu_usage") or {}).get("total_usage", 0) / 1e9,
                      "memory": usage, "working_set": max(usage - inactive, 0),
                      "networks": dict((name, (net.get("rx_bytes", 0), net.get("tx_bytes", 0)))
                                       for name, net in (stats.get("networks") or {}).items())}
            out.append((labels, values))
        return out

    def fetch(self, container_id):
        """(inspect, stats) of one container, in parallel with the others (a one-shot stats call takes a while)."""
        try:
            return (self.docker.get("/containers/%s/json" % container_id),
                    self.docker.get("/containers/%s/stats?stream=false&one-shot=true" % container_id))
        except (OSError, ValueError) as exc:
            glog("W", "Failed to get container %s: %s" % (container_id[:12], exc))
            return None, None

    @staticmethod
    def root_values(now):
        try:
            with open("/proc/stat") as handle:
                fields = handle.readline().split()[1:]
            ticks = os.sysconf("SC_CLK_TCK")
            cpu = sum(int(x) for i, x in enumerate(fields[:8]) if i not in (3, 4)) / float(ticks)
            with open("/proc/uptime") as handle:
                boot = now - float(handle.read().split()[0])
            meminfo = Collector.meminfo()
            used = (meminfo.get("MemTotal", 0) - meminfo.get("MemFree", 0)) * 1024
            working = (meminfo.get("MemTotal", 0) - meminfo.get("MemAvailable", 0)) * 1024
        except (OSError, ValueError, IndexError):
            cpu, boot, used, working = 0.0, now, 0, 0
        return {"last_seen": now, "start": boot, "cpu": cpu, "memory": used, "working_set": working, "networks": {}}

    @staticmethod
    def meminfo():
        out = {}
        with open("/proc/meminfo") as handle:
            for line in handle:
                key, _, rest = line.partition(":")
                out[key] = int(rest.split()[0]) if rest.split() else 0
        return out

    def render(self):
        series = self.containers()
        families = [
            ("container_last_seen", "Last time a container was seen by the exporter", "gauge", "last_seen"),
            ("container_start_time_seconds", "Start time of the container since unix epoch in seconds.", "gauge", "start"),
            ("container_cpu_usage_seconds_total", "Cumulative cpu time consumed in seconds.", "counter", "cpu"),
            ("container_memory_usage_bytes", "Current memory usage in bytes, including all memory regardless of when it "
                                             "was accessed", "gauge", "memory"),
            ("container_memory_working_set_bytes", "Current working set in bytes.", "gauge", "working_set"),
        ]
        lines = ['# HELP cadvisor_version_info A metric with a constant \'1\' value labeled by kernel version, OS version, '
                 'docker version, cadvisor version & cadvisor revision.', "# TYPE cadvisor_version_info gauge",
                 'cadvisor_version_info{cadvisorRevision="double",cadvisorVersion="%s",dockerVersion="%s",'
                 'kernelVersion="%s",osVersion="Alpine Linux v3.22"} 1' % (VERSION, escape(self.docker_version),
                                                                           escape(os.uname().release))]
        for name, help_text, kind, key in families:
            lines += ["# HELP %s %s" % (name, help_text), "# TYPE %s %s" % (name, kind)]
            for labels, values in series:
                extra = dict(labels, cpu="total") if key == "cpu" else labels
                lines.append("%s{%s} %s" % (name, self.labels(extra), self.number(values[key])))
        for name, index, help_text in (("container_network_receive_bytes_total", 0, "Cumulative count of bytes received"),
                                       ("container_network_transmit_bytes_total", 1, "Cumulative count of bytes transmitted")):
            lines += ["# HELP %s %s" % (name, help_text), "# TYPE %s counter" % name]
            for labels, values in series:
                for interface, counters in sorted(values["networks"].items()):
                    lines.append("%s{%s} %s" % (name, self.labels(dict(labels, interface=interface)),
                                                self.number(counters[index])))
        lines += ["# HELP machine_cpu_cores Number of logical CPU cores.", "# TYPE machine_cpu_cores gauge",
                  'machine_cpu_cores{boot_id="",machine_id="",system_uuid=""} %d' % (os.cpu_count() or 1),
                  "# HELP machine_memory_bytes Amount of memory installed on the machine.", "# TYPE machine_memory_bytes gauge",
                  'machine_memory_bytes{boot_id="",machine_id="",system_uuid=""} %d' % (self.meminfo().get("MemTotal", 0) * 1024)]
        return "\n".join(lines) + "\n", series

    @staticmethod
    def labels(labels):
        return ",".join('%s="%s"' % (key, escape(value)) for key, value in sorted(labels.items()))

    @staticmethod
    def number(value):
        return ("%.6f" % value).rstrip("0").rstrip(".") if isinstance(value, float) else str(value)


def make_handler(collector, flags):
    prefix = flags["url_base_prefix"].rstrip("/")
    endpoint = prefix + flags["prometheus_endpoint"]

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def _send(self, status, body, content_type="text/plain; charset=utf-8", headers=None):
            raw = body.encode("utf-8")
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(raw)))
            for key, value in (headers or {}).items():
                self.send_header(key, value)
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(raw)

        def do_GET(self):
            path = urlsplit(self.path).path
            if path == prefix + "/healthz":
                self._send(200, "ok")
            elif path == endpoint:
                body, _ = collector.render()
                self._send(200, body, "text/plain; version=0.0.4; charset=utf-8")
            elif path in (prefix + "/", prefix or "/"):
                self._send(307, "", headers={"Location": prefix + "/containers/"})
            elif path.startswith(prefix + "/containers"):
                _, series = collector.render()
                items = "".join("<li>%s</li>" % escape(labels.get("name") or labels["id"]) for labels, _ in series)
                self._send(200, "<html><head><title>cAdvisor - /</title></head><body><ul>%s</ul></body></html>" % items,
                           "text/html; charset=utf-8")
            else:
                self._send(404, "404 page not found\n")

        do_HEAD = do_GET

    return Handler


class GoListener(ThreadingHTTPServer):
    """net.Listen("tcp", "<listen_ip>:<port>") as Go does it: the wildcard ("", 0.0.0.0, ::) is one dual-stack [::]
    socket (0.0.0.0 when the kernel has no IPv6); any other address is listened on as given."""
    daemon_threads = True

    def __init__(self, host, port, handler):
        self.dual = host in ("", "0.0.0.0", "::") and socket.has_ipv6
        if self.dual or ":" in host:
            self.address_family = socket.AF_INET6
        try:
            ThreadingHTTPServer.__init__(self, ("::" if self.dual else host, port), handler)
        except OSError as exc:
            if not self.dual or exc.errno not in (errno.EAFNOSUPPORT, errno.EADDRNOTAVAIL):
                raise
            self.dual, self.address_family = False, socket.AF_INET
            ThreadingHTTPServer.__init__(self, ("0.0.0.0", port), handler)

    def server_bind(self):
        if self.dual:
            self.socket.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        ThreadingHTTPServer.server_bind(self)


def main(argv=None):
    try:
        flags = parse_flags(list(sys.argv[1:] if argv is None else argv))
    except SystemExit as exc:
        return exc.code
    glog("I", "cAdvisor version %s (double)" % VERSION)
    collector = Collector(flags)
    try:
        server = GoListener(flags["listen_ip"], int(flags["port"]), make_handler(collector, flags))
    except (OSError, ValueError) as exc:
        glog("F", "Failed to start cAdvisor: %s" % exc)
        return 255
    glog("I", "Starting cAdvisor version: %s on port %s" % (VERSION, flags["port"]))

    def stop(*_):
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    server.serve_forever(poll_interval=0.2)
    server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
