#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: monsterr.mediaserver developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: bazarr_arr_link
short_description: Link Bazarr to Sonarr or Radarr
version_added: 0.1.0
description:
  - Reads Bazarr's settings (C(GET /api/system/settings)), compares the link to Sonarr or Radarr (section
    C(sonarr) or C(radarr) and C(general.use_sonarr)/C(general.use_radarr)) with the options given, and posts only
    the keys that differ as form fields C(settings-<section>-<key>) (C(POST /api/system/settings)).
  - Options left out keep Bazarr's current value. Keys in O(settings) are checked against the section Bazarr
    returned, and values against the type Bazarr holds, before anything is written.
author:
  - monsterr.mediaserver developers (@monsterr)
extends_documentation_fragment:
  - monsterr.mediaserver.bazarr
  - monsterr.mediaserver.attributes
options:
  arr:
    description: Which app to link.
    type: str
    choices: [sonarr, radarr]
    required: true
  host:
    description: Host name or address Bazarr uses to reach the app (Bazarr's C(ip)), e.g. the container name.
    type: str
    aliases: [ip]
  port:
    description: The app's port (Bazarr's defaults are 8989 for Sonarr, 7878 for Radarr).
    type: int
  base_url:
    description: The app's URL base, e.g. V(/sonarr); V(/) or empty for none. Compared with slashes normalised.
    type: str
  arr_api_key:
    description: The app's API key (Bazarr's C(apikey)).
    type: str
  ssl:
    description: Reach the app over HTTPS.
    type: bool
  settings:
    description:
      - Other keys of Bazarr's C(sonarr)/C(radarr) section, e.g. C(only_monitored), C(series_sync),
        C(excluded_tags). Unknown keys fail the module.
    type: dict
    default: {}
  state:
    description: V(present) enables the link (C(general.use_<arr>=true)) with these settings; V(absent) disables it
      and leaves the other settings as they are.
    type: str
    choices: [present, absent]
    default: present
  update_secrets:
    description:
      - Bazarr returns the API key in clear, so it is compared like any setting. V(always) also sends it when
        Bazarr shows it masked, reporting a change.
    type: str
    choices: [always, on_create]
    default: on_create
"""

EXAMPLES = r"""
- name: Bazarr fetches subtitles for Sonarr's series
  monsterr.mediaserver.bazarr_arr_link:
    url: http://127.0.0.1:6767
    api_key: "{{ vault_bazarr_api_key }}"
    arr: sonarr
    host: sonarr
    port: 8989
    base_url: /
    arr_api_key: "{{ vault_sonarr_api_key }}"
    ssl: false
    settings:
      only_monitored: true
"""

RETURN = r"""
changed_keys:
  description: Settings that differed and were (in check mode would be) posted, as C(section.key).
  returned: always
  type: list
  elements: str
  sample: [general.use_sonarr, sonarr.apikey]
link:
  description: The link after the run; the API key is C(<hidden>).
  returned: always
  type: dict
  sample: {enabled: true, ip: sonarr, port: 8989, base_url: /, ssl: false, apikey: <hidden>}
"""

import re

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.six import string_types

from ansible_collections.monsterr.mediaserver.plugins.module_utils._bazarr import BazarrClient, becomes_number
from ansible_collections.monsterr.mediaserver.plugins.module_utils._module import argument_spec, run_module
from ansible_collections.monsterr.mediaserver.plugins.module_utils._resource import _same, diff, is_masked
from ansible_collections.monsterr.mediaserver.plugins.module_utils._settings import SettingError, coerce_like

SECRETS = ("apikey",)
OPTION_KEYS = (("host", "ip"), ("port", "port"), ("base_url", "base_url"), ("arr_api_key", "apikey"), ("ssl", "ssl"))


def clean_base_url(value):
    """A URL base compared the way Bazarr uses it (bazarr/sonarr/info.py url_sonarr(): '' and '/' both mean none,
    a leading slash is added, a trailing one dropped, and Bazarr stores '/' back as '')."""
    value = re.sub(r"/+", "/", "/" + (value or "").strip())
    return value.rstrip("/") or "/"


def run(module, client):
    p = module.params
    arr = p["arr"]
    always = p["update_secrets"] == "always"
    client.wait_until_ready(p["wait_timeout"])
    current_all = client.settings()
    section = current_all.get(arr)
    general = current_all.get("general") or {}
    if not isinstance(section, dict) or "use_%s" % arr not in general:
        raise client.http.error("GET", "/api/system/settings", 200, "Bazarr's settings have no '%s' section or no "
                                "general.use_%s; is url Bazarr?" % (arr, arr))

    wanted = {}
    try:
        named = set(key for _option, key in OPTION_KEYS)
        overlap = sorted(k for k in p["settings"] if k in named)
        if overlap:
            raise SettingError("%s: set with the module's own options, not in settings" % ", ".join(overlap))
        unknown = sorted(k for k in p["settings"] if k not in section)
        if unknown:
            raise SettingError("unknown %s setting%s: %s; use the keys GET /api/system/settings shows under '%s'"
                               % (arr, "s" if len(unknown) > 1 else "", ", ".join(unknown), arr))
        if p["state"] == "present":
            for option, key in OPTION_KEYS:
                if p[option] is not None:
                    wanted[key] = p[option]
            wanted.update((k, v) for k, v in p["settings"].items() if v is not None)
            for key in list(wanted):
                if key in section:
                    wanted[key] = coerce_like("%s.%s" % (arr, key), section[key], wanted[key])
                if isinstance(section.get(key), string_types) and becomes_number(key, wanted[key]):
                    raise SettingError("%s.%s: Bazarr stores an all-digit value as a number and then refuses it for "
                                       "this text setting (406); give a value with a non-digit" % (arr, key))
            if "base_url" in wanted:
                wanted["base_url"] = clean_base_url(wanted["base_url"])
    except SettingError as exc:
        module.fail_json(msg="bazarr_arr_link: %s; nothing was written" % exc)

    enabled = p["state"] == "present"
    send = {}
    if general.get("use_%s" % arr) is not enabled:
        send[("general", "use_%s" % arr)] = enabled
    for key, value in wanted.items():
        have = section.get(key)
        if key == "base_url":
            have = clean_base_url(have)
        if key in SECRETS and is_masked(have):
            if always:
                send[(arr, key)] = value
            continue
        if not _same(have, value):
            send[(arr, key)] = value

    if send and not module.check_mode:
        client.save_settings(send)

    shown = ("ip", "port", "base_url", "apikey", "ssl")
    before = dict((k, section.get(k)) for k in list(shown) + sorted(wanted) if k in section or k in wanted)
    if "base_url" in before:
        before["base_url"] = clean_base_url(before["base_url"])
    before["enabled"] = general.get("use_%s" % arr)
    after = dict(before)
    after.update(wanted)
    after["enabled"] = enabled
    return dict(changed=bool(send), changed_keys=sorted("%s.%s" % k for k in send),
                link=diff({}, after, SECRETS)["after"], diff=diff(before, after, SECRETS))


def main():
    module = AnsibleModule(
        argument_spec=argument_spec(
            "bazarr",
            arr=dict(type="str", choices=["sonarr", "radarr"], required=True),
            host=dict(type="str", aliases=["ip"]),
            port=dict(type="int"),
            base_url=dict(type="str"),
            arr_api_key=dict(type="str", no_log=True),
            ssl=dict(type="bool"),
            settings=dict(type="dict", default={}),
            state=dict(type="str", choices=["present", "absent"], default="present"),
            update_secrets=dict(type="str", choices=["always", "on_create"], default="on_create", no_log=False),
        ),
        supports_check_mode=True,
    )
    client = BazarrClient.from_module(module)
    run_module(module, client, run)


if __name__ == "__main__":
    main()
