#!/usr/bin/env python3
# -*- coding: utf-8 -*-
# Copyright: monsterr.mediaserver developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A stand-in for Homepage v1.x (ghcr.io/gethomepage/homepage), the household's start page, python3 with Debian's
python3-yaml. Debian does not package Homepage (a Next.js app) and no registry can be reached here: the
``homepage`` test image (tests/images/homepage) runs this file where the real image runs ``node server.js``.

Upstream facts reproduced (gethomepage/homepage: Dockerfile, docker-entrypoint.sh, src/middleware.js,
src/pages/api/healthcheck.js, src/utils/config/config.js; docs/installation/docker.md):

- Next.js standalone listens on ``HOSTNAME``:``PORT``; the image sets ``HOSTNAME=0.0.0.0`` and ``PORT=3000``, and
  Node's ``listen(port, "0.0.0.0")`` is IPv4 ONLY: a busybox ``wget http://localhost:3000`` that tries ``[::1]``
  first is refused (which is why the image's own HEALTHCHECK probes ``http://127.0.0.1:$PORT/api/healthcheck``).
  ``HOSTNAME=::`` listens dual-stack, any other address as given.
- The middleware (matcher ``/api/:path*``) checks the Host header against ``localhost:<PORT>``,
  ``127.0.0.1:<PORT>`` and the comma-separated ``HOMEPAGE_ALLOWED_HOSTS`` (``*`` allows every host); any other
  host, or none, gets 400 ``{"error": "Host validation failed. See logs for more details."}`` and the log line
  ``Host validation failed for: <host>. Hint: Set the HOMEPAGE_ALLOWED_HOSTS environment variable to allow
  requests from this host / port.``. Pages outside /api are not checked.
- ``/api/healthcheck`` answers ``up``.
- The configuration directory is ``/app/config`` (``HOMEPAGE_CONFIG_DIR`` here, for tests): the skeleton files
  (bookmarks.yaml, custom.css, custom.js, docker.yaml, kubernetes.yaml, proxmox.yaml, services.yaml,
  settings.yaml, widgets.yaml) are copied into it when missing, and ``logs/`` is created; a directory the process
  cannot write makes that fail loudly, as it does the real app.
- ``/`` renders the groups and services of services.yaml; ``/api/services`` returns them as JSON.

Shortcuts (documented, deliberate): no widgets, no icons, no docker integration; the skeleton files are written at
start rather than on the first page load.

Run: ``python3 tests/doubles/homepage.py`` (environment as above).
"""

from __future__ import absolute_import, division, print_function

import html
import ipaddress
import json
import os
import signal
import socket
import sys
import threading
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

try:
    import yaml
except ImportError:  # pragma: no cover - reported at start
    yaml = None

SKELETON = {
    "bookmarks.yaml": "---\n# For configuration options and examples, please see:\n"
                      "# https://gethomepage.dev/configs/bookmarks\n\n- Developer:\n    - Github:\n"
                      "        - abbr: GH\n          href: https://github.com/\n",
    "custom.css": "",
    "custom.js": "",
    "docker.yaml": "---\n# For configuration options and examples, please see:\n"
                   "# https://gethomepage.dev/configs/docker/\n",
    "kubernetes.yaml": "---\n# sample kubernetes config\n",
    "proxmox.yaml": "---\n# pve:\n#   url: https://proxmox.host.or.ip:8006\n",
    "services.yaml": "---\n# For configuration options and examples, please see:\n"
                     "# https://gethomepage.dev/configs/services/\n\n- My First Group:\n    - My First Service:\n"
                     "        href: http://localhost/\n        description: Homepage is awesome\n",
    "settings.yaml": "---\n# For configuration options and examples, please see:\n"
                     "# https://gethomepage.dev/configs/settings/\n\nproviders:\n  openweathermap: openweathermapapikey\n",
    "widgets.yaml": "---\n# For configuration options and examples, please see:\n"
                    "# https://gethomepage.dev/widgets/info/\n\n- resources:\n    cpu: true\n    memory: true\n",
}


def log(level, message):
    stream = sys.stderr if level == "error" else sys.stdout
    stream.write("[%s] %s: %s\n" % (datetime.now().astimezone().isoformat(timespec="milliseconds"), level, message))
    stream.flush()


def copy_skeleton(config_dir):
    """config.js checkAndCopyConfig: every missing skeleton file is written; logs/ is created."""
    os.makedirs(os.path.join(config_dir, "logs"), exist_ok=True)
    for name, text in sorted(SKELETON.items()):
        path = os.path.join(config_dir, name)
        if not os.path.exists(path):
            with open(path, "w") as handle:
                handle.write(text)
            log("info", "Copied %s to %s" % (name, config_dir))


def services(config_dir):
    """services.yaml as [{name, services: [{name, href, description}]}]."""
    with open(os.path.join(config_dir, "services.yaml")) as handle:
        data = yaml.safe_load(handle) or []
    out = []
    for group in data:
        for group_name, entries in (group or {}).items():
            items = []
            for entry in entries or []:
                for name, attrs in (entry or {}).items():
                    attrs = attrs if isinstance(attrs, dict) else {}
                    items.append({"name": name, "href": attrs.get("href"), "description": attrs.get("description")})
            out.append({"name": group_name, "services": items})
    return out


def allowed_hosts(environ):
    port = environ.get("PORT") or "3000"
    hosts = ["localhost:%s" % port, "127.0.0.1:%s" % port]
    extra = environ.get("HOMEPAGE_ALLOWED_HOSTS")
    if extra:
        hosts += extra.split(",")
    return hosts, extra == "*"


def make_handler(config_dir, environ):
    hosts, allow_all = allowed_hosts(environ)

    class Handler(BaseHTTPRequestHandler):
        server_version = ""
        sys_version = ""

        def version_string(self):
            return ""

        def log_message(self, *args):
            pass

        def _send(self, status, body, content_type):
            raw = body.encode("utf-8")
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(raw)

        def do_GET(self):
            path = urlsplit(self.path).path
            if path.startswith("/api/") or path == "/api":
                host = self.headers.get("Host")
                if not allow_all and (not host or host not in hosts):
                    log("error", "Host validation failed for: %s. Hint: Set the HOMEPAGE_ALLOWED_HOSTS environment "
                                 "variable to allow requests from this host / port." % host)
                    self._send(400, json.dumps({"error": "Host validation failed. See logs for more details."}),
                               "application/json")
                    return
            if path == "/api/healthcheck":
                self._send(200, "up", "text/html; charset=utf-8")
            elif path == "/api/services":
                self._send(200, json.dumps(services(config_dir)), "application/json; charset=utf-8")
            elif path == "/":
                body = ["<!DOCTYPE html><html><head><title>Homepage</title></head><body>"]
                for group in services(config_dir):
                    body.append("<h2>%s</h2><ul>" % html.escape(str(group["name"])))
                    for item in group["services"]:
                        body.append('<li><a href="%s">%s</a> %s</li>' % (
                            html.escape(str(item["href"] or "")), html.escape(str(item["name"])),
                            html.escape(str(item["description"] or ""))))
                    body.append("</ul>")
                body.append("</body></html>")
                self._send(200, "".join(body), "text/html; charset=utf-8")
            else:
                self._send(404, "<!DOCTYPE html><html><body><h1>404</h1>This page could not be found.</body></html>",
                           "text/html; charset=utf-8")

        do_HEAD = do_GET

    return Handler


class NodeListener(ThreadingHTTPServer):
    """server.listen(port, host) as Node does it: "0.0.0.0" is an IPv4-only socket, "::" a dual-stack one, any other
    address that address."""
    daemon_threads = True

    def __init__(self, host, port, handler):
        self.dual = host == "::"
        if ipaddress.ip_address(host).version == 6:
            self.address_family = socket.AF_INET6
        ThreadingHTTPServer.__init__(self, (host, port), handler)

    def server_bind(self):
        if self.dual:
            self.socket.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        ThreadingHTTPServer.server_bind(self)


def main(environ=None):
    environ = dict(os.environ if environ is None else environ)
    if yaml is None:
        sys.stderr.write("homepage double: needs python3-yaml\n")
        return 1
    config_dir = environ.get("HOMEPAGE_CONFIG_DIR", "/app/config")
    host, port = environ.get("HOSTNAME") or "0.0.0.0", int(environ.get("PORT") or "3000")
    try:
        copy_skeleton(config_dir)
        server = NodeListener(host, port, make_handler(config_dir, environ))
    except (OSError, ValueError) as exc:
        log("error", "%s" % exc)
        return 1
    log("info", "Listening on %s:%d (Homepage double, Node semantics)" % (host, port))
    sys.stdout.write("   \u25b2 Next.js\n   - Local:        http://%s:%d\n\n \u2713 Ready\n" % (host, port))
    sys.stdout.flush()

    def stop(*_):
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    server.serve_forever(poll_interval=0.2)
    server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
