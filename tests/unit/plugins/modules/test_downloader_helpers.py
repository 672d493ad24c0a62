# -*- coding: utf-8 -*-
# Copyright: monsterr.mediaserver developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Pure parts of qbittorrent_preferences, nzbget_config, bazarr_arr_link and overseerr_arr_link.

The four-step proofs of these modules run against the real programs and the doubles in
tests/integration/downloaders.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.monsterr.mediaserver.plugins.module_utils._settings import SettingError
from ansible_collections.monsterr.mediaserver.plugins.modules import (
    bazarr_arr_link, nzbget_config, overseerr_arr_link, qbittorrent_preferences)


def test_qbittorrent_validate_normalises_and_hints_renames():
    current = {"save_path": "/data", "bypass_auth_subnet_whitelist": "", "start_paused_enabled": False, "dht": True}
    got = qbittorrent_preferences.validate({"save_path": "/data/t//", "bypass_auth_subnet_whitelist": ["a", " b "],
                                            "web_ui_password": "x", "dht": "no"}, current)
    assert got == {"save_path": "/data/t", "bypass_auth_subnet_whitelist": "a\nb", "web_ui_password": "x",
                   "dht": False}
    with pytest.raises(SettingError) as err:
        qbittorrent_preferences.validate({"add_stopped_enabled": True}, current)
    assert "add_stopped_enabled (this version calls it start_paused_enabled)" in str(err.value)
    assert qbittorrent_preferences.normalise("bypass_auth_subnet_whitelist", "a, b\nc") == "a\nb\nc"


def test_nzbget_to_text():
    assert nzbget_config.to_text("Unpack", True, "no") == "yes"
    assert nzbget_config.to_text("Unpack", "off", "yes") == "no"
    assert nzbget_config.to_text("KeepHistory", 7, "30") == "7"
    assert nzbget_config.to_text("ParIgnoreExt", [".sfv", ".nzb"], ".sfv") == ".sfv, .nzb"
    with pytest.raises(SettingError):
        nzbget_config.to_text("KeepHistory", "x", "30")


def test_nzbget_plan_categories_keeps_unlisted_fields_and_appends():
    current = [{"Name": "Movies", "DestDir": "", "Unpack": "yes"}, {"Name": "Series"}]
    new, changed = nzbget_config.plan_categories(current, [
        {"name": "Series", "dest_dir": "/tv", "unpack": None, "extensions": None, "aliases": None, "state": "present"},
        {"name": "tv", "dest_dir": None, "unpack": False, "extensions": ["a.py"], "aliases": None, "state": "present"},
    ], purge=False)
    assert new == [{"Name": "Movies", "DestDir": "", "Unpack": "yes"}, {"Name": "Series", "DestDir": "/tv"},
                   {"Name": "tv", "DestDir": "", "Unpack": "no", "Extensions": "a.py", "Aliases": ""}]
    assert changed == ["Series", "tv"]
    same, changed = nzbget_config.plan_categories(new, [
        {"name": "Series", "dest_dir": "/tv", "unpack": True, "extensions": [], "aliases": None, "state": "present"},
    ], purge=False)
    assert same == new and changed == [], "missing fields compare as NZBGet's defaults"


def test_base_url_cleaning():
    assert [bazarr_arr_link.clean_base_url(v) for v in (None, "", "/", "sonarr/", "//sonarr//")] == \
        ["/", "/", "/", "/sonarr", "/sonarr"]
    assert [overseerr_arr_link.clean_base_url(v) for v in (None, "", "/", "sonarr/", "/sonarr")] == \
        ["", "", "", "/sonarr", "/sonarr"]


def test_overseerr_resolve():
    tested = {"profiles": [{"id": 4, "name": "HD"}], "rootFolders": [{"id": 1, "path": "/tv/"}]}
    wanted = {"activeProfileName": "HD", "activeDirectory": "/tv"}
    overseerr_arr_link.resolve("sonarr", wanted, tested)
    assert wanted["activeProfileId"] == 4
    with pytest.raises(overseerr_arr_link.LinkError):
        overseerr_arr_link.resolve("sonarr", {"activeProfileId": 4, "activeProfileName": "SD"}, tested)
