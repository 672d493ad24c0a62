# -*- coding: utf-8 -*-
# Copyright: monsterr.mediaserver developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""prowlarr_application and prowlarr_indexer against the Servarr double (Prowlarr)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.monsterr.mediaserver.tests.doubles.arr_harness import api, conn, counted, four_steps, run_module

PORTS = {"Sonarr": 8989, "Radarr": 7878, "Lidarr": 8686, "Readarr": 8787}


def application(double, implementation, **extra):
    return conn(double, name=implementation, implementation=implementation, prowlarr_url="http://prowlarr:9696",
                base_url="http://%s:%d" % (implementation.lower(), PORTS[implementation]), app_api_key="k-" + implementation,
                **extra)


def values(obj):
    return dict((f["name"], f.get("value")) for f in obj["fields"])


@pytest.mark.parametrize("implementation", sorted(PORTS))
def test_application_four_steps_and_drift(servarr, capsys, implementation):
    double = servarr("prowlarr")

    def drift():
        current = api(double, "GET", "/applications")[0]
        for f in current["fields"]:
            if f["name"] == "baseUrl":
                f["value"] = "http://elsewhere:1"
        api(double, "PUT", "/applications/%d" % current["id"], dict(current, syncLevel="addOnly"))

    four_steps(double, capsys, "prowlarr_application", application(double, implementation), drift=drift)
    stored = double.state.store["applications"][1]
    assert stored["syncLevel"] == "fullSync" and values(stored)["apiKey"] == "k-" + implementation
    assert values(stored)["baseUrl"] == "http://%s:%d" % (implementation.lower(), PORTS[implementation])


def test_application_fields_and_categories_as_a_set(servarr, capsys):
    double = servarr("prowlarr")
    params = application(double, "Sonarr", fields={"syncCategories": [5040, 5030], "animeSyncCategories": "5070"})
    four_steps(double, capsys, "prowlarr_application", params)
    result = run_module(capsys, "prowlarr_application", **dict(params, fields={"syncCategories": [5030, 5040]}))
    assert result["changed"] is False


def test_application_force_save_while_app_is_down(servarr, capsys):
    double = servarr("prowlarr")
    double.state.unreachable = {"sonarr"}
    result, _, writes = counted(double, capsys, "prowlarr_application", **application(double, "Sonarr"))
    assert result["failed"] and writes == 1 and "cannot connect to Sonarr" in result["msg"]
    result, _, writes = counted(double, capsys, "prowlarr_application", force_save=True, **application(double, "Sonarr"))
    assert result["changed"] and writes == 2 and double.state.store["applications"][1]["syncLevel"] == "fullSync"


@pytest.mark.parametrize("params, words", [
    (dict(implementation="Sickbeard"), ["unknown implementation 'Sickbeard'", "Lidarr, Radarr, Readarr, Sonarr"]),
    (dict(app_api_key=None), ["app_api_key is required"]),
    (dict(fields={"syncCategory": [1]}), ["unknown field 'syncCategory'", "syncCategories"]),
    (dict(fields={"syncCategories": "cinema"}), ["field 'syncCategories' expects a list of integers"]),
])
def test_application_bad_input(servarr, capsys, params, words):
    double = servarr("prowlarr")
    base = application(double, "Sonarr")
    base.update(params)
    result, _, writes = counted(double, capsys, "prowlarr_application", **base)
    assert result["failed"] and writes == 0 and "Prowlarr application 'Sonarr'" in result["msg"]
    for word in words:
        assert word in result["msg"]


def test_indexer_cardigann_four_steps_and_drift(servarr, capsys):
    double = servarr("prowlarr")
    params = conn(double, name="1337x", definition="1337x", priority=10,
                  fields={"baseSettings.queryLimit": 100, "torrentBaseSettings.seedRatio": 1.5, "sort": "seeders"})

    def drift():
        current = api(double, "GET", "/indexer")[0]
        api(double, "PUT", "/indexer/%d" % current["id"], dict(current, priority=40))

    four_steps(double, capsys, "prowlarr_indexer", params, drift=drift)
    stored = double.state.store["indexer"][1]
    assert (stored["priority"], values(stored)["sort"], values(stored)["definitionFile"]) == (10, 1, "1337x")


def test_indexer_newznab_secret_and_absent(servarr, capsys):
    double = servarr("prowlarr")
    params = conn(double, name="My Newznab", definition="newznab", fields={"baseUrl": "https://nzb.example", "apiKey": "idx-key"})
    four_steps(double, capsys, "prowlarr_indexer", params)
    assert values(double.state.store["indexer"][1])["apiKey"] == "idx-key"
    assert api(double, "GET", "/indexer/1")["fields"][2]["value"] == "********"
    four_steps(double, capsys, "prowlarr_indexer", conn(double, name="my newznab", state="absent"))


def test_indexer_bad_input(servarr, capsys):
    double = servarr("prowlarr")
    result, _, writes = counted(double, capsys, "prowlarr_indexer", **conn(double, name="x", definition="nope"))
    assert result["failed"] and writes == 0 and "unknown definitionName 'nope'" in result["msg"] and "1337x" in result["msg"]
    result, _, writes = counted(double, capsys, "prowlarr_indexer",
                                **conn(double, name="x", definition="1337x", fields={"sort": "random"}))
    assert result["failed"] and writes == 0 and "field 'sort'" in result["msg"]
