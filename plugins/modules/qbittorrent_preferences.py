#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: monsterr.mediaserver developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: qbittorrent_preferences
short_description: Set qBittorrent preferences through the WebUI API, only the ones given
version_added: 0.1.0
description:
  - Reads qBittorrent's preferences (C(GET /api/v2/app/preferences)), compares only the keys given in
    O(preferences), and sends only the keys that differ (C(POST /api/v2/app/setPreferences)).
  - qBittorrent ignores unknown keys and values of the wrong type without an error. This module checks every key
    against the preferences it read and every value against the type qBittorrent reports for it, and fails naming
    the key before anything is written.
  - After a write the preferences are read again and the module fails if qBittorrent did not take a value (skipped
    when the write moves the WebUI itself, that is when C(web_ui_port), C(web_ui_address), C(use_https),
    C(web_ui_https_*), C(web_ui_username) or C(web_ui_password) change).
  - Paths are compared the way qBittorrent stores them (duplicate and trailing slashes dropped);
    C(bypass_auth_subnet_whitelist) and C(banned_IPs) may be given as lists or as comma- or newline-separated text.
author:
  - monsterr.mediaserver developers (@monsterr)
extends_documentation_fragment:
  - monsterr.mediaserver.qbittorrent
  - monsterr.mediaserver.attributes
options:
  preferences:
    description:
      - Preference keys and values as the WebUI API names them, for example C(save_path), C(max_ratio_act),
        C(bypass_auth_subnet_whitelist). Keys left out are not touched.
      - C(web_ui_password) is write-only (qBittorrent never returns it). It counts as unchanged when it equals the
        O(password) this run logged in with; otherwise it is sent only with O(update_secrets=always).
    type: dict
    required: true
  update_secrets:
    description:
      - V(always) sends C(web_ui_password) (and masked secrets) on every run, reporting a change.
      - V(on_create) never sends a secret it cannot compare. Preferences always exist, so C(web_ui_password) is then
        not sent (a warning says so) unless it equals the login O(password), which counts as no change.
    type: str
    choices: [always, on_create]
    default: on_create
"""

EXAMPLES = r"""
- name: Keep completed torrents seeding, and let the Docker network in without a login
  monsterr.mediaserver.qbittorrent_preferences:
    url: http://127.0.0.1:8080
    password: "{{ vault_qbittorrent_password }}"
    preferences:
      save_path: /data/torrents
      temp_path_enabled: false
      max_ratio_act: 0
      bypass_auth_subnet_whitelist_enabled: true
      bypass_auth_subnet_whitelist: [172.16.0.0/12]

- name: Rotate the WebUI password
  monsterr.mediaserver.qbittorrent_preferences:
    url: http://127.0.0.1:8080
    password: "{{ vault_qbittorrent_old_password }}"
    update_secrets: always
    preferences:
      web_ui_password: "{{ vault_qbittorrent_password }}"
"""

RETURN = r"""
changed_keys:
  description: Keys that differed and were (in check mode would be) sent.
  returned: always
  type: list
  elements: str
  sample: [max_ratio_act, save_path]
preferences:
  description: The given keys with their values after the run; secrets are C(<hidden>).
  returned: always
  type: dict
  sample: {save_path: /data/torrents, max_ratio_act: 0}
"""

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.six import string_types

from ansible_collections.monsterr.mediaserver.plugins.module_utils._module import argument_spec, run_module
from ansible_collections.monsterr.mediaserver.plugins.module_utils._qbittorrent import (
    SECRET_PREFERENCES, WRITE_ONLY_PREFERENCES, QbittorrentClient)
from ansible_collections.monsterr.mediaserver.plugins.module_utils._resource import _same, diff, is_masked, redact
from ansible_collections.monsterr.mediaserver.plugins.module_utils._settings import (
    SettingError, clean_path, coerce_like, unknown_keys)

PATH_KEYS = ("save_path", "temp_path", "export_dir", "export_dir_fin", "ip_filter_path", "web_ui_https_cert_path",
             "web_ui_https_key_path", "alternative_webui_path", "finished_torrent_export_dir", "torrent_export_dir")
# Keys qBittorrent stores as newline-separated text; accepted as lists or comma/newline-separated text.
LINE_LIST_KEYS = ("bypass_auth_subnet_whitelist", "banned_IPs")
# Changing these moves or locks the WebUI: the check read after the write would fail or log out.
WEBUI_KEYS = ("web_ui_port", "web_ui_address", "use_https", "web_ui_https_cert_path", "web_ui_https_key_path",
              "web_ui_username", "web_ui_password")
RENAMED = {"start_paused_enabled": "add_stopped_enabled", "add_stopped_enabled": "start_paused_enabled"}


def _lines(value):
    if isinstance(value, (list, tuple)):
        items = value
    else:
        items = str(value).replace(",", "\n").split("\n")
    return "\n".join(i.strip() for i in items if str(i).strip())


def normalise(key, value):
    if key in PATH_KEYS:
        return clean_path(value)
    if key in LINE_LIST_KEYS and value is not None:
        return _lines(value)
    return value


def validate(wanted, current):
    """The wanted values converted to qBittorrent's types; SettingError naming the first bad key."""
    unknown = unknown_keys(wanted, current, WRITE_ONLY_PREFERENCES)
    if unknown:
        hints = ["%s (this version calls it %s)" % (k, RENAMED[k]) for k in unknown if RENAMED.get(k) in current]
        raise SettingError("unknown preference%s: %s. qBittorrent ignores unknown keys without an error, so nothing "
                           "was written; use the key names GET /api/v2/app/preferences returns%s"
                           % ("s" if len(unknown) > 1 else "", ", ".join(unknown),
                              "; " + ", ".join(hints) if hints else ""))
    converted = {}
    for key, value in wanted.items():
        if value is None:
            continue
        if key in WRITE_ONLY_PREFERENCES:
            if not isinstance(value, string_types):
                raise SettingError("%s: expects a string" % key)
            converted[key] = value
            continue
        if key in LINE_LIST_KEYS and isinstance(value, (list, tuple)):
            value = _lines(value)
        converted[key] = normalise(key, coerce_like(key, current[key], value))
    return converted


def run(module, client):
    p = module.params
    always = p["update_secrets"] == "always"
    client.wait_until_ready(p["wait_timeout"])
    current = client.preferences()
    try:
        wanted = validate(p["preferences"] or {}, current)
    except SettingError as exc:
        module.fail_json(msg="qbittorrent_preferences: %s" % exc)

    send = {}
    for key, value in wanted.items():
        if key in WRITE_ONLY_PREFERENCES:
            proven_same = (client.logged_in and value == client.password
                           and wanted.get("web_ui_username", client.username) == client.username)
            if proven_same:
                continue
            if always:
                send[key] = value
            else:
                module.warn("%s not sent: qBittorrent never returns it, so it cannot be compared; set "
                            "update_secrets=always to send it" % key)
            continue
        have = normalise(key, current.get(key))
        if key in SECRET_PREFERENCES and is_masked(have):
            if always:
                send[key] = value
            continue
        if not _same(have, value):
            send[key] = value

    before = dict((k, current.get(k)) for k in wanted)
    after = dict(before)
    after.update(send)
    for key in WRITE_ONLY_PREFERENCES:
        if key in send:
            before[key], after[key] = None, send[key]
        else:
            before.pop(key, None)
            after.pop(key, None)

    if send and not module.check_mode:
        client.set_preferences(send)
        if not any(k in WEBUI_KEYS for k in send):
            reread = client.preferences()
            refused = sorted(k for k in send if k not in WRITE_ONLY_PREFERENCES
                             and not _same(normalise(k, reread.get(k)), send[k]))
            if refused:
                module.fail_json(msg="qbittorrent_preferences: qBittorrent did not take %s (sent %s, now %s); check "
                                     "the values against its documentation"
                                 % (", ".join(refused), redact(dict((k, send[k]) for k in refused), SECRET_PREFERENCES),
                                    redact(dict((k, reread.get(k)) for k in refused), SECRET_PREFERENCES)),
                                 changed=True, changed_keys=sorted(send))
            after.update((k, reread.get(k)) for k in after if k not in WRITE_ONLY_PREFERENCES)

    return dict(changed=bool(send), changed_keys=sorted(send), preferences=redact(after, SECRET_PREFERENCES),
                diff=diff(before, after, SECRET_PREFERENCES))


def main():
    module = AnsibleModule(
        argument_spec=argument_spec(
            "qbittorrent",
            preferences=dict(type="dict", required=True),
            update_secrets=dict(type="str", choices=["always", "on_create"], default="on_create", no_log=False),
        ),
        supports_check_mode=True,
    )
    # Secrets inside the preferences dict: Ansible hides them from every output (invocation included).
    for key in SECRET_PREFERENCES:
        value = (module.params["preferences"] or {}).get(key)
        if isinstance(value, string_types) and value:
            module.no_log_values.add(value)
    client = QbittorrentClient.from_module(module)
    run_module(module, client, run)


if __name__ == "__main__":
    main()
