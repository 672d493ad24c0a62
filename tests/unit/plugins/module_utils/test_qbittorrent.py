# -*- coding: utf-8 -*-
# Copyright: monsterr.mediaserver developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The qBittorrent client against a scripted loopback server: the login answers of 4.x-5.1 and 5.2+."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

import pytest

from ansible_collections.monsterr.mediaserver.plugins.module_utils._http import ApiError
from ansible_collections.monsterr.mediaserver.plugins.module_utils._qbittorrent import QbittorrentClient

BAN = b"Your IP address has been banned after too many failed authentication attempts."


@pytest.fixture()
def server():
    state = {"login": (200, b"Ok.", {"Set-Cookie": "SID=abc; HttpOnly; path=/"}), "seen": []}

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def _answer(self):
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length).decode() if length else ""
            state["seen"].append((self.command, self.path, dict(self.headers), body))
            if self.path == "/api/v2/auth/login":
                status, payload, headers = state["login"]
            elif self.path == "/api/v2/app/preferences":
                ok = "SID=abc" in (self.headers.get("Cookie") or "") or \
                    self.headers.get("Authorization") == "Bearer qbt_" + "k" * 28
                status, payload, headers = (200, b'{"dht": true}', {}) if ok else (403, b"Forbidden", {})
            else:
                status, payload, headers = 200, b"", {}
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        do_GET = do_POST = _answer

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    state["url"] = "http://127.0.0.1:%d" % httpd.server_address[1]
    yield state
    httpd.shutdown()


def client(server, **kwargs):
    kwargs.setdefault("password", "pw-secret")
    return QbittorrentClient(server["url"], sleep=lambda s: None, **kwargs)


def logins(server):
    return [s for s in server["seen"] if s[1] == "/api/v2/auth/login"]


def test_login_4x_ok_keeps_the_cookie_and_sends_no_origin_or_referer(server):
    c = client(server)
    assert c.preferences() == {"dht": True}
    method, _path, headers, body = logins(server)[0]
    assert method == "POST" and parse_qs(body) == {"username": ["admin"], "password": ["pw-secret"]}
    assert "Origin" not in headers and "Referer" not in headers, "CSRF check passes when neither is sent"
    assert c.requests == 2


def test_login_52_answers_204_and_a_port_named_cookie(server):
    server["login"] = (204, b"", {"Set-Cookie": "QBT_SID_8080=abc; HttpOnly; path=/"})
    c = client(server)
    c.connect()
    assert c.logged_in is True and [ck.name for ck in c.http.cookies] == ["QBT_SID_8080"]


@pytest.mark.parametrize("status,body", [(200, b"Fails."), (401, b"")])
def test_refused_login_is_tried_once_and_explains_the_ban(server, status, body):
    server["login"] = (status, body, {})
    c = client(server)
    with pytest.raises(ApiError) as err:
        c.preferences()
    assert len(logins(server)) == 1
    message = str(err.value)
    assert "wrong username or password" in message and "BanDuration" in message and "pw-secret" not in message
    with pytest.raises(ApiError):
        c.preferences()
    assert len(logins(server)) == 2, "each run logs in once; never a loop"


def test_banned_ip_is_reported_as_a_ban(server):
    server["login"] = (403, BAN, {})
    with pytest.raises(ApiError) as err:
        client(server).connect()
    assert err.value.status == 403 and "banned" in str(err.value) and len(logins(server)) == 1


def test_login_502_503_504_is_retried_with_backoff_then_succeeds(server):
    """Issue #12: a login answered 502/503/504 (qBittorrent restarting behind a proxy) is retried like any request,
    a bounded number of times with backoff; a refused login (Fails., 401, 403) never is (tests above)."""
    answers = [(502, b"Bad Gateway", {}), (503, b"", {}), (504, b"", {}),
               (200, b"Ok.", {"Set-Cookie": "SID=abc; HttpOnly; path=/"})]
    server["login"] = answers[0]
    sleeps = []

    def sleep(seconds):
        sleeps.append(seconds)
        answers.pop(0)
        server["login"] = answers[0]

    c = QbittorrentClient(server["url"], password="pw-secret", sleep=sleep)
    c.connect()
    assert c.logged_in is True and len(logins(server)) == 4 and sleeps == [0.5, 1.0, 2.0]


def test_login_gives_up_after_bounded_retries(server):
    server["login"] = (503, b"Service Unavailable", {})
    c = QbittorrentClient(server["url"], password="pw-secret", retries=2, sleep=lambda s: None)
    with pytest.raises(ApiError) as err:
        c.connect()
    assert len(logins(server)) == 3 and err.value.status == 503 and "gave up after 3 attempts" in str(err.value)


def test_login_retried_when_the_connection_never_happened(server):
    c = QbittorrentClient("http://127.0.0.1:9", password="x", sleep=lambda s: None, retries=2)
    with pytest.raises(ApiError) as err:
        c.connect()
    assert "connection error" in str(err.value) and c.requests == 3
    assert "127.0.0.1:9/api/v2/auth/login" in str(err.value)


def test_api_key_uses_bearer_and_no_login(server):
    c = client(server, password=None, api_key="qbt_" + "k" * 28)
    assert c.preferences() == {"dht": True}
    assert logins(server) == [] and server["seen"][0][2]["Authorization"] == "Bearer qbt_" + "k" * 28


def test_forbidden_without_session_says_what_to_give(server):
    with pytest.raises(ApiError) as err:
        client(server, password=None).preferences()
    assert err.value.status == 403 and "give password" in str(err.value)


def test_set_preferences_posts_one_json_form_field(server):
    client(server).set_preferences({"dht": False, "save_path": "/data"})
    _m, path, _h, body = server["seen"][-1]
    assert path == "/api/v2/app/setPreferences" and list(parse_qs(body)) == ["json"]
    assert parse_qs(body)["json"] == ['{"dht": false, "save_path": "/data"}']


def test_edit_category_sends_the_download_path_it_keeps(server):
    c = client(server)
    c.edit_category("tv", "/data/tv", "/data/incomplete")
    c.edit_category("tv", "/data/tv", False)
    c.edit_category("tv", "/data/tv", None)
    forms = [parse_qs(s[3], keep_blank_values=True) for s in server["seen"] if s[1].endswith("editCategory")]
    assert forms[0] == {"category": ["tv"], "savePath": ["/data/tv"], "downloadPathEnabled": ["true"],
                        "downloadPath": ["/data/incomplete"]}
    assert forms[1]["downloadPathEnabled"] == ["false"] and "downloadPathEnabled" not in forms[2]
