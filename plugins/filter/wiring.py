# -*- coding: utf-8 -*-
# Copyright: monsterr.mediaserver developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the wiring layer asks of each app, built from the resolved catalog (plugins/filter/catalog.py).

Nothing here names a service. Which apps are wired and how comes from catalog fields only:

- ``wiring: arr`` with ``api.kind: servarr`` (Sonarr, Radarr, Lidarr, Readarr by ``api.app``): root folder
  ``<data>/media/<library>``, one download client per downloader with the library as category, media management;
- ``wiring: prowlarr``: one application per arr (full sync) and one download client per downloader;
- ``api.kind: qbittorrent`` / ``api.kind: nzbget``: the downloaders, their save paths and categories;
- ``wiring: bazarr`` / ``wiring: overseerr``: links to the arrs whose ``api.app`` is sonarr or radarr.

Modules run on the host and reach each app at its ``host_url`` (127.0.0.1); what is written INTO the apps is
the compose network address (``internal_url``), because that is how the containers reach each other.
Python rather than Jinja so that the rules are unit-tested: tests/unit/plugins/filter/test_wiring.py.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.module_utils.common._collections_compat import Mapping
from ansible.module_utils.six import string_types

from ansible_collections.monsterr.mediaserver.plugins.plugin_utils._data import plain as _plain
from ansible.module_utils.six.moves.urllib.parse import urlsplit

MEDIA_APPS = ("sonarr", "radarr", "lidarr", "readarr")
DOWNLOADERS = {"qbittorrent": "QBittorrent", "nzbget": "Nzbget"}
# The download-client field that carries the category, per app (media-apps-api.md section 1.8).
CATEGORY_FIELD = {"sonarr": "tvCategory", "radarr": "movieCategory", "lidarr": "musicCategory",
                  "readarr": "musicCategory", "prowlarr": "category"}
# Root folders that need a name and profiles (section 1.11).
NAMED_ROOT_FOLDERS = ("lidarr", "readarr")
# The apps Bazarr and Overseerr link to.
LINKED_APPS = ("sonarr", "radarr")


def _api(entry):
    return entry.get("api") if isinstance(entry.get("api"), Mapping) else {}


def _kind(entry):
    return _api(entry).get("kind")


def _app(entry):
    return _api(entry).get("app") or entry.get("name")


def _url_base(entry):
    base = (_api(entry).get("url_base") or "").strip()
    return "/" + base.strip("/") if base.strip("/") else ""


def _arrs(resolved):
    return [e for e in resolved if e.get("wiring") == "arr" and _kind(e) == "servarr" and _app(e) in MEDIA_APPS]


def _prowlarrs(resolved):
    return [e for e in resolved if e.get("wiring") == "prowlarr" and _kind(e) == "servarr"]


def _downloaders(resolved):
    return [e for e in resolved if _kind(e) in DOWNLOADERS]


def _by_wiring(resolved, wiring):
    return [e for e in resolved if e.get("wiring") == wiring]


def _address(entry):
    """(scheme, hostname, port) of the service's compose-network address."""
    parts = urlsplit(entry.get("internal_url") or "")
    port = parts.port or (443 if parts.scheme == "https" else 80)
    return parts.scheme or "http", parts.hostname or "", port


def _data(entry, data_root):
    """The path the container sees the household's data root at (the target of its data volume), or None."""
    root = (data_root or "/data").rstrip("/") or "/"
    for volume in entry.get("volumes") or []:
        if isinstance(volume, Mapping) and (volume.get("source") or "").rstrip("/") == root:
            return (volume.get("target") or "").rstrip("/") or "/"
    return None


def _secret(secrets, entry, name):
    return ((secrets or {}).get(entry["name"]) or {}).get(name) or ""


def _join(base, *parts):
    return "/".join([base.rstrip("/")] + [p.strip("/") for p in parts])


def _categories(resolved, options):
    names = list(options.get("categories") or [])
    extra = options.get("prowlarr_category") or ""
    if _prowlarrs(resolved) and extra and extra not in names:
        names.append(extra)
    return names


def _download_clients(app, downloaders, secrets, category):
    clients = []
    for downloader in downloaders:
        scheme, host, port = _address(downloader)
        fields = {"host": host, "port": port, "useSsl": scheme == "https",
                  "username": _api(downloader).get("username") or "",
                  "password": _secret(secrets, downloader, "password")}
        if category:
            fields[CATEGORY_FIELD.get(app, "category")] = category
        clients.append({"name": downloader["name"], "implementation": DOWNLOADERS[_kind(downloader)], "fields": fields})
    return clients


def wiring_plan(resolved, secrets, options):
    """Every call of the wiring layer, grouped by module: see the role's tasks/main.yml."""
    resolved = _plain(resolved or [])
    options = _plain(options or {})
    libraries = options.get("libraries") or {}
    downloaders = _downloaders(resolved)
    arrs = _arrs(resolved)
    prowlarrs = _prowlarrs(resolved)
    plan = {"servarr": [], "media": [], "prowlarr": [], "qbittorrent": [], "nzbget": [], "bazarr": [], "overseerr": []}

    def connection(entry):
        return {"name": entry["name"], "app": _app(entry), "url": (entry.get("host_url") or "") + _url_base(entry),
                "api_key": _secret(secrets, entry, "api_key")}

    for arr in arrs:
        app = _app(arr)
        library = libraries.get(app) or ""
        data = _data(arr, options.get("data_root")) or "/data"
        plan["servarr"].append(dict(connection(arr), download_clients=_download_clients(app, downloaders, secrets, library)))
        folder = {"path": _join(data, "media", library)}
        if app in NAMED_ROOT_FOLDERS:
            folder["name"] = library.capitalize()
        plan["media"].append(dict(connection(arr), root_folders=[folder],
                                  media_management=dict(options.get("media_management") or {})))
    for prowlarr in prowlarrs:
        category = options.get("prowlarr_category") or ""
        plan["servarr"].append(dict(connection(prowlarr), download_clients=_download_clients(
            _app(prowlarr), downloaders, secrets, category)))
        scheme, host, port = _address(prowlarr)
        applications = []
        for arr in arrs:
            applications.append({"name": arr["name"], "implementation": _app(arr).capitalize(),
                                 "sync_level": options.get("prowlarr_sync_level") or "fullSync",
                                 "prowlarr_url": (prowlarr.get("internal_url") or "") + _url_base(prowlarr),
                                 "base_url": (arr.get("internal_url") or "") + _url_base(arr),
                                 "app_api_key": _secret(secrets, arr, "api_key")})
        plan["prowlarr"].append(dict(connection(prowlarr), applications=applications))

    categories = _categories(resolved, options)
    for downloader in downloaders:
        kind = _kind(downloader)
        data = _data(downloader, options.get("data_root")) or "/data"
        entry = {"name": downloader["name"], "url": downloader.get("host_url") or "",
                 "username": _api(downloader).get("username") or "",
                 "password": _secret(secrets, downloader, "password")}
        if kind == "qbittorrent":
            torrents = _join(data, "downloads", "torrents")
            preferences = {"save_path": torrents, "temp_path_enabled": True, "temp_path": _join(torrents, "incomplete"),
                           "auto_tmm_enabled": True}
            preferences.update(options.get("qbittorrent_preferences") or {})
            entry.update(preferences=preferences,
                         categories=[{"name": c, "save_path": _join(torrents, c)} for c in categories])
        else:
            settings = {"MainDir": _join(data, "downloads", "usenet"), "DestDir": "${MainDir}/completed",
                        "InterDir": "${MainDir}/intermediate", "AppendCategoryDir": True, "KeepHistory": 30}
            settings.update(options.get("nzbget_settings") or {})
            entry.update(settings=settings, categories=[{"name": c, "dest_dir": "${DestDir}/" + c} for c in categories])
        plan[kind].append(entry)

    linked = [a for a in arrs if _app(a) in LINKED_APPS]
    if options.get("bazarr", True):
        for bazarr in _by_wiring(resolved, "bazarr"):
            for arr in linked:
                scheme, host, port = _address(arr)
                plan["bazarr"].append({"name": bazarr["name"], "label": "%s -> %s" % (bazarr["name"], arr["name"]),
                                       "url": (bazarr.get("host_url") or "") + _url_base(bazarr),
                                       "api_key": _secret(secrets, bazarr, "api_key"), "arr": _app(arr),
                                       "arr_name": arr["name"], "host": host, "port": port, "ssl": scheme == "https",
                                       "base_url": _url_base(arr) or "/", "arr_api_key": _secret(secrets, arr, "api_key")})
    if options.get("overseerr", True):
        for overseerr in _by_wiring(resolved, "overseerr"):
            for arr in linked:
                scheme, host, port = _address(arr)
                app = _app(arr)
                data = _data(arr, options.get("data_root")) or "/data"
                plan["overseerr"].append({
                    "name": overseerr["name"], "label": "%s -> %s" % (overseerr["name"], arr["name"]),
                    "url": overseerr.get("host_url") or "",
                    "api_key": _secret(secrets, overseerr, "api_key"), "arr": app, "server": arr["name"],
                    "hostname": host, "port": port, "use_ssl": scheme == "https", "base_url": _url_base(arr),
                    "arr_api_key": _secret(secrets, arr, "api_key"),
                    "active_profile_name": (options.get("overseerr_profiles") or {}).get(app) or "",
                    "active_directory": _join(data, "media", libraries.get(app) or "")})
    return plan


def wiring_problems(resolved, secrets, options, where="inventories/<household>/group_vars/mediaserver/main.yml"):
    """Every problem that would make the wiring fail or write nonsense, one line each, before any call."""
    resolved = _plain(resolved or [])
    options = _plain(options or {})
    problems = []
    libraries = options.get("libraries") or {}
    if not isinstance(libraries, dict):
        return ["wiring_arr_libraries = %r is not a dict. Fix: map each app to a library, e.g. {sonarr: tv} (in %s)."
                % (libraries, where)]
    categories = options.get("categories")
    if not isinstance(categories, list) or not all(isinstance(c, string_types) and c for c in categories):
        problems.append("wiring_download_categories = %r is not a list of names. Fix: e.g. [tv, movies] (in %s)."
                        % (categories, where))
    for key, variable in (("media_management", "wiring_arr_media_management"),
                          ("qbittorrent_preferences", "wiring_qbittorrent_preferences"),
                          ("nzbget_settings", "wiring_nzbget_settings"),
                          ("overseerr_profiles", "wiring_overseerr_profiles")):
        if not isinstance(options.get(key) or {}, dict):
            problems.append("%s = %r is not a dict. Fix: give key: value pairs (in %s)." % (variable, options.get(key), where))
    if options.get("prowlarr_sync_level", "fullSync") not in ("fullSync", "addOnly", "disabled"):
        problems.append("wiring_prowlarr_sync_level = %r. Fix: fullSync, addOnly or disabled (in %s)."
                        % (options.get("prowlarr_sync_level"), where))
    wired = _arrs(resolved) + _prowlarrs(resolved) + _downloaders(resolved)
    if options.get("bazarr", True):
        wired += _by_wiring(resolved, "bazarr")
    if options.get("overseerr", True):
        wired += _by_wiring(resolved, "overseerr")
    for entry in wired:
        name = entry["name"]
        if not entry.get("host_url"):
            problems.append("%s has no host_url (host_port: 0): the wiring modules, which run on the host, cannot reach "
                            "it. Fix: remove host_port: 0 from catalog_overrides.%s (in %s)." % (name, name, where))
        if not _address(entry)[1]:
            problems.append("%s has no internal_url: the other apps could not reach it. Fix: give it a port "
                            "(catalog_overrides.%s.port in %s)." % (name, name, where))
        secret = "password" if _kind(entry) in DOWNLOADERS else "api_key"
        if not _secret(secrets, entry, secret):
            problems.append("%s has no %s: give the catalog entry secrets.%s with generate, or set vault_%s_%s (in %s)."
                            % (name, secret, secret, name.replace("-", "_"), secret, where))
    for entry in _arrs(resolved):
        app = _app(entry)
        library = libraries.get(app)
        if not isinstance(library, string_types) or not library:
            problems.append("wiring_arr_libraries has no library for %s (service %s). Fix: add %s: <library>, e.g. one "
                            "of %s (in %s)." % (app, entry["name"], app, ", ".join(categories or []) or "tv", where))
        elif isinstance(categories, list) and library not in categories:
            problems.append("wiring_arr_libraries.%s = %s is not one of wiring_download_categories (%s): the download "
                            "clients would have no such category. Fix: add it there or pick one of them (in %s)."
                            % (app, library, ", ".join(categories), where))
        if _data(entry, options.get("data_root")) is None:
            problems.append("%s has no volume of the data root %s: no root folder and no hardlinks. Fix: give it "
                            "{source: data, target: /data} (catalog_overrides.%s.volumes in %s)."
                            % (entry["name"], options.get("data_root") or "/data", entry["name"], where))
    for entry in _downloaders(resolved):
        if _data(entry, options.get("data_root")) is None:
            problems.append("%s has no volume of the data root %s: downloads would not land where the apps import "
                            "them. Fix: give it {source: data, target: /data} (catalog_overrides.%s.volumes in %s)."
                            % (entry["name"], options.get("data_root") or "/data", entry["name"], where))
    return problems


def wiring_report(results, with_diff=False):
    """What the registered wiring tasks changed (or would change), one entry per item that did, for a report that
    stays readable when the tasks themselves are no_log. ``results``: [[task label, registered loop result]] in
    task order (or a dict of them). The modules already replaced every secret in what they return (diffs included).
    """
    report = []
    pairs = sorted(results.items()) if isinstance(results, Mapping) else results or []
    for label, registered in pairs:
        for item in (registered or {}).get("results") or []:
            target = (item.get("item") or {}).get("label") or (item.get("item") or {}).get("name") or "?"
            if item.get("status", 0) == 403:
                report.append("%s, %s: pending, the app refused its API key (%s)" % (target, label, item.get("msg", "")))
                continue
            if not item.get("changed"):
                continue
            if "status" in item and item["status"] is None and item.get("msg"):
                report.append("%s, %s: not reachable now (check mode), would be wired once it is up" % (target, label))
                continue
            what = []
            for key in ("download_clients", "applications_results", "root_folders", "categories"):
                for sub in item.get(key) or []:
                    if isinstance(sub, Mapping) and sub.get("changed"):
                        what.append("%s (%s)" % (sub.get("name") or sub.get("path"),
                                                 ", ".join(sub.get("changes") or []) or "changed"))
            for key in ("changes", "changed_keys", "changed_settings", "changed_categories", "changed_fields"):
                if item.get(key):
                    what.append(", ".join(str(k) for k in item[key]))
            line = "%s, %s: %s" % (target, label, "; ".join(what) or "changed")
            report.append({"change": line, "diff": item.get("diff") or {}} if with_diff else line)
    return report


class FilterModule(object):
    def filters(self):
        return {
            "wiring_plan": wiring_plan,
            "wiring_problems": wiring_problems,
            "wiring_report": wiring_report,
        }
