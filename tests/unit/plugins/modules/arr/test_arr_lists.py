# -*- coding: utf-8 -*-
# Copyright: monsterr.mediaserver developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The list options (several items in one module run): download_clients, applications, root_folders.

One read of the resource list per run however many items; every item checked before the first write; the four
steps and drift as for a single item; the single-item options and the list do not mix.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.monsterr.mediaserver.tests.doubles.arr_harness import KEY, api, conn, counted, four_steps

CATEGORY = {"sonarr": "tvCategory", "radarr": "movieCategory", "lidarr": "musicCategory", "readarr": "musicCategory",
            "prowlarr": "category"}


def clients(app):
    return [
        {"name": "qbittorrent", "implementation": "QBittorrent",
         "fields": {"host": "qbittorrent", "port": 8080, "username": "admin", "password": "qb-secret", CATEGORY[app]: "tv"}},
        {"name": "nzbget", "implementation": "Nzbget",
         "fields": {"host": "nzbget", "port": 6789, "username": "nzbget", "password": "nzb-secret", CATEGORY[app]: "tv"}},
    ]


@pytest.mark.parametrize("app", ["sonarr", "radarr", "lidarr", "readarr", "prowlarr"])
def test_download_clients_list_four_steps_one_read_and_drift(servarr, capsys, app):
    double = servarr(app)
    params = conn(double, download_clients=clients(app))

    def drift():
        current = [c for c in api(double, "GET", "/downloadclient") if c["name"] == "nzbget"][0]
        for field in current["fields"]:
            if field["name"] == CATEGORY[app]:
                field["value"] = "drifted"
        api(double, "PUT", "/downloadclient/%d" % current["id"], current)

    steps = four_steps(double, capsys, "arr_download_client", params, drift=drift, expect_writes=2)
    # No-op: one read of the list for both clients, nothing written.
    assert steps["noop"] == (1, 0)
    # Drift on one client: one write, for that client only.
    assert steps["drift"][1] == 1
    stored = sorted(double.state.store["downloadclient"].values(), key=lambda c: c["name"])
    assert [c["name"] for c in stored] == ["nzbget", "qbittorrent"]
    for client in stored:
        values = dict((f["name"], f.get("value")) for f in client["fields"])
        assert values[CATEGORY[app]] == "tv" and values["password"] in ("qb-secret", "nzb-secret")


def test_download_clients_list_result_diff_and_secrets(servarr, capsys):
    double = servarr("sonarr")
    result, _reads, _writes = counted(double, capsys, "arr_download_client", **conn(double, download_clients=clients("sonarr")))
    assert [(c["name"], c["changed"], c["changes"]) for c in result["download_clients"]] == \
        [("qbittorrent", True, ["created"]), ("nzbget", True, ["created"])]
    assert sorted(result["diff"]["after"]) == ["nzbget", "qbittorrent"]
    assert "qb-secret" not in str(result) and "nzb-secret" not in str(result)
    # Removing one item by state=absent: one delete, the other untouched.
    items = clients("sonarr")
    items[1]["state"] = "absent"
    result, reads, writes = counted(double, capsys, "arr_download_client", **conn(double, download_clients=items))
    assert result["changed"] is True and (reads, writes) == (1, 1)
    assert [c["name"] for c in double.state.store["downloadclient"].values()] == ["qbittorrent"]


def test_download_clients_list_bad_item_writes_nothing(servarr, capsys):
    double = servarr("radarr")
    items = clients("radarr")
    items[1]["fields"]["tvCategory"] = "tv"   # Radarr has movieCategory
    result, _reads, writes = counted(double, capsys, "arr_download_client", **conn(double, download_clients=items))
    assert result["failed"] is True and writes == 0
    assert "download client 'nzbget' in radarr" in result["msg"] and "'tvCategory'" in result["msg"]
    assert not double.state.store["downloadclient"]
    twice = [clients("radarr")[0], dict(clients("radarr")[0], name="QBittorrent")]
    result, _reads, writes = counted(double, capsys, "arr_download_client", **conn(double, download_clients=twice))
    assert result["failed"] is True and "more than once" in result["msg"] and writes == 0
    result, _reads, writes = counted(double, capsys, "arr_download_client",
                                     **conn(double, name="x", download_clients=clients("radarr")))
    assert result["failed"] is True and "mutually exclusive" in result["msg"] and writes == 0
    result, _reads, writes = counted(double, capsys, "arr_download_client",
                                     **conn(double, fields={"host": "x"}, download_clients=clients("radarr")))
    assert result["failed"] is True and "per item" in result["msg"] and writes == 0


def test_download_clients_list_api_error_names_the_item(servarr, capsys):
    double = servarr("sonarr")
    double.state.unreachable = {"nzbget"}
    result, _reads, writes = counted(double, capsys, "arr_download_client", **conn(double, download_clients=clients("sonarr")))
    assert result["failed"] is True and result["status"] == 400
    assert "download client 'nzbget' in sonarr" in result["msg"] and "Unable to connect" in result["msg"]
    assert "nzb-secret" not in result["msg"]


def applications():
    return [
        {"name": "sonarr", "implementation": "Sonarr", "prowlarr_url": "http://prowlarr:9696",
         "base_url": "http://sonarr:8989", "app_api_key": "sonarr-key-0123456789"},
        {"name": "radarr", "implementation": "Radarr", "prowlarr_url": "http://prowlarr:9696",
         "base_url": "http://radarr:7878", "app_api_key": "radarr-key-0123456789"},
    ]


def test_applications_list_four_steps_one_read_and_drift(servarr, capsys):
    double = servarr("prowlarr")
    params = conn(double, applications=applications())

    def drift():
        current = [a for a in api(double, "GET", "/applications") if a["name"] == "radarr"][0]
        for field in current["fields"]:
            if field["name"] == "baseUrl":
                field["value"] = "http://elsewhere:7878"
        api(double, "PUT", "/applications/%d?forceSave=true" % current["id"], current)

    steps = four_steps(double, capsys, "prowlarr_application", params, drift=drift, expect_writes=2)
    assert steps["noop"] == (1, 0) and steps["drift"][1] == 1
    stored = dict((a["name"], dict((f["name"], f.get("value")) for f in a["fields"]))
                  for a in double.state.store["applications"].values())
    assert stored["radarr"]["baseUrl"] == "http://radarr:7878" and stored["sonarr"]["apiKey"] == "sonarr-key-0123456789"


def test_applications_list_result_and_bad_item(servarr, capsys):
    double = servarr("prowlarr")
    items = applications()
    del items[1]["app_api_key"]
    result, _reads, writes = counted(double, capsys, "prowlarr_application", **conn(double, applications=items))
    assert result["failed"] is True and writes == 0 and "Prowlarr application 'radarr'" in result["msg"]
    assert "app_api_key is required" in result["msg"]
    result, _reads, _writes = counted(double, capsys, "prowlarr_application", **conn(double, applications=applications()))
    assert [(a["name"], a["changes"]) for a in result["applications_results"]] == [("sonarr", ["created"]),
                                                                                 ("radarr", ["created"])]
    assert "sonarr-key-0123456789" not in str(result) and KEY not in str(result)


@pytest.mark.parametrize("app", ["sonarr", "lidarr"])
def test_root_folders_list_four_steps_one_read(servarr, capsys, tmp_path, app):
    double = servarr(app)
    items = []
    for name in ("tv", "anime"):
        (tmp_path / name).mkdir()
        item = {"path": str(tmp_path / name)}
        if app == "lidarr":
            item["name"] = name.capitalize()
        items.append(item)
    params = conn(double, root_folders=items)

    def drift():
        ident = [f for f in api(double, "GET", "/rootfolder") if f["path"].endswith("anime")][0]["id"]
        api(double, "DELETE", "/rootfolder/%d" % ident)

    steps = four_steps(double, capsys, "arr_root_folder", params, drift=drift, expect_writes=2)
    assert steps["noop"] == (1, 0) and steps["drift"][1] == 1
    assert sorted(f["path"] for f in double.state.store["rootfolder"].values()) == sorted(i["path"] for i in items)
    result, _reads, _writes = counted(double, capsys, "arr_root_folder", **params)
    assert [(f["path"], f["changed"]) for f in result["root_folders"]] == [(i["path"], False) for i in items]


def test_root_folders_list_bad_item_writes_nothing(servarr, capsys, tmp_path):
    double = servarr("sonarr")
    items = [{"path": str(tmp_path)}, {"path": "relative"}]
    result, _reads, writes = counted(double, capsys, "arr_root_folder", **conn(double, root_folders=items))
    assert result["failed"] is True and writes == 0 and "'relative'" in result["msg"] and "absolute" in result["msg"]
    result, _reads, writes = counted(double, capsys, "arr_root_folder",
                                     **conn(double, root_folders=[{"path": str(tmp_path)}, {"path": str(tmp_path) + "/"}]))
    assert result["failed"] is True and "more than once" in result["msg"] and writes == 0
    assert not double.state.store["rootfolder"]
