# -*- coding: utf-8 -*-
# Copyright: monsterr.mediaserver developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The Authelia 4.39 test double (tests/doubles/authelia.py) on loopback: what it answers nginx's auth_request and
a browser's sign-in, for a configuration shaped like the authelia layer's (the Molecule scenario stack-proxy runs it
against the real rendered files)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import importlib.util
import json
import sqlite3
import os
import urllib.error
import urllib.request
from urllib.parse import parse_qs, urlsplit

import argon2
import pytest
import yaml

PATH = os.path.join(os.path.dirname(__file__), "..", "doubles", "authelia.py")
SPEC = importlib.util.spec_from_file_location("authelia_double", PATH)
double = importlib.util.module_from_spec(SPEC)
SPEC.loader.exec_module(double)

DOMAIN = "example.test"
KEY = "k" * 64
CONFIG = """
server:
  address: "tcp://:0/"
  endpoints: {authz: {auth-request: {implementation: AuthRequest}}}
log: {level: info, format: text, file_path: "%(dir)s/logs/authelia.log", keep_stdout: false}
authentication_backend: {file: {path: "%(dir)s/users_database.yml", watch: true}}
access_control:
  default_policy: deny
  rules:
    - {domain: sonarr.example.test, policy: bypass, resources: ["^/api/"]}
    - {domain: sonarr.example.test, policy: two_factor, subject: ["group:admins"]}
    - {domain: home.example.test, policy: one_factor, subject: ["group:admins", "group:family"]}
session:
  secret: "%(key)s"
  cookies: [{domain: example.test, authelia_url: "https://auth.example.test"}]
  redis: {host: redis, port: 6379}
regulation: {max_retries: 2, find_time: 2m, ban_time: 5m}
totp: {period: 30, digits: 6, algorithm: SHA1, skew: 1}
storage: {encryption_key: "%(key)s", local: {path: "%(dir)s/db.sqlite3"}}
"""


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args):
        return None


OPENER = urllib.request.build_opener(NoRedirect)


@pytest.fixture(scope="module")
def portal(tmp_path_factory):
    base = tmp_path_factory.mktemp("authelia")
    hasher = argon2.PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1)
    users = {"users": {
        "alice": {"displayname": "Alice", "email": "alice@example.test", "groups": ["admins"],
                  "password": hasher.hash("alice-password")},
        "bob": {"displayname": "Bob", "groups": ["family"], "password": hasher.hash("bob-password")},
        "eve": {"displayname": "Eve", "groups": ["admins"], "disabled": True, "password": hasher.hash("eve-password")},
    }}
    (base / "users_database.yml").write_text(yaml.safe_dump(users))
    (base / "configuration.yml").write_text(CONFIG % {"dir": base, "key": KEY})
    state, servers = double.serve(double.Config(str(base / "configuration.yml")), "127.0.0.1")
    yield "http://127.0.0.1:%d" % servers[0].server_address[1], base
    for server in servers:
        server.shutdown()
        server.server_close()


def call(url, path, headers=None, data=None, method=None):
    request = urllib.request.Request(url + path, headers=headers or {}, method=method,
                                     data=json.dumps(data).encode() if data is not None else None)
    try:
        response = OPENER.open(request, timeout=10)
    except urllib.error.HTTPError as error:
        response = error
    return response.status, dict((k.lower(), v) for k, v in response.headers.items()), response.read().decode()


def authz(portal, target, sid=None, method="GET"):
    headers = {"X-Original-URL": target, "X-Original-Method": method}
    if sid:
        headers["Cookie"] = "other=1; authelia_session=%s" % sid
    return call(portal[0], "/api/authz/auth-request", headers)


def sign_in(portal, username, password):
    status, headers, body = call(portal[0], "/api/firstfactor", {"Host": "auth." + DOMAIN},
                                 {"username": username, "password": password, "keepMeLoggedIn": False})
    cookie = headers.get("set-cookie", "")
    return status, json.loads(body), cookie.split(";")[0].partition("=")[2], cookie


def totp(portal, username, sid, code=None):
    code = code or double.totp_code(double.totp_secret(KEY, username))
    status, headers, body = call(portal[0], "/api/secondfactor/totp", {"Host": "auth." + DOMAIN, "Cookie": "authelia_session=" + sid},
                                 {"token": code})
    return status, json.loads(body) if body.startswith("{") else body, headers.get("set-cookie", "").split(";")[0].partition("=")[2]


def test_health(portal):
    assert call(portal[0], "/api/health")[::2] == (200, '{"status": "OK"}')


def test_anonymous_is_sent_to_the_portal_with_the_target(portal):
    status, headers, body = authz(portal, "https://sonarr.example.test/calendar?week=1")
    assert status == 401
    location = urlsplit(headers["location"])
    assert (location.scheme, location.netloc, location.path) == ("https", "auth.example.test", "/")
    assert parse_qs(location.query) == {"rd": ["https://sonarr.example.test/calendar?week=1"], "rm": ["GET"]}
    assert body.startswith('<a href="https://auth.example.test/?rd=') and body.endswith('">401 Unauthorized</a>')
    assert authz(portal, "https://sonarr.example.test/", method="HEAD")[2] == "", "no body for an original HEAD"


def test_bypass_paths_need_no_session(portal):
    status, headers, body = authz(portal, "https://sonarr.example.test/api/v3/system/status")
    assert (status, body) == (200, "200 OK") and "remote-user" not in headers


def test_bad_targets_are_401_without_location(portal):
    for headers in ({}, {"X-Original-URL": "https://sonarr.example.test/"},
                    {"X-Original-URL": "http://sonarr.example.test/", "X-Original-Method": "GET"},
                    {"X-Original-URL": "https://sonarr.elsewhere.test/", "X-Original-Method": "GET"}):
        status, got, _ = call(portal[0], "/api/authz/auth-request", headers)
        assert status == 401 and "location" not in got, headers
    assert call(portal[0], "/api/authz/auth-request", data={}, method="POST")[0] == 405


def test_anonymous_on_a_denied_domain_is_forbidden(portal):
    assert authz(portal, "https://nobody.example.test/")[0] == 403


def test_wrong_and_unknown_and_disabled_users_get_no_session(portal):
    for username, password in (("alice", "nope"), ("mallory", "x"), ("eve", "eve-password")):
        status, body, sid, _ = sign_in(portal, username, password)
        assert (status, body, sid) == (401, {"status": "KO", "message": "Authentication failed. Check your credentials."}, "")
    log = (portal[1] / "logs" / "authelia.log").read_text()
    assert "Unsuccessful 1FA authentication attempt by user 'alice'" in log and 'remote_ip=127.0.0.1' in log


def test_one_factor_then_two_factor(portal):
    status, body, sid, cookie = sign_in(portal, "alice", "alice-password")
    assert (status, body) == (200, {"status": "OK"})
    assert cookie == "authelia_session=%s; domain=example.test; path=/; HttpOnly; secure; SameSite=Lax" % sid
    assert authz(portal, "https://home.example.test/", sid)[0] == 200
    assert authz(portal, "https://sonarr.example.test/", sid)[0] == 401, "two_factor needs the second factor"
    assert totp(portal, "alice", sid, "000000")[:2] == (401, {"status": "KO", "message": "Authentication failed, please retry later."})
    status, body, two = totp(portal, "alice", sid)
    assert (status, body) == (200, {"status": "OK"}) and two and two != sid, "the session id is regenerated"
    status, headers, _ = authz(portal, "https://sonarr.example.test/", two)
    assert status == 200
    assert (headers["remote-user"], headers["remote-groups"], headers["remote-name"], headers["remote-email"]) == \
        ("alice", "admins", "Alice", "alice@example.test")
    assert authz(portal, "https://sonarr.example.test/", sid)[0] == 401, "the old id is gone"


def test_signed_in_user_outside_the_groups_is_forbidden(portal):
    status, _, sid, _ = sign_in(portal, "bob", "bob-password")
    assert status == 200
    assert authz(portal, "https://home.example.test/", sid)[1]["remote-groups"] == "family"
    status, _, two = totp(portal, "bob", sid)
    assert authz(portal, "https://sonarr.example.test/", two)[0] == 403
    assert totp(portal, "bob", "not-a-session")[0] == 403


def test_regulation_bans_the_user_name(portal):
    for _ in range(2):
        assert sign_in(portal, "bob", "wrong")[0] == 401
    assert sign_in(portal, "bob", "bob-password")[0] == 401, "banned for ban_time even with the right password"
    assert "and they are banned until" in (portal[1] / "logs" / "authelia.log").read_text()


def test_every_sign_in_attempt_is_logged_in_the_sqlite_storage(portal):
    """As Regulator.Mark -> AppendAuthenticationLog upstream: the SQLite file of storage.local.path gets one row per
    first-factor attempt (successful, banned), which the stack scenario reads to prove Authelia still writes it."""
    def rows(username):
        with sqlite3.connect(str(portal[1] / "db.sqlite3")) as db:
            return db.execute("SELECT successful, banned, auth_type FROM authentication_logs WHERE username = ? "
                              "ORDER BY id", (username,)).fetchall()
    before = rows("carol")
    sign_in(portal, "carol", "nope")
    assert rows("carol") == before + [(0, 0, "1FA")]
    count = len(rows("alice"))
    assert sign_in(portal, "alice", "alice-password")[0] == 200
    assert rows("alice")[count:] == [(1, 0, "1FA")]


def test_storage_that_cannot_be_opened_stops_the_start(tmp_path):
    (tmp_path / "users_database.yml").write_text("users: {}\n")
    (tmp_path / "configuration.yml").write_text(CONFIG.replace('"%(dir)s/db.sqlite3"', '"%(dir)s/missing/db.sqlite3"')
                                                % {"dir": tmp_path, "key": KEY})
    with pytest.raises(OSError, match="storage: failed to open"):
        double.serve(double.Config(str(tmp_path / "configuration.yml")), "127.0.0.1")


def test_totp_codes_follow_rfc_6238():
    # RFC 6238 appendix B, SHA1, secret "12345678901234567890", T = 59 s -> 94287082 (8 digits).
    secret = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
    assert double.totp_code(secret, 59, digits=8) == "94287082"
    assert double.totp_code(secret, 1111111109, digits=8) == "07081804"
