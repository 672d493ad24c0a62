# -*- coding: utf-8 -*-
# Copyright: monsterr.mediaserver developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every wiring module against the fault-injecting server: each relies on the transport guarantees of _http.py
(tests/unit/plugins/module_utils/test_http.py) and on the one failure path of _module.run_module().

Issue #12: an answer that is not JSON or of the wrong shape ended most modules with a bare Python exception (no
app, no method, no path), and arr_info reported ``healthy: true`` with ``app_name: null``."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import importlib
import json
from urllib.parse import quote_plus

import pytest

from ansible.module_utils import _internal
from ansible.module_utils.testing import patch_module_args
from ansible_collections.monsterr.mediaserver.tests.unit.plugins.module_utils.fault_server import FaultServer

KEY = "0123456789abcdef0123456789abcdef"
PASSWORD = "p@ss word/+&=%x"

# module -> (params, app in messages, the first request: method and path)
MODULES = {
    "arr_download_client": (dict(api_key=KEY, app="sonarr", name="qBittorrent", implementation="QBittorrent"),
                            "sonarr", "GET", "/api/v3/downloadclient"),
    "arr_info": (dict(api_key=KEY, app="sonarr"), "sonarr", "GET", "/api/v3/system/status"),
    "arr_media_management": (dict(api_key=KEY, app="radarr", settings={"copyUsingHardlinks": True}),
                             "radarr", "GET", "/api/v3/config/mediamanagement"),
    "arr_remote_path_mapping": (dict(api_key=KEY, app="sonarr", host="qbittorrent", remote_path="/downloads",
                                     local_path="/data/torrents"), "sonarr", "GET", "/api/v3/remotepathmapping"),
    "arr_root_folder": (dict(api_key=KEY, app="lidarr", path="/data/media/music", name="Music"),
                        "lidarr", "GET", "/api/v1/rootfolder"),
    "prowlarr_application": (dict(api_key=KEY, name="Sonarr", implementation="Sonarr", app_api_key=KEY),
                             "prowlarr", "GET", "/api/v1/applications"),
    "prowlarr_indexer": (dict(api_key=KEY, name="1337x", definition="1337x"), "prowlarr", "GET", "/api/v1/indexer"),
    "qbittorrent_category": (dict(api_key="qbt_" + KEY, name="tv", save_path="/data/torrents/tv"),
                             "qbittorrent", "GET", "/api/v2/torrents/categories"),
    "qbittorrent_preferences": (dict(api_key="qbt_" + KEY, preferences={"dht": False}),
                                "qbittorrent", "GET", "/api/v2/app/preferences"),
    "nzbget_config": (dict(password=PASSWORD, settings={"KeepHistory": 7}), "nzbget", "POST", "/jsonrpc (loadconfig)"),
    "bazarr_arr_link": (dict(api_key=KEY, arr="sonarr", host="sonarr"), "bazarr", "GET", "/api/system/settings"),
    "overseerr_arr_link": (dict(api_key=KEY, arr="sonarr", name="Sonarr"), "overseerr", "GET",
                           "/api/v1/settings/sonarr"),
}


@pytest.fixture()
def fault():
    server = FaultServer().start()
    yield server
    server.stop()


def run(capsys, monkeypatch, module_name, **params):
    """Run the module's main(); its JSON result (a bare exception fails the test: it must not happen)."""
    monkeypatch.setattr(_internal, "is_controller", False)
    module = importlib.import_module("ansible_collections.monsterr.mediaserver.plugins.modules." + module_name)
    params.setdefault("_ansible_check_mode", False)
    params.setdefault("_ansible_diff", True)
    params.setdefault("timeout", 5)
    params.setdefault("wait_timeout", 0)
    with patch_module_args(params):
        with pytest.raises(SystemExit):
            module.main()
    return json.loads(capsys.readouterr().out)


def assert_names_the_request(result, fault, name):
    params, app, method, path = MODULES[name]
    assert result.get("failed") is True, result
    expected = "%s: %s %s%s -> 200: " % (app, method, fault.hostport, path)
    assert expected in result["msg"], result["msg"]
    assert result["status"] == 200 and result["method"] == method and result["url"] == fault.hostport + path
    assert "Traceback" not in result["msg"]


@pytest.mark.parametrize("name", sorted(MODULES))
def test_malformed_json_fails_naming_app_method_host_port_path(capsys, monkeypatch, fault, name):
    fault.default = ("raw", 200, b"<!DOCTYPE html><html><body>Sign in</body></html>", "text/html")
    result = run(capsys, monkeypatch, name, url=fault.origin, **MODULES[name][0])
    assert_names_the_request(result, fault, name)
    assert "answer is not JSON (text/html): <!DOCTYPE html>" in result["msg"]


@pytest.mark.parametrize("name", sorted(MODULES))
def test_wrong_shape_fails_naming_app_method_host_port_path(capsys, monkeypatch, fault, name):
    fault.default = ("json", 200, ["not", "what", "the", "API", "answers"])
    result = run(capsys, monkeypatch, name, url=fault.origin, **MODULES[name][0])
    assert_names_the_request(result, fault, name)
    assert "wrong shape" in result["msg"]


@pytest.mark.parametrize("status", [{}, {"appName": "Sonarr"}, {"version": "4.0.16"}])
def test_arr_info_is_not_healthy_on_a_status_without_app_name_or_version(capsys, monkeypatch, fault, status):
    """Issue #12: arr_info reported healthy: true with app_name: null for an answer that is no Servarr status."""
    fault.on("/api/v3/system/status", ("json", 200, status))
    fault.on("/api/v3/health", ("json", 200, []))
    result = run(capsys, monkeypatch, "arr_info", url=fault.origin, api_key=KEY, app="sonarr")
    assert result.get("failed") is True and "healthy" not in result, result
    assert "sonarr: GET %s/api/v3/system/status -> 200: answer has no " % fault.hostport in result["msg"]


def test_arr_info_health_of_the_wrong_shape_fails(capsys, monkeypatch, fault):
    fault.on("/api/v3/system/status", ("json", 200, {"appName": "Sonarr", "version": "4.0.16"}))
    fault.on("/api/v3/health", ("json", 200, [{"source": "X", "message": "no type"}]))
    result = run(capsys, monkeypatch, "arr_info", url=fault.origin, api_key=KEY, app="sonarr")
    assert result.get("failed") is True and "health check without a known type" in result["msg"]


def test_arr_info_still_reads_a_real_answer(capsys, monkeypatch, fault):
    fault.on("/api/v3/system/status", ("json", 200, {"appName": "Sonarr", "version": "4.0.16"}))
    fault.on("/api/v3/health", ("json", 200, [{"source": "X", "type": "warning", "message": "m"}]))
    result = run(capsys, monkeypatch, "arr_info", url=fault.origin, api_key=KEY, app="sonarr")
    assert result["app_name"] == "Sonarr" and result["healthy"] is False and result["changed"] is False


def test_nzbget_module_never_shows_the_echoed_basic_token(capsys, monkeypatch, fault):
    """Issue #12: a server echoing NZBGet's Authorization showed the base64 token in msg and in -vvv."""
    token = base64.b64encode(("nzbget:%s" % PASSWORD).encode()).decode()
    fault.default = ("echo", 200)
    result = run(capsys, monkeypatch, "nzbget_config", url=fault.origin, password=PASSWORD, settings={})
    assert fault.seen and fault.seen[0][2]["Authorization"] == "Basic " + token
    assert result.get("failed") is True
    everything = json.dumps(result)     # msg, exception (what -vvv shows), invocation, every returned value
    for form in (token, PASSWORD, quote_plus(PASSWORD)):
        assert form not in everything, form


def test_qbittorrent_module_never_shows_the_url_encoded_password(capsys, monkeypatch, fault):
    fault.on("/api/v2/auth/login", ("echo", 500))
    result = run(capsys, monkeypatch, "qbittorrent_preferences", url=fault.origin, password=PASSWORD,
                 preferences={"dht": False})
    assert quote_plus(PASSWORD) in fault.seen[0][3].decode()
    assert result.get("failed") is True and result["status"] == 500
    everything = json.dumps(result)
    for form in (PASSWORD, quote_plus(PASSWORD)):
        assert form not in everything, form


@pytest.mark.parametrize("name", ["arr_root_folder", "nzbget_config", "bazarr_arr_link", "qbittorrent_preferences"])
def test_redirect_to_the_portal_fails_the_module_without_sending_credentials(capsys, monkeypatch, fault, name):
    portal = FaultServer().start()
    try:
        portal.default = ("raw", 200, b"<html>Sign in</html>", "text/html")
        fault.default = ("redirect", 302, portal.origin + "/login")
        params = dict(MODULES[name][0])
        if name == "qbittorrent_preferences":
            params = dict(password=PASSWORD, preferences={"dht": False})
        result = run(capsys, monkeypatch, name, url=fault.origin, **params)
        assert portal.seen == [], portal.received()
        assert result.get("failed") is True and "redirected to %s/login: is the app behind the sign-on portal?" \
            % portal.origin in result["msg"]
    finally:
        portal.stop()
