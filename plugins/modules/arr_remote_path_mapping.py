#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: monsterr.mediaserver developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: arr_remote_path_mapping
short_description: Manage a remote path mapping in Sonarr, Radarr, Lidarr or Readarr
version_added: 0.1.0
description:
  - Adds, updates or removes one remote path mapping, found by O(host) and O(remote_path) (paths compared the way the
    app stores them, with a trailing C(/)).
  - Only needed when the download client and the app see the downloads under different paths; with one shared C(/data)
    mount in every container no mapping is needed and hardlinks work.
author:
  - monsterr.mediaserver developers (@monsterr)
extends_documentation_fragment:
  - monsterr.mediaserver._arr
  - monsterr.mediaserver.attributes
options:
  app:
    description:
      - Which Servarr app O(url) points at (Prowlarr has no remote path mappings).
    type: str
    required: true
    choices: [lidarr, radarr, readarr, sonarr]
  host:
    description:
      - The download client's host exactly as in the client's C(host) field, for example V(qbittorrent).
    type: str
    required: true
  remote_path:
    description:
      - The path the download client reports, for example V(/downloads/).
    type: str
    required: true
  local_path:
    description:
      - The same folder as the app sees it; must exist inside the app's container. Required with O(state=present).
    type: str
  state:
    description:
      - V(present) adds or updates the mapping, V(absent) removes it.
    type: str
    choices: [present, absent]
    default: present
"""

EXAMPLES = r"""
- name: Sonarr finds qBittorrent's /downloads under /data/torrents
  monsterr.mediaserver.arr_remote_path_mapping:
    url: http://127.0.0.1:8989
    api_key: "{{ vault_sonarr_api_key }}"
    app: sonarr
    host: qbittorrent
    remote_path: /downloads
    local_path: /data/torrents
"""

RETURN = r"""
remote_path_mapping:
  description: The mapping as the app returned it (after the write, or as found when nothing changed).
  returned: when O(state=present) and not in check mode with a change pending
  type: dict
  sample: {"id": 1, "host": "qbittorrent", "remotePath": "/downloads/", "localPath": "/data/torrents/"}
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.monsterr.mediaserver.plugins.module_utils._arr import (
    MEDIA_APPS, ArrClient, ArrInputError, with_trailing)
from ansible_collections.monsterr.mediaserver.plugins.module_utils._module import argument_spec, run_module

KEYS = ("host", "remotePath", "localPath")


def what(module):
    return "remote path mapping %s:%s in %s" % (module.params["host"], module.params["remote_path"], module.params["app"])


def view(obj):
    return dict((k, obj.get(k)) for k in KEYS) if obj else {}


def run(module, client):
    p = module.params
    remote = with_trailing(p["remote_path"])
    current = None
    for item in client.list("remotepathmapping"):
        if item.get("host") == p["host"] and with_trailing(item.get("remotePath")) == remote:
            current = item
            break
    result = dict(changed=False, diff=dict(before=view(current), after={}))
    if p["state"] == "absent":
        if current:
            result["changed"] = True
            if not module.check_mode:
                client.delete("remotepathmapping", current["id"])
        return result
    if not p["local_path"]:
        raise ArrInputError("%s: local_path is required with state=present" % what(module))
    local = with_trailing(p["local_path"])
    if not local.startswith("/"):
        raise ArrInputError("%s: local_path must be absolute, as the app sees it" % what(module))
    wanted = dict(current or {}, host=p["host"], remotePath=remote, localPath=local)
    result["diff"]["after"] = view(wanted)
    if current and with_trailing(current.get("localPath")) == local:
        result["remote_path_mapping"] = current
        return result
    result["changed"] = True
    if module.check_mode:
        return result
    result["remote_path_mapping"] = client.save("remotepathmapping", current, wanted)
    return result


def main():
    module = AnsibleModule(
        argument_spec=argument_spec(
            "arr", apps=MEDIA_APPS,
            host=dict(type="str", required=True),
            remote_path=dict(type="str", required=True),
            local_path=dict(type="str"),
            state=dict(type="str", default="present", choices=["present", "absent"]),
        ),
        required_if=[("state", "present", ("local_path",))],
        supports_check_mode=True,
    )
    run_module(module, ArrClient.from_module(module), run, what)


if __name__ == "__main__":
    main()
