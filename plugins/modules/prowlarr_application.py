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
author:
  - monsterr.mediaserver developers (@monsterr)
extends_documentation_fragment:
  - monsterr.mediaserver._arr
attributes:
  check_mode:
    description: Reads Prowlarr and reports what would change; writes nothing.
    support: full
  diff_mode:
    description: Shows the managed keys and fields before and after, secrets hidden.
    support: full
  platform:
    description: Talks to Prowlarr over HTTP from wherever the module runs.
    support: full
    platforms: posix
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
      - Name of the application in Prowlarr.
    type: str
    required: true
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
"""

RETURN = r"""
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
    UPDATE_SECRETS, ArrClient, ArrInputError, ProviderManager, arr_argument_spec, fail_message, protect)
from ansible_collections.monsterr.mediaserver.plugins.module_utils._http import ApiError


def what(module):
    return "Prowlarr application '%s'" % module.params["name"]


def run(module, client):
    p = module.params
    protect(module, p["fields"])
    fields = dict(p["fields"] or {})
    for option, field in (("prowlarr_url", "prowlarrUrl"), ("base_url", "baseUrl"), ("app_api_key", "apiKey")):
        if p[option] is not None:
            if field in fields:
                raise ArrInputError("%s: give %s either as %s or in fields, not both" % (what(module), field, option))
            fields[field] = p[option]
    # Prowlarr refuses an application without the app's key: the manager says so before writing.
    manager = ProviderManager(client, "applications", p["name"], what(module), module=module, enable_key=("syncLevel", "disabled"),
                              required_on_create=(("apiKey", "app_api_key"),))
    top = dict(syncLevel=p["sync_level"], tags=p["tags"])
    return manager.run(p["state"], p["implementation"], top, fields, p["update_secrets"], p["force_save"],
                       module.check_mode)


def main():
    module = AnsibleModule(
        argument_spec=arr_argument_spec(
            apps=("prowlarr",),
            name=dict(type="str", required=True),
            state=dict(type="str", default="present", choices=["present", "absent"]),
            implementation=dict(type="str"),
            sync_level=dict(type="str", default="fullSync", choices=["disabled", "addOnly", "fullSync"]),
            prowlarr_url=dict(type="str"),
            base_url=dict(type="str"),
            app_api_key=dict(type="str", no_log=True),
            fields=dict(type="dict", default={}),
            tags=dict(type="list", elements="int"),
            update_secrets=dict(type="str", default="on_create", choices=list(UPDATE_SECRETS)),
            force_save=dict(type="bool", default=False),
        ),
        supports_check_mode=True,
    )
    try:
        module.exit_json(**run(module, ArrClient.from_module(module)))
    except ArrInputError as exc:
        module.fail_json(msg=str(exc))
    except ApiError as exc:
        module.fail_json(msg=fail_message(what(module), exc), status=exc.status, method=exc.method, path=exc.path)


if __name__ == "__main__":
    main()
