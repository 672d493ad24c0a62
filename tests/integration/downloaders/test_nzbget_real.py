# -*- coding: utf-8 -*-
# Copyright: monsterr.mediaserver developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""nzbget_config against a real nzbget on loopback, seeded from the packaged nzbget.conf."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import time

import pytest

from ansible_collections.monsterr.mediaserver.tests.integration.downloaders.bench import free_port, record_bench

pytestmark = pytest.mark.integration


def categories(app):
    names = dict(app.api.loadconfig())
    return [names["Category%d.Name" % n] for n in range(1, 50) if "Category%d.Name" % n in names]


def test_settings_and_categories_four_steps_and_drift(nzbget, counted):
    main_dir = nzbget.root + "/usenet"
    args = nzbget.args(
        settings=dict(MainDir=main_dir, DestDir="${MainDir}/complete", KeepHistory=14, AppendCategoryDir=True,
                      ParIgnoreExt=[".sfv", ".nzb", ".nfo", ".txt"]),
        categories=[dict(name="tv", dest_dir="${DestDir}/tv"), dict(name="movies", dest_dir="${DestDir}/movies",
                                                                    unpack=False),
                    dict(name="Software", state="absent")])
    options_before = nzbget.file_options()

    checked, _r, writes = counted("nzbget_config", check_mode=True, **args)
    assert checked["changed"] is True and writes == 0
    assert checked["changed_settings"] == ["DestDir", "KeepHistory", "MainDir", "ParIgnoreExt"]
    assert sorted(checked["changed_categories"]) == ["Software", "movies", "tv"]
    assert nzbget.file_options() == options_before, "check mode must not write"

    real, reads, writes = counted("nzbget_config", **args)
    assert real["changed"] is True and writes == 2  # saveconfig + reload
    record_bench("nzbget_config", "change", reads, writes, "nzbget (real)")
    time.sleep(1)  # reload re-reads the file
    running = dict(nzbget.api.config())
    assert running["MainDir"] == main_dir and running["DestDir"] == main_dir + "/complete"
    assert running["KeepHistory"] == "14"
    assert categories(nzbget) == ["Movies", "Series", "Music", "tv", "movies"]
    file_names = [n for n, _v in nzbget.file_options()]
    assert "ControlPassword" in file_names and "Server1.Host" in file_names, "saveconfig got the whole config"
    assert len(file_names) >= len(options_before) - 1

    checked, _r, writes = counted("nzbget_config", check_mode=True, **args)
    assert checked["changed"] is False and writes == 0
    again, reads, writes = counted("nzbget_config", **args)
    assert again["changed"] is False and writes == 0
    record_bench("nzbget_config", "noop", reads, writes, "nzbget (real)")

    # Drift through NZBGet's own saveconfig: KeepHistory and the tv category's DestDir changed.
    options = [(n, "99" if n == "KeepHistory" else v) for n, v in nzbget.api.loadconfig()]
    tv = [n for n, v in options if v == "tv" and n.endswith(".Name")][0].replace(".Name", ".DestDir")
    nzbget.api.saveconfig([(n, "/tmp/elsewhere" if n == tv else v) for n, v in options])
    fixed, _r, writes = counted("nzbget_config", **args)
    assert fixed["changed"] is True and fixed["changed_settings"] == ["KeepHistory"]
    assert fixed["changed_categories"] == ["tv"] and writes == 2
    assert dict(nzbget.api.loadconfig())["KeepHistory"] == "14"
    assert dict(nzbget.api.loadconfig())[tv] == "${DestDir}/tv"


def test_removing_a_middle_category_renumbers(nzbget, counted):
    result = counted("nzbget_config", **nzbget.args(categories=[dict(name="Series", state="absent")]))[0]
    assert result["changed"] is True
    names = dict(nzbget.api.loadconfig())
    assert [names.get("Category%d.Name" % n) for n in (1, 2, 3, 4)] == ["Movies", "Music", "Software", None]
    assert names["Category1.Unpack"] == "yes", "fields of the other categories kept"
    purge = counted("nzbget_config", purge_categories=True, **nzbget.args(categories=[dict(name="tv")]))[0]
    assert purge["changed_categories"] == ["Movies", "Music", "Software", "tv"]
    assert categories(nzbget) == ["tv"]


def test_passwords_are_hidden(nzbget, counted):
    result = counted("nzbget_config", check_mode=True, **nzbget.args(settings=dict(RestrictedPassword="r3stricted")))[0]
    assert result["changed"] is True
    assert "r3stricted" not in json.dumps(result)
    assert result["diff"]["after"]["settings"]["RestrictedPassword"] == "<hidden>"


@pytest.mark.parametrize("settings,needle", [
    (dict(KeepHistory=14, NoSuchOption="x"), "unknown option NoSuchOption"),
    (dict(KeepHistory="lots"), "KeepHistory: expects a whole number"),
    (dict(AppendCategoryDir="maybe"), "AppendCategoryDir: expects yes/no"),
    (dict(DestDir=dict(a=1)), "DestDir: expects a single value"),
    (dict(**{"Category1.Name": "x"}), "category options go in 'categories'"),
])
def test_bad_input_fails_before_writing(nzbget, counted, settings, needle):
    before = nzbget.file_options()
    result, _r, writes = counted("nzbget_config", **nzbget.args(settings=settings))
    assert result["failed"] is True and needle in result["msg"] and "nothing was written" in result["msg"]
    assert writes == 0 and nzbget.file_options() == before


def test_duplicate_category_and_wrong_type_in_categories(nzbget, counted):
    result = counted("nzbget_config", **nzbget.args(categories=[dict(name="tv"), dict(name="tv")]))[0]
    assert result["failed"] is True and "tv listed more than once" in result["msg"]
    result = counted("nzbget_config", **nzbget.args(categories=[dict(name="tv", unpack="perhaps")]))[0]
    assert result["failed"] is True and "unpack" in result["msg"]


def test_wrong_password_and_unreachable(nzbget, counted, monkeypatch):
    result = counted("nzbget_config", **dict(nzbget.args(), password="not-it"))[0]
    assert result["failed"] is True and result["status"] == 401
    assert "wrong ControlUsername/ControlPassword" in result["msg"] and "not-it" not in json.dumps(result)
    monkeypatch.setattr(time, "sleep", lambda s: None)
    result = counted("nzbget_config", url="http://127.0.0.1:%d" % free_port(), password="x")[0]
    assert result["failed"] is True and "/jsonrpc (loadconfig) failed" in result["msg"]
    assert result["msg"].startswith("nzbget: POST 127.0.0.1:")
