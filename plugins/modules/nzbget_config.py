#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: monsterr.mediaserver developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: nzbget_config
short_description: Set NZBGet options and categories through its JSON-RPC API, in one write
version_added: 0.1.0
description:
  - Reads nzbget.conf through C(loadconfig), compares only the options in O(settings) and the categories in
    O(categories), and when something differs writes the WHOLE option list back with C(saveconfig) (NZBGet drops
    every option it is not sent), then C(reload)s NZBGet so the change takes effect.
  - Settings and categories are one module because every C(saveconfig) carries the complete configuration; two
    modules would each rewrite it.
  - An option name NZBGet does not know (neither in the file nor in its running config) fails the module before
    anything is written; so does a value of the wrong kind for an option NZBGet holds as a number or as yes/no.
  - Values are compared with what the file says (C(${MainDir}) stays unexpanded), not with the running config, so
    options passed on NZBGet's command line with C(-o) are not seen.
  - Categories are numbered options (C(Category1.Name), C(Category1.DestDir), ...). They are matched by name; new
    ones get the next number, and removing one renumbers the rest so NZBGet, which stops at the first gap, still
    sees them all.
author:
  - monsterr.mediaserver developers (@monsterr)
extends_documentation_fragment:
  - monsterr.mediaserver.nzbget
  - monsterr.mediaserver.attributes
options:
  settings:
    description:
      - NZBGet options by their nzbget.conf name, for example C(MainDir), C(DestDir), C(KeepHistory),
        C(Server1.Host). Booleans become V(yes)/V(no), numbers text, lists comma-separated text.
      - Category options (C(CategoryN.*)) are refused here; use O(categories).
    type: dict
    default: {}
  categories:
    description: Categories, matched by O(categories[].name). Fields left out keep their value (new ones get NZBGet's defaults).
    type: list
    elements: dict
    default: []
    suboptions:
      name:
        description: Category name, matched exactly (the *arr apps use it as is).
        type: str
        required: true
      dest_dir:
        description: C(CategoryN.DestDir); empty means C(DestDir)/name when C(AppendCategoryDir=yes).
        type: str
      unpack:
        description: C(CategoryN.Unpack).
        type: bool
      extensions:
        description: C(CategoryN.Extensions), the extension scripts for this category.
        type: list
        elements: str
      aliases:
        description: C(CategoryN.Aliases), other category names that map to this one.
        type: list
        elements: str
      state:
        description: V(absent) removes the category.
        type: str
        choices: [present, absent]
        default: present
  purge_categories:
    description: Remove every category not listed in O(categories) (with V(state=present)).
    type: bool
    default: false
  update_secrets:
    description:
      - NZBGet returns passwords in clear to the control user, so they are compared like any option.
        V(always) also sends a password NZBGet shows masked (restricted user), reporting a change.
    type: str
    choices: [always, on_create]
    default: on_create
  reload:
    description: Reload NZBGet after a write so the new configuration takes effect.
    type: bool
    default: true
"""

EXAMPLES = r"""
- name: NZBGet paths, history and the categories the *arr apps use
  monsterr.mediaserver.nzbget_config:
    url: http://127.0.0.1:6789
    password: "{{ vault_nzbget_password }}"
    settings:
      MainDir: /data/usenet
      DestDir: ${MainDir}/complete
      InterDir: ${MainDir}/intermediate
      KeepHistory: 30
      AppendCategoryDir: true
    categories:
      - name: tv
        dest_dir: ${DestDir}/tv
      - name: movies
        dest_dir: ${DestDir}/movies
      - name: Software
        state: absent
"""

RETURN = r"""
changed_settings:
  description: Option names that differed and were (in check mode would be) written.
  returned: always
  type: list
  elements: str
  sample: [KeepHistory, MainDir]
changed_categories:
  description: Names of categories created, updated or removed (or that would be).
  returned: always
  type: list
  elements: str
  sample: [tv]
categories:
  description: All categories after the run, in NZBGet's order.
  returned: always
  type: list
  elements: dict
  sample: [{name: tv, dest_dir: "${DestDir}/tv", unpack: true, extensions: [], aliases: []}]
"""

import re

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.parsing.convert_bool import BOOLEANS_FALSE, BOOLEANS_TRUE
from ansible.module_utils.six import integer_types, string_types

from ansible_collections.monsterr.mediaserver.plugins.module_utils._module import argument_spec, run_module
from ansible_collections.monsterr.mediaserver.plugins.module_utils._nzbget import (
    CATEGORY_DEFAULTS, CATEGORY_OPTION, NzbgetClient, is_secret_option, join_categories,
    split_categories)
from ansible_collections.monsterr.mediaserver.plugins.module_utils._resource import diff, is_masked
from ansible_collections.monsterr.mediaserver.plugins.module_utils._settings import SettingError

NUMBER = re.compile(r"^-?\d+$")
FIELDS = (("dest_dir", "DestDir"), ("unpack", "Unpack"), ("extensions", "Extensions"), ("aliases", "Aliases"))


def _text_list(items):
    return ", ".join(i.strip() for i in items if i and i.strip())


def _normal_list(text):
    return _text_list((text or "").split(","))


def to_text(name, value, current):
    """A wanted value as NZBGet's option text, checked against the kind of value the file holds."""
    if isinstance(value, dict):
        raise SettingError("%s: expects a single value, got a dictionary" % name)
    if isinstance(value, bool):
        text = "yes" if value else "no"
    elif isinstance(value, (integer_types, float)):
        text = str(value)
    elif isinstance(value, (list, tuple)):
        text = _text_list(str(v) for v in value)
    elif isinstance(value, string_types):
        text = value
    else:
        raise SettingError("%s: cannot use a value of type %s" % (name, type(value).__name__))
    if current in ("yes", "no"):
        lowered = text.strip().lower()
        if lowered in (BOOLEANS_TRUE | BOOLEANS_FALSE):
            return "yes" if lowered in BOOLEANS_TRUE else "no"
        raise SettingError("%s: expects yes/no (a boolean), got %r" % (name, value))
    if current is not None and NUMBER.match(current) and not NUMBER.match(text.strip()):
        raise SettingError("%s: expects a whole number (the file has %s), got %r" % (name, current, value))
    return text


def category_view(raw):
    """A numbered category's fields as the module's options."""
    def field(key):
        return raw.get(key, CATEGORY_DEFAULTS.get(key, ""))
    return {"name": raw.get("Name", ""), "dest_dir": field("DestDir"), "unpack": field("Unpack") == "yes",
            "extensions": [e for e in _normal_list(field("Extensions")).split(", ") if e],
            "aliases": [a for a in _normal_list(field("Aliases")).split(", ") if a]}


def plan_categories(current, wanted, purge):
    """(new list of raw category dicts, names changed). ``current``: raw dicts from split_categories."""
    names = [c["name"] for c in wanted]
    duplicates = sorted(set(n for n in names if names.count(n) > 1))
    if duplicates:
        raise SettingError("categories: %s listed more than once" % ", ".join(duplicates))
    keep_names = set(c["name"] for c in wanted if c.get("state", "present") == "present")
    result = []
    changed = []
    for raw in current:
        name = raw.get("Name", "")
        spec = next((c for c in wanted if c["name"] == name), None)
        if spec is not None and spec.get("state") == "absent" or purge and name not in keep_names:
            changed.append(name)
            continue
        raw = dict(raw)
        if spec is not None:
            for option, key in FIELDS:
                if spec.get(option) is None:
                    continue
                text = to_text("categories[%s].%s" % (name, option), spec[option], None)
                have = raw.get(key, CATEGORY_DEFAULTS.get(key, ""))
                same = _normal_list(have) == text if key in ("Extensions", "Aliases") else have == text
                if not same:
                    raw[key] = text
                    if name not in changed:
                        changed.append(name)
        result.append(raw)
    present = [r.get("Name") for r in result]
    for spec in wanted:
        if spec.get("state", "present") != "present" or spec["name"] in present:
            continue
        raw = {"Name": spec["name"]}
        for option, key in FIELDS:
            raw[key] = CATEGORY_DEFAULTS[key] if spec.get(option) is None else to_text(
                "categories[%s].%s" % (spec["name"], option), spec[option], None)
        result.append(raw)
        changed.append(spec["name"])
    return result, changed


def run(module, client):
    p = module.params
    always = p["update_secrets"] == "always"
    settings = p["settings"] or {}
    for spec in p["categories"]:
        if not spec["name"] or spec["name"] != spec["name"].strip():
            module.fail_json(msg="nzbget_config: category name %r is empty or has leading/trailing spaces" % spec["name"])

    client.wait_until_ready(p["wait_timeout"])
    options = client.loadconfig()
    in_file = dict(options)

    try:
        numbered = sorted(k for k in settings if CATEGORY_OPTION.match(k))
        if numbered:
            raise SettingError("%s: category options go in 'categories', not in 'settings'" % ", ".join(numbered))
        unknown = [k for k in settings if k not in in_file]
        if unknown:
            running = dict(client.config())
            unknown = sorted(k for k in unknown if k not in running)
            if unknown:
                raise SettingError("unknown option%s %s: neither nzbget.conf nor the running NZBGet has %s; check the "
                                   "spelling against nzbget.conf (names are case-sensitive)"
                                   % ("s" if len(unknown) > 1 else "", ", ".join(unknown),
                                      "it" if len(unknown) == 1 else "them"))
        wanted = {}
        for name, value in settings.items():
            if value is None:
                continue
            wanted[name] = to_text(name, value, in_file.get(name))
        current_categories, others = split_categories(options)
        new_categories, changed_categories = plan_categories(current_categories, p["categories"], p["purge_categories"])
    except SettingError as exc:
        module.fail_json(msg="nzbget_config: %s; nothing was written" % exc)

    changed_settings = []
    for name, text in wanted.items():
        have = in_file.get(name)
        if is_secret_option(name) and is_masked(have) and not always:
            continue
        if have != text or is_secret_option(name) and is_masked(have):
            changed_settings.append(name)
    changed_settings.sort()

    changed = bool(changed_settings or changed_categories)
    if changed and not module.check_mode:
        new_others = [(n, wanted[n] if n in changed_settings else v) for n, v in others]
        new_others += [(n, wanted[n]) for n in changed_settings if n not in in_file]
        first = next((i for i, (n, _v) in enumerate(options) if CATEGORY_OPTION.match(n)), len(options))
        position = len([n for n, _v in options[:first] if not CATEGORY_OPTION.match(n)])
        client.saveconfig(new_others[:position] + join_categories(new_categories) + new_others[position:])
        if p["reload"]:
            client.reload()

    secrets = [n for n in settings if is_secret_option(n)]
    before = {"settings": dict((n, in_file.get(n)) for n in wanted),
              "categories": [category_view(c) for c in current_categories]}
    after = {"settings": dict((n, wanted[n] if n in changed_settings else in_file.get(n)) for n in wanted),
             "categories": [category_view(c) for c in new_categories]}
    return dict(changed=changed, changed_settings=changed_settings, changed_categories=changed_categories,
                categories=after["categories"], diff=diff(before, after, secrets))


def main():
    module = AnsibleModule(
        argument_spec=argument_spec(
            "nzbget",
            settings=dict(type="dict", default={}),
            categories=dict(type="list", elements="dict", default=[], options=dict(
                name=dict(type="str", required=True),
                dest_dir=dict(type="str"),
                unpack=dict(type="bool"),
                extensions=dict(type="list", elements="str"),
                aliases=dict(type="list", elements="str"),
                state=dict(type="str", choices=["present", "absent"], default="present"),
            )),
            purge_categories=dict(type="bool", default=False),
            update_secrets=dict(type="str", choices=["always", "on_create"], default="on_create", no_log=False),
            reload=dict(type="bool", default=True),
        ),
        supports_check_mode=True,
    )
    # Passwords inside the settings dict: Ansible hides them from every output (invocation included).
    for name, value in (module.params["settings"] or {}).items():
        if is_secret_option(name) and value not in (None, ""):
            module.no_log_values.add(str(value))
    client = NzbgetClient.from_module(module)
    run_module(module, client, run)


if __name__ == "__main__":
    main()
