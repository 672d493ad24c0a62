# -*- coding: utf-8 -*-
# Copyright: monsterr.mediaserver developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Comparing wanted settings with what an app reports, for every wiring module (private).

The apps reset fields a write leaves out, and mask secrets they return. So a module reads the current
object, lays only the user's settings over it (merge), compares only what the user set (changes), and
shows a diff with secrets blanked (redact). A masked value counts as equal to anything unless the user
asks to always send secrets.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy

MASK = "********"
HIDDEN = "<hidden>"


def is_masked(value):
    return isinstance(value, str) and value != "" and set(value) == {"*"}


def _same(current, wanted):
    """Equal the way an app means it: numbers and numeric strings, order of lists of scalars kept."""
    if isinstance(wanted, bool) or isinstance(current, bool):
        return current is wanted or current == wanted and type(current) is type(wanted)
    if isinstance(wanted, (int, float)) and isinstance(current, (int, float)):
        return current == wanted
    if isinstance(wanted, dict) and isinstance(current, dict):
        return all(k in current and _same(current[k], v) for k, v in wanted.items())
    if isinstance(wanted, list) and isinstance(current, list):
        return len(wanted) == len(current) and all(_same(c, w) for c, w in zip(current, wanted))
    return current == wanted


def changes(current, wanted, secrets=(), update_secrets=False):
    """The keys of ``wanted`` whose value differs from ``current``: {key: (current, wanted)}.

    Only keys the user set are compared. A secret key counts as changed when the app reports it
    masked only if ``update_secrets`` is true (the app never tells us what it holds).
    """
    found = {}
    current = current or {}
    for key, value in wanted.items():
        if value is None:
            continue
        if key in secrets:
            have = current.get(key)
            if is_masked(have) and not update_secrets:
                continue
            if update_secrets or have != value:
                found[key] = (have, value)
            continue
        if key not in current or not _same(current[key], value):
            found[key] = (current.get(key), value)
    return found


def merge(current, wanted):
    """A copy of ``current`` with the user's settings laid over it (nested dicts merged, None skipped)."""
    merged = copy.deepcopy(current or {})
    for key, value in wanted.items():
        if value is None:
            continue
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def redact(obj, secrets=()):
    """A copy of ``obj`` fit for diff and return values: every secret key's value hidden."""
    if isinstance(obj, dict):
        return dict((k, HIDDEN if k in secrets and v not in (None, "") else redact(v, secrets)) for k, v in obj.items())
    if isinstance(obj, list):
        return [redact(v, secrets) for v in obj]
    return obj


def diff(before, after, secrets=()):
    """Ansible's diff for a resource, secrets hidden; an absent side is an empty dict."""
    return {"before": redact(before or {}, secrets), "after": redact(after or {}, secrets)}
