#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: monsterr.mediaserver developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: qbittorrent_category
short_description: Create, update or remove a qBittorrent category
version_added: 0.1.0
description:
  - Reads the categories (C(GET /api/v2/torrents/categories)), matches O(name) exactly, and creates
    (C(createCategory)), edits (C(editCategory)) or removes (C(removeCategories)) it only when it differs.
  - C(editCategory) replaces the whole category (a download path left out returns to the global default), so the
    module sends the current values for what the user did not set. It is never called when nothing differs
    (qBittorrent up to 5.1 answers 409 to an edit that changes nothing).
  - Paths are compared the way qBittorrent stores them (duplicate and trailing slashes dropped).
  - O(categories) manages several categories in one run (one login, one read of the categories, every item checked
    before the first write).
author:
  - monsterr.mediaserver developers (@monsterr)
extends_documentation_fragment:
  - monsterr.mediaserver.qbittorrent
  - monsterr.mediaserver.attributes
options:
  name:
    description: Category name, matched exactly. C(/) makes a sub-category. Required unless O(categories) is given.
    type: str
  save_path:
    description:
      - Where the category's torrents are saved. Give an absolute path; empty means the default save path plus the
        category name. Left out, an existing category keeps its path and a new one gets the empty default.
    type: str
  download_path:
    description: Where incomplete torrents of the category go; sets O(download_path_enabled=true) implicitly.
    type: str
  download_path_enabled:
    description:
      - V(false) disables the incomplete-download path for this category, V(true) needs O(download_path).
      - Left out (with O(download_path)), the category keeps what it has (a new one follows the global setting).
    type: bool
  state:
    description: V(present) creates or updates the category, V(absent) removes it (torrents keep their files).
    type: str
    choices: [present, absent]
    default: present
  categories:
    description:
      - Several categories at once, each with the options of a single one. Mutually exclusive with O(name) and the
        other per-category options.
    type: list
    elements: dict
    suboptions:
      name:
        description: Category name, matched exactly.
        type: str
        required: true
      save_path:
        description: As O(save_path).
        type: str
      download_path:
        description: As O(download_path).
        type: str
      download_path_enabled:
        description: As O(download_path_enabled).
        type: bool
      state:
        description: V(present) creates or updates the category, V(absent) removes it.
        type: str
        choices: [present, absent]
        default: present
"""

EXAMPLES = r"""
- name: Categories the *arr apps put their downloads in
  monsterr.mediaserver.qbittorrent_category:
    url: http://127.0.0.1:8080
    password: "{{ vault_qbittorrent_password }}"
    name: "{{ item.name }}"
    save_path: "{{ item.path }}"
  loop:
    - {name: tv-sonarr, path: /data/torrents/tv}
    - {name: radarr, path: /data/torrents/movies}

- name: The same in one module run
  monsterr.mediaserver.qbittorrent_category:
    url: http://127.0.0.1:8080
    password: "{{ vault_qbittorrent_password }}"
    categories:
      - {name: tv-sonarr, save_path: /data/torrents/tv}
      - {name: radarr, save_path: /data/torrents/movies}

- name: Drop an old category
  monsterr.mediaserver.qbittorrent_category:
    url: http://127.0.0.1:8080
    password: "{{ vault_qbittorrent_password }}"
    name: old
    state: absent
"""

RETURN = r"""
category:
  description: The category after the run (empty when absent), as C(name), C(save_path) and C(download_path)
    (V(null) = global default, V(false) = disabled, else the path).
  returned: always
  type: dict
  sample: {name: tv-sonarr, save_path: /data/torrents/tv, download_path: null}
categories:
  description:
    - With O(categories), each category after the run as C(category) above plus C(changed) and C(changes) (C(created),
      C(removed) or the keys that differ), in the given order.
  returned: when O(categories) is given
  type: list
  elements: dict
  sample: [{name: tv, save_path: /data/torrents/tv, download_path: null, changed: false, changes: []}]
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.monsterr.mediaserver.plugins.module_utils._module import argument_spec, run_module
from ansible_collections.monsterr.mediaserver.plugins.module_utils._qbittorrent import QbittorrentClient
from ansible_collections.monsterr.mediaserver.plugins.module_utils._settings import clean_path


def _current(raw, name):
    if name not in raw:
        return None
    entry = raw[name] or {}
    download = entry.get("download_path")
    return {"name": name, "save_path": clean_path(entry.get("savePath") or ""),
            "download_path": clean_path(download) if download else download}


ITEM_OPTIONS = dict(
    name=dict(type="str", required=True),
    save_path=dict(type="str"),
    download_path=dict(type="str"),
    download_path_enabled=dict(type="bool"),
    state=dict(type="str", choices=["present", "absent"], default="present"),
)


def check(module, item):
    name = item["name"]
    if not name or not name.strip() or name != name.strip() or name.startswith("/") or name.endswith("/") or "//" in name:
        module.fail_json(msg="qbittorrent_category: invalid name %r; give a non-empty name without leading or trailing "
                             "spaces or slashes" % name)
    if item["download_path_enabled"] is True and not item["download_path"]:
        module.fail_json(msg="qbittorrent_category '%s': download_path_enabled=true needs download_path" % name)
    if item["download_path_enabled"] is False and item["download_path"]:
        module.fail_json(msg="qbittorrent_category '%s': download_path is set but download_path_enabled=false; drop "
                             "one of them" % name)


def plan(item, raw):
    """(before, after, write) for one category; write(client) does what differs."""
    name = item["name"]
    before = _current(raw, name)
    if item["state"] == "absent":
        return before, None, (lambda client: client.remove_categories([name])) if before else None
    after = dict(before or {"name": name, "save_path": "", "download_path": None})
    if item["save_path"] is not None:
        after["save_path"] = clean_path(item["save_path"])
    if item["download_path_enabled"] is False:
        after["download_path"] = False
    elif item["download_path"]:
        after["download_path"] = clean_path(item["download_path"])
    if after == before:
        return before, after, None
    if before is None:
        return before, after, lambda client: client.create_category(name, after["save_path"], after["download_path"])
    return before, after, lambda client: client.edit_category(name, after["save_path"], after["download_path"])


def _changes(before, after):
    if before == after:
        return []
    if before is None:
        return ["created"]
    if after is None:
        return ["removed"]
    return sorted(k for k in after if after.get(k) != before.get(k))


def run(module, client):
    p = module.params
    items = p["categories"] if p["categories"] is not None else [p]
    for item in items:
        check(module, item)
    names = [i["name"] for i in items]
    twice = sorted(set(n for n in names if names.count(n) > 1))
    if twice:
        module.fail_json(msg="qbittorrent_category: %s listed more than once" % ", ".join(twice))

    client.wait_until_ready(p["wait_timeout"])
    raw = client.categories()
    planned = [(item["name"],) + plan(item, raw) for item in items]
    if not module.check_mode:
        for _name, _before, _after, write in planned:
            if write is not None:
                write(client)
    if p["categories"] is None:
        _name, before, after, _write = planned[0]
        return dict(changed=after != before, category=after or {}, diff={"before": before or {}, "after": after or {}})
    results = [dict(after or {"name": name}, changed=after != before, changes=_changes(before, after))
               for name, before, after, _w in planned]
    return dict(changed=any(r["changed"] for r in results), categories=results,
                diff={"before": dict((n, b) for n, b, _a, _w in planned if b),
                      "after": dict((n, a) for n, _b, a, _w in planned if a)})


def main():
    module = AnsibleModule(
        argument_spec=argument_spec(
            "qbittorrent",
            name=dict(type="str"),
            save_path=dict(type="str"),
            download_path=dict(type="str"),
            download_path_enabled=dict(type="bool"),
            state=dict(type="str", choices=["present", "absent"], default="present"),
            categories=dict(type="list", elements="dict", options=ITEM_OPTIONS),
        ),
        required_one_of=[["name", "categories"]],
        mutually_exclusive=[["categories", option] for option in ("name", "save_path", "download_path",
                                                                  "download_path_enabled")],
        supports_check_mode=True,
    )
    client = QbittorrentClient.from_module(module)
    run_module(module, client, run)


if __name__ == "__main__":
    main()
