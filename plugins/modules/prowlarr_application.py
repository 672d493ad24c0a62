#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: monsterr.mediaserver developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: prowlarr_application
short_description: Connect Prowlarr to Sonarr, Radarr, Lidarr or Readarr (a Prowlarr application)
version_added: 0.1.0
description:
  - Creates, updates or removes one Prowlarr application, found by O(name) (case-insensitive). Prowlarr then syncs its
    indexers into that app.
  - Built from Prowlarr's own C(applications/schema) entry for O(implementation) and merged onto the existing
    application (Prowlarr resets omitted fields); only what the user set is compared.
  - The app's API key is a secret Prowlarr shows masked; it counts as equal unless O(update_secrets=always).
  - O(applications) manages several applications in one run (one read of the list, every item checked before the first
    write), instead of one module run per application.
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
      - Name of the application in Prowlarr. Required unless O(applications) is given.
    type: str
  state:
    description:
      - V(present) creates or updates the application, V(absent) deletes it.
    type: str
    choices: [present, absent]
    default: present
  implementation:
    description:
      - V(Sonarr), V(Radarr), V(Lidarr), V(Readarr), or any other implementation Prowlarr's schema offers. Required to create.
    type: str
  sync_level:
    description:
      - V(fullSync) adds, updates and removes indexers in the app; V(addOnly) never removes; V(disabled) does not sync
        (and Prowlarr does not test the connection on save).
    type: str
    choices: [disabled, addOnly, fullSync]
    default: fullSync
  prowlarr_url:
    description:
      - How the app reaches Prowlarr, with scheme, host, port and Prowlarr's URL base, e.g. V(http://prowlarr:9696).
    type: str
  base_url:
    description:
      - How Prowlarr reaches the app, with scheme, host, port and the app's URL base, e.g. V(http://sonarr:8989).
    type: str
  app_api_key:
    description:
      - The API key of the app Prowlarr connects to. Required to create.
    type: str
  fields:
    description:
      - Other fields of the implementation by name, for example C(syncCategories) (a list of category ids).
    type: dict
    default: {}
  tags:
    description:
      - Ids of Prowlarr tags; only indexers sharing a tag are synced to the app. Compared as a set.
    type: list
    elements: int
  update_secrets:
    description:
      - V(on_create) treats the masked app key as equal to O(app_api_key); when another change is written the key is
        sent along. V(always) sends it on every run and so always reports a change.
    type: str
    choices: [always, on_create]
    default: on_create
  force_save:
    description:
      - Save even when Prowlarr's round-trip test fails, for example because the app is not up yet. On update this is the
        C(forceSave) flag; on create the application is created with sync disabled and then switched to O(sync_level) with
        a forced save (two writes).
    type: bool
    default: false
  applications:
    description:
      - Several applications at once, each with the options of a single one. Mutually exclusive with O(name) and the
        other per-application options; O(update_secrets) and O(force_save) apply to every item.
    type: list
    elements: dict
    suboptions:
      name:
        description: Name of the application in Prowlarr.
        type: str
        required: true
      state:
        description: V(present) creates or updates the application, V(absent) deletes it.
        type: str
        choices: [present, absent]
        default: present
      implementation:
        description: V(Sonarr), V(Radarr), V(Lidarr), V(Readarr), ... Required to create.
        type: str
      sync_level:
        description: As O(sync_level).
        type: str
        choices: [disabled, addOnly, fullSync]
        default: fullSync
      prowlarr_url:
        description: How the app reaches Prowlarr (scheme, host, port, URL base).
        type: str
      base_url:
        description: How Prowlarr reaches the app (scheme, host, port, URL base).
        type: str
      app_api_key:
        description: The API key of the app. Required to create.
        type: str
      fields:
        description: Other fields of the implementation by name.
        type: dict
        default: {}
      tags:
        description: Ids of Prowlarr tags. Compared as a set.
        type: list
        elements: int
"""

EXAMPLES = r"""
- name: Prowlarr feeds Sonarr
  monsterr.mediaserver.prowlarr_application:
    url: http://127.0.0.1:9696
    api_key: "{{ vault_prowlarr_api_key }}"
    name: Sonarr
    implementation: Sonarr
    prowlarr_url: http://prowlarr:9696
    base_url: http://sonarr:8989
    app_api_key: "{{ vault_sonarr_api_key }}"

- name: Prowlarr feeds Sonarr and Radarr (one module run)
  monsterr.mediaserver.prowlarr_application:
    url: http://127.0.0.1:9696
    api_key: "{{ vault_prowlarr_api_key }}"
    applications:
      - {name: Sonarr, implementation: Sonarr, prowlarr_url: "http://prowlarr:9696", base_url: "http://sonarr:8989",
         app_api_key: "{{ vault_sonarr_api_key }}"}
      - {name: Radarr, implementation: Radarr, prowlarr_url: "http://prowlarr:9696", base_url: "http://radarr:7878",
         app_api_key: "{{ vault_radarr_api_key }}"}
"""

RETURN = r"""
applications_results:
  description:
    - With O(applications), one result per item in the same order, each with C(name), C(changed) and, as for a single
      application, C(changes) and C(applications). The diff is keyed by application name.
  returned: when O(applications) is given
  type: list
  elements: dict
  sample: [{"name": "Sonarr", "changed": false}]
applications:
  description: The application as Prowlarr returned it (after the write, or as found when nothing changed); secrets hidden.
  returned: when O(state=present) and not in check mode with a change pending
  type: dict
  sample: {"id": 1, "name": "Sonarr", "implementation": "Sonarr", "syncLevel": "fullSync", "fields": []}
changes:
  description: What differs (top-level keys, C(fields.<name>), or C(created)).
  returned: when changed and O(state=present)
  type: list
  elements: str
  sample: [fields.baseUrl]
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.monsterr.mediaserver.plugins.module_utils._arr import (
    UPDATE_SECRETS, ArrClient, ArrInputError, ProviderManager, batch_result, duplicates,
    protect, single_item_options, write_planned)
from ansible_collections.monsterr.mediaserver.plugins.module_utils._module import argument_spec, run_module


ITEM_OPTIONS = dict(
    name=dict(type="str", required=True),
    state=dict(type="str", default="present", choices=["present", "absent"]),
    implementation=dict(type="str"),
    sync_level=dict(type="str", default="fullSync", choices=["disabled", "addOnly", "fullSync"]),
    prowlarr_url=dict(type="str"),
    base_url=dict(type="str"),
    app_api_key=dict(type="str", no_log=True),
    fields=dict(type="dict", default={}),
    tags=dict(type="list", elements="int"),
)


def what(module, name=None):
    if name is None and module.params["applications"] is not None:
        return "Prowlarr applications"
    return "Prowlarr application '%s'" % (name or module.params["name"])


def _manager(module, client, item):
    """(manager, fields) for one application: the URL and key options folded into its fields."""
    item_what = what(module, item["name"])
    protect(module, item["fields"])
    fields = dict(item["fields"] or {})
    for option, field in (("prowlarr_url", "prowlarrUrl"), ("base_url", "baseUrl"), ("app_api_key", "apiKey")):
        if item[option] is not None:
            if field in fields:
                raise ArrInputError("%s: give %s either as %s or in fields, not both" % (item_what, field, option))
            fields[field] = item[option]
    # Prowlarr refuses an application without the app's key: the manager says so before writing.
    manager = ProviderManager(client, "applications", item["name"], item_what, module=module,
                              enable_key=("syncLevel", "disabled"), required_on_create=(("apiKey", "app_api_key"),))
    return manager, fields


def run_many(module, client):
    p = module.params
    if p["fields"]:
        raise ArrInputError("%s: give fields per item of applications" % what(module))
    duplicates([i["name"] for i in p["applications"]], what(module))
    current = client.list("applications")
    planned = []
    for item in p["applications"]:
        manager, fields = _manager(module, client, item)
        top = dict(syncLevel=item["sync_level"], tags=item["tags"])
        result, action = manager.plan(item["state"], item["implementation"], top, fields, p["update_secrets"], items=current)
        result["name"] = item["name"]
        planned.append((item["name"], manager.what, result, manager.writer(result, action, p["force_save"])))
    write_planned(planned, module.check_mode)
    return batch_result(planned, "applications_results")


def run(module, client):
    p = module.params
    if p["applications"] is not None:
        return run_many(module, client)
    manager, fields = _manager(module, client, p)
    top = dict(syncLevel=p["sync_level"], tags=p["tags"])
    return manager.run(p["state"], p["implementation"], top, fields, p["update_secrets"], p["force_save"],
                       module.check_mode)


def main():
    module = AnsibleModule(
        argument_spec=argument_spec(
            "arr", apps=("prowlarr",),
            **single_item_options(ITEM_OPTIONS, "name"),
            update_secrets=dict(type="str", default="on_create", choices=list(UPDATE_SECRETS)),
            force_save=dict(type="bool", default=False),
            applications=dict(type="list", elements="dict", options=ITEM_OPTIONS),
        ),
        required_one_of=[["name", "applications"]],
        mutually_exclusive=[["applications", option] for option in
                            ("name", "implementation", "prowlarr_url", "base_url", "app_api_key", "tags")],
        supports_check_mode=True,
    )
    run_module(module, ArrClient.from_module(module), run, what)


if __name__ == "__main__":
    main()
