#!/usr/bin/env python3
# -*- coding: utf-8 -*-
# Copyright: monsterr.mediaserver developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A test double of Authelia 4.39 for the proxy (nginx auth_request), python3 with Debian's python3-yaml and
python3-argon2 (the Authelia image cannot be pulled here).

It reads the configuration.yml and users_database.yml the authelia layer renders and answers what nginx and a
browser ask, the way Authelia 4.39 does (read at tag v4.39.20: internal/handlers/handler_authz*.go,
internal/authorization/access_control_rule.go, internal/middlewares/authelia_context.go; facts also in
../shared/contracts/authelia/SOURCES.md):

- ``GET|HEAD /api/authz/auth-request`` (implementation AuthRequest, the endpoint of
  ``server.endpoints.authz.auth-request``). The target is ``X-Original-URL`` + ``X-Original-Method``; missing,
  unparsable, not https/wss, or outside every ``session.cookies[].domain``: 401. The client address is the first
  ``X-Forwarded-For`` entry, else the peer. Access rules are evaluated in order, first match wins (domain with
  ``*.`` wildcards, domain_regex, resources regexes on path?query, methods, networks, subject; an anonymous
  request matches rules with a subject, as upstream's MatchesSubjects does), else ``default_policy``. Then:
  bypass, or a session whose level suffices: 200 ``200 OK`` with ``Remote-User``, ``Remote-Groups`` (comma
  joined), ``Remote-Name``, ``Remote-Email`` (first address); deny for a signed-in user, or for anyone when the
  rule has no subject: 403 ``403 Forbidden``; otherwise 401 with ``Location:
  <authelia_url>/?rd=<target>&rm=<method>`` and body ``<a href="...">401 Unauthorized</a>`` (no body for HEAD).
- ``POST /api/firstfactor`` ``{"username", "password", "keepMeLoggedIn", "targetURL", "requestMethod"}``: the
  argon2id digest in users_database.yml is verified (argon2-cffi; the file is re-read when it changes, as
  ``watch: true``); success regenerates the session and sets ``<cookie name>=<id>; domain=<cookie domain>;
  path=/; HttpOnly; secure; SameSite=<same_site>`` for the cookie domain of the request's host, and answers
  ``{"status": "OK"}`` (plus ``data.redirect`` when the target needs no more than one factor). Failure: 401
  ``{"status": "KO", "message": "Authentication failed. Check your credentials."}`` and the error line upstream
  logs (``Unsuccessful 1FA authentication attempt by user 'x'``); ``regulation`` bans the user name after
  max_retries failures within find_time, for ban_time.
- ``POST /api/secondfactor/totp`` ``{"token"}`` with a one-factor session: level two_factor, or 401
  ``{"status": "KO", "message": "Authentication failed, please retry later."}``; without a session 403.
- ``GET /api/state``, ``POST /api/logout``, ``GET|HEAD /api/health`` (``{"status": "OK"}``), ``GET /`` (a portal
  page), and Prometheus text on ``telemetry.metrics.address`` when enabled.
- Sessions honour ``expiration``, ``inactivity`` and ``remember_me``; the user's groups, name and e-mail are
  read from users_database.yml at each check (a removed or disabled user loses the session).
- Logs in logrus text or json format (``log.format``) to stdout and ``log.file_path``.
- Listens like the Go server: on the wildcard (``tcp://:9091/``, the default bind here) one dual-stack ``[::]``
  socket that also takes IPv4 (so a busybox ``wget http://localhost:9091`` that tries ``[::1]`` first reaches it);
  a specific ``--bind`` address is listened on as given.

Shortcuts (documented, deliberate): sessions live in memory, not in Redis; TOTP registration (identity
verification by mail, WebAuthn) does not exist: every user has one TOTP device registered whose base32 secret is
``base32(HMAC-SHA256(storage.encryption_key, "monsterr-double-totp:" + username)[:20])`` (see ``totp_secret``),
so a test that holds the storage key can compute the codes; no Proxy-Authorization (basic) strategy, no OIDC,
no passkeys; ``access_control.rules[].query`` and the legacy/ForwardAuth/ExtAuthz endpoints are refused at start.

Run: ``python3 tests/doubles/authelia.py --config /config/configuration.yml``.
"""

from __future__ import absolute_import, division, print_function

import argparse
import base64
import hashlib
import hmac
import ipaddress
import json
import os
import re
import secrets
import signal
import socket
import sqlite3
import struct
import sys
import threading
import time
from collections import Counter
from datetime import datetime, timezone
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlencode, urlsplit

try:
    import yaml
except ImportError:  # pragma: no cover - reported at start
    yaml = None
try:
    from argon2 import PasswordHasher
    from argon2.exceptions import InvalidHash, VerificationError, VerifyMismatchError
except ImportError:  # pragma: no cover - reported at start
    PasswordHasher = None

VERSION = "4.39.13-double"
LEVELS = {"bypass": 0, "one_factor": 1, "two_factor": 2, "deny": 3}
NOT_AUTHENTICATED, ONE_FACTOR, TWO_FACTOR = 0, 1, 2
MSG_AUTH_FAILED = "Authentication failed. Check your credentials."
MSG_MFA_FAILED = "Authentication failed, please retry later."
_DURATION = re.compile(r"^\s*(\d+)\s*(ms|s|m|h|d|w|M|y)?\s*$")
_UNITS = {"ms": 0.001, "s": 1, None: 1, "m": 60, "h": 3600, "d": 86400, "w": 604800, "M": 2592000, "y": 31536000}


class ConfigError(Exception):
    pass


def duration(value, default):
    """Seconds of an Authelia duration (an integer of seconds or 90s, 5m, 1h, 1d, 1w, 1M, 1y)."""
    if value is None or value == "":
        return default
    if isinstance(value, int):
        return value
    found = _DURATION.match(str(value))
    if not found:
        raise ConfigError("duration %r: this double understands <number><ms|s|m|h|d|w|M|y>" % value)
    return int(found.group(1)) * _UNITS[found.group(2)]


def address_port(address, default):
    """The port of an Authelia address such as tcp://:9091/ or tcp://0.0.0.0:9959/metrics."""
    if not address:
        return default
    found = re.match(r"^(?:tcp[46]?://)?[^:/]*:(\d+)", str(address))
    if not found:
        raise ConfigError("address %r has no port" % address)
    return int(found.group(1))


def totp_secret(storage_key, username):
    """The base32 secret of the one TOTP device every user has in this double (documented shortcut)."""
    digest = hmac.new(storage_key.encode(), ("monsterr-double-totp:" + username).encode(), hashlib.sha256).digest()
    return base64.b32encode(digest[:20]).decode()


def totp_code(secret, at=None, period=30, digits=6, algorithm="SHA1"):
    """RFC 6238 code of a base32 secret at a time (seconds)."""
    key = base64.b32decode(secret + "=" * (-len(secret) % 8))
    counter = int((time.time() if at is None else at) // period)
    mac = hmac.new(key, struct.pack(">Q", counter), getattr(hashlib, algorithm.lower())).digest()
    offset = mac[-1] & 0x0F
    value = (struct.unpack(">I", mac[offset:offset + 4])[0] & 0x7FFFFFFF) % (10 ** digits)
    return str(value).zfill(digits)


# ------------------------------------------------------------------------------------------------
# Configuration and users

class Rule(object):
    def __init__(self, index, raw, named_networks):
        unknown = set(raw) - {"domain", "domain_regex", "policy", "subject", "networks", "resources", "methods"}
        if unknown:
            raise ConfigError("access_control.rules[%d]: %s not supported by this double" % (index, ", ".join(sorted(unknown))))
        if raw.get("policy") not in LEVELS:
            raise ConfigError("access_control.rules[%d]: policy %r" % (index, raw.get("policy")))
        self.index = index
        self.policy = raw["policy"]
        self.domains = [d.lower() for d in _as_list(raw.get("domain"))]
        self.domain_regex = [re.compile(r) for r in _as_list(raw.get("domain_regex"))]
        if not self.domains and not self.domain_regex:
            raise ConfigError("access_control.rules[%d] has neither domain nor domain_regex" % index)
        self.resources = [re.compile(r) for r in _as_list(raw.get("resources"))]
        self.methods = [m.upper() for m in _as_list(raw.get("methods"))]
        self.networks = []
        for entry in _as_list(raw.get("networks")):
            if entry in named_networks:
                self.networks.extend(named_networks[entry])
            else:
                self.networks.append(ipaddress.ip_network(entry, strict=False))
        subject = raw.get("subject")
        if isinstance(subject, str):
            subject = [subject]
        self.subjects = [[s] if isinstance(s, str) else list(s) for s in subject or []]

    def _domain(self, host):
        for domain in self.domains:
            if domain.startswith("*."):
                if host.endswith(domain[1:]):
                    return True
            elif host == domain:
                return True
        return any(r.search(host) for r in self.domain_regex)

    def _subject(self, user):
        if not self.subjects:
            return True
        if user is None:
            return True          # upstream: an anonymous request matches rules with a subject (then 401 to sign in)
        for group in self.subjects:
            if all(_subject_matches(s, user) for s in group):
                return True
        return False

    def matches(self, host, path, method, ip, user):
        return (self._domain(host)
                and (not self.resources or any(r.search(path) for r in self.resources))
                and (not self.methods or method in self.methods)
                and (not self.networks or (ip is not None and any(ip in n for n in self.networks)))
                and self._subject(user))


def _subject_matches(subject, user):
    if subject.startswith("user:"):
        return subject[5:] == user["username"]
    if subject.startswith("group:"):
        return subject[6:] in user["groups"]
    return False


def _as_list(value):
    if value is None:
        return []
    return [value] if isinstance(value, str) else list(value)


class Config(object):
    def __init__(self, path):
        if yaml is None:
            raise ConfigError("python3-yaml is missing")
        with open(path) as handle:
            raw = yaml.safe_load(handle) or {}
        self.raw = raw
        server = raw.get("server") or {}
        self.port = address_port(server.get("address"), 9091)
        endpoints = (server.get("endpoints") or {}).get("authz") or {}
        self.authz = {}
        for name, endpoint in endpoints.items():
            implementation = (endpoint or {}).get("implementation")
            if implementation != "AuthRequest":
                raise ConfigError("server.endpoints.authz.%s: implementation %r; this double implements AuthRequest only"
                                  % (name, implementation))
            self.authz["/api/authz/" + name] = implementation
        if not self.authz:
            self.authz["/api/authz/auth-request"] = "AuthRequest"   # upstream registers it among its defaults
        log = raw.get("log") or {}
        self.log_level = log.get("level", "info")
        self.log_format = log.get("format", "text")
        self.log_file = log.get("file_path") or ""
        self.log_stdout = bool(log.get("keep_stdout", True)) or not self.log_file
        metrics = (raw.get("telemetry") or {}).get("metrics") or {}
        self.metrics_port = address_port(metrics.get("address"), 9959) if metrics.get("enabled") else None
        backend = (raw.get("authentication_backend") or {}).get("file") or {}
        if not backend.get("path"):
            raise ConfigError("authentication_backend.file.path is required (the double has the file backend only)")
        self.users_path = backend["path"]
        acl = raw.get("access_control") or {}
        self.default_policy = acl.get("default_policy", "deny")
        named = dict((n["name"], [ipaddress.ip_network(x, strict=False) for x in _as_list(n["networks"])])
                     for n in acl.get("networks") or [])
        self.rules = [Rule(i, r, named) for i, r in enumerate(acl.get("rules") or [])]
        session = raw.get("session") or {}
        self.cookies = []
        for cookie in session.get("cookies") or []:
            url = cookie.get("authelia_url") or ""
            if not url.startswith("https://"):
                raise ConfigError("session.cookies[].authelia_url %r is not https" % url)
            self.cookies.append({
                "domain": cookie["domain"].lower().lstrip("."),
                "authelia_url": url,
                "name": cookie.get("name", session.get("name", "authelia_session")),
                "same_site": cookie.get("same_site", session.get("same_site", "lax")),
                "expiration": duration(cookie.get("expiration", session.get("expiration")), 3600),
                "inactivity": duration(cookie.get("inactivity", session.get("inactivity")), 300),
                "remember_me": duration(cookie.get("remember_me", session.get("remember_me")), 2592000),
                "default_redirection_url": cookie.get("default_redirection_url", ""),
            })
        if not self.cookies:
            raise ConfigError("session.cookies is empty")
        regulation = raw.get("regulation") or {}
        self.max_retries = int(regulation.get("max_retries", 3))
        self.find_time = duration(regulation.get("find_time"), 120)
        self.ban_time = duration(regulation.get("ban_time"), 300)
        totp = raw.get("totp") or {}
        self.totp = {"period": int(totp.get("period", 30)), "digits": int(totp.get("digits", 6)),
                     "algorithm": totp.get("algorithm", "SHA1"), "skew": int(totp.get("skew", 1))}
        storage = raw.get("storage") or {}
        self.storage_key = storage.get("encryption_key") or ""
        if len(self.storage_key) < 20:
            raise ConfigError("storage.encryption_key must be at least 20 characters (as upstream)")
        self.storage_path = (storage.get("local") or {}).get("path") or ""

    def cookie_for(self, host):
        host = (host or "").lower()
        for cookie in self.cookies:
            if host == cookie["domain"] or host.endswith("." + cookie["domain"]):
                return cookie
        return None

    def required(self, host, path, method, ip, user):
        """(rule has a subject, policy) of the first matching rule, else the default policy."""
        for rule in self.rules:
            if rule.matches(host, path, method, ip, user):
                return bool(rule.subjects), rule.policy
        return False, self.default_policy


class Users(object):
    """users_database.yml, re-read when it changes (watch: true)."""

    def __init__(self, path):
        self.path = path
        self.mtime = None
        self.users = {}
        self.lock = threading.Lock()
        self.hasher = PasswordHasher() if PasswordHasher else None

    def _load(self):
        mtime = os.stat(self.path).st_mtime_ns
        if mtime != self.mtime:
            with open(self.path) as handle:
                self.users = (yaml.safe_load(handle) or {}).get("users") or {}
            self.mtime = mtime

    def get(self, username):
        with self.lock:
            self._load()
            entry = self.users.get(username)
        if not isinstance(entry, dict) or entry.get("disabled"):
            return None
        emails = entry.get("email") or []
        return {"username": username, "groups": [str(g) for g in entry.get("groups") or []],
                "displayname": str(entry.get("displayname", "")), "emails": _as_list(emails),
                "password": str(entry.get("password", ""))}

    def verify(self, username, password):
        user = self.get(username)
        if user is None:
            return None, "user not found"
        digest = user["password"]
        if not digest.startswith("$argon2"):
            return None, "digest of user '%s' is not argon2 (this double verifies argon2 only)" % username
        try:
            self.hasher.verify(digest, password)
        except VerifyMismatchError:
            return None, "invalid credentials"
        except (InvalidHash, VerificationError) as exc:
            return None, "digest of user '%s': %s" % (username, exc)
        return user, None


# ------------------------------------------------------------------------------------------------
# Logging (logrus text or json)

class Logger(object):
    ORDER = ["trace", "debug", "info", "warn", "error"]

    def __init__(self, config):
        self.config = config
        self.lock = threading.Lock()
        self.handle = None
        if config.log_file:
            os.makedirs(os.path.dirname(config.log_file) or ".", exist_ok=True)
            self.handle = open(config.log_file, "a", buffering=1)

    def log(self, level, msg, **fields):
        if self.ORDER.index(level if level in self.ORDER else "info") < self.ORDER.index(self.config.log_level):
            return
        stamp = datetime.now(timezone.utc).astimezone().isoformat(timespec="seconds")
        if self.config.log_format == "json":
            line = json.dumps(dict(fields, time=stamp, level=level, msg=msg), sort_keys=True)
        else:
            parts = ["time=%s" % _logfmt(stamp), "level=%s" % level, "msg=%s" % _logfmt(msg)]
            parts += ["%s=%s" % (k, _logfmt(str(v))) for k, v in sorted(fields.items())]
            line = " ".join(parts)
        with self.lock:
            if self.config.log_stdout:
                sys.stdout.write(line + "\n")
                sys.stdout.flush()
            if self.handle:
                self.handle.write(line + "\n")


def _ban_time(until):
    """Upstream's FormatExpiresLong: 3:04:05PM on January 2 2006 (-07:00)."""
    moment = datetime.fromtimestamp(until).astimezone()
    offset = moment.strftime("%z")
    return "%d:%s on %s %d %d (%s:%s)" % (moment.hour % 12 or 12, moment.strftime("%M:%S%p"), moment.strftime("%B"),
                                          moment.day, moment.year, offset[:3], offset[3:])


def _logfmt(value):
    if value and re.match(r"^[A-Za-z0-9._/:@+-]+$", value):
        return value
    return json.dumps(value)


# ------------------------------------------------------------------------------------------------
# The server

class Storage(object):
    """storage.local: the SQLite file Authelia opens (and migrates) at start, failing to start when it cannot
    (internal/storage/sqlite_provider.go; the schema of authentication_logs from internal/storage/migrations/
    V0001.Initial_Schema.up.sql), and where Regulator.Mark appends one row per sign-in attempt
    (internal/regulation/regulator.go -> AppendAuthenticationLog). Only that table is kept by the double."""

    SCHEMA = (
        "CREATE TABLE IF NOT EXISTS authentication_logs (id INTEGER PRIMARY KEY AUTOINCREMENT, "
        "time TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP, successful BOOLEAN NOT NULL, banned BOOLEAN NOT NULL "
        "DEFAULT FALSE, username VARCHAR(100) NOT NULL, auth_type VARCHAR(8) NOT NULL DEFAULT '1FA', remote_ip "
        "VARCHAR(39) NULL DEFAULT NULL, request_uri TEXT, request_method VARCHAR(8) NOT NULL DEFAULT '')")

    def __init__(self, path):
        self.path = path
        self.lock = threading.Lock()
        self.db = None
        if path:
            try:
                self.db = sqlite3.connect(path, check_same_thread=False)
                self.db.execute(self.SCHEMA)
                self.db.commit()
            except sqlite3.Error as exc:
                raise OSError("storage: failed to open %s: %s" % (path, exc))

    def append(self, username, successful, banned, auth_type, remote_ip, uri, method):
        if self.db is None:
            return
        with self.lock:
            self.db.execute("INSERT INTO authentication_logs (successful, banned, username, auth_type, remote_ip, "
                            "request_uri, request_method) VALUES (?, ?, ?, ?, ?, ?, ?)",
                            (successful, banned, username, auth_type, remote_ip, uri, method))
            self.db.commit()


class State(object):
    def __init__(self, config):
        self.config = config
        self.users = Users(config.users_path)
        self.log = Logger(config)
        self.storage = Storage(config.storage_path)
        self.sessions = {}
        self.failures = {}
        self.bans = {}
        self.lock = threading.Lock()
        self.metrics = Counter()

    # sessions -------------------------------------------------------------------------------------
    def session(self, cookie_header, cookie):
        """The live session dict for the request's cookie, or None (expired/inactive sessions are dropped)."""
        if cookie is None:
            return None, None
        wanted = None
        for part in (cookie_header or "").split(";"):
            key, _, value = part.strip().partition("=")
            if key == cookie["name"]:
                wanted = value
        now = time.time()
        with self.lock:
            data = self.sessions.get(wanted)
            if data is None or data["domain"] != cookie["domain"]:
                return wanted, None
            limit = data["remember_me"] and cookie["remember_me"] or cookie["expiration"]
            if now - data["created"] > limit or (not data["remember_me"] and now - data["last"] > cookie["inactivity"]):
                del self.sessions[wanted]
                return wanted, None
            data["last"] = now
            return wanted, data

    def new_session(self, cookie, username, level, remember_me, old=None):
        sid = secrets.token_urlsafe(24)
        now = time.time()
        with self.lock:
            if old:
                self.sessions.pop(old, None)
            self.sessions[sid] = {"username": username, "level": level, "domain": cookie["domain"],
                                  "remember_me": bool(remember_me), "created": now, "last": now}
        return sid

    # regulation -----------------------------------------------------------------------------------
    def banned_until(self, username):
        with self.lock:
            until = self.bans.get(username, 0)
            return until if until > time.time() else 0

    def mark(self, username, success):
        now = time.time()
        with self.lock:
            if success:
                self.failures.pop(username, None)
                return
            recent = [t for t in self.failures.get(username, []) if now - t <= self.config.find_time] + [now]
            self.failures[username] = recent
            if self.config.max_retries > 0 and len(recent) >= self.config.max_retries:
                self.bans[username] = now + self.config.ban_time
                self.failures[username] = []


def make_handler(state):
    config = state.config

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        def version_string(self):
            return "authelia"

        def log_message(self, *args):
            pass

        # helpers --------------------------------------------------------------------------------
        def _remote_ip(self):
            forwarded = self.headers.get("X-Forwarded-For", "")
            first = forwarded.split(",")[0].strip()
            try:
                ip = ipaddress.ip_address(first or self.client_address[0])
            except ValueError:
                ip = ipaddress.ip_address(self.client_address[0])
            # An IPv4 peer of the dual-stack socket is ::ffff:a.b.c.d; Go reports it as a.b.c.d.
            return getattr(ip, "ipv4_mapped", None) or ip

        def _send(self, status, body=b"", headers=None, content_type="text/plain; charset=utf-8"):
            raw = body.encode() if isinstance(body, str) else body
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(raw)))
            for key, value in headers or []:
                self.send_header(key, value)
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(raw)
            state.metrics["%s %d" % (self.command, status)] += 1

        def _reply(self, status, headers=None):
            """Upstream's ReplyStatusCode: text/plain '<code> <reason>'."""
            self._send(status, "%d %s" % (status, self.responses[status][0]), headers)

        def _json(self, status, payload, headers=None):
            self._send(status, json.dumps(payload), headers, "application/json; charset=utf-8")

        def _fields(self):
            return {"method": self.command, "path": urlsplit(self.path).path, "remote_ip": str(self._remote_ip())}

        def _host(self):
            return (self.headers.get("X-Forwarded-Host") or self.headers.get("Host") or "").split(":")[0].lower()

        def _body(self):
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            try:
                return json.loads(raw.decode("utf-8") or "{}")
            except ValueError:
                return None

        # routes ---------------------------------------------------------------------------------
        def do_GET(self):
            path = urlsplit(self.path).path
            if path in config.authz:
                return self._authz()
            if path == "/api/health":
                return self._json(200, {"status": "OK"})
            if path == "/api/state":
                return self._state()
            if path == "/" and self.command == "GET":
                return self._send(200, "<!DOCTYPE html><html><head><title>Login - Authelia</title></head><body>"
                                       "<div id=\"root\">Authelia (test double)</div></body></html>",
                                  content_type="text/html; charset=utf-8")
            if path == "/":
                return self._send(200, b"", content_type="text/html; charset=utf-8")
            return self._reply(404)

        def do_HEAD(self):
            return self.do_GET()

        def do_POST(self):
            path = urlsplit(self.path).path
            if path in config.authz or path in ("/api/health", "/api/state"):
                return self._reply(405, [("Allow", "GET, HEAD")])
            if path == "/api/firstfactor":
                return self._firstfactor()
            if path == "/api/secondfactor/totp":
                return self._totp()
            if path == "/api/logout":
                cookie = config.cookie_for(self._host())
                sid, _ = state.session(self.headers.get("Cookie"), cookie)
                with state.lock:
                    state.sessions.pop(sid, None)
                return self._json(200, {"status": "OK"})
            return self._reply(404)

        def _other(self):
            path = urlsplit(self.path).path
            if path in config.authz:
                return self._reply(405, [("Allow", "GET, HEAD")])
            return self._reply(404)

        do_PUT = do_DELETE = do_PATCH = do_OPTIONS = _other

        # /api/authz/auth-request ------------------------------------------------------------------
        def _authz(self):
            fields = self._fields()
            raw_url = self.headers.get("X-Original-URL", "")
            method = self.headers.get("X-Original-Method", "")
            target = urlsplit(raw_url) if raw_url else None
            problem = None
            if not raw_url:
                problem = "Error getting object: missing required X-Original-URL header"
            elif not target.scheme or not target.hostname:
                problem = "Error getting object: failed to parse X-Original-URL header"
            elif not method:
                problem = "Error getting object: header 'X-Original-Method' is empty"
            elif target.scheme not in ("https", "wss"):
                problem = ("Target URL '%s' has an insecure scheme '%s', only the 'https' and 'wss' schemes are supported "
                           "so session cookies can be transmitted securely" % (raw_url, target.scheme))
            cookie = None if problem else config.cookie_for(target.hostname)
            if not problem and cookie is None:
                problem = "Target URL '%s' does not appear to be a protected domain" % raw_url
            if problem:
                state.log.log("error", problem, **fields)
                state.metrics["authz 401"] += 1
                return self._reply(401)
            host = target.hostname.lower()
            path = target.path or "/"
            if target.query:
                path += "?" + target.query
            _, session = state.session(self.headers.get("Cookie"), cookie)
            user = state.users.get(session["username"]) if session else None
            if session and user is None:
                session = None
            level = session["level"] if session else NOT_AUTHENTICATED
            has_subject, policy = config.required(host, path, method, self._remote_ip(), user)
            required = LEVELS[policy]
            if policy == "bypass" or (policy != "deny" and level >= required):
                state.metrics["authz 200"] += 1
                headers = []
                if user:
                    headers = [("Remote-User", user["username"]), ("Remote-Groups", ",".join(user["groups"])),
                               ("Remote-Name", user["displayname"]),
                               ("Remote-Email", user["emails"][0] if user["emails"] else "")]
                return self._reply(200, headers)
            name = user["username"] if user else "<anonymous>"
            if policy == "deny" and (level != NOT_AUTHENTICATED or not has_subject):
                state.log.log("info", "Access to '%s' is forbidden to user '%s'" % (raw_url, name), **fields)
                state.metrics["authz 403"] += 1
                return self._reply(403)
            portal = urlsplit(cookie["authelia_url"])
            location = "%s://%s%s?%s" % (portal.scheme, portal.netloc, portal.path or "/",
                                         urlencode(sorted([("rd", raw_url), ("rm", method)])))
            state.log.log("info", "Access to %s (method %s) is not authorized to user %s, responding with status code 401 "
                          "with location redirect to %s" % (raw_url, method, name, location), **fields)
            state.metrics["authz 401"] += 1
            # Upstream: SpecialRedirect (a link as the body), SpecialRedirectNoBody for an original HEAD.
            body = b"" if method == "HEAD" else '<a href="%s">401 Unauthorized</a>' % location.replace("&", "&amp;")
            return self._send(401, body, [("Location", location)], "text/html; charset=utf-8")

        # sign-in ----------------------------------------------------------------------------------
        def _firstfactor(self):
            fields = self._fields()
            body = self._body()
            if not isinstance(body, dict) or not body.get("username") or "password" not in body:
                state.log.log("error", "Failed to parse 1FA request body: unable to validate body", **fields)
                return self._json(400 if body is None else 401, {"status": "KO", "message": MSG_AUTH_FAILED})
            username = str(body["username"])
            cookie = config.cookie_for(self._host())
            if cookie is None:
                state.log.log("error", "Unable to retrieve session cookie domain provider: no configured session cookie "
                              "domain matches the url '%s'" % self._host(), **fields)
                return self._json(401, {"status": "KO", "message": MSG_AUTH_FAILED})
            until = state.banned_until(username)
            if until:
                state.log.log("error", "Unsuccessful 1FA authentication attempt by user '%s' and they are banned until %s"
                              % (username, _ban_time(until)),
                              **fields)
                state.metrics["authn banned"] += 1
                state.storage.append(username, False, True, "1FA", str(self._remote_ip()), self.path, self.command)
                return self._json(401, {"status": "KO", "message": MSG_AUTH_FAILED})
            user, error = state.users.verify(username, str(body["password"]))
            if user is None:
                state.mark(username, False)
                state.storage.append(username, False, False, "1FA", str(self._remote_ip()), self.path, self.command)
                state.log.log("error", "Unsuccessful 1FA authentication attempt by user '%s'"
                              % (username if error != "user not found" else ""), error=error, **fields)
                state.metrics["authn failure"] += 1
                return self._json(401, {"status": "KO", "message": MSG_AUTH_FAILED})
            state.mark(username, True)
            state.storage.append(username, True, False, "1FA", str(self._remote_ip()), self.path, self.command)
            old, _ = state.session(self.headers.get("Cookie"), cookie)
            remember = bool(body.get("keepMeLoggedIn"))
            sid = state.new_session(cookie, username, ONE_FACTOR, remember, old)
            state.log.log("debug", "Successful 1FA authentication attempt made by user '%s'" % username, **fields)
            state.metrics["authn success"] += 1
            payload = {"status": "OK"}
            target = body.get("targetURL") or ""
            if target:
                parsed = urlsplit(target)
                if parsed.scheme == "https" and config.cookie_for(parsed.hostname or "") is cookie:
                    path = (parsed.path or "/") + ("?" + parsed.query if parsed.query else "")
                    _, policy = config.required(parsed.hostname.lower(), path, body.get("requestMethod") or "GET",
                                                self._remote_ip(), user)
                    if policy in ("bypass", "one_factor"):
                        payload["data"] = {"redirect": target}
            elif cookie["default_redirection_url"]:
                payload["data"] = {"redirect": cookie["default_redirection_url"]}
            return self._json(200, payload, [("Set-Cookie", self._cookie(cookie, sid, remember))])

        def _cookie(self, cookie, sid, remember):
            parts = ["%s=%s" % (cookie["name"], sid)]
            if remember:
                parts.append("expires=%s" % formatdate(time.time() + cookie["remember_me"], usegmt=True))
            parts += ["domain=%s" % cookie["domain"], "path=/", "HttpOnly", "secure",
                      "SameSite=%s" % cookie["same_site"].capitalize()]
            return "; ".join(parts)

        def _totp(self):
            fields = self._fields()
            cookie = config.cookie_for(self._host())
            sid, session = state.session(self.headers.get("Cookie"), cookie)
            if session is None:
                return self._reply(403)
            body = self._body() or {}
            token = str(body.get("token", ""))
            secret = totp_secret(config.storage_key, session["username"])
            now = time.time()
            t = config.totp
            valid = [totp_code(secret, now + k * t["period"], t["period"], t["digits"], t["algorithm"])
                     for k in range(-t["skew"], t["skew"] + 1)]
            if not token or not any(hmac.compare_digest(token, v) for v in valid):
                state.log.log("error", "Unsuccessful TOTP authentication attempt by user '%s'" % session["username"],
                              error="validation failed", **fields)
                return self._json(401, {"status": "KO", "message": MSG_MFA_FAILED})
            new = state.new_session(cookie, session["username"], TWO_FACTOR, session["remember_me"], sid)
            return self._json(200, {"status": "OK"}, [("Set-Cookie", self._cookie(cookie, new, session["remember_me"]))])

        def _state(self):
            cookie = config.cookie_for(self._host())
            _, session = state.session(self.headers.get("Cookie"), cookie)
            data = {"username": session["username"] if session else "",
                    "authentication_level": session["level"] if session else 0,
                    "default_redirection_url": (cookie or {}).get("default_redirection_url", "")}
            return self._json(200, {"status": "OK", "data": data})

    return Handler


def make_metrics_handler(state):
    class Metrics(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_GET(self):
            if urlsplit(self.path).path != "/metrics":
                self.send_error(404)
                return
            lines = ["# TYPE authelia_request counter"]
            for key, count in sorted(state.metrics.items()):
                lines.append('authelia_request{key="%s"} %d' % (key, count))
            raw = ("\n".join(lines) + "\n").encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/plain; version=0.0.4")
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

    return Metrics


class GoListener(ThreadingHTTPServer):
    """net.Listen("tcp", addr) as Go does it: the wildcard ("", 0.0.0.0, ::) is one dual-stack [::] socket when the
    kernel has IPv6 (falling back to 0.0.0.0 without it); any other address is listened on as given."""

    def __init__(self, bind, port, handler):
        wildcard = bind in ("", "0.0.0.0", "::")
        self.dual = wildcard and socket.has_ipv6
        if self.dual or ":" in bind:
            self.address_family = socket.AF_INET6
        try:
            ThreadingHTTPServer.__init__(self, ("::" if self.dual else (bind or "0.0.0.0"), port), handler)
        except OSError:
            if not self.dual:
                raise
            self.dual, self.address_family = False, socket.AF_INET
            ThreadingHTTPServer.__init__(self, ("0.0.0.0", port), handler)

    def server_bind(self):
        if self.dual:
            self.socket.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        ThreadingHTTPServer.server_bind(self)


def serve(config, bind=""):
    """Start the portal (and metrics) servers in threads; returns (state, [servers])."""
    state = State(config)
    state.users.get("")   # load users_database.yml now: a missing file fails the start, as upstream
    servers = [GoListener(bind, config.port, make_handler(state))]
    if config.metrics_port:
        servers.append(GoListener(bind, config.metrics_port, make_metrics_handler(state)))
    for server in servers:
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, daemon=True).start()
    return state, servers


def main(argv=None):
    parser = argparse.ArgumentParser(description="Authelia 4.39 test double (auth_request, first/second factor)")
    parser.add_argument("--config", default="/config/configuration.yml")
    parser.add_argument("--bind", default="", help="default: the wildcard, dual-stack like Authelia's tcp://:9091/")
    args = parser.parse_args(argv)
    if yaml is None or PasswordHasher is None:
        sys.stderr.write("authelia double: needs python3-yaml and python3-argon2\n")
        return 1
    try:
        config = Config(args.config)
        state, _ = serve(config, args.bind)
    except (ConfigError, OSError, ValueError, KeyError, TypeError, re.error) as exc:
        sys.stderr.write("authelia double: %s: %s\n" % (args.config, exc))
        return 1
    # PID 1 in its container: without a handler SIGTERM would be ignored and `docker stop` would wait for SIGKILL.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    state.log.log("info", "Authelia %s is starting" % VERSION)
    state.log.log("info", "Listening for non-TLS connections on '[::]:%d' path '/'" % config.port)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
