# -*- coding: utf-8 -*-
# Copyright: monsterr.mediaserver developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""arr_download_client against the Servarr double: four steps, drift, secrets, force_save, bad input."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.monsterr.mediaserver.tests.doubles.arr_harness import api, conn, counted, four_steps, run_module

CATEGORY = {"sonarr": "tvCategory", "radarr": "movieCategory", "lidarr": "musicCategory", "readarr": "musicCategory",
            "prowlarr": "category"}
MODULE = "arr_download_client"


def qbit(double, **extra):
    app = double.state.app
    fields = {"host": "qbittorrent", "port": 8080, "username": "arr", "password": "s3cret", CATEGORY[app]: "arr-" + app}
    fields.update(extra.pop("fields", {}))
    return conn(double, name="qBittorrent", implementation="QBittorrent", fields=fields, **extra)


def field(obj, name):
    return dict((f["name"], f.get("value")) for f in obj["fields"]).get(name)


def drift_port(double):
    def drift():
        current = api(double, "GET", "/downloadclient")[0]
        for f in current["fields"]:
            if f["name"] == "port":
                f["value"] = 9999
        api(double, "PUT", "/downloadclient/%d" % current["id"], current)
    return drift


@pytest.mark.parametrize("app", ["sonarr", "radarr", "lidarr", "readarr", "prowlarr"])
def test_qbittorrent_four_steps_and_drift(servarr, capsys, app):
    double = servarr(app, url_base="/" + app)
    four_steps(double, capsys, MODULE, qbit(double), drift=drift_port(double))
    stored = double.state.store["downloadclient"][1]
    assert field(stored, "password") == "s3cret" and field(stored, "port") == 8080


@pytest.mark.parametrize("app", ["sonarr", "radarr"])
def test_nzbget_four_steps_and_drift(servarr, capsys, app):
    double = servarr(app)
    params = conn(double, name="NZBGet", implementation="nzbget", priority=2,
                  fields={"host": "nzbget", "port": "6789", "username": "nzbget", "password": "pw",
                          CATEGORY[app]: "Series", "recent" + ("Tv" if app == "sonarr" else "Movie") + "Priority": "High"})
    four_steps(double, capsys, MODULE, params, drift=drift_port(double))
    stored = double.state.store["downloadclient"][1]
    assert stored["priority"] == 2 and field(stored, "port") == 6789
    assert field(stored, "recentTvPriority" if app == "sonarr" else "recentMoviePriority") == 50


def test_untouched_fields_survive_the_reset_on_put(servarr, capsys):
    """The app resets omitted fields: a change to one field must not lose the others."""
    double = servarr("sonarr")
    run_module(capsys, MODULE, **qbit(double, fields={"initialState": 2, "sequentialOrder": True}))
    result = run_module(capsys, MODULE, **qbit(double, fields={"host": "qbt2"}))
    assert result["changed"] is True and result["changes"] == ["fields.host"]
    stored = double.state.store["downloadclient"][1]
    assert (field(stored, "initialState"), field(stored, "sequentialOrder"), field(stored, "password")) == (2, True, "s3cret")


def test_masked_secret_is_equal_unless_always(servarr, capsys):
    double = servarr("sonarr")
    run_module(capsys, MODULE, **qbit(double))
    changed_pw = qbit(double, fields={"password": "other"})
    result, _, writes = counted(double, capsys, MODULE, **changed_pw)
    assert (result["changed"], writes) == (False, 0)
    assert "s3cret" not in str(result) and "other" not in str(result)
    result, _, writes = counted(double, capsys, MODULE, update_secrets="always", **changed_pw)
    assert (result["changed"], writes) == (True, 1)
    assert result["diff"]["after"]["fields"]["password"] == "<hidden>" and "other" not in str(result)
    assert field(double.state.store["downloadclient"][1], "password") == "other"


def test_readarr_clear_secrets_are_compared_and_hidden(servarr, capsys):
    double = servarr("readarr")
    run_module(capsys, MODULE, **qbit(double))
    result = run_module(capsys, MODULE, **qbit(double))
    assert result["changed"] is False and "s3cret" not in str(result)
    result = run_module(capsys, MODULE, **qbit(double, fields={"password": "new"}))
    assert result["changed"] is True and result["changes"] == ["fields.password"]


def test_force_save_creates_enabled_client_while_target_is_down(servarr, capsys):
    double = servarr("sonarr")
    double.state.unreachable = {"qbittorrent"}
    failed = run_module(capsys, MODULE, **qbit(double))
    assert failed["failed"] and "download client 'qBittorrent'" in failed["msg"] and "Unable to connect" in failed["msg"]
    assert not double.state.store["downloadclient"]
    result, _, writes = counted(double, capsys, MODULE, force_save=True, **qbit(double))
    assert result["changed"] is True and writes == 2
    assert double.state.store["downloadclient"][1]["enable"] is True


def test_absent_deletes_and_is_idempotent(servarr, capsys):
    double = servarr("radarr")
    run_module(capsys, MODULE, **qbit(double))
    gone = conn(double, name="QBITTORRENT", state="absent")
    four_steps(double, capsys, MODULE, gone)
    assert not double.state.store["downloadclient"]


def test_implementation_change_replaces(servarr, capsys):
    double = servarr("sonarr")
    run_module(capsys, MODULE, **qbit(double))
    result = run_module(capsys, MODULE, **conn(double, name="qBittorrent", implementation="Nzbget", fields={"host": "nz"}))
    assert result["changed"] is True
    assert [c["implementation"] for c in double.state.store["downloadclient"].values()] == ["Nzbget"]


@pytest.mark.parametrize("params, words", [
    (dict(implementation="Deluge2"), ["unknown implementation 'Deluge2'", "QBittorrent", "Nzbget"]),
    (dict(fields={"hots": "x"}), ["unknown field 'hots'", "valid names", "host", "tvCategory"]),
    (dict(fields={"port": "eighty"}), ["field 'port' expects an integer", "eighty"]),
    (dict(fields={"useSsl": "maybe"}), ["field 'useSsl' expects a boolean"]),
    (dict(fields={"initialState": 7}), ["field 'initialState' must be one of"]),
    (dict(remove_completed_downloads=True, app="prowlarr"), ["removeCompletedDownloads"]),
])
def test_bad_input_fails_naming_the_item_and_writes_nothing(servarr, capsys, params, words):
    app = params.pop("app", "sonarr")
    double = servarr(app)
    base = qbit(double)
    base.update(params)
    if "fields" in params:
        base["fields"] = dict(qbit(double)["fields"], **params["fields"])
    result, _, writes = counted(double, capsys, MODULE, **base)
    assert result["failed"] is True and writes == 0
    assert "download client 'qBittorrent'" in result["msg"]
    for word in words:
        assert word in result["msg"]


def test_bad_input_on_existing_client_writes_nothing(servarr, capsys):
    double = servarr("sonarr")
    run_module(capsys, MODULE, **qbit(double))
    result, _, writes = counted(double, capsys, MODULE, **qbit(double, fields={"host": "a", "nope": 1}))
    assert result["failed"] is True and writes == 0 and "unknown field 'nope'" in result["msg"]
    assert field(double.state.store["downloadclient"][1], "host") == "qbittorrent"


def test_unreachable_app_fails_clearly(servarr, capsys):
    params = dict(url="http://127.0.0.1:9", api_key="k" * 32, app="sonarr", wait_timeout=0, timeout=2,
                  name="qBittorrent", implementation="QBittorrent")
    result = run_module(capsys, MODULE, **params)
    assert result["failed"] is True
    assert "download client 'qBittorrent' in sonarr: sonarr: GET 127.0.0.1:9/api/v3/downloadclient failed" in result["msg"]
    assert "k" * 32 not in str(result)


def test_wrong_key_fails_with_401(servarr, capsys):
    double = servarr("sonarr")
    result = run_module(capsys, MODULE, **dict(qbit(double), api_key="wrong-key-wrong-key-wrong-key-00"))
    assert result["failed"] and result["status"] == 401 and "API key was rejected" in result["msg"]
    assert "wrong-key" not in result["msg"]


def test_starting_app_is_waited_for(servarr, capsys):
    double = servarr("sonarr", starting=8)
    result = run_module(capsys, MODULE, **dict(qbit(double), wait_timeout=30))
    assert result["changed"] is True and double.state.starting == 0
    assert double.stats()["requests"].get("GET /ping", 0) >= 1
