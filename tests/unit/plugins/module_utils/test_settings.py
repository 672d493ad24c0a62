# -*- coding: utf-8 -*-
# Copyright: monsterr.mediaserver developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Type checks of wanted settings against what an app reports."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.monsterr.mediaserver.plugins.module_utils._settings import (
    SettingError, clean_path, coerce_like, unknown_keys)


@pytest.mark.parametrize("current,wanted,expected", [
    (True, "false", False), (False, "yes", True), (False, 1, True), (5, "7", 7), (5, 7.0, 7), (1.5, "2", 2.0),
    (1.5, 2, 2), ("a", 3, "3"), ("a", "b", "b"), (None, "x", "x"), ([], ("a",), ["a"]), ({}, {"a": 1}, {"a": 1}),
])
def test_converts_what_is_only_spelled_differently(current, wanted, expected):
    got = coerce_like("k", current, wanted)
    assert got == expected and type(got) is type(expected)


@pytest.mark.parametrize("current,wanted", [
    (True, "maybe"), (True, 2), (5, "five"), (5, True), (5, [1]), (1.5, "x"), ("a", ["a"]), ("a", True),
    ([], "a"), ({}, [1]), (None, {"a": 1}),
])
def test_refuses_the_wrong_type_naming_the_key(current, wanted):
    with pytest.raises(SettingError) as err:
        coerce_like("max_ratio", current, wanted)
    assert str(err.value).startswith("max_ratio: expects a ")


def test_unknown_keys_and_paths():
    assert unknown_keys({"a": 1, "b": 2, "c": 3}, {"a": 0}, ("c",)) == ["b"]
    assert clean_path("/data//torrents/") == "/data/torrents" and clean_path("") == ""
