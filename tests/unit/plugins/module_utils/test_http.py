# -*- coding: utf-8 -*-
# Copyright: monsterr.mediaserver developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The shared transport against a real HTTP server on loopback that misbehaves on purpose."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from ansible_collections.monsterr.mediaserver.plugins.module_utils._http import ApiError, HttpClient

KEY = "0123456789abcdef0123456789abcdef"


class Script(object):
    """What the server answers, in order, per path; the last answer repeats."""

    def __init__(self):
        self.answers = {}
        self.seen = []

    def next(self, path):
        queue = self.answers.get(path, [(404, {"message": "NotFound"})])
        return queue.pop(0) if len(queue) > 1 else queue[0]


@pytest.fixture()
def server():
    script = Script()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def _answer(self):
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            script.seen.append((self.command, self.path, dict(self.headers), body))
            status, payload = script.next(self.path)
            raw = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

        do_GET = do_POST = do_PUT = do_DELETE = _answer

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    script.url = "http://127.0.0.1:%d/sonarr" % httpd.server_address[1]
    yield script
    httpd.shutdown()


def client(url, **kwargs):
    sleeps = []
    kwargs.setdefault("sleep", sleeps.append)
    c = HttpClient("sonarr", url, headers={"X-Api-Key": KEY}, secrets=[KEY], timeout=5, **kwargs)
    c.sleeps = sleeps
    return c


def test_get_sends_key_and_decodes_json(server):
    server.answers["/sonarr/api/v3/system/status"] = [(200, {"version": "4.0.16"})]
    c = client(server.url)
    assert c.get_json("/api/v3/system/status") == {"version": "4.0.16"}
    method, path, headers, _ = server.seen[0]
    assert (method, path, headers["X-Api-Key"]) == ("GET", "/sonarr/api/v3/system/status", KEY)


def test_retries_503_with_backoff_then_succeeds(server):
    server.answers["/sonarr/ping"] = [(503, {"errorMessage": "Sonarr is starting up"})] * 3 + [(200, {"status": "OK"})]
    c = client(server.url, backoff=0.5, max_backoff=1.5)
    assert c.get_json("/ping") == {"status": "OK"}
    assert c.sleeps == [0.5, 1.0, 1.5]
    assert c.requests == 4


def test_gives_up_and_names_app_method_path_status(server):
    server.answers["/sonarr/api/v3/rootfolder"] = [(502, b"bad gateway")]
    c = client(server.url, retries=2)
    with pytest.raises(ApiError) as err:
        c.get_json("/api/v3/rootfolder")
    assert err.value.status == 502 and c.requests == 3
    assert str(err.value).startswith("sonarr: GET /api/v3/rootfolder -> 502: HTTP 502")


def test_servarr_validation_array_is_summarised(server):
    server.answers["/sonarr/api/v3/downloadclient"] = [(400, [
        {"propertyName": "Host", "errorMessage": "Unable to connect to qBittorrent", "detailedDescription": "Check the host",
         "severity": "error"},
        {"propertyName": "TvCategory", "errorMessage": "Category is recommended", "isWarning": True}])]
    c = client(server.url)
    with pytest.raises(ApiError) as err:
        c.send_json("POST", "/api/v3/downloadclient", {"name": "qBittorrent"})
    assert c.requests == 1, "a 400 is not retried"
    assert str(err.value) == ("sonarr: POST /api/v3/downloadclient -> 400: Host: Unable to connect to qBittorrent "
                              "(Check the host)")


def test_secrets_never_reach_messages(server):
    server.answers["/sonarr/api/v3/x?apikey=%s" % KEY] = [(401, {"message": "bad key %s" % KEY})]
    c = client(server.url)
    with pytest.raises(ApiError) as err:
        c.get_json("/api/v3/x", params={"apikey": KEY})
    assert KEY not in str(err.value)
    assert "********" in str(err.value)


def test_connection_refused_is_retried_then_reported():
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()  # nothing listens there now
    c = client("http://127.0.0.1:%d" % port, retries=3, backoff=0.1)
    with pytest.raises(ApiError) as err:
        c.get_json("/ping")
    assert c.requests == 4 and len(c.sleeps) == 3
    assert err.value.status is None
    assert "connection error" in str(err.value) and "gave up after 4 attempts" in str(err.value)


def test_wait_until_ready_polls(server):
    server.answers["/sonarr/ping"] = [(500, {"status": "Error"})] * 2 + [(200, {"status": "OK"})]
    c = client(server.url)
    assert c.wait_until_ready("/ping", timeout=30, interval=0.01).status == 200
    assert c.requests == 3
