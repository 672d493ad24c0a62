# -*- coding: utf-8 -*-
# Copyright: monsterr.mediaserver developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The Servarr client (_arr.py) against the Servarr double, plus its pure helpers."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.monsterr.mediaserver.plugins.module_utils import _http
from ansible_collections.monsterr.mediaserver.plugins.module_utils._module import argument_spec
from ansible_collections.monsterr.mediaserver.plugins.module_utils._arr import (
    ArrClient, ArrInputError, ProviderManager, check_fields, coerce_field, find_template, hide_secrets)
from ansible_collections.monsterr.mediaserver.plugins.module_utils._http import ApiError
from ansible_collections.monsterr.mediaserver.tests.doubles.arr_harness import KEY, servarr  # noqa: F401  pylint: disable=unused-import


def client(double, **kwargs):
    kwargs.setdefault("wait_timeout", 0)
    return ArrClient(double.state.app, double.url, KEY, timeout=5, sleep=lambda s: None, **kwargs)


@pytest.mark.parametrize("app, version", [("sonarr", "v3"), ("radarr", "v3"), ("lidarr", "v1"), ("readarr", "v1"),
                                          ("prowlarr", "v1")])
def test_api_generation_url_base_and_key_header(servarr, app, version):
    double = servarr(app, url_base="/" + app + "/")
    c = client(double)
    assert c.get("system/status")["version"] == double.state.info["version"]
    assert double.stats()["requests"] == {"GET /api/%s/system/status" % version: 1}


def test_schema_is_cached_per_client(servarr):
    double = servarr("sonarr")
    c = client(double)
    assert [t["implementation"] for t in c.schema("downloadclient")] == ["Nzbget", "QBittorrent"]
    c.schema("downloadclient")
    assert double.stats()["requests"] == {"GET /api/v3/downloadclient/schema": 1}


def test_crud_statuses(servarr, tmp_path):
    double = servarr("sonarr")
    c = client(double)
    created = c.create("remotepathmapping", {"host": "qb", "remotePath": "/dl", "localPath": str(tmp_path)})
    assert created["remotePath"] == "/dl/" and created["localPath"] == str(tmp_path) + "/"
    updated = c.update("remotepathmapping", created["id"], dict(created, remotePath="/downloads"))
    assert updated["remotePath"] == "/downloads/"
    assert c.list("remotepathmapping") == [updated]
    assert c.delete("remotepathmapping", created["id"]) is None
    assert c.list("remotepathmapping") == []
    assert (c.reads, c.writes) == (2, 3)


def test_wrong_key_is_401_even_for_schema_and_never_echoes_the_key(servarr):
    double = servarr("radarr")
    c = ArrClient("radarr", double.url, "not-the-key-not-the-key-00000000", wait_timeout=5, sleep=lambda s: None)
    with pytest.raises(ApiError) as caught:
        c.schema("downloadclient")
    assert caught.value.status == 401 and "API key was rejected" in str(caught.value)
    assert "not-the-key" not in str(caught.value)


def test_starting_app_is_waited_for_with_ping_then_status(servarr):
    double = servarr("sonarr", starting=10)
    c = ArrClient("sonarr", double.url, KEY, wait_timeout=30, retries=1, sleep=lambda s: None)
    assert c.list("downloadclient") == []
    seen = double.stats()["requests"]
    assert seen["GET /ping"] >= 1 and seen["GET /api/v3/system/status"] == 1


def test_unreachable_gives_up_after_wait_timeout(monkeypatch):
    now = [1000.0]
    monkeypatch.setattr(_http.time, "time", lambda: now[0])

    def sleep(seconds):
        now[0] += seconds

    c = ArrClient("lidarr", "http://127.0.0.1:9", KEY, wait_timeout=6, retries=0, sleep=sleep)
    with pytest.raises(ApiError) as caught:
        c.list("downloadclient")
    assert "lidarr: GET 127.0.0.1:9/ping" in str(caught.value) and "not ready after 6s" in str(caught.value)


def test_argument_spec():
    spec = argument_spec("arr", name=dict(type="str"))
    assert spec["api_key"]["no_log"] is True and spec["app"]["required"] is True and "name" in spec
    assert argument_spec("arr", apps=("prowlarr",))["app"] == dict(type="str", choices=["prowlarr"], default="prowlarr")
    with pytest.raises(ArrInputError):
        ArrClient("sickbeard", "http://x", KEY)


SELECT = {"name": "recentTvPriority", "type": "select", "value": 0,
          "selectOptions": [{"value": 0, "name": "Last"}, {"value": 1, "name": "First"}]}


@pytest.mark.parametrize("field, given, expected", [
    ({"name": "port", "type": "textbox", "value": 8080}, "9091", 9091),
    ({"name": "useSsl", "type": "checkbox", "value": False}, "yes", True),
    (SELECT, "first", 1),
    (SELECT, 1, 1),
    ({"name": "syncCategories", "type": "select", "value": [5000]}, "5030,5040", [5030, 5040]),
    ({"name": "seedRatio", "type": "number", "isFloat": True}, "1.5", 1.5),
    ({"name": "host", "type": "textbox", "value": "localhost"}, 10, "10"),
])
def test_coerce_field(field, given, expected):
    assert coerce_field(field, given, "x") == expected


@pytest.mark.parametrize("field, given", [
    ({"name": "port", "type": "textbox", "value": 8080}, "80a"),
    ({"name": "port", "type": "textbox", "value": 8080}, True),
    ({"name": "useSsl", "type": "checkbox", "value": False}, "perhaps"),
    (SELECT, 5),
    ({"name": "host", "type": "textbox"}, ["a"]),
])
def test_coerce_field_rejects(field, given):
    with pytest.raises(ArrInputError) as caught:
        coerce_field(field, given, "download client 'q'")
    assert "download client 'q': field '%s'" % field["name"] in str(caught.value)


def test_check_fields_lists_valid_names_and_find_template_lists_implementations():
    defs = [{"name": "host", "type": "textbox"}, {"name": "port", "type": "number"}]
    with pytest.raises(ArrInputError) as caught:
        check_fields(defs, {"hots": 1, "prot": 2}, "item", "QBittorrent")
    assert "unknown fields 'hots', 'prot' for implementation QBittorrent; valid names: host, port" in str(caught.value)
    with pytest.raises(ArrInputError) as caught:
        find_template([{"implementation": "B"}, {"implementation": "A"}], "c", "item")
    assert str(caught.value) == "item: unknown implementation 'c'; the app offers: A, B"


def test_hide_secrets_without_privacy_readarr_style():
    obj = {"fields": [{"name": "password", "type": "password", "value": "clear"}, {"name": "host", "value": "h"}]}
    assert [f["value"] for f in hide_secrets(obj)["fields"]] == ["<hidden>", "h"]


def test_provider_manager_no_op_is_one_read_and_change_sends_the_whole_object(servarr):
    double = servarr("sonarr")
    c = client(double)
    manager = ProviderManager(c, "downloadclient", "q", "download client 'q'")
    manager.run("present", "QBittorrent", {"enable": True}, {"host": "qb", "password": "pw", "initialState": 2})
    double.reset()
    c2 = client(double)
    result = ProviderManager(c2, "downloadclient", "Q", "x").run("present", None, {}, {"host": "qb"})
    assert result["changed"] is False and (c2.reads, c2.writes) == (1, 0)
    result = ProviderManager(c2, "downloadclient", "Q", "x").run("present", None, {}, {"port": 1234})
    assert result["changed"] is True and result["changes"] == ["fields.port"]
    put = [e for e in double.state.exchanges if e["method"] == "PUT"][0]["request"]
    assert len(put["fields"]) == 15 and {"name", "implementation", "configContract", "enable"} <= set(put)
    values = dict((f["name"], f.get("value")) for f in double.state.store["downloadclient"][1]["fields"])
    assert (values["initialState"], values["password"], values["port"]) == (2, "pw", 1234)
