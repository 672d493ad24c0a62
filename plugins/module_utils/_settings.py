# -*- coding: utf-8 -*-
# Copyright: monsterr.mediaserver developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Checking a user's flat settings against what an app reported (private).

qBittorrent ignores unknown preference keys and values of the wrong type without an error, and Bazarr
takes form strings; so the modules check each wanted value against the value the app reported for the
same key, before anything is written: unknown key -> SettingError, wrong type -> SettingError, a value
that is only spelled differently ("true" for True, "8080" for 8080) -> converted.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import posixpath

from ansible.module_utils.parsing.convert_bool import BOOLEANS_FALSE, BOOLEANS_TRUE
from ansible.module_utils.six import integer_types, string_types
from ansible_collections.monsterr.mediaserver.plugins.module_utils._module import InputError


class SettingError(InputError):
    """A wanted setting the app cannot take: the message names the key and says what to do."""


def _type_name(value):
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, integer_types):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, string_types):
        return "string"
    if isinstance(value, (list, tuple)):
        return "list"
    if isinstance(value, dict):
        return "dictionary"
    return type(value).__name__


def coerce_like(key, current, wanted):
    """``wanted`` converted to the type of ``current`` (what the app reported for ``key``).

    Raises SettingError when it cannot be, e.g. "abc" for a boolean or a list for a number.
    ``current`` None (the app reports null) accepts anything scalar.
    """
    def bad():
        return SettingError("%s: expects a %s (the app reports %r), got %s %r"
                            % (key, _type_name(current), current, _type_name(wanted), wanted))

    if current is None:
        if isinstance(wanted, (dict, list, tuple)):
            raise bad()
        return wanted
    if isinstance(current, bool):
        if isinstance(wanted, bool):
            return wanted
        if isinstance(wanted, string_types) and wanted.strip().lower() in (BOOLEANS_TRUE | BOOLEANS_FALSE):
            return wanted.strip().lower() in BOOLEANS_TRUE
        if isinstance(wanted, integer_types) and wanted in (0, 1):
            return bool(wanted)
        raise bad()
    if isinstance(current, integer_types) and not isinstance(current, bool):
        if isinstance(wanted, bool):
            raise bad()
        if isinstance(wanted, integer_types):
            return wanted
        if isinstance(wanted, float) and wanted == int(wanted):
            return int(wanted)
        if isinstance(wanted, string_types):
            try:
                return int(wanted.strip())
            except ValueError:
                raise bad()
        raise bad()
    if isinstance(current, float):
        if isinstance(wanted, bool):
            raise bad()
        if isinstance(wanted, (integer_types, float)):
            return wanted
        if isinstance(wanted, string_types):
            try:
                return float(wanted.strip())
            except ValueError:
                raise bad()
        raise bad()
    if isinstance(current, string_types):
        if isinstance(wanted, string_types):
            return wanted
        if isinstance(wanted, (integer_types, float)) and not isinstance(wanted, bool):
            return str(wanted)
        raise bad()
    if isinstance(current, list):
        if isinstance(wanted, (list, tuple)):
            return list(wanted)
        raise bad()
    if isinstance(current, dict):
        if isinstance(wanted, dict):
            return wanted
        raise bad()
    return wanted


def unknown_keys(wanted, known, allowed=()):
    """Keys of ``wanted`` that are neither in ``known`` (what the app reported) nor in ``allowed``."""
    return sorted(k for k in wanted if k not in known and k not in allowed)


def clean_path(value):
    """A path the way the apps store it: duplicate and trailing slashes dropped ('' stays '')."""
    if not isinstance(value, string_types) or not value:
        return value
    return posixpath.normpath(value)
