# -*- coding: utf-8 -*-
# Copyright: monsterr.mediaserver developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The backup filters on the shipped catalog: what is saved, what is excluded, what is stopped, and the problems."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.monsterr.mediaserver.plugins.filter.backup import (backup_plan, backup_problems,
                                                                            backup_restore_plan)
from ansible_collections.monsterr.mediaserver.tests.unit.plugins.filter.test_catalog import resolve, shipped


def by_name(plan):
    return dict((e["name"], e) for e in plan)


def test_appdata_of_every_service_that_mounts_it_and_never_the_media():
    resolved, problems = resolve()
    assert problems == []
    plan = by_name(backup_plan(resolved))
    mounting = [e["name"] for e in resolved
                if any(v["source"] == e["appdata"] or v["source"].startswith(e["appdata"] + "/") for v in e["volumes"])]
    assert sorted(plan) == sorted(mounting)
    for entry in plan.values():
        assert entry["paths"] == ["/opt/monsterr/" + entry["name"]]
        for path in entry["paths"] + entry["exclude"]:
            assert path.startswith("/opt/monsterr/%s" % entry["name"]), path
            assert not path.startswith("/data")
    # A service without a config volume (nothing of its own on the host) is not in the plan.
    no_appdata = [e["name"] for e in resolved if e["name"] not in mounting]
    assert no_appdata and not set(no_appdata) & set(plan)


def test_the_catalog_excludes_are_anchored_to_the_service_appdata():
    resolved, _ = resolve(["sonarr", "qbittorrent", "plex"])
    plan = by_name(backup_plan(resolved))
    assert plan["sonarr"]["exclude"] == ["/opt/monsterr/sonarr/%s" % p for p in shipped()["sonarr"]["backup"]["exclude"]]
    assert "/opt/monsterr/sonarr/logs" in plan["sonarr"]["exclude"]
    assert "/opt/monsterr/qbittorrent/qBittorrent/logs" in plan["qbittorrent"]["exclude"]
    assert "/opt/monsterr/plex/transcode" in plan["plex"]["exclude"]


def test_stop_comes_from_the_catalog_or_the_household_list():
    resolved, _ = resolve(["sonarr", "radarr", "qbittorrent"], {"sonarr": {"backup": {"stop": True}}})
    plan = by_name(backup_plan(resolved, stop=["radarr"]))
    assert (plan["sonarr"]["stop"], plan["radarr"]["stop"], plan["qbittorrent"]["stop"]) == (True, True, False)
    # The override merged into the shipped backup dict: the excludes stay.
    assert "/opt/monsterr/sonarr/logs" in plan["sonarr"]["exclude"]


def test_skip_paths_and_false():
    resolved, _ = resolve(["sonarr", "radarr", "qbittorrent", "nzbget"],
                          {"radarr": {"backup": False}, "nzbget": {"backup": {"enabled": False}},
                           "qbittorrent": {"backup": {"paths": ["qBittorrent/", "."]}}})
    plan = by_name(backup_plan(resolved, skip=["sonarr"]))
    assert sorted(plan) == ["qbittorrent"]
    assert plan["qbittorrent"]["paths"] == ["/opt/monsterr/qbittorrent", "/opt/monsterr/qbittorrent/qBittorrent"]


@pytest.mark.parametrize("override, expected", [
    ({"sonarr": {"backup": "yes"}}, "sonarr backup = 'yes' is not a dict"),
    ({"sonarr": {"backup": {"exclude": ["/etc"]}}}, "sonarr backup.exclude = ['/etc'] is not a list of paths relative"),
    ({"sonarr": {"backup": {"paths": ["../radarr"]}}}, "sonarr backup.paths = ['../radarr']"),
    ({"sonarr": {"backup": {"paths": []}}}, "sonarr backup.paths is empty"),
    ({"sonarr": {"backup": {"stop": "yes"}}}, "sonarr backup.stop = 'yes' is not true or false"),
    ({"sonarr": {"backup": {"stopp": True}}}, "sonarr backup has unknown field 'stopp'"),
])
def test_problems_name_the_service_field_value_and_fix(override, expected):
    resolved, _ = resolve(["sonarr", "radarr"], override)
    problems = backup_problems(resolved)
    assert len(problems) == 1 and problems[0].startswith(expected), problems
    assert "Fix:" in problems[0] and "catalog_overrides.sonarr.backup" in problems[0]


def test_household_lists_must_name_enabled_services():
    resolved, _ = resolve(["sonarr", "radarr"])
    problems = backup_problems(resolved, stop=["sonar"], skip="radarr")
    assert problems == [
        "backup_stop_services has 'sonar', which is not an enabled service. Fix: use one of radarr, sonarr, or remove it.",
        "backup_skip_services = 'radarr' is not a list. Fix: list service names, e.g. [sonarr].",
    ]
    assert backup_problems(resolved, stop=["sonarr"], skip=[]) == []


def test_restore_plan_keeps_what_the_snapshot_holds():
    resolved, _ = resolve(["sonarr", "radarr", "qbittorrent"])
    plan = backup_plan(resolved)
    snapshot = {"paths": ["/opt/monsterr/sonarr", "/opt/monsterr/qbittorrent/"]}
    cut = by_name(backup_restore_plan(plan, snapshot))
    assert sorted(cut) == ["qbittorrent", "sonarr"]
    assert cut["sonarr"]["paths"] == ["/opt/monsterr/sonarr"]
    assert backup_restore_plan(plan, {}) == []
