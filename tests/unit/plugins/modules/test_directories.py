# -*- coding: utf-8 -*-
# Copyright: monsterr.mediaserver developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The directories module on a real temporary filesystem: check run, real run, idempotent runs, drift."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import stat

import pytest

from ansible.module_utils.testing import patch_module_args
from ansible_collections.monsterr.mediaserver.plugins.modules import directories


def run(capsys, check_mode=False, **params):
    params.setdefault("_ansible_check_mode", check_mode)
    with patch_module_args(params):
        with pytest.raises(SystemExit):
            directories.main()
    return json.loads(capsys.readouterr().out)


def mode_of(path):
    return stat.S_IMODE(os.stat(path).st_mode)


def test_four_steps_and_drift(tmp_path, capsys):
    tree = [str(tmp_path / "data" / "media" / "tv"), str(tmp_path / "data" / "downloads")]
    args = dict(paths=tree, mode="2775")

    checked = run(capsys, check_mode=True, **args)
    assert checked["changed"] is True
    assert checked["created"] == [str(tmp_path / "data"), str(tmp_path / "data" / "media"), tree[0], tree[1]]
    assert not (tmp_path / "data").exists(), "check mode must not create anything"

    applied = run(capsys, **args)
    assert applied["changed"] is True and applied["created"] == checked["created"]
    for path in checked["created"]:
        assert os.path.isdir(path) and mode_of(path) == 0o2775, path

    assert run(capsys, check_mode=True, **args)["changed"] is False
    again = run(capsys, **args)
    assert (again["changed"], again["created"], again["updated"]) == (False, [], [])

    os.chmod(tree[0], 0o700)  # drift behind Ansible's back
    drift_check = run(capsys, check_mode=True, **args)
    assert (drift_check["changed"], drift_check["updated"]) == (True, [tree[0]])
    assert mode_of(tree[0]) == 0o700, "check mode must not repair"
    repaired = run(capsys, **args)
    assert (repaired["changed"], repaired["updated"]) == (True, [tree[0]])
    assert mode_of(tree[0]) == 0o2775


def test_diff_names_what_changes(tmp_path, capsys):
    target = str(tmp_path / "new")
    result = run(capsys, check_mode=True, paths=[target], mode="0750", _ansible_diff=True)
    assert result["diff"] == {"before": {target: "absent"}, "after": {target: "directory"}}


def test_refuses_a_file_in_the_way(tmp_path, capsys):
    blocker = tmp_path / "media"
    blocker.write_text("not a directory")
    result = run(capsys, paths=[str(blocker)], mode="0755")
    assert result["failed"] is True
    assert "exists and is not a directory" in result["msg"] and str(blocker) in result["msg"]


def test_refuses_relative_paths(tmp_path, capsys):
    result = run(capsys, paths=["data/media"], mode="0755")
    assert result["failed"] is True and "'data/media' is not absolute" in result["msg"]


def test_overrides_give_one_path_its_own_mode_in_the_same_execution(tmp_path, capsys):
    app, shared = str(tmp_path / "proxy"), str(tmp_path / "proxy" / "acme")
    args = dict(paths=[app, shared], mode="0750", overrides={shared: {"mode": "0755"}})
    first = run(capsys, **args)
    assert first["changed"] is True and first["created"] == [app, shared]
    assert (mode_of(app), mode_of(shared)) == (0o750, 0o755)
    assert run(capsys, **args)["changed"] is False
    # Without the override the shared directory would be pulled back to the common mode: the two agree.
    os.chmod(shared, 0o750)
    assert run(capsys, **args)["updated"] == [shared]
    assert mode_of(shared) == 0o755


def test_override_of_a_path_not_listed_is_refused(tmp_path, capsys):
    result = run(capsys, paths=[str(tmp_path / "a")], overrides={str(tmp_path / "b"): {"mode": "0755"}})
    assert result["failed"] is True
    assert "not in paths" in result["msg"] and str(tmp_path / "b") in result["msg"]
    assert not (tmp_path / "a").exists(), "nothing is created when the input is wrong"
