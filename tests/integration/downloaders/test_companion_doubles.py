# -*- coding: utf-8 -*-
# Copyright: monsterr.mediaserver developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""bazarr_arr_link and overseerr_arr_link against the loopback doubles in tests/doubles (not in Debian)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import time

import pytest

from ansible_collections.monsterr.mediaserver.tests.integration.downloaders.bench import free_port, record_bench

SONARR_KEY = "0123456789abcdef0123456789abcdef"
RADARR_KEY = "fedcba9876543210fedcba9876543210"


def bazarr_args(double, **extra):
    return dict(url=double.url, api_key=double.api_key, **extra)


def test_bazarr_link_four_steps_and_drift(bazarr, counted):
    args = bazarr_args(bazarr, arr="sonarr", host="sonarr", port=8989, base_url="sonarr/", arr_api_key=SONARR_KEY,
                       ssl=False, settings=dict(only_monitored="true", series_sync=180))
    before = json.dumps(bazarr.settings, sort_keys=True)

    checked, _r, writes = counted("bazarr_arr_link", check_mode=True, **args)
    assert checked["changed"] is True and writes == 0 and bazarr.stats()["writes"] == 0
    assert json.dumps(bazarr.settings, sort_keys=True) == before
    assert SONARR_KEY not in json.dumps(checked) and checked["diff"]["after"]["apikey"] == "<hidden>"

    real, reads, writes = counted("bazarr_arr_link", **args)
    assert real["changed"] is True and writes == 1
    record_bench("bazarr_arr_link", "change", reads, writes, "tests/doubles/bazarr.py")
    assert bazarr.settings["general"]["use_sonarr"] is True
    assert bazarr.settings["sonarr"]["ip"] == "sonarr" and bazarr.settings["sonarr"]["base_url"] == "/sonarr"
    assert bazarr.settings["sonarr"]["apikey"] == SONARR_KEY and bazarr.settings["sonarr"]["series_sync"] == 180
    assert bazarr.settings["sonarr"]["only_monitored"] is True
    assert bazarr.settings["radarr"]["port"] == 7878, "other sections untouched"
    assert sorted(real["changed_keys"]) == ["general.use_sonarr", "sonarr.apikey", "sonarr.base_url", "sonarr.ip",
                                            "sonarr.only_monitored", "sonarr.series_sync"]

    assert counted("bazarr_arr_link", check_mode=True, **args)[0]["changed"] is False
    bazarr.reset()
    again, reads, writes = counted("bazarr_arr_link", **args)
    assert again["changed"] is False and writes == 0 and bazarr.stats()["writes"] == 0
    record_bench("bazarr_arr_link", "noop", reads, writes, "tests/doubles/bazarr.py")

    bazarr.set("sonarr", "apikey", "changed-behind-our-back")
    bazarr.set("sonarr", "port", 9999)
    fixed = counted("bazarr_arr_link", **args)[0]
    assert fixed["changed_keys"] == ["sonarr.apikey", "sonarr.port"]
    assert bazarr.settings["sonarr"]["apikey"] == SONARR_KEY and bazarr.settings["sonarr"]["port"] == 8989

    off = bazarr_args(bazarr, arr="sonarr", state="absent")
    assert counted("bazarr_arr_link", **off)[0]["changed_keys"] == ["general.use_sonarr"]
    assert bazarr.settings["general"]["use_sonarr"] is False and bazarr.settings["sonarr"]["ip"] == "sonarr"
    assert counted("bazarr_arr_link", **off)[0]["changed"] is False


def test_bazarr_bad_input(bazarr, counted, monkeypatch):
    result, _r, writes = counted("bazarr_arr_link", **bazarr_args(bazarr, arr="radarr", host="radarr",
                                                                   settings=dict(no_such_key=1)))
    assert result["failed"] is True and "unknown radarr setting: no_such_key" in result["msg"] and writes == 0
    result, _r, writes = counted("bazarr_arr_link", **bazarr_args(bazarr, arr="radarr", settings=dict(movies_sync="hourly")))
    assert result["failed"] is True and "radarr.movies_sync: expects a integer" in result["msg"] and writes == 0
    result, _r, writes = counted("bazarr_arr_link", **bazarr_args(bazarr, arr="radarr", settings=dict(movies_sync=5)))
    assert result["failed"] is True and result["status"] == 406
    assert "radarr.movies_sync must is_in [15, 60, 180" in result["msg"], "Bazarr's own validation message"
    result = counted("bazarr_arr_link", **dict(bazarr_args(bazarr, arr="radarr"), api_key="wrong-key"))[0]
    assert result["failed"] is True and result["status"] == 401 and "API key was refused" in result["msg"]
    assert "wrong-key" not in result["msg"]
    monkeypatch.setattr(time, "sleep", lambda s: None)
    result = counted("bazarr_arr_link", url="http://127.0.0.1:%d" % free_port(), api_key="k", arr="sonarr")[0]
    assert result["failed"] is True and "bazarr: GET 127.0.0.1:" in result["msg"]
    assert "/api/system/settings failed" in result["msg"]


def overseerr_args(double, **extra):
    return dict(url=double.url, api_key=double.api_key, **extra)


def sonarr_link(double, **extra):
    args = overseerr_args(double, arr="sonarr", name="Sonarr", hostname="sonarr", port=8989, arr_api_key=SONARR_KEY,
                          active_profile_name="HD-1080p", active_directory="/data/media/tv", is_default=True,
                          test_connection=True)
    args.update(extra)
    return args


def test_overseerr_link_four_steps_and_drift(overseerr, counted):
    overseerr.add_app("sonarr", "sonarr", 8989, SONARR_KEY, [{"id": 1, "name": "Any"}, {"id": 4, "name": "HD-1080p"}],
                      ["/data/media/tv", "/data/media/anime"])
    args = sonarr_link(overseerr)

    checked, _r, writes = counted("overseerr_arr_link", check_mode=True, **args)
    assert checked["changed"] is True and writes == 0 and overseerr.servers["sonarr"] == []
    assert checked["diff"]["after"]["activeProfileId"] == 4, "profile id looked up by name through /test"

    real, reads, writes = counted("overseerr_arr_link", **args)
    assert real["changed"] is True and writes == 1
    record_bench("overseerr_arr_link", "change", reads, writes, "tests/doubles/overseerr.py")
    [stored] = overseerr.servers["sonarr"]
    assert stored["id"] == 0 and stored["activeProfileId"] == 4 and stored["apiKey"] == SONARR_KEY
    assert stored["enableSeasonFolders"] is True and stored["isDefault"] is True
    assert SONARR_KEY not in json.dumps(real)

    assert counted("overseerr_arr_link", check_mode=True, **args)[0]["changed"] is False
    overseerr.reset()
    again, reads, writes = counted("overseerr_arr_link", **args)
    assert again["changed"] is False and writes == 0 and overseerr.stats()["writes"] == 0
    record_bench("overseerr_arr_link", "noop", reads, writes, "tests/doubles/overseerr.py (test_connection on)")
    quiet = dict(args, test_connection=False, active_profile_id=4)
    assert counted("overseerr_arr_link", **quiet)[1:] == (1, 0), "without test_connection a no-op is one GET"

    overseerr.edit("sonarr", "Sonarr", activeDirectory="/data/media/anime", port=1234)
    fixed = counted("overseerr_arr_link", **quiet)[0]
    assert fixed["changed_fields"] == ["activeDirectory", "port"]
    assert overseerr.servers["sonarr"][0]["activeDirectory"] == "/data/media/tv"
    assert overseerr.servers["sonarr"][0]["id"] == 0, "updated in place (PUT), no duplicate"

    gone = overseerr_args(overseerr, arr="sonarr", name="Sonarr", state="absent")
    assert counted("overseerr_arr_link", check_mode=True, **gone)[0]["changed"] is True
    assert counted("overseerr_arr_link", **gone)[0]["changed"] is True and overseerr.servers["sonarr"] == []
    assert counted("overseerr_arr_link", **gone)[0]["changed"] is False


def test_overseerr_is_default_moves(overseerr, counted):
    common = dict(arr="radarr", hostname="radarr", port=7878, arr_api_key=RADARR_KEY, active_profile_id=1,
                  active_profile_name="Any", active_directory="/data/media/movies")
    counted("overseerr_arr_link", **overseerr_args(overseerr, name="Radarr", is_default=True, **common))
    counted("overseerr_arr_link", **overseerr_args(overseerr, name="Radarr B", is_default=True, **common))
    assert [s["isDefault"] for s in overseerr.servers["radarr"]] == [False, True]
    assert counted("overseerr_arr_link", **overseerr_args(overseerr, name="Radarr", is_default=True, **common))[0]["changed"]
    assert [s["isDefault"] for s in overseerr.servers["radarr"]] == [True, False]


def test_overseerr_bad_input(overseerr, counted, monkeypatch):
    overseerr.add_app("sonarr", "sonarr", 8989, SONARR_KEY, [{"id": 4, "name": "HD-1080p"}], ["/data/media/tv"])
    result, _r, writes = counted("overseerr_arr_link", **sonarr_link(overseerr, active_profile_name="Ultra-8K"))
    assert result["failed"] is True and "no quality profile Ultra-8K" in result["msg"] and "4=HD-1080p" in result["msg"]
    assert writes == 0
    result, _r, writes = counted("overseerr_arr_link", **sonarr_link(overseerr, active_directory="/nope"))
    assert result["failed"] is True and "no root folder /nope" in result["msg"] and writes == 0
    result, _r, writes = counted("overseerr_arr_link", **sonarr_link(overseerr, arr_api_key="bad-sonarr-key"))
    assert result["failed"] is True and "could not connect to sonarr" in result["msg"] and writes == 0
    assert "bad-sonarr-key" not in json.dumps(result)
    result, _r, writes = counted("overseerr_arr_link", **sonarr_link(overseerr, minimum_availability="released"))
    assert result["failed"] is True and "minimum_availability cannot be set for sonarr" in result["msg"]
    result, _r, writes = counted("overseerr_arr_link", **sonarr_link(overseerr, test_connection=False))
    assert result["failed"] is True and "creating it needs activeProfileId" in result["msg"] and writes == 0
    result = counted("overseerr_arr_link", **sonarr_link(overseerr, port="eighty"))[0]
    assert result["failed"] is True and "port" in result["msg"]
    monkeypatch.setattr(time, "sleep", lambda s: None)
    result = counted("overseerr_arr_link", **dict(sonarr_link(overseerr), url="http://127.0.0.1:%d" % free_port()))[0]
    assert result["failed"] is True and "overseerr: GET 127.0.0.1:" in result["msg"]
    assert "/api/v1/settings/sonarr failed" in result["msg"]


def test_overseerr_wrong_key_fails_once_setup_is_finished(overseerr, counted):
    """Issue #12: a wrong key answers 403 exactly like "no admin yet", and the wiring reported it as pending
    forever. Once Overseerr's setup is finished (public settings: initialized), a 403 means a wrong key."""
    result = counted("overseerr_arr_link", **dict(sonarr_link(overseerr), api_key="bm90LXRoZS1rZXk="))[0]
    assert result["failed"] is True and result["status"] == 403
    assert "the key is wrong" in result["msg"] and "initialized: true" in result["msg"], result["msg"]
    assert "admin_pending" not in result and "bm90LXRoZS1rZXk=" not in json.dumps(result)
    assert overseerr.servers["sonarr"] == []


def test_overseerr_without_an_admin_is_pending(overseerr, counted):
    """A fresh Overseerr (nobody signed in): 403 with the right key; the module says pending, with
    admin_pending: true for the wiring role, and writes nothing."""
    overseerr.admin_exists = overseerr.initialized = False
    result, _r, writes = counted("overseerr_arr_link", **sonarr_link(overseerr))
    assert result["failed"] is True and result["status"] == 403 and result["admin_pending"] is True
    assert "pending: Overseerr's setup is not finished" in result["msg"] and writes == 0
    # a wrong key cannot be told apart before the setup: it is pending too, and the message says so
    result = counted("overseerr_arr_link", **dict(sonarr_link(overseerr), api_key="bm90LXRoZS1rZXk="))[0]
    assert result["admin_pending"] is True and "nor be checked" in result["msg"]


def test_overseerr_without_a_key_header_is_a_401(overseerr):
    from ansible_collections.monsterr.mediaserver.plugins.module_utils._http import HttpClient
    response = HttpClient("overseerr", overseerr.url, retries=0).request("GET", "/api/v1/settings/sonarr",
                                                                         expect=(401,))
    assert response.status == 401


def test_bazarr_empty_list_is_cleared_then_unchanged(bazarr, counted):
    """Issue #12: an empty list was never sent (zero repeated fields), so Bazarr never cleared it and every run
    reported changed. Bazarr clears a list only when its field is sent once with an empty value."""
    bazarr.set("sonarr", "excluded_tags", ["old-tag", "other"])
    args = bazarr_args(bazarr, arr="sonarr", host="sonarr", settings=dict(excluded_tags=[]))
    first, _r, writes = counted("bazarr_arr_link", **args)
    assert first["changed_keys"] == ["general.use_sonarr", "sonarr.excluded_tags", "sonarr.ip"] and writes == 1
    assert bazarr.posts[-1]["settings-sonarr-excluded_tags"] == [""], "sent once, empty"
    assert bazarr.settings["sonarr"]["excluded_tags"] == []
    again, _r, writes = counted("bazarr_arr_link", **args)
    assert again["changed"] is False and writes == 0
    tags = bazarr_args(bazarr, arr="sonarr", host="sonarr", settings=dict(excluded_tags=["a-tag", "b"]))
    counted("bazarr_arr_link", **tags)
    assert bazarr.posts[-1]["settings-sonarr-excluded_tags"] == ["a-tag", "b"]
    assert bazarr.settings["sonarr"]["excluded_tags"] == ["a-tag", "b"]
    assert counted("bazarr_arr_link", **tags)[0]["changed"] is False


@pytest.mark.parametrize("given", ["/", "", "//"])
def test_bazarr_base_url_none_shows_no_spurious_diff(bazarr, counted, given):
    """Issue #12: Bazarr stores base_url '/' back as '' (url_sonarr()); the module compared them as equal but
    its diff showed a base_url line ('' -> '/') on every run."""
    args = bazarr_args(bazarr, arr="sonarr", host="sonarr", port=8989, base_url=given, arr_api_key=SONARR_KEY)
    counted("bazarr_arr_link", **args)
    assert bazarr.settings["sonarr"]["base_url"] == "", "Bazarr's own rewrite"
    again = counted("bazarr_arr_link", **args)[0]
    assert again["changed"] is False
    assert again["diff"]["before"] == again["diff"]["after"], again["diff"]


def test_bazarr_all_digit_text_value_fails_before_writing(bazarr, counted):
    """Bazarr casts an all-digit form value to int unless its key is in str_keys, then refuses it for a text
    setting (406, after its other keys were parsed): the module says so before writing anything."""
    result, _r, writes = counted("bazarr_arr_link", **bazarr_args(bazarr, arr="radarr", arr_api_key="12345678901234567890"))
    assert result["failed"] is True and "radarr.apikey: Bazarr stores an all-digit value as a number" in result["msg"]
    assert writes == 0 and "12345678901234567890" not in json.dumps(result)
