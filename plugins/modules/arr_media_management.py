#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: monsterr.mediaserver developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: arr_media_management
short_description: Set media-management settings (hardlinks, permissions, recycle bin...) in Sonarr, Radarr, Lidarr or Readarr
version_added: 0.1.0
description:
  - Reads C(config/mediamanagement), compares the keys given in O(settings), and writes the whole settings object back
    only when one differs. The apps write false or 0 for every boolean or number a write leaves out, so the module always
    sends the complete object it read, with the user's keys laid over it.
  - A settings object always exists, so there is no C(state) option.
  - Key names are the API's, for example C(copyUsingHardlinks), C(deleteEmptyFolders), C(recycleBin),
    C(setPermissionsLinux), C(chmodFolder), C(importExtraFiles), C(extraFileExtensions). An unknown key fails and lists
    the valid ones; a value of the wrong type fails before anything is written.
author:
  - monsterr.mediaserver developers (@monsterr)
extends_documentation_fragment:
  - monsterr.mediaserver._arr
  - monsterr.mediaserver.attributes
options:
  app:
    description:
      - Which Servarr app O(url) points at (Prowlarr has no media management).
    type: str
    required: true
    choices: [lidarr, radarr, readarr, sonarr]
  settings:
    description:
      - The settings to enforce, by the API's key names. Keys not given keep their current value.
    type: dict
    required: true
"""

EXAMPLES = r"""
- name: Sonarr imports by hardlink and cleans up empty folders
  monsterr.mediaserver.arr_media_management:
    url: http://127.0.0.1:8989
    api_key: "{{ vault_sonarr_api_key }}"
    app: sonarr
    settings:
      copyUsingHardlinks: true
      deleteEmptyFolders: true
      setPermissionsLinux: false
"""

RETURN = r"""
media_management:
  description: The whole settings object as the app returned it (after the write, or as read).
  returned: unless in check mode with a change pending
  type: dict
  sample: {"id": 1, "copyUsingHardlinks": true, "deleteEmptyFolders": true}
changes:
  description: The keys that differ.
  returned: when changed
  type: list
  elements: str
  sample: [copyUsingHardlinks]
"""

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.six import integer_types, string_types
from ansible_collections.monsterr.mediaserver.plugins.module_utils._arr import (
    FALSE_STRINGS, MEDIA_APPS, TRUE_STRINGS, ArrClient, ArrInputError)
from ansible_collections.monsterr.mediaserver.plugins.module_utils._module import argument_spec, run_module
from ansible_collections.monsterr.mediaserver.plugins.module_utils._resource import changes, merge

KIND = "config/mediamanagement"


def what(module):
    return "media management settings in %s" % module.params["app"]


def coerce(key, current, value, item):
    def wrong(expected):
        return ArrInputError("%s: %s expects %s, got %r (%s)" % (item, key, expected, value, type(value).__name__))

    if isinstance(current, bool):
        if isinstance(value, bool):
            return value
        if isinstance(value, string_types) and value.strip().lower() in TRUE_STRINGS + FALSE_STRINGS:
            return value.strip().lower() in TRUE_STRINGS
        raise wrong("a boolean")
    if isinstance(current, integer_types):
        if isinstance(value, bool):
            raise wrong("an integer")
        if isinstance(value, integer_types):
            return value
        if isinstance(value, string_types) and value.strip().lstrip("-").isdigit():
            return int(value)
        raise wrong("an integer")
    if isinstance(current, string_types) or current is None:
        if isinstance(value, (bool, list, dict)):
            raise wrong("a string")
        return value if value is None or isinstance(value, string_types) else str(value)
    return value


def run(module, client):
    item = what(module)
    current = client.get(KIND) or {}
    settings = module.params["settings"]
    valid = sorted(k for k in current if k != "id")
    unknown = sorted(set(settings) - set(valid))
    if unknown:
        raise ArrInputError("%s: unknown key%s %s; valid keys: %s"
                            % (item, "s" if len(unknown) > 1 else "", ", ".join("'%s'" % k for k in unknown), ", ".join(valid)))
    wanted = dict((k, coerce(k, current.get(k), v, item)) for k, v in settings.items() if v is not None)
    found = changes(current, wanted)
    before = dict((k, current.get(k)) for k in sorted(wanted))
    result = dict(changed=bool(found), diff=dict(before=before, after=dict(sorted(wanted.items()))))
    if not found:
        result["media_management"] = current
        return result
    result["changes"] = sorted(found)
    if not module.check_mode:
        result["media_management"] = client.update(KIND, current.get("id", 1), merge(current, wanted))
    return result


def main():
    module = AnsibleModule(
        argument_spec=argument_spec("arr", apps=MEDIA_APPS, settings=dict(type="dict", required=True)),
        supports_check_mode=True,
    )
    run_module(module, ArrClient.from_module(module), run, what)


if __name__ == "__main__":
    main()
