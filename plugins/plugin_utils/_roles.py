# -*- coding: utf-8 -*-
# Copyright: monsterr.mediaserver developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the collection's roles define, read from the roles themselves on the controller.

Nothing here is a hand-made list: the settings a household may set are the options of each role's
``meta/argument_specs.yml`` and the keys of its ``defaults/main.yml``; the variables a role sets for later
layers are the ``set_fact`` keys and ``register`` names of its tasks. Preflight uses them to validate every
layer's settings against its argument spec and to name the setting a misspelled variable was meant to be.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

import yaml

from ansible.module_utils.common._collections_compat import Mapping, Sequence
from ansible.module_utils.six import string_types

# plugins/plugin_utils/_roles.py -> the collection root (a checkout or an installed collection alike)
COLLECTION_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ROLES_DIR = os.path.join(COLLECTION_ROOT, "roles")
SET_FACT = ("ansible.builtin.set_fact", "set_fact", "ansible.legacy.set_fact")
INCLUDE_VARS = ("ansible.builtin.include_vars", "include_vars", "ansible.legacy.include_vars")

_CACHE = {}
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load(path):
    """A YAML file of the collection, parsed once per process."""
    return _load(path)


def _load(path):
    if path not in _CACHE:
        try:
            with open(path) as handle:
                _CACHE[path] = yaml.load(handle, Loader=_LOADER)  # nosec: the safe loader, in C where there is one
        except (IOError, OSError):
            _CACHE[path] = None
    return _CACHE[path]


def role_names(roles_dir=ROLES_DIR):
    """Every role of the collection (a directory under roles/ with a meta/argument_specs.yml)."""
    return sorted(name for name in os.listdir(roles_dir)
                  if os.path.isfile(os.path.join(roles_dir, name, "meta", "argument_specs.yml")))


def argument_spec(role, entry_point="main", roles_dir=ROLES_DIR):
    """The options of one entry point of a role's argument spec ({} when it has none)."""
    data = _load(os.path.join(roles_dir, role, "meta", "argument_specs.yml")) or {}
    spec = (data.get("argument_specs") or {}).get(entry_point) or {}
    return spec.get("options") or {}


def entry_points(role, roles_dir=ROLES_DIR):
    data = _load(os.path.join(roles_dir, role, "meta", "argument_specs.yml")) or {}
    return sorted(data.get("argument_specs") or {})


def defaults(role, roles_dir=ROLES_DIR):
    """The names in the role's defaults/main.yml."""
    data = _load(os.path.join(roles_dir, role, "defaults", "main.yml"))
    return sorted(data) if isinstance(data, Mapping) else []


def _tasks(items):
    """Every task of a task list, blocks unfolded."""
    for item in items or []:
        if not isinstance(item, Mapping):
            continue
        yield item
        for key in ("block", "rescue", "always"):
            if isinstance(item.get(key), Sequence):
                yield from _tasks(item[key])


def set_variables(role, roles_dir=ROLES_DIR):
    """The variables a role's tasks and handlers set for the host: set_fact keys, include_vars names, registers."""
    names = set()
    for sub in ("tasks", "handlers"):
        directory = os.path.join(roles_dir, role, sub)
        if not os.path.isdir(directory):
            continue
        for filename in sorted(os.listdir(directory)):
            if not filename.endswith((".yml", ".yaml")):
                continue
            data = _load(os.path.join(directory, filename))
            for task in _tasks(data if isinstance(data, list) else []):
                if isinstance(task.get("register"), string_types):
                    names.add(task["register"])
                for action in SET_FACT:
                    if isinstance(task.get(action), Mapping):
                        names.update(k for k in task[action] if k != "cacheable")
                for action in INCLUDE_VARS:
                    if isinstance(task.get(action), Mapping) and isinstance(task[action].get("name"), string_types):
                        names.add(task[action]["name"])
    return sorted(names)


def prefixes(roles_dir=ROLES_DIR):
    """The variable prefixes the collection owns: one per role, <role>_."""
    return sorted(name.replace("-", "_") + "_" for name in role_names(roles_dir))


def known_variables(roles_dir=ROLES_DIR):
    """Every variable name some role defines: options of every entry point, defaults, variables set by tasks."""
    key = ("known", roles_dir)
    if key not in _CACHE:
        _CACHE[key] = _known_variables(roles_dir)
    return _CACHE[key]


def _known_variables(roles_dir):
    known = set()
    for role in role_names(roles_dir):
        for entry in entry_points(role, roles_dir):
            known.update(argument_spec(role, entry, roles_dir))
        known.update(defaults(role, roles_dir))
        known.update(set_variables(role, roles_dir))
    return sorted(known)
