# -*- coding: utf-8 -*-
# Copyright: monsterr.mediaserver developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""authelia_access_rules, authelia_password_digest and authelia_users_database."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest
import yaml
from ansible.errors import AnsibleFilterError

from ansible_collections.monsterr.mediaserver.plugins.filter.authelia import (
    authelia_access_rules, authelia_password_digest, authelia_users_database)

try:
    from passlib.hash import argon2
    argon2.hash("probe")
    HAS_ARGON2 = True
except Exception:  # noqa: BLE001 - any missing backend
    HAS_ARGON2 = False

needs_argon2 = pytest.mark.needs(HAS_ARGON2, "passlib's argon2 backend (argon2-cffi, requirements.txt) is missing: "
                                               "run `make setup`")
# Cheap parameters keep the unit tests fast; the integration test uses Authelia's defaults.
FAST = {"memory": 1024, "iterations": 1, "parallelism": 1, "key_length": 32, "salt_length": 16}


def site(name, host, auth, groups=None, bypass=None):
    proxy = {"subdomain": host.split(".")[0], "auth": auth, "host": host}
    if groups is not None:
        proxy["groups"] = groups
    if bypass is not None:
        proxy["bypass_paths"] = bypass
    return {"name": name, "proxy": proxy}


def test_rules_bypass_paths_first_then_policy_for_groups_none_skipped():
    rules = authelia_access_rules([
        site("sonarr", "tv.example.org", "two_factor", ["admins"], ["/api/", "/feed/"]),
        site("plex", "plex.example.org", "none"),
        site("homepage", "home.example.org", "one_factor", ["admins", "family"]),
        site("status", "status.example.org", "bypass"),
        {"name": "redis"},
    ])
    assert rules == [
        {"domain": "home.example.org", "policy": "one_factor", "subject": ["group:admins", "group:family"]},
        {"domain": "status.example.org", "policy": "bypass"},
        {"domain": "tv.example.org", "policy": "bypass", "resources": ["^/api/", "^/feed/"]},
        {"domain": "tv.example.org", "policy": "two_factor", "subject": ["group:admins"]},
    ]


def test_resource_regexes_escape_the_prefix():
    rules = authelia_access_rules([site("x", "x.example.org", "one_factor", ["family"], ["/api/v1.0/", "/a+b"])])
    assert rules[0]["resources"] == ["^/api/v1\\.0/", "^/a\\+b"]


def test_rules_need_a_list():
    with pytest.raises(AnsibleFilterError):
        authelia_access_rules("sonarr")


@needs_argon2
def test_digest_is_argon2id_and_kept_while_it_verifies():
    digest = authelia_password_digest("s3cret-pass", None, FAST)
    assert digest.startswith("$argon2id$v=19$m=1024,t=1,p=1$") and argon2.verify("s3cret-pass", digest)
    assert authelia_password_digest("s3cret-pass", digest, FAST) == digest
    assert authelia_password_digest("other-pass", digest, FAST) != digest


@needs_argon2
def test_new_parameters_rehash_once():
    digest = authelia_password_digest("s3cret-pass", None, FAST)
    stronger = dict(FAST, memory=2048)
    new = authelia_password_digest("s3cret-pass", digest, stronger)
    assert new != digest and new.startswith("$argon2id$v=19$m=2048,t=1,p=1$")


@needs_argon2
def test_default_parameters_are_authelias():
    assert authelia_password_digest("x" * 12).startswith("$argon2id$v=19$m=65536,t=3,p=4$")


def test_empty_password_is_an_error():
    with pytest.raises(AnsibleFilterError):
        authelia_password_digest("", None, FAST)


@needs_argon2
def test_users_database_reuses_the_existing_files_digests():
    users = [{"username": "alice", "displayname": "Alice", "email": "a@example.org", "groups": ["admins"], "password": "pw-alice-1"},
             {"username": "bob", "displayname": "Bob", "password": "pw-bob-12"}]
    first = authelia_users_database(users, "", FAST)
    assert sorted(first["users"]) == ["alice", "bob"]
    assert first["users"]["bob"] == {"disabled": False, "displayname": "Bob", "groups": [],
                                     "password": first["users"]["bob"]["password"]}
    text = yaml.safe_dump(first)
    again = authelia_users_database(users, text, FAST)
    assert again == first
    users[1]["password"] = "pw-bob-changed"
    third = authelia_users_database(users, text, FAST)
    assert third["users"]["alice"] == first["users"]["alice"]
    assert third["users"]["bob"]["password"] != first["users"]["bob"]["password"]


@needs_argon2
def test_users_database_ignores_an_unreadable_existing_file():
    users = [{"username": "alice", "displayname": "Alice", "password": "pw-alice-1"}]
    for junk in ("", "{not yaml: [", "users: 3", None):
        assert argon2.verify("pw-alice-1", authelia_users_database(users, junk, FAST)["users"]["alice"]["password"])
