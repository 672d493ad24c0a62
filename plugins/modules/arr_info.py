#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: monsterr.mediaserver developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: arr_info
short_description: Read status, version and health of Sonarr, Radarr, Lidarr, Readarr or Prowlarr
version_added: 0.1.0
description:
  - Reads C(system/status) and C(health) (two requests) and returns them. Changes nothing.
  - Waits up to O(wait_timeout) seconds for an app that is still starting, so it doubles as a readiness check.
author:
  - monsterr.mediaserver developers (@monsterr)
extends_documentation_fragment:
  - monsterr.mediaserver._arr
  - monsterr.mediaserver.attributes.info_module
"""

EXAMPLES = r"""
- name: Read Sonarr's version and health
  monsterr.mediaserver.arr_info:
    url: http://127.0.0.1:8989
    api_key: "{{ vault_sonarr_api_key }}"
    app: sonarr
  register: sonarr_info

- name: Fail on health errors
  ansible.builtin.assert:
    that: sonarr_info.health | selectattr('type', 'equalto', 'error') | list | length == 0
"""

RETURN = r"""
app_name:
  description: The app's name as it reports it.
  returned: always
  type: str
  sample: Sonarr
version:
  description: The app's version.
  returned: always
  type: str
  sample: 4.0.19.2979
status:
  description: The whole C(system/status) answer.
  returned: always
  type: dict
  sample: {"appName": "Sonarr", "version": "4.0.19.2979", "urlBase": "", "isDocker": true}
health:
  description: The app's health checks, each with C(source), C(type) (ok, notice, warning, error) and C(message).
  returned: always
  type: list
  elements: dict
  sample: [{"source": "DownloadClientCheck", "type": "warning", "message": "No download client is available"}]
healthy:
  description: True when no health check is a warning or an error.
  returned: always
  type: bool
  sample: false
"""

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.six import string_types
from ansible_collections.monsterr.mediaserver.plugins.module_utils._arr import ArrClient
from ansible_collections.monsterr.mediaserver.plugins.module_utils._http import LIST_OF_DICTS
from ansible_collections.monsterr.mediaserver.plugins.module_utils._module import argument_spec, run_module

HEALTH_TYPES = ("ok", "notice", "warning", "error")


def what(module):
    return "status of %s" % module.params["app"]


def run(module, client):
    status = client.get("system/status")
    path = client.path("system/status")
    for key in ("appName", "version"):
        if not isinstance(status.get(key), string_types) or not status[key]:
            raise client.http.error("GET", path, 200, "answer has no %s: is url a Servarr app (%s)?"
                                    % (key, ", ".join(sorted(status))[:120] or "an empty object"))
    health = client.get("health", shape=LIST_OF_DICTS)
    odd = [h for h in health if h.get("type") not in HEALTH_TYPES]
    if odd:
        raise client.http.error("GET", client.path("health"), 200, "health check without a known type (%s): %r"
                                % ("/".join(HEALTH_TYPES), odd[0]))
    return dict(changed=False, app_name=status["appName"], version=status["version"], status=status,
                health=health, healthy=not any(h["type"] in ("warning", "error") for h in health))


def main():
    module = AnsibleModule(argument_spec=argument_spec("arr"), supports_check_mode=True)
    run_module(module, ArrClient.from_module(module), run, what)


if __name__ == "__main__":
    main()
