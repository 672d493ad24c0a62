# -*- coding: utf-8 -*-
# Copyright: monsterr.mediaserver developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""arr_root_folder, arr_remote_path_mapping, arr_media_management, arr_info against the Servarr double."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.monsterr.mediaserver.tests.doubles.arr_harness import api, conn, counted, four_steps, run_module


@pytest.mark.parametrize("app", ["sonarr", "radarr"])
def test_root_folder_four_steps_and_absent(servarr, capsys, tmp_path, app):
    double = servarr(app)
    path = str(tmp_path / "tv")
    (tmp_path / "tv").mkdir()
    params = conn(double, path=path + "/")
    four_steps(double, capsys, "arr_root_folder", params,
               drift=lambda: api(double, "DELETE", "/rootfolder/1"))
    assert [f["path"] for f in double.state.store["rootfolder"].values()] == [path]
    four_steps(double, capsys, "arr_root_folder", dict(params, state="absent"))
    assert not double.state.store["rootfolder"]


@pytest.mark.parametrize("app", ["lidarr", "readarr"])
def test_root_folder_lidarr_readarr_update_in_place(servarr, capsys, tmp_path, app):
    double = servarr(app)
    params = conn(double, path=str(tmp_path), name="Music", default_quality_profile_id=1, default_metadata_profile_id=1,
                  default_monitor_option="future")

    def drift():
        current = api(double, "GET", "/rootfolder")[0]
        api(double, "PUT", "/rootfolder/%d" % current["id"], dict(current, defaultMonitorOption="none"))

    four_steps(double, capsys, "arr_root_folder", params, drift=drift)
    assert double.state.store["rootfolder"][1]["defaultMonitorOption"] == "future"


def test_root_folder_bad_input(servarr, capsys, tmp_path):
    double = servarr("sonarr")
    result, _, writes = counted(double, capsys, "arr_root_folder", **conn(double, path=str(tmp_path / "missing")))
    assert result["failed"] and writes == 1 and "does not exist" in result["msg"]  # the app refuses; nothing stored
    assert "root folder '%s'" % (tmp_path / "missing") in result["msg"] and not double.state.store["rootfolder"]
    result, _, writes = counted(double, capsys, "arr_root_folder", **conn(double, path=str(tmp_path), name="x"))
    assert result["failed"] and writes == 0 and "only a path" in result["msg"]
    lidarr = servarr("lidarr")
    result, _, writes = counted(lidarr, capsys, "arr_root_folder", **conn(lidarr, path=str(tmp_path)))
    assert result["failed"] and writes == 0 and "needs name" in result["msg"]
    result = run_module(capsys, "arr_root_folder", **conn(double, path="relative/path"))
    assert result["failed"] and "absolute" in result["msg"]


@pytest.mark.parametrize("app", ["sonarr", "radarr", "lidarr", "readarr"])
def test_remote_path_mapping_four_steps_and_drift(servarr, capsys, tmp_path, app):
    double = servarr(app)
    local = tmp_path / "torrents"
    local.mkdir()
    params = conn(double, host="qbittorrent", remote_path="/downloads", local_path=str(local))

    def drift():
        api(double, "PUT", "/remotepathmapping/1", {"host": "qbittorrent", "remotePath": "/downloads/", "localPath": str(tmp_path) + "/"})

    four_steps(double, capsys, "arr_remote_path_mapping", params, drift=drift)
    assert double.state.store["remotepathmapping"][1]["localPath"] == str(local) + "/"
    four_steps(double, capsys, "arr_remote_path_mapping", dict(params, state="absent", local_path=None))


def test_remote_path_mapping_duplicate_is_a_500_the_module_never_provokes(servarr, capsys, tmp_path):
    double = servarr("sonarr")
    body = {"host": "qbittorrent", "remotePath": "/downloads", "localPath": str(tmp_path)}
    api(double, "POST", "/remotepathmapping", body)
    with pytest.raises(Exception) as caught:
        api(double, "POST", "/remotepathmapping", body)
    assert caught.value.status == 500 and "already configured" in str(caught.value)
    result, _, writes = counted(double, capsys, "arr_remote_path_mapping",
                                **conn(double, host="qbittorrent", remote_path="/downloads/", local_path=str(tmp_path)))
    assert result["changed"] is False and writes == 0


@pytest.mark.parametrize("app", ["sonarr", "radarr", "lidarr", "readarr"])
def test_media_management_four_steps_and_drift(servarr, capsys, app):
    double = servarr(app)
    params = conn(double, settings={"copyUsingHardlinks": True, "deleteEmptyFolders": True, "chmodFolder": "775",
                                    "recycleBinCleanupDays": "14"})
    before = dict(double.state.media)

    def drift():
        current = api(double, "GET", "/config/mediamanagement")
        api(double, "PUT", "/config/mediamanagement/1", dict(current, deleteEmptyFolders=False))

    four_steps(double, capsys, "arr_media_management", params, drift=drift)
    after = double.state.media
    assert (after["deleteEmptyFolders"], after["chmodFolder"], after["recycleBinCleanupDays"]) == (True, "775", 14)
    untouched = [k for k in before if k not in params["settings"] and before[k] != after[k]]
    assert untouched == [], "the whole object must be sent back (the app writes false/0 for missing keys)"
    assert after["minimumFreeSpaceWhenImporting"] == 100


@pytest.mark.parametrize("settings, words", [
    ({"copyUsingHardlink": True}, ["unknown key 'copyUsingHardlink'", "copyUsingHardlinks"]),
    ({"copyUsingHardlinks": "sometimes"}, ["copyUsingHardlinks expects a boolean"]),
    ({"recycleBinCleanupDays": "a week"}, ["recycleBinCleanupDays expects an integer"]),
])
def test_media_management_bad_input(servarr, capsys, settings, words):
    double = servarr("sonarr")
    result, _, writes = counted(double, capsys, "arr_media_management", **conn(double, settings=settings))
    assert result["failed"] and writes == 0 and "media management settings in sonarr" in result["msg"]
    for word in words:
        assert word in result["msg"]


@pytest.mark.parametrize("app", ["sonarr", "radarr", "lidarr", "readarr", "prowlarr"])
def test_info_reads_status_and_health(servarr, capsys, app):
    double = servarr(app, url_base="/base")
    for check_mode in (True, False):
        result, reads, writes = counted(double, capsys, "arr_info", check_mode=check_mode, **conn(double))
        assert (result["changed"], reads, writes) == (False, 2, 0)
        assert result["app_name"].lower() == app and result["version"] == double.state.info["version"]
        assert result["status"]["urlBase"] == "/base" if "urlBase" in result["status"] else True
        assert result["healthy"] is False and result["health"][0]["source"] == "DownloadClientCheck"


def test_info_unreachable_and_starting(servarr, capsys):
    result = run_module(capsys, "arr_info", url="http://127.0.0.1:9", api_key="x" * 32, app="radarr", wait_timeout=0)
    assert result["failed"] and "status of radarr: radarr: GET 127.0.0.1:9/api/v3/system/status failed" in result["msg"]
    double = servarr("radarr", starting=12)
    result = run_module(capsys, "arr_info", **conn(double, wait_timeout=60))
    assert result["version"] == double.state.info["version"]
