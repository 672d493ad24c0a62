# -*- coding: utf-8 -*-
# Copyright: monsterr.mediaserver developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The NZBGet JSON-RPC client against a scripted loopback server, and the category helpers."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from ansible_collections.monsterr.mediaserver.plugins.module_utils._http import ApiError
from ansible_collections.monsterr.mediaserver.plugins.module_utils._nzbget import (
    NzbgetClient, join_categories, split_categories)

AUTH = "Basic " + base64.b64encode(b"nzbget:pw-secret").decode()


@pytest.fixture()
def server():
    state = {"seen": [], "answers": {}}

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_POST(self):
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            state["seen"].append((self.headers.get("Authorization"), raw))
            if self.headers.get("Authorization") != AUTH:
                self.send_response(401)
                self.send_header("WWW-Authenticate", 'Basic realm="NZBGet"')
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            call = json.loads(raw)
            answer = state["answers"].get(call["method"], {"result": True})
            payload = json.dumps(dict(version="1.1", id=call["id"], **answer)).encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    state["url"] = "http://127.0.0.1:%d" % httpd.server_address[1]
    yield state
    httpd.shutdown()


def test_basic_auth_and_positional_params(server):
    server["answers"]["loadconfig"] = {"result": [{"Name": "MainDir", "Value": "/d"}]}
    c = NzbgetClient(server["url"], "nzbget", "pw-secret", sleep=lambda s: None)
    assert c.loadconfig() == [("MainDir", "/d")]
    auth, raw = server["seen"][-1]
    assert auth == AUTH and json.loads(raw)["params"] == []


def test_saveconfig_sends_name_before_value(server):
    c = NzbgetClient(server["url"], "nzbget", "pw-secret", sleep=lambda s: None)
    c.saveconfig([("MainDir", "/d"), ("Category1.Name", "tv")])
    raw = server["seen"][-1][1].decode()
    assert '"params": [[{"Name": "MainDir", "Value": "/d"}, {"Name": "Category1.Name", "Value": "tv"}]]' in raw


def test_saveconfig_false_is_an_error(server):
    server["answers"]["saveconfig"] = {"result": False}
    c = NzbgetClient(server["url"], "nzbget", "pw-secret", sleep=lambda s: None)
    with pytest.raises(ApiError) as err:
        c.saveconfig([("MainDir", "/d")])
    assert "writable" in str(err.value) and "(saveconfig)" in str(err.value)


def test_rpc_error_names_the_method_and_hides_the_password(server):
    server["answers"]["config"] = {"error": {"name": "JSONRPCError", "code": 1, "message": "bad pw-secret thing"}}
    c = NzbgetClient(server["url"], "nzbget", "pw-secret", sleep=lambda s: None)
    with pytest.raises(ApiError) as err:
        c.config()
    assert str(err.value) == "nzbget: POST %s/jsonrpc (config) -> 200: bad ******** thing" % server["url"][len("http://"):]


def test_wrong_password_is_401_with_a_clear_reason(server):
    c = NzbgetClient(server["url"], "nzbget", "nope", sleep=lambda s: None)
    with pytest.raises(ApiError) as err:
        c.version()
    assert err.value.status == 401 and "wrong ControlUsername/ControlPassword" in str(err.value)
    assert len(server["seen"]) == 1


def test_categories_split_and_join_round_trip():
    options = [("MainDir", "/d"), ("Category1.Name", "Movies"), ("Category1.Unpack", "yes"),
               ("Category2.Name", "Series"), ("AppendCategoryDir", "yes")]
    categories, others = split_categories(options)
    assert categories == [{"Name": "Movies", "Unpack": "yes"}, {"Name": "Series"}]
    assert others == [("MainDir", "/d"), ("AppendCategoryDir", "yes")]
    assert join_categories(categories[1:]) == [("Category1.Name", "Series")]
