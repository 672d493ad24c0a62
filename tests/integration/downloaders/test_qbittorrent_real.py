# -*- coding: utf-8 -*-
# Copyright: monsterr.mediaserver developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""qbittorrent_preferences and qbittorrent_category against a real qbittorrent-nox on loopback."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import time

import pytest

from ansible_collections.monsterr.mediaserver.tests.integration.downloaders.bench import free_port, record_bench

pytestmark = pytest.mark.integration


def test_preferences_four_steps_and_drift(qbittorrent, counted):
    save = qbittorrent.root + "/torrents/"
    args = qbittorrent.args(preferences=dict(
        save_path=save, max_ratio_act=0, queueing_enabled=False, max_active_downloads="7",
        bypass_auth_subnet_whitelist_enabled=True, bypass_auth_subnet_whitelist=["172.16.0.0/12", "10.0.0.0/8"]))
    before = qbittorrent.api.preferences()

    checked, _r, writes = counted("qbittorrent_preferences", check_mode=True, **args)
    assert checked["changed"] is True and writes == 0
    assert "save_path" in checked["changed_keys"]
    assert checked["diff"]["before"]["save_path"] == before["save_path"]
    assert qbittorrent.api.preferences() == before, "check mode must not write"

    real, reads, writes = counted("qbittorrent_preferences", **args)
    assert real["changed"] is True and writes == 1
    record_bench("qbittorrent_preferences", "change", reads, writes, "qbittorrent-nox (real)")
    now = qbittorrent.api.preferences()
    assert now["save_path"] == save.rstrip("/")
    assert now["max_active_downloads"] == 7 and now["queueing_enabled"] is False
    assert now["bypass_auth_subnet_whitelist"] == "172.16.0.0/12\n10.0.0.0/8"

    checked, _r, writes = counted("qbittorrent_preferences", check_mode=True, **args)
    assert checked["changed"] is False and writes == 0
    again, reads, writes = counted("qbittorrent_preferences", **args)
    assert again["changed"] is False and writes == 0
    record_bench("qbittorrent_preferences", "noop", reads, writes, "qbittorrent-nox (real)")

    # Drift through qBittorrent's own API: the next run puts it back, and only that key.
    qbittorrent.api.set_preferences({"max_active_downloads": 2, "dht": False})
    fixed, _r, writes = counted("qbittorrent_preferences", **args)
    assert fixed["changed"] is True and fixed["changed_keys"] == ["max_active_downloads"] and writes == 1
    assert qbittorrent.api.preferences()["max_active_downloads"] == 7


def test_unknown_preference_fails_naming_it_and_writes_nothing(qbittorrent, counted):
    result, _r, writes = counted("qbittorrent_preferences", **qbittorrent.args(
        preferences=dict(max_active_downloads=9, no_such_pref=1, add_stopped_enabled=True)))
    assert result["failed"] is True and writes == 0
    assert "no_such_pref" in result["msg"] and "add_stopped_enabled" in result["msg"]
    if "start_paused_enabled" in qbittorrent.api.preferences():
        assert "start_paused_enabled" in result["msg"], "hint at the name this version uses"
    assert qbittorrent.api.preferences()["max_active_downloads"] != 9


@pytest.mark.parametrize("key,value", [("dht", "maybe"), ("max_active_downloads", "many"), ("save_path", ["/a"]),
                                       ("max_ratio", True)])
def test_wrong_type_fails_naming_the_key(qbittorrent, counted, key, value):
    result, _r, writes = counted("qbittorrent_preferences", **qbittorrent.args(preferences={key: value}))
    assert result["failed"] is True and writes == 0
    assert result["msg"].startswith("qbittorrent_preferences: %s: expects" % key)


def test_web_ui_password_is_never_compared_in_clear(qbittorrent, counted):
    same = qbittorrent.args(preferences=dict(web_ui_password=qbittorrent.password))
    result, _r, writes = counted("qbittorrent_preferences", **same)
    assert result["changed"] is False and writes == 0, "equal to the password we logged in with: no change"
    assert qbittorrent.password not in str(result)

    other = qbittorrent.args(preferences=dict(web_ui_password="N3w-password"))
    result, _r, writes = counted("qbittorrent_preferences", **other)
    assert result["changed"] is False and writes == 0
    assert "update_secrets=always" in json.dumps(result.get("warnings")), "a warning says it was not sent"

    result, _r, writes = counted("qbittorrent_preferences", update_secrets="always", **other)
    assert result["changed"] is True and writes == 1
    assert "N3w-password" not in str(result) and result["diff"]["after"]["web_ui_password"] == "<hidden>"
    # The new password works; the old one is refused (one attempt, no ban).
    relog = counted("qbittorrent_preferences", **dict(qbittorrent.args(preferences={"dht": False}),
                                                      password="N3w-password"))[0]
    assert relog.get("failed") is not True


def test_wrong_password_one_attempt_no_ban_loop(qbittorrent, counted):
    result, _r, _w = counted("qbittorrent_preferences", **dict(qbittorrent.args(preferences={"dht": False}),
                                                              password="not-the-password"))
    assert result["failed"] is True
    logins = [e for e in counted.requests.seen if e[2] == "/api/v2/auth/login"]
    assert len(logins) == 1, "a refused login is never retried"
    assert "wrong username or password" in result["msg"] and "BanDuration" in result["msg"]
    assert "not-the-password" not in json.dumps(result)
    # Not banned: the right password still works.
    assert counted("qbittorrent_preferences", **qbittorrent.args(preferences={"dht": False}))[0].get("failed") is not True


def test_ban_is_reported_as_a_ban(qbittorrent_factory, counted):
    app = qbittorrent_factory({"Preferences": {"WebUI\\MaxAuthenticationFailCount": "1",
                                               "WebUI\\BanDuration": "60"}})
    bad = dict(app.args(preferences={"dht": False}), password="not-the-password")
    first = counted("qbittorrent_preferences", **bad)[0]
    assert "wrong username or password" in first["msg"]
    second = counted("qbittorrent_preferences", **bad)[0]
    assert second["status"] == 403 and "banned" in second["msg"] and "BanDuration" in second["msg"]
    assert len(counted.requests.seen) == 1


def test_unreachable_app_fails_cleanly(counted, monkeypatch):
    monkeypatch.setattr(time, "sleep", lambda s: None)
    url = "http://127.0.0.1:%d" % free_port()
    result = counted("qbittorrent_preferences", url=url, password="x", preferences={"dht": False})[0]
    assert result["failed"] is True and "/api/v2/auth/login failed" in result["msg"]
    assert result["msg"].startswith("qbittorrent: POST %s/" % url[len("http://"):])
    assert "connection error" in result["msg"]


def test_category_four_steps_drift_and_absent(qbittorrent, counted):
    path = qbittorrent.root + "/torrents/tv/"
    args = qbittorrent.args(name="tv-sonarr", save_path=path)

    checked, _r, writes = counted("qbittorrent_category", check_mode=True, **args)
    assert checked["changed"] is True and writes == 0 and checked["diff"]["before"] == {}
    assert "tv-sonarr" not in qbittorrent.api.categories()

    real, reads, writes = counted("qbittorrent_category", **args)
    assert real["changed"] is True and writes == 1
    record_bench("qbittorrent_category", "change", reads, writes, "qbittorrent-nox (real)")
    assert qbittorrent.api.categories()["tv-sonarr"]["savePath"] == path.rstrip("/")

    assert counted("qbittorrent_category", check_mode=True, **args)[0]["changed"] is False
    again, reads, writes = counted("qbittorrent_category", **args)
    assert again["changed"] is False and writes == 0
    record_bench("qbittorrent_category", "noop", reads, writes, "qbittorrent-nox (real)")

    # Drift: someone moves it in the WebUI; the module moves it back with one edit.
    qbittorrent.api.edit_category("tv-sonarr", "/elsewhere")
    fixed, _r, writes = counted("qbittorrent_category", **args)
    assert fixed["changed"] is True and writes == 1
    assert fixed["diff"]["before"]["save_path"] == "/elsewhere"
    assert qbittorrent.api.categories()["tv-sonarr"]["savePath"] == path.rstrip("/")

    # A download path set on the category survives an edit of the save path (editCategory replaces all).
    dl = qbittorrent.root + "/incomplete"
    assert counted("qbittorrent_category", **qbittorrent.args(name="tv-sonarr", download_path=dl))[0]["changed"]
    assert counted("qbittorrent_category", **qbittorrent.args(name="tv-sonarr", save_path="/x"))[0]["changed"]
    assert qbittorrent.api.categories()["tv-sonarr"].get("download_path") == dl
    assert not counted("qbittorrent_category", **qbittorrent.args(name="tv-sonarr", download_path=dl))[0]["changed"]

    gone = qbittorrent.args(name="tv-sonarr", state="absent")
    assert counted("qbittorrent_category", check_mode=True, **gone)[0]["changed"] is True
    assert "tv-sonarr" in qbittorrent.api.categories()
    assert counted("qbittorrent_category", **gone)[0]["changed"] is True
    assert "tv-sonarr" not in qbittorrent.api.categories()
    assert counted("qbittorrent_category", **gone)[0]["changed"] is False


def test_category_bad_input(qbittorrent, counted):
    result, _r, writes = counted("qbittorrent_category", **qbittorrent.args(name="/bad/", save_path="/x"))
    assert result["failed"] is True and "invalid name" in result["msg"] and writes == 0
    result, _r, writes = counted("qbittorrent_category", **qbittorrent.args(name="tv", download_path_enabled=True))
    assert result["failed"] is True and "needs download_path" in result["msg"] and writes == 0
    result = counted("qbittorrent_category", **dict(qbittorrent.args(name="tv"), wait_timeout="soon"))[0]
    assert result["failed"] is True and "wait_timeout" in result["msg"]


def test_categories_list_one_read_four_steps_and_input_checked_before_any_write(qbittorrent, counted):
    root = qbittorrent.root + "/torrents/"
    wanted = [{"name": n, "save_path": root + n} for n in ("tv", "movies", "music")]
    args = qbittorrent.args(categories=wanted)

    checked, _r, writes = counted("qbittorrent_category", check_mode=True, **args)
    assert checked["changed"] is True and writes == 0
    assert [c["changes"] for c in checked["categories"]] == [["created"]] * 3

    real, reads, writes = counted("qbittorrent_category", **args)
    assert real["changed"] is True and writes == 3
    record_bench("qbittorrent_category x3", "change", reads, writes, "qbittorrent-nox (real)")
    assert dict((n, c["savePath"]) for n, c in qbittorrent.api.categories().items()) == \
        dict((c["name"], c["save_path"]) for c in wanted)

    assert counted("qbittorrent_category", check_mode=True, **args)[0]["changed"] is False
    again, reads, writes = counted("qbittorrent_category", **args)
    assert again["changed"] is False and writes == 0
    # One login and one read of the categories for all three.
    assert reads <= 2
    record_bench("qbittorrent_category x3", "noop", reads, writes, "qbittorrent-nox (real)")

    # Drift on one: only that one is edited; its diff is keyed by name.
    qbittorrent.api.edit_category("movies", "/elsewhere")
    fixed, _r, writes = counted("qbittorrent_category", **args)
    assert fixed["changed"] is True and writes == 1
    assert [c["name"] for c in fixed["categories"] if c["changed"]] == ["movies"]
    assert fixed["diff"]["before"]["movies"]["save_path"] == "/elsewhere"

    # A bad item fails before anything is written, the good ones included.
    bad = qbittorrent.args(categories=[{"name": "books", "save_path": root + "books"}, {"name": "/bad/"}])
    result, _r, writes = counted("qbittorrent_category", **bad)
    assert result["failed"] is True and "invalid name" in result["msg"] and writes == 0
    assert "books" not in qbittorrent.api.categories()
    twice = qbittorrent.args(categories=[{"name": "tv"}, {"name": "tv", "state": "absent"}])
    result, _r, writes = counted("qbittorrent_category", **twice)
    assert result["failed"] is True and "more than once" in result["msg"] and writes == 0
    # Single-item options and the list do not mix.
    result, _r, _w = counted("qbittorrent_category", **dict(args, name="tv"))
    assert result["failed"] is True and "mutually exclusive" in result["msg"]
