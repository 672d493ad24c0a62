#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: monsterr.mediaserver developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: arr_download_client
short_description: Manage a download client in Sonarr, Radarr, Lidarr, Readarr or Prowlarr
version_added: 0.1.0
description:
  - Creates, updates or removes one download client (qBittorrent, NZBGet or any implementation the app's own
    C(/api/<version>/downloadclient/schema) offers), found by O(name) (case-insensitive, as the apps compare names).
  - The wanted client is built from the app's schema entry for O(implementation) (all fields with their defaults), the
    user's O(fields) are laid over it by name, and the result is merged onto the existing client, because the apps
    reset every field a write leaves out. Only what the user set is compared; nothing is written when it matches.
  - Field names and value types are checked against the app's schema before anything is written. An unknown field
    name fails and lists the valid names.
  - Secrets (fields whose C(privacy) is C(password) or C(apiKey)) come back masked as C(********); they count as equal
    unless O(update_secrets=always).
  - O(download_clients) manages several clients of one app in one run (one read of the client list, every item checked
    before the first write), instead of one module run per client.
author:
  - monsterr.mediaserver developers (@monsterr)
extends_documentation_fragment:
  - monsterr.mediaserver._arr
  - monsterr.mediaserver.attributes
options:
  name:
    description:
      - Name of the download client in the app; unique per app, compared case-insensitively.
      - Required unless O(download_clients) is given.
    type: str
  state:
    description:
      - V(present) creates or updates the client, V(absent) deletes it.
    type: str
    choices: [present, absent]
    default: present
  implementation:
    description:
      - The app's implementation name, for example V(QBittorrent) or V(Nzbget) (case-insensitive).
      - Required to create a client. When an existing client has another implementation it is deleted and created anew.
    type: str
  enable:
    description:
      - Whether the client is enabled. An enabled client is tested by the app when it is saved (see O(force_save)).
    type: bool
    default: true
  priority:
    description:
      - Client priority (1 is highest; the apps offer 1 to 50).
    type: int
  remove_completed_downloads:
    description:
      - Remove imported downloads from the client's history. Not in Prowlarr.
    type: bool
  remove_failed_downloads:
    description:
      - Remove failed downloads from the client's history. Not in Prowlarr.
    type: bool
  categories:
    description:
      - Prowlarr only, the mapping of client categories to indexer categories, as the API spells it
        (C(clientCategory), C(categories)).
    type: list
    elements: dict
  tags:
    description:
      - Ids of the app's tags the client is limited to. Compared as a set.
    type: list
    elements: int
  fields:
    description:
      - The implementation's settings by field name, for example C(host), C(port), C(username), C(password),
        C(tvCategory) (Sonarr), C(movieCategory) (Radarr), C(musicCategory) (Lidarr, Readarr), C(category) (Prowlarr).
      - Select fields take the option's value or its name, for example V(First) or V(1) for C(recentTvPriority).
      - Fields not given keep their current value (or the app's default on create).
    type: dict
    default: {}
  update_secrets:
    description:
      - V(on_create) treats a masked secret as equal to the given one, so a secret alone never causes a write; when
        another change is written the given secret is sent along.
      - V(always) sends the given secrets on every run and so always reports a change (the app never shows a secret).
    type: str
    choices: [always, on_create]
    default: on_create
  force_save:
    description:
      - Save even when the app's test of the client fails, for example because the client is not up yet.
      - On update this is the app's C(forceSave) flag, which skips the test.
      - On create the app tests an enabled client even with C(forceSave), so the module creates it disabled and then
        enables it with a forced save (two writes).
    type: bool
    default: false
  download_clients:
    description:
      - Several download clients of the app at once, each with the options of a single one. Mutually exclusive with
        O(name) and the other per-client options; O(update_secrets) and O(force_save) apply to every item.
      - The app's client list is read once; every item is checked (names, fields, types) before anything is written.
    type: list
    elements: dict
    suboptions:
      name:
        description: Name of the download client; unique per app, compared case-insensitively.
        type: str
        required: true
      state:
        description: V(present) creates or updates the client, V(absent) deletes it.
        type: str
        choices: [present, absent]
        default: present
      implementation:
        description: The app's implementation name, for example V(QBittorrent) or V(Nzbget). Required to create.
        type: str
      enable:
        description: Whether the client is enabled.
        type: bool
        default: true
      priority:
        description: Client priority (1 is highest).
        type: int
      remove_completed_downloads:
        description: Remove imported downloads from the client's history. Not in Prowlarr.
        type: bool
      remove_failed_downloads:
        description: Remove failed downloads from the client's history. Not in Prowlarr.
        type: bool
      categories:
        description: Prowlarr only, the mapping of client categories to indexer categories.
        type: list
        elements: dict
      tags:
        description: Ids of the app's tags the client is limited to. Compared as a set.
        type: list
        elements: int
      fields:
        description: The implementation's settings by field name, as O(fields).
        type: dict
        default: {}
"""

EXAMPLES = r"""
- name: Sonarr sends torrents to qBittorrent
  monsterr.mediaserver.arr_download_client:
    url: http://127.0.0.1:8989
    api_key: "{{ vault_sonarr_api_key }}"
    app: sonarr
    name: qBittorrent
    implementation: QBittorrent
    fields:
      host: qbittorrent
      port: 8080
      username: arr
      password: "{{ vault_qbittorrent_password }}"
      tvCategory: tv-sonarr
      recentTvPriority: First

- name: Radarr sends NZBs to NZBGet, saved even while NZBGet is still down
  monsterr.mediaserver.arr_download_client:
    url: http://127.0.0.1:7878
    api_key: "{{ vault_radarr_api_key }}"
    app: radarr
    name: NZBGet
    implementation: Nzbget
    force_save: true
    fields:
      host: nzbget
      port: 6789
      username: nzbget
      password: "{{ vault_nzbget_password }}"
      movieCategory: Movies

- name: Radarr sends torrents to qBittorrent and NZBs to NZBGet (one module run)
  monsterr.mediaserver.arr_download_client:
    url: http://127.0.0.1:7878
    api_key: "{{ vault_radarr_api_key }}"
    app: radarr
    download_clients:
      - name: qBittorrent
        implementation: QBittorrent
        fields: {host: qbittorrent, port: 8080, username: admin, password: "{{ vault_qbittorrent_password }}", movieCategory: movies}
      - name: NZBGet
        implementation: Nzbget
        fields: {host: nzbget, port: 6789, username: nzbget, password: "{{ vault_nzbget_password }}", movieCategory: movies}

- name: Remove an old client
  monsterr.mediaserver.arr_download_client:
    url: http://127.0.0.1:8989
    api_key: "{{ vault_sonarr_api_key }}"
    app: sonarr
    name: Transmission
    state: absent
"""

RETURN = r"""
downloadclient:
  description:
    - The client as the app returned it after the write, or as found when nothing changed; secrets hidden.
    - Absent in check mode when something would change, and when O(state=absent).
  returned: when present
  type: dict
  sample: {"id": 1, "name": "qBittorrent", "implementation": "QBittorrent", "enable": true, "fields": []}
changes:
  description: What differs (top-level keys, C(fields.<name>) for fields, or C(created)).
  returned: when changed and O(state=present)
  type: list
  elements: str
  sample: ["fields.host", "priority"]
download_clients:
  description:
    - With O(download_clients), one result per item in the same order, each with C(name), C(changed) and, as for a
      single client, C(changes) and C(downloadclient). The diff is keyed by client name.
  returned: when O(download_clients) is given
  type: list
  elements: dict
  sample: [{"name": "qBittorrent", "changed": true, "changes": ["created"]}]
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.monsterr.mediaserver.plugins.module_utils._arr import (
    UPDATE_SECRETS, ArrClient, ArrInputError, ProviderManager, batch_result, duplicates,
    protect, single_item_options, write_planned)
from ansible_collections.monsterr.mediaserver.plugins.module_utils._module import argument_spec, run_module

TOP = (("enable", "enable"), ("priority", "priority"), ("remove_completed_downloads", "removeCompletedDownloads"),
       ("remove_failed_downloads", "removeFailedDownloads"), ("categories", "categories"), ("tags", "tags"))


ITEM_OPTIONS = dict(
    name=dict(type="str", required=True),
    state=dict(type="str", default="present", choices=["present", "absent"]),
    implementation=dict(type="str"),
    enable=dict(type="bool", default=True),
    priority=dict(type="int"),
    remove_completed_downloads=dict(type="bool"),
    remove_failed_downloads=dict(type="bool"),
    categories=dict(type="list", elements="dict"),
    tags=dict(type="list", elements="int"),
    fields=dict(type="dict", default={}),
)


def what(module, name=None):
    if name is None and module.params["download_clients"] is not None:
        return "download clients in %s" % module.params["app"]
    return "download client '%s' in %s" % (name or module.params["name"], module.params["app"])


def run_many(module, client):
    p = module.params
    items = p["download_clients"]
    if p["fields"]:
        raise ArrInputError("%s: give fields per item of download_clients" % what(module))
    duplicates([i["name"] for i in items], what(module))
    current = client.list("downloadclient")
    planned = []
    for item in items:
        protect(module, item["fields"])
        manager = ProviderManager(client, "downloadclient", item["name"], what(module, item["name"]), module=module)
        top = dict((api, item[option]) for option, api in TOP)
        result, action = manager.plan(item["state"], item["implementation"], top, item["fields"], p["update_secrets"],
                                      items=current)
        result["name"] = item["name"]
        planned.append((item["name"], manager.what, result, manager.writer(result, action, p["force_save"])))
    write_planned(planned, module.check_mode)
    return batch_result(planned, "download_clients")


def run(module, client):
    p = module.params
    if p["download_clients"] is not None:
        return run_many(module, client)
    protect(module, p["fields"])
    top = dict((api, p[option]) for option, api in TOP)
    manager = ProviderManager(client, "downloadclient", p["name"], what(module), module=module)
    return manager.run(p["state"], p["implementation"], top, p["fields"], p["update_secrets"], p["force_save"],
                       module.check_mode)


def main():
    module = AnsibleModule(
        argument_spec=argument_spec(
            "arr", **single_item_options(ITEM_OPTIONS, "name"),
            update_secrets=dict(type="str", default="on_create", choices=list(UPDATE_SECRETS)),
            force_save=dict(type="bool", default=False),
            download_clients=dict(type="list", elements="dict", options=ITEM_OPTIONS),
        ),
        required_one_of=[["name", "download_clients"]],
        mutually_exclusive=[["download_clients", option] for option in
                            ("name", "implementation", "priority", "remove_completed_downloads", "remove_failed_downloads",
                             "categories", "tags")],
        supports_check_mode=True,
    )
    run_module(module, ArrClient.from_module(module), run, what)


if __name__ == "__main__":
    main()
