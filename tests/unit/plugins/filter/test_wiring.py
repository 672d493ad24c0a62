# -*- coding: utf-8 -*-
# Copyright: monsterr.mediaserver developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The wiring filters on the shipped catalog: every call derived from catalog fields, problems, the report."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.monsterr.mediaserver.plugins.filter import wiring
from ansible_collections.monsterr.mediaserver.tests.unit.plugins.filter.test_stack import resolve

OPTIONS = {"data_root": "/data", "libraries": {"sonarr": "tv", "radarr": "movies", "lidarr": "music", "readarr": "books"},
           "categories": ["tv", "movies", "music", "books", "audiobooks"], "prowlarr_category": "prowlarr",
           "media_management": {"copyUsingHardlinks": True}, "prowlarr_sync_level": "fullSync",
           "qbittorrent_preferences": {}, "nzbget_settings": {}, "bazarr": True, "overseerr": True,
           "overseerr_profiles": {"sonarr": "HD-1080p", "radarr": "HD-1080p"}}


def secrets(resolved):
    return dict((e["name"], {"api_key": "key-" + e["name"], "password": "pw-" + e["name"]}) for e in resolved)


def plan(enabled, overrides=None, **options):
    resolved = resolve(enabled, overrides)
    return wiring.wiring_plan(resolved, secrets(resolved), dict(OPTIONS, **options))


def test_the_small_household_every_call_from_the_catalog():
    p = plan(["sonarr", "radarr", "prowlarr", "qbittorrent", "nzbget", "redis"])
    assert [(s["name"], s["app"], s["url"]) for s in p["servarr"]] == [
        ("radarr", "radarr", "http://127.0.0.1:7878"), ("sonarr", "sonarr", "http://127.0.0.1:8989"),
        ("prowlarr", "prowlarr", "http://127.0.0.1:9696")]
    sonarr = p["servarr"][1]
    assert sonarr["api_key"] == "key-sonarr"
    qbt = [c for c in sonarr["download_clients"] if c["name"] == "qbittorrent"][0]
    assert qbt == {"name": "qbittorrent", "implementation": "QBittorrent",
                   "fields": {"host": "qbittorrent", "port": 8080, "useSsl": False, "username": "admin",
                              "password": "pw-qbittorrent", "tvCategory": "tv"}}
    nzb = [c for c in p["servarr"][0]["download_clients"] if c["name"] == "nzbget"][0]
    assert nzb["implementation"] == "Nzbget" and nzb["fields"]["movieCategory"] == "movies"
    assert nzb["fields"]["host"] == "nzbget" and nzb["fields"]["port"] == 6789
    prowlarr_clients = p["servarr"][2]["download_clients"]
    assert [c["fields"]["category"] for c in prowlarr_clients] == ["prowlarr", "prowlarr"]
    assert [(m["name"], m["root_folders"], m["media_management"]) for m in p["media"]] == [
        ("radarr", [{"path": "/data/media/movies"}], {"copyUsingHardlinks": True}),
        ("sonarr", [{"path": "/data/media/tv"}], {"copyUsingHardlinks": True})]
    apps = p["prowlarr"][0]["applications"]
    assert [(a["name"], a["implementation"], a["prowlarr_url"], a["base_url"], a["app_api_key"], a["sync_level"])
            for a in apps] == [("radarr", "Radarr", "http://prowlarr:9696", "http://radarr:7878", "key-radarr", "fullSync"),
                               ("sonarr", "Sonarr", "http://prowlarr:9696", "http://sonarr:8989", "key-sonarr", "fullSync")]
    qbittorrent = p["qbittorrent"][0]
    assert qbittorrent["url"] == "http://127.0.0.1:8080" and qbittorrent["password"] == "pw-qbittorrent"
    assert qbittorrent["preferences"] == {"save_path": "/data/downloads/torrents", "temp_path_enabled": True,
                                          "temp_path": "/data/downloads/torrents/incomplete", "auto_tmm_enabled": True}
    assert [c["name"] for c in qbittorrent["categories"]] == OPTIONS["categories"] + ["prowlarr"]
    assert qbittorrent["categories"][0] == {"name": "tv", "save_path": "/data/downloads/torrents/tv"}
    nzbget = p["nzbget"][0]
    assert nzbget["settings"]["MainDir"] == "/data/downloads/usenet" and nzbget["username"] == "nzbget"
    assert nzbget["categories"][-1] == {"name": "prowlarr", "dest_dir": "${DestDir}/prowlarr"}
    assert p["bazarr"] == [] and p["overseerr"] == []


def test_url_bases_data_targets_and_named_root_folders_follow_the_catalog():
    overrides = {"sonarr": {"api": {"url_base": "/sonarr/"}, "volumes": [{"source": "config", "target": "/config"},
                                                                        {"source": "data", "target": "/media-data"}]},
                 "prowlarr": {"api": {"url_base": "prowlarr"}}}
    p = plan(["sonarr", "lidarr", "prowlarr", "qbittorrent"], overrides)
    sonarr = [s for s in p["servarr"] if s["name"] == "sonarr"][0]
    assert sonarr["url"] == "http://127.0.0.1:8989/sonarr"
    media = dict((m["name"], m["root_folders"]) for m in p["media"])
    assert media == {"lidarr": [{"path": "/data/media/music", "name": "Music"}],
                     "sonarr": [{"path": "/media-data/media/tv"}]}
    apps = dict((a["name"], a) for a in p["prowlarr"][0]["applications"])
    assert apps["sonarr"]["base_url"] == "http://sonarr:8989/sonarr"
    assert apps["sonarr"]["prowlarr_url"] == "http://prowlarr:9696/prowlarr"
    assert p["prowlarr"][0]["url"] == "http://127.0.0.1:9696/prowlarr"
    # Without Prowlarr no prowlarr category, and no NZBGet without NZBGet.
    p = plan(["sonarr", "qbittorrent"])
    assert [c["name"] for c in p["qbittorrent"][0]["categories"]] == OPTIONS["categories"]
    assert p["nzbget"] == [] and p["prowlarr"] == []


def test_companions_link_to_sonarr_and_radarr_only():
    p = plan(["sonarr", "radarr", "lidarr", "bazarr", "overseerr", "qbittorrent"])
    assert [(b["label"], b["arr"], b["host"], b["port"], b["base_url"], b["arr_api_key"]) for b in p["bazarr"]] == [
        ("bazarr -> radarr", "radarr", "radarr", 7878, "/", "key-radarr"),
        ("bazarr -> sonarr", "sonarr", "sonarr", 8989, "/", "key-sonarr")]
    assert [(o["server"], o["hostname"], o["active_directory"], o["active_profile_name"]) for o in p["overseerr"]] == [
        ("radarr", "radarr", "/data/media/movies", "HD-1080p"), ("sonarr", "sonarr", "/data/media/tv", "HD-1080p")]
    assert p["overseerr"][0]["url"] == "http://127.0.0.1:5055" and p["overseerr"][0]["api_key"] == "key-overseerr"
    p = plan(["sonarr", "bazarr", "overseerr", "radarr"], bazarr=False, overseerr=False)
    assert p["bazarr"] == [] and p["overseerr"] == []


def test_no_service_name_is_special_a_renamed_kind_is_wired_the_same():
    """Only catalog fields count: an arr is `wiring: arr` + `api.kind: servarr`, a downloader its api.kind."""
    resolved = resolve(["sonarr", "qbittorrent"])
    for entry in resolved:
        entry["name"] = "tv-" + entry["name"] if entry["name"] == "sonarr" else "torrents"
        entry["internal_url"] = "http://%s:%s" % (entry["name"], entry["port"])
    p = wiring.wiring_plan(resolved, secrets(resolved), OPTIONS)
    assert [s["name"] for s in p["servarr"]] == ["tv-sonarr"]
    assert p["servarr"][0]["download_clients"][0]["fields"]["host"] == "torrents"
    assert p["servarr"][0]["api_key"] == "key-tv-sonarr"
    assert p["qbittorrent"][0]["name"] == "torrents"


def test_problems_are_listed_at_once_naming_the_fix():
    resolved = resolve(["sonarr", "readarr", "qbittorrent"], {"qbittorrent": {"host_port": 0},
                                                              "sonarr": {"volumes": [{"source": "config", "target": "/config"}]}})
    given = secrets(resolved)
    del given["readarr"]
    problems = wiring.wiring_problems(resolved, given, dict(OPTIONS, libraries={"sonarr": "tv", "readarr": "comics"},
                                                            prowlarr_sync_level="sometimes"))
    text = "\n".join(problems)
    assert "qbittorrent has no host_url" in text
    assert "readarr has no api_key" in text and "vault_readarr_api_key" in text
    assert "wiring_arr_libraries.readarr = comics is not one of wiring_download_categories" in text
    assert "sonarr has no volume of the data root /data" in text
    assert "wiring_prowlarr_sync_level = 'sometimes'" in text
    assert "key-" not in text and "pw-" not in text
    ok = resolve(["sonarr", "radarr", "prowlarr", "qbittorrent", "nzbget", "bazarr", "overseerr"])
    assert wiring.wiring_problems(ok, secrets(ok), OPTIONS) == []
    assert "no library for lidarr" in "\n".join(wiring.wiring_problems(
        resolve(["lidarr"]), secrets(resolve(["lidarr"])), dict(OPTIONS, libraries={})))
    assert wiring.wiring_problems([], {}, dict(OPTIONS, libraries=["tv"]))[0].startswith("wiring_arr_libraries = ['tv']")


def test_report_lists_what_changed_pending_and_unreachable():
    registered = [
        ["download clients", {"results": [
            {"changed": True, "item": {"name": "sonarr"}, "download_clients": [
                {"name": "qbittorrent", "changed": True, "changes": ["fields.tvCategory"]},
                {"name": "nzbget", "changed": False}], "diff": {"before": {"qbittorrent": {}}, "after": {}}},
            {"changed": False, "item": {"name": "radarr"}}]}],
        ["media management", {"results": [{"changed": True, "item": {"name": "radarr"}, "changes": ["copyUsingHardlinks"]}]}],
        ["Overseerr link", {"results": [{"changed": False, "failed": False, "status": 403, "msg": "no admin",
                                         "item": {"label": "overseerr -> sonarr"}}]}],
        ["root folders", {"results": [{"changed": True, "failed": False, "status": None, "msg": "connection refused",
                                       "item": {"name": "sonarr"}}]}],
        ["Bazarr link", {"skipped": True, "results": []}],
    ]
    assert wiring.wiring_report(registered) == [
        "sonarr, download clients: qbittorrent (fields.tvCategory)",
        "radarr, media management: copyUsingHardlinks",
        "overseerr -> sonarr, Overseerr link: pending, the app refused its API key (no admin)",
        "sonarr, root folders: not reachable now (check mode), would be wired once it is up"]
    with_diff = wiring.wiring_report(registered[:1], True)
    assert with_diff == [{"change": "sonarr, download clients: qbittorrent (fields.tvCategory)",
                          "diff": {"before": {"qbittorrent": {}}, "after": {}}}]
    assert wiring.wiring_report([["x", {"results": [{"changed": False}]}]]) == []
