# -*- coding: utf-8 -*-
# Copyright: monsterr.mediaserver developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Requests per module run on change and on no-op, printed as a table (not a timed assertion).

The issue's budget: a no-op run writes nothing and reads at most two times per resource kind per app.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.monsterr.mediaserver.tests.doubles.arr_harness import conn, counted
from ansible_collections.monsterr.mediaserver.tests.integration.arr.conftest import BENCHMARK

CATEGORY = {"sonarr": "tvCategory", "radarr": "movieCategory", "lidarr": "musicCategory", "readarr": "musicCategory",
            "prowlarr": "category"}


def cases(tmp):
    out = []
    for app in ("sonarr", "radarr", "lidarr", "readarr", "prowlarr"):
        out.append(("arr_download_client", app, dict(name="qBittorrent", implementation="QBittorrent",
                                                      fields={"host": "qbittorrent", "password": "pw", CATEGORY[app]: app})))
        out.append(("arr_download_client", app, dict(name="NZBGet", implementation="Nzbget",
                                                      fields={"host": "nzbget", "password": "pw", CATEGORY[app]: app})))
        out.append(("arr_info", app, {}))
        if app == "prowlarr":
            continue
        root = dict(path=tmp)
        if app in ("lidarr", "readarr"):
            root.update(name="Media", default_monitor_option="future")
        out.append(("arr_root_folder", app, root))
        out.append(("arr_remote_path_mapping", app, dict(host="qbittorrent", remote_path="/downloads", local_path=tmp)))
        out.append(("arr_media_management", app, dict(settings={"copyUsingHardlinks": True, "deleteEmptyFolders": True})))
    for impl in ("Sonarr", "Radarr", "Lidarr", "Readarr"):
        out.append(("prowlarr_application", "prowlarr", dict(name=impl, implementation=impl, prowlarr_url="http://prowlarr:9696",
                                                              base_url="http://%s:80" % impl.lower(), app_api_key="k")))
    out.append(("prowlarr_indexer", "prowlarr", dict(name="1337x", definition="1337x")))
    return out


def test_benchmark(servarr, capsys, tmp_path):
    doubles = {}
    rows = []
    for module, app, params in cases(str(tmp_path)):
        double = doubles.get(app) or doubles.setdefault(app, servarr(app))
        if module == "arr_media_management":
            double.state.media["deleteEmptyFolders"] = False
        change, cr, cw = counted(double, capsys, module, **conn(double, **params))
        noop, nr, nw = counted(double, capsys, module, **conn(double, **params))
        assert not change.get("failed") and not noop.get("failed"), (change, noop)
        assert noop["changed"] is False and nw == 0, (module, app, noop)
        assert nr <= 2, "%s on %s: %d reads on a no-op run" % (module, app, nr)
        if module != "arr_info":
            assert change["changed"] is True and cw >= 1
        rows.append((module, app, nr, nw, cr, cw))
    BENCHMARK.extend(rows)
    with capsys.disabled():
        from ansible_collections.monsterr.mediaserver.tests.integration.arr.conftest import format_benchmark
        print("\n" + "\n".join(format_benchmark(rows)))


@pytest.mark.parametrize("app", ["sonarr"])
def test_force_save_costs_two_writes_on_create_only(servarr, capsys, app):
    double = servarr(app)
    params = conn(double, name="q", implementation="QBittorrent", force_save=True, fields={"host": "qb"})
    _, _, writes = counted(double, capsys, "arr_download_client", **params)
    assert writes == 2
    result, reads, writes = counted(double, capsys, "arr_download_client", **params)
    assert (result["changed"], reads, writes) == (False, 1, 0)
