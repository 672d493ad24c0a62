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
attributes:
  check_mode:
    description: Read-only; runs the same in check mode.
    support: full
  diff_mode:
    description: Nothing to show; never changes anything.
    support: none
  platform:
    description: Talks to the app over HTTP from wherever the module runs.
    support: full
    platforms: posix
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
from ansible_collections.monsterr.mediaserver.plugins.module_utils._arr import ArrClient, arr_argument_spec, fail_message
from ansible_collections.monsterr.mediaserver.plugins.module_utils._http import ApiError


def run(module, client):
    status = client.get("system/status") or {}
    health = client.get("health") or []
    return dict(changed=False, app_name=status.get("appName"), version=status.get("version"), status=status,
                health=health, healthy=not any(h.get("type") in ("warning", "error") for h in health))


def main():
    module = AnsibleModule(argument_spec=arr_argument_spec(), supports_check_mode=True)
    try:
        module.exit_json(**run(module, ArrClient.from_module(module)))
    except ApiError as exc:
        module.fail_json(msg=fail_message("status of %s" % module.params["app"], exc), status=exc.status,
                         method=exc.method, path=exc.path)


if __name__ == "__main__":
    main()
