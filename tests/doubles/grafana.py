#!/usr/bin/env python3
# -*- coding: utf-8 -*-
# Copyright: monsterr.mediaserver developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A stand-in for Grafana 12 (docker.io/grafana/grafana), python3 with Debian's python3-yaml. Debian does not
package Grafana and no registry can be reached here: the ``grafana`` test image (tests/images/grafana) installs this
file as ``/usr/share/grafana/bin/grafana`` and starts it through the image's /run.sh, as the real image does.

Upstream facts reproduced (grafana/grafana: Dockerfile, packaging/docker/run.sh, pkg/api/http_server.go
apiHealthHandler and metricsEndpoint, pkg/services/authn/clients/proxy.go, pkg/middleware/auth.go notAuthorized,
pkg/setting (GF_<SECTION>_<KEY> overrides), pkg/services/provisioning):

- ``grafana server --homepath --config [cfg:default.paths.data=...]``: grafana.ini, then every ``GF_<SECTION>_<KEY>``
  environment variable (section dots as underscores, upper case) overrides it.
- Listens on ``server.http_addr`` (default empty: Go's ``:3000`` is one dual-stack socket) and ``http_port`` 3000.
- At start: the SQLite database ``<paths.data>/grafana.db`` is created (a data directory the process cannot write
  stops the start: ``unable to open database file: permission denied``), the admin user is created from
  ``security.admin_user``/``admin_password`` on the first start, the provisioning directory is read: datasources
  (``<provisioning>/datasources/*.yaml|*.yml``, ``$VAR``/``${VAR}`` expanded; an unreadable file, a datasource
  without a name or two ``isDefault`` in one org stop the start: ``Datasource provisioning error: ...``) and
  dashboard providers (``dashboards/*.yaml``: every ``*.json`` under ``options.path`` is loaded; a missing path is
  logged, not fatal).
- ``GET|HEAD /api/health``: ``{"database": "ok", "version": ..., "commit": ...}`` without authentication.
- ``GET /metrics`` (``metrics.enabled``, default true): Prometheus text, ``grafana_build_info`` and counters, no
  authentication.
- Authentication: basic auth (``admin`` and its password) and the auth proxy (``auth.proxy.enabled``): the header
  ``auth.proxy.header_name`` carries the login (``header_property`` username), the ``headers`` setting maps
  ``Email:``/``Name:``/``Groups:``/``Role:`` to other headers, ``auto_sign_up`` (default true) creates the user as
  a Viewer; ``auth.proxy.whitelist`` (comma-separated IPs or CIDRs; a bare address gets ``/32`` appended, as
  coerceProxyAddress does; an unparsable entry stops the start) is checked against the TCP peer address, not
  X-Forwarded-For: a proxy header from any other address is refused - API paths get 401
  ``{"message": "Unauthorized", "messageId": "auth-proxy.invalid-ip", "statusCode": 401, "traceID": ""}``, pages a
  302 to ``/login``. Without any credential: 401 ``auth.unauthorized`` on the API, 302 to /login on pages.
- ``/api/user`` (the signed-in user), ``/api/datasources`` (Admin role: the provisioned datasources),
  ``/api/search`` (the provisioned dashboards), ``/login``.

Shortcuts (documented, deliberate): one organisation; no dashboards UI, alerting, plugins or querying; the metrics
are a handful of Grafana's names, not its full set; sessions/cookies are not issued (every request authenticates).

Run: ``python3 tests/doubles/grafana.py server --homepath=/usr/share/grafana --config=/etc/grafana/grafana.ini``.
"""

from __future__ import absolute_import, division, print_function

import base64
import configparser
import errno
import hashlib
import ipaddress
import json
import os
import re
import signal
import socket
import sqlite3
import sys
import threading
import time
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import quote, urlsplit

try:
    import yaml
except ImportError:  # pragma: no cover - reported at start
    yaml = None

VERSION = "12.2.1"
COMMIT = "563109b696e9c1cbaf345f2ab7a11f7f78422982"
# section -> {key: default}; only what the double reads. Environment GF_<SECTION>_<KEY> overrides.
DEFAULTS = {
    "paths": {"data": "data", "logs": "data/log", "plugins": "data/plugins", "provisioning": "conf/provisioning"},
    "server": {"http_addr": "", "http_port": "3000", "root_url": "%(protocol)s://%(domain)s:%(http_port)s/",
               "protocol": "http", "domain": "localhost"},
    "security": {"admin_user": "admin", "admin_password": "admin", "admin_email": "admin@localhost"},
    "auth.proxy": {"enabled": "false", "header_name": "X-WEBAUTH-USER", "header_property": "username",
                   "auto_sign_up": "true", "whitelist": "", "headers": "", "headers_encoded": "false"},
    "auth.anonymous": {"enabled": "false", "hide_version": "false"},
    "auth.basic": {"enabled": "true"},
    "metrics": {"enabled": "true"},
    "users": {"auto_assign_org_role": "Viewer"},
    "analytics": {"reporting_enabled": "true"},
}


class StartError(Exception):
    pass


def log(level, logger, message, **fields):
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    extra = "".join(' %s=%s' % (k, json.dumps(str(v))) for k, v in fields.items())
    print('logger=%s t=%s level=%s msg=%s%s' % (logger, stamp, level, json.dumps(message), extra), flush=True)


def truthy(value):
    return str(value).strip().lower() in ("true", "1", "yes", "on")


def load_settings(config_path, overrides, environ):
    """grafana.ini (when readable) <- cfg:default.<section>.<key>=value arguments <- GF_ environment."""
    settings = dict((s, dict(v)) for s, v in DEFAULTS.items())
    parser = configparser.ConfigParser(interpolation=None, strict=False)
    try:
        with open(config_path) as handle:
            parser.read_string("[__root__]\n" + handle.read())
    except OSError:
        pass
    for section in parser.sections():
        for key, value in parser.items(section):
            settings.setdefault(section, {})[key] = value.strip().strip('"')
    for arg in overrides:
        match = re.match(r"^cfg:(?:default\.)?([\w.]+)\.(\w+)=(.*)$", arg)
        if match:
            settings.setdefault(match.group(1), {})[match.group(2)] = match.group(3)
    for section, keys in settings.items():
        for key in list(keys):
            name = "GF_%s_%s" % (section.upper().replace(".", "_").replace("-", "_"), key.upper())
            if name in environ:
                keys[key] = environ[name]
            elif name + "__FILE" in environ:
                with open(environ[name + "__FILE"]) as handle:
                    keys[key] = handle.read().strip()
    return settings


def parse_whitelist(text):
    """coerceProxyAddress: a bare address gets /32 appended (path.Join), then net.ParseCIDR."""
    networks = []
    if not text.strip():
        return networks
    for entry in text.split(","):
        entry = entry.strip()
        cidr = entry if "/" in entry else entry + "/32"
        try:
            networks.append(ipaddress.ip_network(cidr, strict=False))
        except ValueError:
            raise StartError("could not parse the network: invalid CIDR address: %s" % cidr)
    return networks


def expand_env(text, environ):
    return re.sub(r"\$\{(\w+)\}|\$(\w+)", lambda m: environ.get(m.group(1) or m.group(2), ""), text)


def read_yaml_dir(directory, environ):
    out = []
    try:
        names = sorted(os.listdir(directory))
    except OSError:
        return out
    for name in names:
        if not name.endswith((".yaml", ".yml")):
            continue
        path = os.path.join(directory, name)
        try:
            with open(path) as handle:
                out.append((path, yaml.safe_load(expand_env(handle.read(), environ)) or {}))
        except OSError as exc:
            raise StartError("open %s: %s" % (path, os.strerror(exc.errno).lower()))
        except yaml.YAMLError as exc:
            raise StartError("could not parse %s: %s" % (path, exc))
    return out


def provision_datasources(directory, environ):
    datasources, defaults = [], 0
    for path, data in read_yaml_dir(directory, environ):
        for ds in data.get("datasources") or []:
            if not isinstance(ds, dict) or not ds.get("name"):
                raise StartError("Datasource provisioning error: datasource in %s has no name" % path)
            if ds.get("isDefault"):
                defaults += 1
                if defaults > 1:
                    raise StartError("Datasource provisioning error: datasource.yaml config is invalid. Only one "
                                     "datasource per organization can be marked as default")
            datasources.append(dict(ds, id=len(datasources) + 1, orgId=ds.get("orgId", 1),
                                    uid=ds.get("uid") or hashlib.sha1(ds["name"].encode()).hexdigest()[:14],
                                    access=ds.get("access", "proxy"), readOnly=not ds.get("editable", False)))
        log("info", "provisioning.datasources", "inserting datasource from configuration", file=path)
    return datasources


def provision_dashboards(directory, environ):
    dashboards = []
    for path, data in read_yaml_dir(directory, environ):
        for provider in data.get("providers") or []:
            root = ((provider or {}).get("options") or {}).get("path") or ""
            if not os.path.isdir(root):
                log("error", "provisioning.dashboard", "Cannot read directory", error="stat %s: no such file or directory"
                    % root, provider=provider.get("name"))
                continue
            for base, _, files in os.walk(root):
                for name in sorted(files):
                    if not name.endswith(".json"):
                        continue
                    try:
                        with open(os.path.join(base, name)) as handle:
                            board = json.load(handle)
                    except (OSError, ValueError) as exc:
                        log("error", "provisioning.dashboard", "failed to load dashboard from ", file=name, error=str(exc))
                        continue
                    dashboards.append({"uid": board.get("uid") or name[:-5], "title": board.get("title") or name[:-5],
                                       "type": "dash-db", "folderTitle": provider.get("folder") or "General",
                                       "tags": board.get("tags") or []})
    return dashboards


class Grafana(object):
    def __init__(self, settings, environ):
        self.settings = settings
        self.environ = environ
        self.proxy = settings["auth.proxy"]
        self.whitelist = parse_whitelist(self.proxy.get("whitelist", ""))
        self.headers = dict(pair.split(":", 1) for pair in self.proxy.get("headers", "").split() if ":" in pair)
        self.lock = threading.Lock()
        self.requests = {}
        paths = settings["paths"]
        data = paths["data"]
        if not os.path.isdir(paths["plugins"]):
            try:
                os.makedirs(paths["plugins"])
            except OSError as exc:
                raise StartError("mkdir %s: %s" % (paths["plugins"], os.strerror(exc.errno).lower()))
        try:
            self.db = sqlite3.connect(os.path.join(data, "grafana.db"), check_same_thread=False)
            self.db.execute("CREATE TABLE IF NOT EXISTS user (id INTEGER PRIMARY KEY, login TEXT UNIQUE, email TEXT, "
                            "name TEXT, password TEXT, role TEXT, is_admin INTEGER, created TEXT)")
            self.db.commit()
        except sqlite3.Error as exc:
            raise StartError("failed to connect to database: %s: %s" % (os.path.join(data, "grafana.db"),
                                                                        "unable to open database file: permission denied"
                                                                        if "unable to open" in str(exc) else exc))
        security = settings["security"]
        if not self.db.execute("SELECT 1 FROM user WHERE login = ?", (security["admin_user"],)).fetchone():
            self.db.execute("INSERT INTO user (login, email, name, password, role, is_admin, created) VALUES "
                            "(?, ?, '', ?, 'Admin', 1, ?)", (security["admin_user"], security["admin_email"],
                                                            self.digest(security["admin_password"]), self.now()))
            self.db.commit()
            log("info", "sqlstore", "Created default admin", user=security["admin_user"])
        provisioning = paths["provisioning"]
        self.datasources = provision_datasources(os.path.join(provisioning, "datasources"), environ)
        self.dashboards = provision_dashboards(os.path.join(provisioning, "dashboards"), environ)

    @staticmethod
    def now():
        return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")

    @staticmethod
    def digest(password):
        return hashlib.pbkdf2_hmac("sha256", password.encode(), b"grafana-double", 10000).hex()

    def user(self, login):
        with self.lock:
            row = self.db.execute("SELECT id, login, email, name, role, is_admin, created FROM user WHERE login = ?",
                                  (login,)).fetchone()
        if not row:
            return None
        return {"id": row[0], "login": row[1], "email": row[2], "name": row[3], "role": row[4], "isGrafanaAdmin":
                bool(row[5]), "createdAt": row[6]}

    def basic(self, header):
        try:
            login, _, password = base64.b64decode(header.split(" ", 1)[1]).decode().partition(":")
        except (ValueError, IndexError, UnicodeDecodeError):
            return None
        with self.lock:
            row = self.db.execute("SELECT password FROM user WHERE login = ?", (login,)).fetchone()
        return self.user(login) if row and row[0] == self.digest(password) else None

    def proxy_user(self, login, headers):
        """authn ProxyClient: find or (auto_sign_up) create the user; Email/Name/Role from the mapped headers."""
        email = headers.get(self.headers.get("Email", ""), "") if self.headers.get("Email") else ""
        name = headers.get(self.headers.get("Name", ""), "") if self.headers.get("Name") else ""
        role = headers.get(self.headers.get("Role", ""), "") if self.headers.get("Role") else ""
        existing = self.user(login)
        if existing is None:
            if not truthy(self.proxy.get("auto_sign_up", "true")):
                return None
            with self.lock:
                self.db.execute("INSERT INTO user (login, email, name, password, role, is_admin, created) VALUES "
                                "(?, ?, ?, '', ?, 0, ?)", (login, email or login, name, role or
                                                           self.settings["users"]["auto_assign_org_role"], self.now()))
                self.db.commit()
            log("info", "user.sync", "Syncing user info", login=login)
        elif email or name or role:
            with self.lock:
                self.db.execute("UPDATE user SET email = COALESCE(NULLIF(?, ''), email), name = COALESCE(NULLIF(?, ''), "
                                "name), role = COALESCE(NULLIF(?, ''), role) WHERE login = ?", (email, name, role, login))
                self.db.commit()
        return self.user(login)

    def count(self, handler, method, status):
        with self.lock:
            key = (handler, method, str(status))
            self.requests[key] = self.requests.get(key, 0) + 1

    def metrics(self):
        lines = ["# HELP grafana_build_info A metric with a constant '1' value labeled by version, revision, branch, and "
                 "goversion from which Grafana was built", "# TYPE grafana_build_info gauge",
                 'grafana_build_info{branch="HEAD",edition="oss",goversion="go1.24.6",revision="%s",version="%s"} 1'
                 % (COMMIT, VERSION),
                 "# HELP grafana_stat_totals_dashboard total amount of dashboards",
                 "# TYPE grafana_stat_totals_dashboard gauge", "grafana_stat_totals_dashboard %d" % len(self.dashboards),
                 "# HELP grafana_stat_totals_datasource total number of defined datasources, labeled by pluginId",
                 "# TYPE grafana_stat_totals_datasource gauge"]
        types = {}
        for ds in self.datasources:
            types[ds.get("type", "")] = types.get(ds.get("type", ""), 0) + 1
        lines += ['grafana_stat_totals_datasource{plugin_id="%s"} %d' % (t, n) for t, n in sorted(types.items())]
        lines += ["# HELP grafana_http_request_duration_seconds_count Number of requests by handler, method and status",
                  "# TYPE grafana_http_request_duration_seconds_count counter"]
        with self.lock:
            for (handler, method, status), n in sorted(self.requests.items()):
                lines.append('grafana_http_request_duration_seconds_count{handler="%s",method="%s",status_code="%s"} %d'
                             % (handler, method, status, n))
        return "\n".join(lines) + "\n"


def make_handler(grafana):
    settings = grafana.settings

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):
            pass

        def _send(self, status, body=b"", content_type="application/json", headers=None):
            raw = body.encode("utf-8") if isinstance(body, str) else body
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(raw)))
            self.send_header("X-Content-Type-Options", "nosniff")
            for key, value in (headers or {}).items():
                self.send_header(key, value)
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(raw)
            grafana.count(urlsplit(self.path).path if urlsplit(self.path).path.startswith("/api/") else "/",
                          self.command, status)

        def _json(self, status, data):
            self._send(status, json.dumps(data), "application/json")

        def _peer(self):
            ip = ipaddress.ip_address(self.client_address[0])
            return getattr(ip, "ipv4_mapped", None) or ip

        def _identity(self):
            """(user or None, error messageId or None): authn clients in priority order."""
            error = None
            header = grafana.proxy.get("header_name", "X-WEBAUTH-USER")
            if truthy(grafana.proxy.get("enabled")) and self.headers.get(header):
                peer = self._peer()
                if grafana.whitelist and not any(peer in net for net in grafana.whitelist if net.version == peer.version):
                    log("warn", "authn.service", "Failed to authenticate request", client="auth.client.proxy",
                        error="[auth-proxy.invalid-ip] request ip is not in the configured accept list", remote_addr=peer)
                    error = "auth-proxy.invalid-ip"
                else:
                    user = grafana.proxy_user(self.headers[header], self.headers)
                    if user:
                        return user, None
            auth = self.headers.get("Authorization", "")
            if auth.lower().startswith("basic ") and truthy(settings["auth.basic"].get("enabled", "true")):
                user = grafana.basic(auth)
                if user:
                    return user, None
                error = error or "password-auth.failed"
            return None, error

        def _unauthorized(self, path, error):
            if path.startswith("/api/"):
                self._json(401, {"extra": None, "message": "Unauthorized", "messageId": error or "auth.unauthorized",
                                 "statusCode": 401, "traceID": ""})
            else:
                self._send(302, "", "text/html; charset=utf-8",
                           {"Location": "/login", "Set-Cookie": "redirect_to=%s; Path=/; HttpOnly; SameSite=Lax"
                            % quote(self.path, safe="")})

        def do_GET(self):
            path = urlsplit(self.path).path
            if path == "/api/health":
                self._send(200, json.dumps({"database": "ok", "version": VERSION, "commit": COMMIT}, indent=2),
                           "application/json; charset=UTF-8")
                return
            if path == "/metrics" and truthy(settings["metrics"].get("enabled", "true")):
                self._send(200, grafana.metrics(), "text/plain; version=0.0.4; charset=utf-8")
                return
            if path == "/login":
                self._send(200, "<!DOCTYPE html><html><head><title>Grafana</title></head><body>login</body></html>",
                           "text/html; charset=UTF-8")
                return
            user, error = self._identity()
            if user is None:
                self._unauthorized(path, error)
                return
            if path == "/api/user":
                self._json(200, dict(user, orgId=1, isDisabled=False, isExternal=False, theme="", uid="u%05d" % user["id"]))
            elif path == "/api/datasources":
                if user["role"] != "Admin" and not user["isGrafanaAdmin"]:
                    self._json(403, {"accessErrorId": "ACE0000000001", "message": "You'll need additional permissions "
                                     "to perform this action. Permissions needed: datasources:read",
                                     "title": "Access denied"})
                else:
                    self._json(200, grafana.datasources)
            elif path == "/api/search":
                self._json(200, grafana.dashboards)
            elif path.startswith("/api/"):
                self._json(404, {"message": "Not found"})
            else:
                self._send(200, "<!DOCTYPE html><html><head><title>Grafana</title></head><body>%s</body></html>"
                           % user["login"], "text/html; charset=UTF-8")

        do_HEAD = do_GET

    return Handler


class GoListener(ThreadingHTTPServer):
    """net.Listen("tcp", addr) as Go does it: the wildcard ("", 0.0.0.0, ::) is one dual-stack [::] socket (0.0.0.0
    when the kernel has no IPv6); any other address is listened on as given."""
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


def main(argv=None, environ=None):
    argv = list(sys.argv[1:] if argv is None else argv)
    environ = dict(os.environ if environ is None else environ)
    if not argv or argv[0] != "server":
        sys.stderr.write("grafana double: only `grafana server` is reproduced\n")
        return 1
    config, overrides = "/etc/grafana/grafana.ini", []
    for arg in argv[1:]:
        if arg.startswith("--config="):
            config = arg.split("=", 1)[1]
        elif arg.startswith("cfg:"):
            overrides.append(arg)
    if yaml is None:
        sys.stderr.write("grafana double: needs python3-yaml\n")
        return 1
    log("info", "settings", "Starting Grafana", version=VERSION, commit=COMMIT, branch="HEAD", compiled=time.strftime("%Y-%m-%dT%H:%M:%SZ"))
    settings = load_settings(config, overrides, environ)
    try:
        grafana = Grafana(settings, environ)
        server_settings = settings["server"]
        server = GoListener(server_settings.get("http_addr", ""), int(server_settings.get("http_port") or 3000),
                            make_handler(grafana))
    except (StartError, OSError) as exc:
        sys.stderr.write("Error: \u2717 %s\n" % exc)
        log("error", "server", "Failed to start grafana", error=str(exc))
        return 1
    log("info", "http.server", "HTTP Server Listen", address=server.server_address[0], port=server.server_address[1],
        protocol="http", subUrl="", socket="")

    def stop(*_):
        log("info", "server", "Shutdown started", reason="System signal: terminated")
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    server.serve_forever(poll_interval=0.2)
    server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
