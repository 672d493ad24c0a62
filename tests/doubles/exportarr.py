#!/usr/bin/env python3
# -*- coding: utf-8 -*-
# Copyright: monsterr.mediaserver developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A stand-in for exportarr v2.3.0 (ghcr.io/onedr0p/exportarr), the *arr apps' Prometheus exporter, standard
library only. Debian does not package exportarr and no registry can be reached here: the ``exportarr`` test image
(tests/images/exportarr) runs this file as ``/exportarr`` behind tini, as the real image runs its Go binary.

Upstream facts reproduced (onedr0p/exportarr; the v2.3.0 code is the v2 line read at 0cb3186 and 890cb87, whose
config and collectors are identical to the release: internal/config/config.go, internal/arr/config/arr.go,
internal/arr/config/xml_parser.go, internal/commands/root.go and arr.go, internal/arr/collector/status.go,
health.go, rootfolder.go, internal/handlers/healthz.go, internal/client/transport.go; Dockerfile):

- Command line (cobra): the first argument is the app (``sonarr``/``s``, ``radarr``/``r``, ``lidarr``,
  ``readarr``/``b``, ``prowlarr``/``p``); an unknown one is ``Error: unknown command "x" for "exportarr"`` and the
  Go main panics (exit 2). No argument prints the help (exit 0).
- Configuration (koanf): defaults ``log-level=info``, ``log-format=console``, ``port=8081``, ``interface=0.0.0.0``
  (the image sets ``PORT=9707``), then EVERY environment variable lower-cased with ``__`` -> ``.`` and ``_`` ->
  ``-`` (so ``PORT``, ``URL``, ``API_KEY``/``APIKEY``, ``API_KEY_FILE``/``APIKEY_FILE``, ``CONFIG``, ``INTERFACE``,
  ``LOG_LEVEL``, ``AUTH_USERNAME`` ...), then flags (``--port/-p``, ``--url/-u``, ``--api-key/-a``,
  ``--api-key-file``, ``--interface/-i``, ``--log-level/-l``, ``--log-format``, ``--disable-ssl-verify``,
  ``--config/-c``, ``--auth-username``, ``--auth-password``, ``--form-auth``, ``--enable-additional-metrics``,
  ``--enable-unknown-queue-items``). ``api-key-file`` is read and stripped of surrounding white space; a file that
  cannot be read stops the start. ``CONFIG`` names the app's config.xml: its ``ApiKey`` replaces the key, its
  ``Port`` replaces the URL's port and its ``UrlBase`` is appended to the URL.
- Validation, exit 1 with the message on stderr followed by the usage: ``port`` required (non-zero) and an int,
  ``interface`` an IP address, ``log-level`` one of debug/info/warn/error/dpanic/panic/fatal, ``log-format``
  console|json; then for the app: ``url`` required, ``api-key`` required and matching ``^[a-zA-Z0-9]{20,32}$``
  (``regex: api-key must be a 20-32 character alphanumeric string``: a 64-hex key is refused), auth username and
  password only together, ``--form-auth`` needs both.
- Listens on ``<interface>:<port>``; Go's net.Listen on the wildcard 0.0.0.0 opens a dual-stack [::] socket
  (IPv4-mapped), as does this double; a specific address listens on that address only.
- ``/healthz`` answers 200 ``OK``; ``/`` an index page; ``/metrics`` the Prometheus text format with what the
  collectors read from the app's API (``<URL>/api/<v3|v1>/...`` with ``X-Api-Key``, redirects not followed, 4xx
  an error ``Received Client Error Status Code: <code>``, 5xx retried twice):
  ``exportarr_app_info`` (1), ``<app>_system_status`` (1 when ``system/status`` answers a non-empty object, else 0:
  a refused key shows 0), ``<app>_system_health_issues`` (one series per ``health`` item, or one 0 series) and
  ``<app>_rootfolder_freespace_bytes`` (per ``rootfolder``; not for Prowlarr). When a collector that turns
  errors into invalid metrics fails (health, rootfolder: e.g. a refused key), promhttp answers the whole scrape
  with HTTP 500 ``An error has occurred while serving metrics:`` and the errors, as the real exporter does.
- Runs as nonroot (65532:65532) in a distroless image: no shell, so no CMD-SHELL probe can run in it.

Shortcuts (documented, deliberate): the app-specific library collectors (``sonarr_series_total``,
``radarr_movie_total``, queue and history) are not reproduced: the Servarr double has no library to count.
``bazarr`` and ``sabnzbd`` are refused with a message (the catalog does not use them). Basic/form auth flags are
validated but requests always send only ``X-Api-Key``.
"""

from __future__ import absolute_import, division, print_function

import errno
import ipaddress
import json
import os
import re
import signal
import socket
import sys
import threading
import urllib.error
import urllib.parse
import urllib.request
import xml.etree.ElementTree as ElementTree
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

VERSION = "v2.3.0"
# app -> (aliases, api version, has root folders)
APPS = {
    "radarr": (("r",), "v3", True),
    "sonarr": (("s",), "v3", True),
    "lidarr": ((), "v1", True),
    "readarr": (("b",), "v1", True),
    "prowlarr": (("p",), "v1", False),
}
REFUSED_APPS = ("bazarr", "sabnzbd")
LOG_LEVELS = ("debug", "info", "warn", "error", "dpanic", "panic", "fatal")
API_KEY_RE = re.compile(r"^[a-zA-Z0-9]{20,32}$")
# flag -> (short, takes a value)
ROOT_FLAGS = {"log-level": ("l", True), "log-format": (None, True), "url": ("u", True), "api-key": ("a", True),
              "api-key-file": (None, True), "disable-ssl-verify": (None, False), "interface": ("i", True),
              "port": ("p", True)}
ARR_FLAGS = {"config": ("c", True), "auth-username": (None, True), "auth-password": (None, True),
             "form-auth": (None, False), "enable-unknown-queue-items": (None, False),
             "enable-additional-metrics": (None, False), "basic-auth-username": (None, True),
             "basic-auth-password": (None, True)}
PROWLARR_FLAGS = {"backfill": (None, False), "backfill-since-date": (None, True)}


class Exit(Exception):
    def __init__(self, code, message=""):
        Exception.__init__(self, message)
        self.code = code
        self.message = message


def log(level, message, **fields):
    """zap's console encoder: time, level, message, then the fields as JSON."""
    stamp = datetime.now().astimezone().strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + datetime.now().astimezone().strftime("%z")
    line = "%s\t%s\t%s" % (stamp, level.upper(), message)
    if fields:
        line += "\t" + json.dumps(fields)
    print(line, flush=True)


def usage(app):
    flags = dict(ROOT_FLAGS)
    if app:
        flags.update(ARR_FLAGS)
        if app == "prowlarr":
            flags.update(PROWLARR_FLAGS)
    lines = ["Usage:", "  exportarr %s [flags]" % app if app else "  exportarr [command]", "", "Flags:"]
    for name in sorted(flags):
        if name.startswith("basic-auth-"):
            continue    # hidden by the normalize function, as upstream
        short, _ = flags[name]
        lines.append("  %s--%s" % (("-%s, " % short) if short else "    ", name))
    if not app:
        lines += ["", "Available Commands:"] + ["  %s" % a for a in sorted(APPS)]
    return "\n".join(lines) + "\n"


def env_key(name):
    """koanf's env transform in exportarr: lower case, __ -> ., _ -> -, then the v1 spellings."""
    key = name.lower().replace("__", ".").replace("_", "-")
    return {"apikey-file": "api-key-file", "apikey": "api-key"}.get(key, key)


def parse_flags(args, known):
    """pflag parsing of --name value, --name=value, -s value and boolean flags; returns ({name: value}, rest)."""
    values, rest = {}, []
    shorts = dict((short, name) for name, (short, _) in known.items() if short)
    i = 0
    while i < len(args):
        arg = args[i]
        if arg.startswith("--") and len(arg) > 2:
            name, eq, value = arg[2:].partition("=")
        elif arg.startswith("-") and len(arg) == 2 and arg[1] in shorts:
            name, eq, value = shorts[arg[1]], "", ""
        elif arg.startswith("-") and len(arg) > 1:
            raise Exit(1, "Error: unknown shorthand flag: '%s' in %s" % (arg[1], arg))
        else:
            rest.append(arg)
            i += 1
            continue
        name = {"basic-auth-username": "auth-username", "basic-auth-password": "auth-password"}.get(name, name)
        if name not in known:
            raise Exit(1, "Error: unknown flag: --%s" % name)
        if known[name][1]:
            if not eq:
                i += 1
                if i >= len(args):
                    raise Exit(1, "Error: flag needs an argument: --%s" % name)
                value = args[i]
            values[name] = value
        else:
            values[name] = value.lower() not in ("false", "0", "f") if eq else True
        i += 1
    return values, rest


def truthy(value):
    return str(value).strip().lower() in ("1", "t", "true", "yes", "y", "on")


def load_config(app, environ, flag_values):
    """The base config then the app's (config.LoadConfig, arr config.LoadArrConfig); raises Exit as upstream."""
    conf = {"log-level": "info", "log-format": "console", "port": "8081", "interface": "0.0.0.0"}
    for name, value in environ.items():
        conf[env_key(name)] = value
    conf.update(flag_values)
    if conf.get("api-key-file"):
        try:
            with open(conf["api-key-file"]) as handle:
                conf["api-key"] = handle.read().strip()
        except OSError as exc:
            raise Exit(1, "couldn't Read API Key file open %s: %s" % (conf["api-key-file"], os.strerror(exc.errno).lower()))
    try:
        port = int(str(conf.get("port") or "0"))
    except ValueError:
        raise Exit(1, "1 error(s) decoding:\n\n* cannot parse 'port' as int: strconv.ParseInt: parsing %s: invalid syntax"
                   % json.dumps(str(conf.get("port"))))
    errors = []
    if conf["log-level"] not in LOG_LEVELS:
        errors.append(("LogLevel", "ValidateLogLevel", "log-level must be one of: debug, info, warn, error, dpanic, panic, fatal"))
    if conf["log-format"] not in ("console", "json"):
        errors.append(("LogFormat", "in", "log-format value must be in the enum [console json]"))
    if not port:
        errors.append(("Port", "required", "port is required to not be empty"))
    interface = str(conf.get("interface") or "")
    try:
        ipaddress.ip_address(interface)
    except ValueError:
        errors.append(("Interface", "required" if not interface else "ip",
                       "interface is required to not be empty" if not interface else "interface value should be an IP string"))
    if errors:
        raise Exit(1, format_errors(errors))
    if not app:
        return conf, port
    if conf.get("config"):
        merge_xml(conf)
    url = str(conf.get("url") or "")
    errors = []
    if not url:
        errors.append(("URL", "required", "url is required to not be empty"))
    else:
        try:
            urllib.parse.urlsplit(url).port  # noqa: B018 - raises on a bad port, as url.Parse does
        except ValueError:
            errors.append(("URL", "url", "url value should be a URL string"))
    key = str(conf.get("api-key") or "")
    if not key:
        errors.append(("ApiKey", "required", "api-key is required to not be empty"))
    elif not API_KEY_RE.match(key):
        errors.append(("ApiKey", "regex", "api-key must be a 20-32 character alphanumeric string"))
    if errors:
        raise Exit(1, format_errors(errors))
    user, password = conf.get("auth-username") or "", conf.get("auth-password") or ""
    if password and not user:
        raise Exit(1, "auth-username is required when auth-password is set")
    if user and not password:
        raise Exit(1, "auth-password is required when auth-username is set")
    if truthy(conf.get("form-auth", False)) and not (user and password):
        raise Exit(1, "auth-username and auth-password are required when form-auth is set")
    return conf, port


def format_errors(errors):
    """gookit/validate's Errors.String(): 'Field:\\n validator: message' per field."""
    out = {}
    for field, validator, message in errors:
        out.setdefault(field, []).append(" %s: %s" % (validator, message))
    return "\n".join("%s:\n%s" % (field, "\n".join(lines)) for field, lines in out.items())


def merge_xml(conf):
    """xml_parser.go Merge: the config.xml's ApiKey wins, its Port replaces the URL's port, UrlBase is appended."""
    try:
        root = ElementTree.parse(conf["config"]).getroot()
    except OSError as exc:
        raise Exit(1, "open %s: %s" % (conf["config"], os.strerror(exc.errno).lower()))
    except ElementTree.ParseError as exc:
        raise Exit(1, "XML syntax error: %s" % exc)
    if root.tag != "Config":
        raise Exit(1, "expected element type <Config> but have <%s>" % root.tag)
    api_key = (root.findtext("ApiKey") or "").strip()
    if api_key:
        conf["api-key"] = api_key
    parts = urllib.parse.urlsplit(str(conf.get("url") or ""))
    netloc = parts.netloc
    port = (root.findtext("Port") or "").strip()
    if port:
        netloc = "%s:%s" % (parts.hostname or "", port)
    path = "/".join(p for p in (parts.path.rstrip("/"), (root.findtext("UrlBase") or "").strip().strip("/")) if p)
    conf["url"] = urllib.parse.urlunsplit((parts.scheme, netloc, ("/" + path.lstrip("/")) if path else "", parts.query, ""))


class ClientError(Exception):
    pass


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


class ArrClient(object):
    """internal/client: GET <url>/api/<version>/<endpoint> with X-Api-Key; transport.go's error handling."""

    def __init__(self, url, version, api_key):
        self.base = "%s/api/%s" % (url.rstrip("/"), version)
        self.api_key = api_key
        self.opener = urllib.request.build_opener(NoRedirect())

    def get(self, endpoint):
        url = "%s/%s" % (self.base, endpoint)
        log("info", "Sending HTTP request", url=url)
        request = urllib.request.Request(url, headers={"X-Api-Key": self.api_key})
        error = None
        for _ in range(3):
            try:
                with self.opener.open(request, timeout=30) as response:
                    return json.loads(response.read().decode("utf-8") or "null")
            except urllib.error.HTTPError as exc:
                if exc.code >= 500:
                    error = "Received Server Error Status Code: %d" % exc.code
                    continue
                if 300 <= exc.code < 400:
                    raise ClientError('Failed to execute HTTP Request(%s): Get "%s": Received Redirect Status Code: %d, '
                                      'Location: %s' % (url, url, exc.code, exc.headers.get("Location", "")))
                raise ClientError('Failed to execute HTTP Request(%s): Get "%s": Received Client Error Status Code: %d'
                                  % (url, url, exc.code))
            except (urllib.error.URLError, OSError) as exc:
                error = "Error sending HTTP Request: %s" % getattr(exc, "reason", exc)
                continue
            except ValueError as exc:
                raise ClientError("Recovered from panic: %s" % exc)
        raise ClientError('Failed to execute HTTP Request(%s): Get "%s": %s' % (url, url, error))


def escape_label(value):
    return str(value).replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


class Exporter(object):
    def __init__(self, app, conf):
        self.app = app
        self.url = conf["url"]
        self.client = ArrClient(conf["url"], APPS[app][1], conf["api-key"])
        self.lock = threading.Lock()

    def gather(self):
        """(families, errors): [(name, help, type, [(labels, value)])], [error text]."""
        url = {"url": self.url}
        families = [("exportarr_app_info", "A metric with a constant '1' value labeled by app name, version, build time, "
                     "and revision.", "gauge",
                     [({"app_name": "exportarr", "build_time": "", "revision": "", "version": VERSION}, 1)])]
        errors = []
        try:
            status = self.client.get("system/status")
            up = 1 if isinstance(status, dict) and status else 0
        except ClientError:
            up = 0
        families.append(("%s_system_status" % self.app, "System Status", "gauge", [(url, up)]))
        try:
            health = self.client.get("health") or []
            samples = [(dict(url, source=h.get("source", ""), type=h.get("type", ""), message=h.get("message", ""),
                             wikiurl=h.get("wikiUrl", "")), 1) for h in health] or \
                [(dict(url, source="", type="", message="", wikiurl=""), 0)]
            families.append(("%s_system_health_issues" % self.app,
                             "Total number of health issues by source, type, message and wikiurl", "gauge", samples))
        except (ClientError, AttributeError) as exc:
            errors.append(self.invalid("%s_health_collector_error" % self.app, exc))
        if APPS[self.app][2]:
            try:
                folders = self.client.get("rootfolder") or []
                families.append(("%s_rootfolder_freespace_bytes" % self.app, "Root folder space in bytes by path", "gauge",
                                 [(dict(url, path=f.get("path", "")), f.get("freeSpace", 0) or 0) for f in folders]))
            except (ClientError, AttributeError) as exc:
                errors.append(self.invalid("%s_rootfolder_collector_error" % self.app, exc))
        return families, errors

    def invalid(self, name, exc):
        return ('error collecting metric Desc{fqName: "%s", help: "Error while collecting metrics", constLabels: '
                '{url="%s"}, variableLabels: {}}: %s' % (name, self.url, exc))

    def render(self):
        families, errors = self.gather()
        if errors:
            body = "An error has occurred while serving metrics:\n\n%d error(s) occurred:\n%s\n" % (
                len(errors), "\n".join("* " + e for e in errors))
            return 500, body
        lines = []
        for name, help_text, kind, samples in families:
            if not samples:
                continue
            lines.append("# HELP %s %s" % (name, help_text))
            lines.append("# TYPE %s %s" % (name, kind))
            for labels, value in samples:
                rendered = ",".join('%s="%s"' % (k, escape_label(v)) for k, v in sorted(labels.items()))
                lines.append("%s{%s} %s" % (name, rendered, repr(float(value)) if isinstance(value, float) else value))
        return 200, "\n".join(lines) + "\n"


def make_handler(exporter, app):
    class Handler(BaseHTTPRequestHandler):
        server_version = ""
        sys_version = ""

        def log_message(self, *args):
            pass

        def version_string(self):
            return ""

        def _send(self, status, body, content_type):
            raw = body.encode("utf-8")
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(raw)

        def do_GET(self):
            path = urllib.parse.urlsplit(self.path).path
            if path == "/metrics":
                status, body = exporter.render()
                self._send(status, body, "text/plain; version=0.0.4; charset=utf-8" if status == 200
                           else "text/plain; charset=utf-8")
            elif path == "/healthz":
                self._send(200, "OK", "text/plain; charset=utf-8")
            else:
                self._send(200, "<html><head><title>Exportarr</title></head><body><h1>Exportarr</h1><p>%s</p>"
                                "<p><a href=\"/metrics\">Metrics</a></p></body></html>" % app, "text/html; charset=utf-8")

        do_HEAD = do_GET

    return Handler


class GoListener(ThreadingHTTPServer):
    """net.Listen("tcp", "<interface>:<port>") as Go does it: the wildcard (0.0.0.0 or ::) is one dual-stack
    [::] socket when the kernel has IPv6; any other address is listened on as given."""
    daemon_threads = True

    def __init__(self, interface, port, handler):
        self.dual = ipaddress.ip_address(interface).is_unspecified and socket.has_ipv6
        if self.dual:
            self.address_family = socket.AF_INET6
        elif ipaddress.ip_address(interface).version == 6:
            self.address_family = socket.AF_INET6
        try:
            ThreadingHTTPServer.__init__(self, ("::" if self.dual else interface, port), handler)
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
    app = ""
    try:
        flag_values, rest = parse_flags(argv, dict(ROOT_FLAGS, **dict(ARR_FLAGS, **PROWLARR_FLAGS)))
        if not rest:
            sys.stdout.write("exportarr is a Prometheus exporter for *arr applications.\n\n" + usage(""))
            return 0
        name = rest[0]
        app = next((a for a, (aliases, _, _) in APPS.items() if name == a or name in aliases), None)
        if app is None and name in REFUSED_APPS:
            raise Exit(1, "exportarr double: %s is not reproduced (only %s)" % (name, ", ".join(sorted(APPS))))
        if app is None:
            sys.stderr.write('Error: unknown command "%s" for "exportarr"\nRun \'exportarr --help\' for usage.\n' % name)
            sys.stderr.write('panic: unknown command "%s" for "exportarr"\n\ngoroutine 1 [running]:\nmain.main()\n' % name)
            return 2
        conf, port = load_config(app, environ, flag_values)
    except Exit as exc:
        sys.stderr.write(exc.message + "\n")
        sys.stderr.write(usage(app))
        return exc.code
    log("info", "Starting exportarr", app_name="exportarr", version=VERSION, buildTime="", revision="")
    exporter = Exporter(app, conf)
    try:
        server = GoListener(conf["interface"], port, make_handler(exporter, app))
    except OSError as exc:
        log("fatal", "Failed to Start HTTP Server", error="listen tcp %s:%d: %s" % (conf["interface"], port, exc))
        return 1
    log("info", "Starting HTTP Server", interface=conf["interface"], port=port)

    def stop(signum, _frame):
        log("info", "Shutting down due to signal: %s" % signal.Signals(signum).name.lower())
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    server.serve_forever(poll_interval=0.2)
    server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
