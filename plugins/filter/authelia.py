# -*- coding: utf-8 -*-
# Copyright: monsterr.mediaserver developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Authelia's access rules from the resolved catalog, and its file user database from the inventory.

Password digests are argon2id in Authelia's default parameters, computed on the controller (passlib with
argon2-cffi). An existing digest is kept while it still verifies the inventory's password with the wanted
parameters, so a re-run rewrites nothing; a changed password or changed parameters give a new digest.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible.errors import AnsibleFilterError
from ansible.module_utils.common._collections_compat import Mapping
from ansible.module_utils.six import string_types

from ansible_collections.monsterr.mediaserver.plugins.plugin_utils._data import plain as _plain

try:
    from passlib.hash import argon2 as _argon2
    from passlib.exc import MissingBackendError
    HAS_PASSLIB = True
except ImportError:  # pragma: no cover - reported when used
    HAS_PASSLIB = False

    class MissingBackendError(Exception):
        pass

try:
    import yaml
except ImportError:  # pragma: no cover - ansible-core depends on PyYAML
    yaml = None

SIGNED_IN = ("one_factor", "two_factor")
# Authelia's defaults (internal/configuration/schema/authentication.go DefaultPasswordConfig).
DEFAULT_HASH = {"memory": 65536, "iterations": 3, "parallelism": 4, "key_length": 32, "salt_length": 16}
_DIGEST_RE = re.compile(r"^\$argon2id\$v=19\$m=(\d+),t=(\d+),p=(\d+)\$([A-Za-z0-9+/]+)\$([A-Za-z0-9+/]+)$")


def _resource(path):
    """A bypass path prefix as an Authelia resources regex (Go RE2: escaping punctuation is allowed)."""
    return "^" + re.escape(path)


def authelia_access_rules(resolved):
    """access_control.rules for every site of the catalog that goes through Authelia, first match wins.

    Per site: its bypass_paths as one bypass rule (the app checks its own key there; the proxy does not even
    ask), then the site's policy for its groups. auth: none sites never reach Authelia and get no rule;
    everything else falls to default_policy (deny).
    """
    if not isinstance(resolved, (list, tuple)):
        raise AnsibleFilterError("authelia_access_rules: expected the resolved catalog (a list)")
    rules = []
    for entry in sorted(_plain(resolved), key=lambda e: ((e.get("proxy") or {}).get("host") or "")):
        proxy = entry.get("proxy")
        if not isinstance(proxy, dict) or not proxy.get("host"):
            continue
        policy = proxy.get("auth", "two_factor")
        if policy == "none":
            continue
        host = proxy["host"]
        paths = [p for p in proxy.get("bypass_paths") or [] if isinstance(p, string_types)]
        if paths:
            rules.append({"domain": host, "policy": "bypass", "resources": [_resource(p) for p in paths]})
        rule = {"domain": host, "policy": policy}
        if policy in SIGNED_IN:
            rule["subject"] = ["group:%s" % g for g in proxy.get("groups") or []]
        rules.append(rule)
    return rules


def _params(params):
    merged = dict(DEFAULT_HASH)
    merged.update(dict((k, int(v)) for k, v in (params or {}).items()))
    return merged


def _hasher(params):
    if not HAS_PASSLIB:
        raise AnsibleFilterError("authelia: passlib is not installed on the controller; pip install -r requirements.txt")
    return _argon2.using(type="ID", memory_cost=params["memory"], rounds=params["iterations"],
                         parallelism=params["parallelism"], digest_size=params["key_length"],
                         salt_size=params["salt_length"])


def _matches_params(digest, params):
    found = _DIGEST_RE.match(digest or "")
    if not found:
        return False
    memory, iterations, parallelism = (int(x) for x in found.groups()[:3])
    raw_len = len(found.group(5)) * 3 // 4
    return (memory, iterations, parallelism, raw_len) == (params["memory"], params["iterations"],
                                                          params["parallelism"], params["key_length"])


def authelia_password_digest(password, existing=None, params=None):
    """An argon2id digest of password: existing when it verifies with the wanted parameters, else a new one."""
    if not isinstance(password, string_types) or not password:
        raise AnsibleFilterError("authelia_password_digest: the password is empty")
    params = _params(params)
    try:
        hasher = _hasher(params)
        if existing and _matches_params(existing, params) and hasher.verify(password, existing):
            return existing
        return hasher.hash(password)
    except MissingBackendError:
        raise AnsibleFilterError("authelia: passlib needs argon2-cffi on the controller for argon2id digests; "
                                 "pip install -r requirements.txt (argon2-cffi)")


def _existing_users(existing):
    if not existing:
        return {}
    if isinstance(existing, string_types):
        if yaml is None:
            return {}
        try:
            existing = yaml.safe_load(existing)
        except yaml.YAMLError:
            return {}
    if not isinstance(existing, Mapping) or not isinstance(existing.get("users"), Mapping):
        return {}
    return existing["users"]


def authelia_users_database(users, existing=None, params=None):
    """The content of users_database.yml (a dict) for the inventory's users.

    users: list of {username, displayname, password, email?, groups?, disabled?}. existing: the current file's
    text (or parsed content) whose digests are reused while they still verify.
    """
    current = _existing_users(existing)
    database = {}
    for user in _plain(users or []):
        name = user["username"]
        old = (current.get(name) or {}).get("password") if isinstance(current.get(name), Mapping) else None
        entry = {
            "disabled": bool(user.get("disabled", False)),
            "displayname": str(user["displayname"]),
            "password": authelia_password_digest(user["password"], old, params),
        }
        if user.get("email"):
            entry["email"] = str(user["email"])
        entry["groups"] = [str(g) for g in user.get("groups") or []]
        database[name] = entry
    return {"users": database}


class FilterModule(object):
    def filters(self):
        return {
            "authelia_access_rules": authelia_access_rules,
            "authelia_password_digest": authelia_password_digest,
            "authelia_users_database": authelia_users_database,
        }
