# -*- coding: utf-8 -*-
# Copyright: monsterr.mediaserver developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the backup layer saves, derived from the resolved catalog: for each enabled service that keeps
appdata, the paths to back up, the restic exclude patterns and whether its container is stopped (or paused)
while the snapshot is taken. Nothing here names a service.

A catalog entry's optional ``backup`` field:

- absent: the service's appdata directory (``<appdata_root>/<name>``) is saved whole, if the service mounts it;
- ``false`` or ``{enabled: false}``: the service is not backed up;
- ``{paths: [...], exclude: [...], stop: true}``: ``paths`` are directories or files relative to the appdata
  directory (default: all of it), ``exclude`` restic patterns relative to it (``logs``, ``*.pid``,
  ``**/cache`` for any depth), ``stop`` says the service holds a database that must not be copied while the
  app writes it: its container is stopped (or paused) for the snapshot.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import posixpath

from ansible.errors import AnsibleFilterError
from ansible.module_utils.common._collections_compat import Mapping, Sequence
from ansible.module_utils.six import string_types

BACKUP_KEYS = frozenset(["enabled", "paths", "exclude", "stop"])


def _settings(entry):
    """The entry's backup field as a dict, or None when the service is not backed up."""
    value = entry.get("backup")
    if value is None or value is True:
        return {}
    if value is False:
        return None
    if isinstance(value, Mapping):
        if value.get("enabled", True) is False:
            return None
        return value
    return {}


def _relative(value):
    """True for a path or pattern that stays inside the appdata directory."""
    return (isinstance(value, string_types) and value.strip() != "" and not value.startswith("/")
            and ".." not in value.split("/"))


def _mounts_appdata(entry):
    appdata = entry.get("appdata", "")
    return any(isinstance(v, Mapping) and (v.get("source") == appdata or str(v.get("source", "")).startswith(appdata + "/"))
               for v in entry.get("volumes") or [])


def backup_plan(resolved, stop=None, skip=None):
    """One dict per service to back up, by name: name, paths, exclude (absolute restic patterns), stop.

    ``stop``: more service names whose containers are stopped for the snapshot (the household's list);
    ``skip``: service names not to back up at all. Entries with problems (see backup_problems) are left out.
    """
    if not isinstance(resolved, Sequence) or isinstance(resolved, string_types):
        raise AnsibleFilterError("backup_plan: expected the list catalog_resolved, got %r" % (resolved,))
    stop = set(stop or [])
    skip = set(skip or [])
    plan = []
    for entry in sorted(resolved, key=lambda e: e.get("name", "")):
        name = entry.get("name")
        settings = _settings(entry)
        if not name or not entry.get("appdata") or settings is None or name in skip:
            continue
        appdata = entry["appdata"].rstrip("/")
        paths = settings.get("paths")
        if paths is None:
            if not _mounts_appdata(entry):
                continue   # nothing of its own on the host (e.g. an exporter without a config volume)
            paths = ["."]
        if not isinstance(paths, list) or not all(_relative(p) for p in paths):
            continue
        exclude = settings.get("exclude") or []
        if not isinstance(exclude, list) or not all(_relative(p) for p in exclude):
            continue
        plan.append({
            "name": name,
            "appdata": appdata,
            "paths": sorted(set(posixpath.normpath(posixpath.join(appdata, p)) for p in paths)),
            "exclude": [posixpath.join(appdata, p.rstrip("/")) for p in exclude],
            "stop": bool(settings.get("stop") is True or name in stop),
        })
    return plan


def backup_problems(resolved, stop=None, skip=None):
    """Every problem with the catalog's backup fields and the household's lists, one line each."""
    problems = []
    names = sorted(e.get("name") for e in resolved or [] if e.get("name"))
    known = ", ".join(names) or "(none enabled)"
    for entry in resolved or []:
        name = entry.get("name")
        value = entry.get("backup")
        where = "catalog_overrides.%s.backup (or roles/catalog/services/%s.yml)" % (name, name)
        if value is None or isinstance(value, bool):
            continue
        if not isinstance(value, Mapping):
            problems.append("%s backup = %r is not a dict. Fix: give {exclude: [logs]}, or false to leave the service "
                            "out (%s)." % (name, value, where))
            continue
        for key in sorted(set(value) - BACKUP_KEYS):
            problems.append("%s backup has unknown field '%s'. Fix: use %s (%s)."
                            % (name, key, ", ".join(sorted(BACKUP_KEYS)), where))
        for key in ("paths", "exclude"):
            items = value.get(key)
            if items is None:
                continue
            if not isinstance(items, list) or not all(_relative(p) for p in items):
                problems.append("%s backup.%s = %r is not a list of paths relative to its appdata directory. Fix: "
                                "e.g. [logs, '*.pid', '**/cache'], no leading / and no .. (%s)." % (name, key, items, where))
        if value.get("paths") == []:
            problems.append("%s backup.paths is empty. Fix: leave paths out to save the whole appdata directory, or "
                            "set backup: false to save nothing (%s)." % (name, where))
        if "stop" in value and not isinstance(value["stop"], bool):
            problems.append("%s backup.stop = %r is not true or false. Fix: true when the service holds a database (%s)."
                            % (name, value["stop"], where))
        if "enabled" in value and not isinstance(value["enabled"], bool):
            problems.append("%s backup.enabled = %r is not true or false (%s)." % (name, value["enabled"], where))
    for variable, given in (("backup_stop_services", [] if stop is None else stop),
                            ("backup_skip_services", [] if skip is None else skip)):
        if not isinstance(given, list):
            problems.append("%s = %r is not a list. Fix: list service names, e.g. [sonarr]." % (variable, given))
            continue
        for name in given:
            if name not in names:
                problems.append("%s has '%s', which is not an enabled service. Fix: use one of %s, or remove it."
                                % (variable, name, known))
    return problems


def backup_restore_plan(plan, snapshot):
    """The plan's entries cut to the paths the snapshot holds (a path, or one under a saved path); entries of
    which the snapshot holds nothing are left out."""
    saved = [p.rstrip("/") for p in (snapshot or {}).get("paths") or []]
    out = []
    for entry in plan or []:
        paths = [p for p in entry.get("paths") or [] if any(p == s or p.startswith(s + "/") for s in saved)]
        if paths:
            out.append(dict(entry, paths=paths))
    return out


class FilterModule(object):
    def filters(self):
        return {
            "backup_plan": backup_plan,
            "backup_problems": backup_problems,
            "backup_restore_plan": backup_restore_plan,
        }
