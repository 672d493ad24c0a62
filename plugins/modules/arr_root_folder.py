#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: monsterr.mediaserver developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: arr_root_folder
short_description: Manage a root folder in Sonarr, Radarr, Lidarr or Readarr
version_added: 0.1.0
description:
  - Adds or removes one root folder, found by O(path) (a trailing C(/) does not count).
  - Sonarr and Radarr root folders have nothing but the path. Lidarr and Readarr ones also carry a name, default
    profiles and monitoring options; those are compared (only the ones given) and updated in place.
  - The path must exist inside the app's container and be writable by the app; the app refuses it otherwise and the
    module fails with the app's message.
  - O(root_folders) manages several root folders of one app in one run (one read of the list, every item checked before
    the first write).
author:
  - monsterr.mediaserver developers (@monsterr)
extends_documentation_fragment:
  - monsterr.mediaserver._arr
  - monsterr.mediaserver.attributes
options:
  app:
    description:
      - Which Servarr app O(url) points at (Prowlarr has no root folders).
    type: str
    required: true
    choices: [lidarr, radarr, readarr, sonarr]
  path:
    description:
      - Absolute path of the folder as the app sees it, for example V(/data/media/tv). Sent without a trailing C(/).
      - Required unless O(root_folders) is given.
    type: str
  state:
    description:
      - V(present) adds the folder, V(absent) removes it from the app (the files stay).
    type: str
    choices: [present, absent]
    default: present
  name:
    description:
      - Lidarr and Readarr only, required to create one there. Display name of the root folder.
    type: str
  default_quality_profile_id:
    description:
      - Lidarr and Readarr only. Id of the quality profile new artists or authors get (V(1) exists on a fresh install).
    type: int
  default_metadata_profile_id:
    description:
      - Lidarr and Readarr only. Id of the metadata profile new artists or authors get (V(1) exists on a fresh install).
    type: int
  default_monitor_option:
    description:
      - Lidarr and Readarr only. How existing albums or books of a new artist or author are monitored.
    type: str
    choices: [all, future, missing, existing, latest, first, none, unknown]
  default_new_item_monitor_option:
    description:
      - Lidarr and Readarr only. How new albums or books are monitored.
    type: str
    choices: [all, none, new]
  default_tags:
    description:
      - Lidarr and Readarr only. Tag ids new artists or authors get. Compared as a set.
    type: list
    elements: int
  root_folders:
    description:
      - Several root folders at once, each with the options of a single one. Mutually exclusive with O(path) and the
        other per-folder options.
    type: list
    elements: dict
    suboptions:
      path:
        description: Absolute path of the folder as the app sees it.
        type: str
        required: true
      state:
        description: V(present) adds the folder, V(absent) removes it from the app.
        type: str
        choices: [present, absent]
        default: present
      name:
        description: Lidarr and Readarr only (required to create one there). Display name.
        type: str
      default_quality_profile_id:
        description: Lidarr and Readarr only. Quality profile id.
        type: int
      default_metadata_profile_id:
        description: Lidarr and Readarr only. Metadata profile id.
        type: int
      default_monitor_option:
        description: Lidarr and Readarr only. How existing albums or books are monitored.
        type: str
        choices: [all, future, missing, existing, latest, first, none, unknown]
      default_new_item_monitor_option:
        description: Lidarr and Readarr only. How new albums or books are monitored.
        type: str
        choices: [all, none, new]
      default_tags:
        description: Lidarr and Readarr only. Tag ids. Compared as a set.
        type: list
        elements: int
"""

EXAMPLES = r"""
- name: Sonarr keeps series under /data/media/tv
  monsterr.mediaserver.arr_root_folder:
    url: http://127.0.0.1:8989
    api_key: "{{ vault_sonarr_api_key }}"
    app: sonarr
    path: /data/media/tv

- name: Lidarr keeps music under /data/media/music
  monsterr.mediaserver.arr_root_folder:
    url: http://127.0.0.1:8686
    api_key: "{{ vault_lidarr_api_key }}"
    app: lidarr
    path: /data/media/music
    name: Music
    default_quality_profile_id: 1
    default_metadata_profile_id: 1

- name: Readarr keeps ebooks and audiobooks apart (one module run)
  monsterr.mediaserver.arr_root_folder:
    url: http://127.0.0.1:8787
    api_key: "{{ vault_readarr_api_key }}"
    app: readarr
    root_folders:
      - {path: /data/media/books, name: Books}
      - {path: /data/media/audiobooks, name: Audiobooks}
"""

RETURN = r"""
root_folder:
  description: The root folder as the app returned it (after the write, or as found when nothing changed).
  returned: when O(state=present) and not in check mode with a change pending
  type: dict
  sample: {"id": 1, "path": "/data/media/tv", "accessible": true, "freeSpace": 1234567890}
changes:
  description: What differs (C(created), C(removed), or the API keys of the Lidarr/Readarr settings that differ).
  returned: when changed
  type: list
  elements: str
  sample: [created]
root_folders:
  description:
    - With O(root_folders), one result per item in the same order, each with C(path), C(changed), C(changes) and
      C(root_folder) as for a single folder. The diff is keyed by path.
  returned: when O(root_folders) is given
  type: list
  elements: dict
  sample: [{"path": "/data/media/tv", "changed": false}]
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.monsterr.mediaserver.plugins.module_utils._arr import (
    MEDIA_APPS, ArrClient, ArrInputError, batch_result, duplicates, strip_trailing,
    single_item_options, write_planned)
from ansible_collections.monsterr.mediaserver.plugins.module_utils._module import argument_spec, run_module
from ansible_collections.monsterr.mediaserver.plugins.module_utils._resource import changes, merge

EXTRA = (("name", "name"), ("default_quality_profile_id", "defaultQualityProfileId"),
         ("default_metadata_profile_id", "defaultMetadataProfileId"), ("default_monitor_option", "defaultMonitorOption"),
         ("default_new_item_monitor_option", "defaultNewItemMonitorOption"), ("default_tags", "defaultTags"))
VIEW = ("path",) + tuple(key for option, key in EXTRA)


ITEM_OPTIONS = dict(
    path=dict(type="str", required=True),
    state=dict(type="str", default="present", choices=["present", "absent"]),
    name=dict(type="str"),
    default_quality_profile_id=dict(type="int"),
    default_metadata_profile_id=dict(type="int"),
    default_monitor_option=dict(type="str", choices=["all", "future", "missing", "existing", "latest", "first", "none", "unknown"]),
    default_new_item_monitor_option=dict(type="str", choices=["all", "none", "new"]),
    default_tags=dict(type="list", elements="int"),
)


def what(module, path=None):
    if path is None and module.params["root_folders"] is not None:
        return "root folders in %s" % module.params["app"]
    return "root folder '%s' in %s" % (path or module.params["path"], module.params["app"])


def view(obj):
    if not obj:
        return {}
    out = dict((k, obj[k]) for k in VIEW if k in obj)
    if isinstance(out.get("defaultTags"), list):
        out["defaultTags"] = sorted(out["defaultTags"])
    return out


def plan(module, client, item, items):
    """(result, write) for one folder, its input checked; ``write`` is None when nothing differs."""
    app = module.params["app"]
    item_what = what(module, item["path"])
    path = strip_trailing(item["path"])
    if not path.startswith("/"):
        raise ArrInputError("%s: path must be absolute, as the app sees it" % item_what)
    extra = dict((api, item[option]) for option, api in EXTRA if item[option] is not None)
    if isinstance(extra.get("defaultTags"), list):
        extra["defaultTags"] = sorted(set(extra["defaultTags"]))
    full = app in ("lidarr", "readarr")
    if extra and not full:
        raise ArrInputError("%s: %s has only a path on root folders; drop %s"
                            % (item_what, app, ", ".join(option for option, key in EXTRA if key in extra)))
    current = None
    for found in items:
        if strip_trailing(found.get("path")) == path:
            current = found
            break
    result = dict(changed=False, diff=dict(before=view(current), after={}))
    if item["state"] == "absent":
        if not current:
            return result, None
        result["changed"] = True
        result["changes"] = ["removed"]
        return result, lambda: client.delete("rootfolder", current["id"])

    if current:
        found = changes(view(current), extra)
        wanted = merge(current, extra)
    else:
        if full and not extra.get("name"):
            raise ArrInputError("%s: %s needs name (and existing profile ids) to create a root folder" % (item_what, app))
        found = {"created": True}
        wanted = dict(extra, path=path)
        if full:
            wanted.setdefault("defaultQualityProfileId", 1)
            wanted.setdefault("defaultMetadataProfileId", 1)
            wanted.setdefault("defaultMonitorOption", "all")
            wanted.setdefault("defaultNewItemMonitorOption", "all")
            wanted.setdefault("defaultTags", [])
    result["diff"]["after"] = view(wanted)
    if not found:
        result["root_folder"] = current
        return result, None
    result["changed"] = True
    result["changes"] = sorted(found)

    def write():
        result["root_folder"] = client.save("rootfolder", current, wanted)
    return result, write


def run(module, client):
    p = module.params
    if p["root_folders"] is None:
        result, write = plan(module, client, p, client.list("rootfolder"))
        if write is not None and not module.check_mode:
            write()
        return result
    duplicates([strip_trailing(i["path"]) for i in p["root_folders"]], what(module))
    current = client.list("rootfolder")
    planned = []
    for item in p["root_folders"]:
        result, write = plan(module, client, item, current)
        result["path"] = strip_trailing(item["path"])
        planned.append((result["path"], what(module, item["path"]), result, write))
    write_planned(planned, module.check_mode)
    return batch_result(planned, "root_folders")


def main():
    module = AnsibleModule(
        argument_spec=argument_spec(
            "arr", apps=MEDIA_APPS,
            **single_item_options(ITEM_OPTIONS, "path"),
            root_folders=dict(type="list", elements="dict", options=ITEM_OPTIONS),
        ),
        required_one_of=[["path", "root_folders"]],
        mutually_exclusive=[["root_folders", option] for option in
                            ("path", "name", "default_quality_profile_id", "default_metadata_profile_id",
                             "default_monitor_option", "default_new_item_monitor_option", "default_tags")],
        supports_check_mode=True,
    )
    run_module(module, ArrClient.from_module(module), run, what)


if __name__ == "__main__":
    main()
