# -*- coding: utf-8 -*-
# Copyright: monsterr.mediaserver developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.monsterr.mediaserver.plugins.module_utils._resource import changes, diff, merge, redact

CURRENT = {"host": "qbittorrent", "port": 8080, "password": "********", "category": "tv", "priority": 1,
           "useSsl": False, "tags": [1, 2], "nested": {"a": 1, "b": 2}}


@pytest.mark.parametrize("wanted,expected", [
    ({"host": "qbittorrent", "port": 8080}, {}),
    ({"port": "8080"}, {"port": (8080, "8080")}),             # a string is not the number the app stores
    ({"port": 8081}, {"port": (8080, 8081)}),
    ({"useSsl": 0}, {"useSsl": (False, 0)}),                  # bool and int are different settings
    ({"tags": [2, 1]}, {"tags": ([1, 2], [2, 1])}),
    ({"nested": {"a": 1}}, {}),                               # only what the user set is compared
    ({"nested": {"a": 3}}, {"nested": ({"a": 1, "b": 2}, {"a": 3})}),
    ({"missing": "x"}, {"missing": (None, "x")}),
    ({"host": None}, {}),                                     # None means "leave as it is"
])
def test_changes(wanted, expected):
    assert changes(CURRENT, wanted) == expected


def test_masked_secret_counts_as_equal_unless_asked():
    assert changes(CURRENT, {"password": "s3cret"}, secrets={"password"}) == {}
    assert changes(CURRENT, {"password": "s3cret"}, secrets={"password"}, update_secrets=True) == {
        "password": ("********", "s3cret")}
    # an app that returns the secret in clear is compared for real
    assert changes({"password": "old"}, {"password": "new"}, secrets={"password"}) == {"password": ("old", "new")}
    assert changes({"password": "same"}, {"password": "same"}, secrets={"password"}) == {}


def test_merge_keeps_what_the_user_did_not_set():
    merged = merge(CURRENT, {"port": 9090, "nested": {"b": 5}, "host": None})
    assert merged["port"] == 9090 and merged["host"] == "qbittorrent" and merged["nested"] == {"a": 1, "b": 5}
    assert CURRENT["port"] == 8080, "merge must not modify its input"


def test_redact_and_diff_hide_secrets():
    obj = {"password": "s3cret", "fields": [{"apiKey": "k"}], "empty": ""}
    assert redact(obj, {"password", "apiKey"}) == {"password": "<hidden>", "fields": [{"apiKey": "<hidden>"}], "empty": ""}
    assert diff(None, obj, {"password"}) == {"before": {}, "after": {"password": "<hidden>", "fields": [{"apiKey": "k"}],
                                                                      "empty": ""}}
