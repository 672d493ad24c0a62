#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: monsterr.mediaserver developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: prowlarr_indexer
short_description: Manage an indexer in Prowlarr
version_added: 0.1.0
description:
  - Creates, updates or removes one Prowlarr indexer, found by O(name) (case-insensitive).
  - Built from Prowlarr's own C(indexer/schema) entry for O(definition) (a Cardigann definition such as V(1337x), or a
    generic implementation such as V(Newznab) or V(Torznab)), with the user's O(fields) laid over it by name, and merged
    onto the existing indexer (Prowlarr resets omitted fields). Only what the user set is compared.
  - An enabled indexer is tested by Prowlarr when it is saved, which needs the site to be reachable (see O(force_save)).
author:
  - monsterr.mediaserver developers (@monsterr)
extends_documentation_fragment:
  - monsterr.mediaserver._arr
  - monsterr.mediaserver.attributes
options:
  app:
    description:
      - The app O(url) points at; always Prowlarr.
    type: str
    required: false
    default: prowlarr
    choices: [prowlarr]
  name:
    description:
      - Name of the indexer in Prowlarr.
    type: str
    required: true
  state:
    description:
      - V(present) creates or updates the indexer, V(absent) deletes it.
    type: str
    choices: [present, absent]
    default: present
  definition:
    description:
      - The schema entry's C(definitionName) (for example V(1337x)) or implementation (V(Newznab), V(Torznab)),
        case-insensitive. Required to create. An existing indexer of another definition is deleted and created anew.
    type: str
  enable:
    description:
      - Whether the indexer is enabled.
    type: bool
    default: true
  app_profile_id:
    description:
      - Id of the sync profile (V(1), "Standard", exists on a fresh install).
    type: int
    default: 1
  priority:
    description:
      - Indexer priority, 1 (highest) to 50.
    type: int
  redirect:
    description:
      - Let the download client fetch releases from the indexer directly (usenet indexers that support it).
    type: bool
  tags:
    description:
      - Ids of Prowlarr tags (they pick indexer proxies and the applications the indexer is synced to). Compared as a set.
    type: list
    elements: int
  fields:
    description:
      - The definition's settings by field name, for example C(baseUrl), C(apiKey), C(baseSettings.queryLimit),
        C(torrentBaseSettings.seedRatio). Select fields take the option's value or its name.
    type: dict
    default: {}
  update_secrets:
    description:
      - V(on_create) treats masked secrets as equal; V(always) sends them on every run and so always reports a change.
    type: str
    choices: [always, on_create]
    default: on_create
  force_save:
    description:
      - Save even when Prowlarr's test of the indexer fails. On update this is the C(forceSave) flag; on create the
        indexer is created disabled and then enabled with a forced save (two writes).
    type: bool
    default: false
"""

EXAMPLES = r"""
- name: A public torrent indexer
  monsterr.mediaserver.prowlarr_indexer:
    url: http://127.0.0.1:9696
    api_key: "{{ vault_prowlarr_api_key }}"
    name: 1337x
    definition: 1337x
    fields:
      baseUrl: https://1337x.to/

- name: A private usenet indexer
  monsterr.mediaserver.prowlarr_indexer:
    url: http://127.0.0.1:9696
    api_key: "{{ vault_prowlarr_api_key }}"
    name: My Newznab
    definition: Newznab
    fields:
      baseUrl: https://indexer.example
      apiKey: "{{ vault_indexer_api_key }}"
"""

RETURN = r"""
indexer:
  description: The indexer as Prowlarr returned it (after the write, or as found when nothing changed); secrets hidden.
  returned: when O(state=present) and not in check mode with a change pending
  type: dict
  sample: {"id": 1, "name": "1337x", "definitionName": "1337x", "enable": true, "fields": []}
changes:
  description: What differs (top-level keys, C(fields.<name>), or C(created)).
  returned: when changed and O(state=present)
  type: list
  elements: str
  sample: [priority]
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.monsterr.mediaserver.plugins.module_utils._arr import (
    UPDATE_SECRETS, ArrClient, ProviderManager, protect)
from ansible_collections.monsterr.mediaserver.plugins.module_utils._module import argument_spec, run_module


def what(module):
    return "Prowlarr indexer '%s'" % module.params["name"]


def run(module, client):
    p = module.params
    protect(module, p["fields"])
    manager = ProviderManager(client, "indexer", p["name"], what(module), module=module, match=("definitionName", "implementation"))
    top = dict(enable=p["enable"], appProfileId=p["app_profile_id"], priority=p["priority"], redirect=p["redirect"],
               tags=p["tags"])
    return manager.run(p["state"], p["definition"], top, p["fields"], p["update_secrets"], p["force_save"],
                       module.check_mode)


def main():
    module = AnsibleModule(
        argument_spec=argument_spec(
            "arr", apps=("prowlarr",),
            name=dict(type="str", required=True),
            state=dict(type="str", default="present", choices=["present", "absent"]),
            definition=dict(type="str"),
            enable=dict(type="bool", default=True),
            app_profile_id=dict(type="int", default=1),
            priority=dict(type="int"),
            redirect=dict(type="bool"),
            tags=dict(type="list", elements="int"),
            fields=dict(type="dict", default={}),
            update_secrets=dict(type="str", default="on_create", choices=list(UPDATE_SECRETS)),
            force_save=dict(type="bool", default=False),
        ),
        supports_check_mode=True,
    )
    run_module(module, ArrClient.from_module(module), run, what)


if __name__ == "__main__":
    main()
