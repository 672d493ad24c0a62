# -*- coding: utf-8 -*-
# Copyright: monsterr.mediaserver developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Container mode of the Bazarr and Overseerr doubles (tests/doubles/companion_server.py, the `companions` image of
the stack scenario), run in-process: seeded keys, state kept across a restart, request counters, and Overseerr's
connection test really asking a Servarr (double) for its profiles and root folders."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import urllib.error
import urllib.request

import pytest

from ansible_collections.monsterr.mediaserver.tests.doubles import companion_server
from ansible_collections.monsterr.mediaserver.tests.doubles.servarr import ServarrDouble
from ansible_collections.monsterr.mediaserver.tests.integration.downloaders.bench import free_port

BAZARR_KEY = "0123456789abcdef0123456789abcdef"
OVERSEERR_KEY = "b3ZlcnNlZXJyLWtleS1mb3ItdGhlLXRlc3Q="
SONARR_KEY = "fedcba9876543210fedcba9876543210"


def call(url, method="GET", headers=None, data=None):
    request = urllib.request.Request(url, data=data, headers=headers or {}, method=method)
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            raw = response.read()
            return response.status, json.loads(raw) if raw else None
    except urllib.error.HTTPError as exc:
        raw = exc.read()
        return exc.code, json.loads(raw) if raw else None


@pytest.fixture()
def seeded(tmp_path):
    (tmp_path / "bazarr" / "config").mkdir(parents=True)
    (tmp_path / "bazarr" / "config" / "config.yaml").write_text(
        "# seeded\nauth:\n  apikey: %s\n  type: null\ngeneral:\n  ip: 0.0.0.0\n  port: 6767\n  base_url: ''\n" % BAZARR_KEY)
    (tmp_path / "overseerr").mkdir()
    (tmp_path / "overseerr" / "settings.json").write_text(json.dumps({"main": {"apiKey": OVERSEERR_KEY},
                                                                       "public": {"initialized": False}}))
    return tmp_path


def start(app, directory, environ=None):
    double, port = companion_server.make(app, str(directory), environ or {}, listen_port=free_port())
    return double.start("127.0.0.1", port), "http://127.0.0.1:%d" % port


def test_simple_yaml_reads_the_seeded_bazarr_config():
    assert companion_server.simple_yaml("a:\n  b: 'x'\n  c: 1\n# note\nd:\n  e: \"y z\"\n") == \
        {"a": {"b": "x", "c": "1"}, "d": {"e": "y z"}}


def test_bazarr_takes_the_seeded_key_counts_requests_and_keeps_its_settings(seeded):
    double, url = start("bazarr", seeded / "bazarr")
    try:
        assert call(url + "/api/system/settings")[0] == 401
        form = b"settings-general-use_sonarr=true&settings-sonarr-ip=sonarr"
        assert call(url + "/api/system/settings", "POST", {"X-API-KEY": BAZARR_KEY}, form)[0] == 204
        status, stats = call(url + "/__double__/stats")
        assert status == 200 and stats["writes"] == 1 and stats["by_method"] == {"GET": 1, "POST": 1}
        assert call(url + "/__double__/reset", "POST")[0] == 200
        assert call(url + "/__double__/stats")[1]["requests"] == []
    finally:
        double.stop()
    saved = seeded / "bazarr" / "bazarr-double.json"
    assert oct(os.stat(str(saved)).st_mode & 0o777) == "0o600"
    double, url = start("bazarr", seeded / "bazarr")
    try:
        settings = call(url + "/api/system/settings", headers={"X-API-KEY": BAZARR_KEY})[1]
        assert settings["general"]["use_sonarr"] is True and settings["sonarr"]["ip"] == "sonarr"
    finally:
        double.stop()


def test_overseerr_needs_its_admin_then_tests_the_real_app_and_keeps_its_servers(seeded, tmp_path):
    fresh, url = start("overseerr", seeded / "overseerr")
    try:
        assert call(url + "/api/v1/settings/sonarr", headers={"X-Api-Key": OVERSEERR_KEY})[0] == 403
    finally:
        fresh.stop()

    sonarr = ServarrDouble("sonarr", SONARR_KEY, check_paths=False).start()
    sonarr.state.rootfolder_write({"path": "/data/media/tv"})
    double, url = start("overseerr", seeded / "overseerr", {"OVERSEERR_DOUBLE_ADMIN": "true"})
    headers = {"X-Api-Key": OVERSEERR_KEY, "Content-Type": "application/json"}
    try:
        body = {"hostname": "127.0.0.1", "port": sonarr.port, "apiKey": SONARR_KEY, "useSsl": False, "baseUrl": ""}
        status, tested = call(url + "/api/v1/settings/sonarr/test", "POST", headers, json.dumps(body).encode())
        assert status == 200
        assert {"id": 4, "name": "HD-1080p"} in tested["profiles"]
        assert tested["rootFolders"] == [{"id": 1, "path": "/data/media/tv"}]
        assert sorted(sonarr.stats()["requests"]) == ["GET /api/v3/qualityprofile", "GET /api/v3/rootfolder"]
        wrong = dict(body, apiKey="not-the-key")
        assert call(url + "/api/v1/settings/sonarr/test", "POST", headers, json.dumps(wrong).encode())[0] == 500
        server = {"name": "sonarr", "hostname": "sonarr", "port": 8989, "apiKey": SONARR_KEY, "useSsl": False,
                  "activeProfileId": 4, "activeProfileName": "HD-1080p", "activeDirectory": "/data/media/tv",
                  "is4k": False, "enableSeasonFolders": True, "isDefault": True}
        assert call(url + "/api/v1/settings/sonarr", "POST", headers, json.dumps(server).encode())[0] == 201
        # The tests are reads; the POST of the server is the one write.
        assert call(url + "/__double__/stats")[1]["writes"] == 1
    finally:
        double.stop()
        sonarr.stop()
    double, url = start("overseerr", seeded / "overseerr", {"OVERSEERR_DOUBLE_ADMIN": "true"})
    try:
        assert [s["name"] for s in call(url + "/api/v1/settings/sonarr", headers=headers)[1]] == ["sonarr"]
    finally:
        double.stop()
