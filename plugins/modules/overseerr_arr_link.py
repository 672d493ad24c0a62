#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: monsterr.mediaserver developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: overseerr_arr_link
short_description: Add, update or remove a Sonarr or Radarr server in Overseerr or Jellyseerr
version_added: 0.1.0
description:
  - Reads Overseerr's server list (C(GET /api/v1/settings/sonarr) or C(/radarr)), matches the entry by O(name)
    (Overseerr itself allows duplicate names), lays the options given over it, and creates (C(POST)), replaces
    (C(PUT /{id})) or deletes it only when something differs. Options left out keep their current value.
  - With O(test_connection=true) Overseerr first contacts the app (C(POST .../test)); the module then fails if the
    app cannot be reached, looks up profile ids from names (and names from ids), and checks that the root folders
    exist in the app. Without it, nothing is checked against the app (Overseerr does not check on save either).
  - Works with the API key only after Overseerr's admin user exists (the key acts as that user). Overseerr answers
    403 both to a wrong key and to any key before its first sign-in; the module tells them apart by the public
    C(GET /api/v1/settings/public) (C(initialized) is true once the setup is finished, so an admin exists). After the
    setup a 403 fails as a wrong key; before it the module fails with C(admin_pending=true) in its result, which
    callers can treat as "not yet" (the wiring role reports such links as pending).
author:
  - monsterr.mediaserver developers (@monsterr)
extends_documentation_fragment:
  - monsterr.mediaserver.overseerr
  - monsterr.mediaserver.attributes
options:
  arr:
    description: Which list the server goes in.
    type: str
    choices: [sonarr, radarr]
    required: true
  name:
    description: Server name shown in Overseerr; the key the entry is matched by.
    type: str
    required: true
  hostname:
    description: Host Overseerr uses to reach the app, e.g. the container name. Required to create.
    type: str
  port:
    description: The app's port. Required to create.
    type: int
  arr_api_key:
    description: The app's API key. Required to create.
    type: str
  use_ssl:
    description: Reach the app over HTTPS.
    type: bool
  base_url:
    description: The app's URL base with a leading slash (V(/sonarr)), empty for none.
    type: str
  active_profile_id:
    description: Quality profile id for requests. Required to create, unless O(test_connection) looks it up by name.
    type: int
  active_profile_name:
    description: Quality profile name (Overseerr stores both).
    type: str
  active_directory:
    description: Root folder for requests, as the app knows it. Required to create.
    type: str
  active_anime_profile_id:
    description: Sonarr only; quality profile id for anime.
    type: int
  active_anime_profile_name:
    description: Sonarr only; quality profile name for anime.
    type: str
  active_anime_directory:
    description: Sonarr only; root folder for anime.
    type: str
  active_language_profile_id:
    description: Sonarr v3 only; language profile id.
    type: int
  is4k:
    description: This is the 4K server.
    type: bool
  is_default:
    description: The default server (for its O(is4k) kind); Overseerr clears the flag on the others.
    type: bool
  enable_season_folders:
    description: Sonarr only; use season folders.
    type: bool
  series_type:
    description: Sonarr only; series type for new series.
    type: str
    choices: [standard, daily, anime]
  anime_series_type:
    description: Sonarr only; series type for anime.
    type: str
    choices: [standard, daily, anime]
  minimum_availability:
    description: Radarr only; when a movie counts as available.
    type: str
    choices: [announced, inCinemas, released]
  external_url:
    description: URL of the app for links in Overseerr's UI.
    type: str
  sync_enabled:
    description: Scan the app's library.
    type: bool
  prevent_search:
    description: Add requested items without searching.
    type: bool
  tag_requests:
    description: Tag requests with the requesting user.
    type: bool
  tags:
    description: Tag ids to add to requested items.
    type: list
    elements: int
  test_connection:
    description: Let Overseerr test the connection first and resolve and check profiles and root folders.
    type: bool
    default: false
  state:
    description: V(present) creates or updates the entry, V(absent) deletes it.
    type: str
    choices: [present, absent]
    default: present
  update_secrets:
    description:
      - Overseerr returns the app's API key in clear, so it is compared like any field. V(always) sends it on every
        run (reporting a change); V(on_create) sends it only when it differs or when the entry is new.
    type: str
    choices: [always, on_create]
    default: on_create
"""

EXAMPLES = r"""
- name: Overseerr sends TV requests to Sonarr
  monsterr.mediaserver.overseerr_arr_link:
    url: http://127.0.0.1:5055
    api_key: "{{ vault_overseerr_api_key }}"
    arr: sonarr
    name: Sonarr
    hostname: sonarr
    port: 8989
    arr_api_key: "{{ vault_sonarr_api_key }}"
    active_profile_name: HD-1080p
    active_directory: /data/media/tv
    is_default: true
    test_connection: true
"""

RETURN = r"""
server:
  description: The entry after the run (empty when absent); API keys are C(<hidden>).
  returned: always
  type: dict
  sample: {id: 0, name: Sonarr, hostname: sonarr, port: 8989, apiKey: <hidden>, activeProfileId: 4}
changed_fields:
  description: Fields that differed and were (or would be) written.
  returned: always
  type: list
  elements: str
  sample: [activeDirectory]
"""

import copy

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.monsterr.mediaserver.plugins.module_utils._module import argument_spec, run_module
from ansible_collections.monsterr.mediaserver.plugins.module_utils._overseerr import OverseerrClient
from ansible_collections.monsterr.mediaserver.plugins.module_utils._resource import changes, diff, merge

SECRETS = ("apiKey",)
FIELDS = dict(
    hostname="hostname", port="port", arr_api_key="apiKey", use_ssl="useSsl", base_url="baseUrl",
    active_profile_id="activeProfileId", active_profile_name="activeProfileName", active_directory="activeDirectory",
    active_anime_profile_id="activeAnimeProfileId", active_anime_profile_name="activeAnimeProfileName",
    active_anime_directory="activeAnimeDirectory", active_language_profile_id="activeLanguageProfileId",
    is4k="is4k", is_default="isDefault", enable_season_folders="enableSeasonFolders", series_type="seriesType",
    anime_series_type="animeSeriesType", minimum_availability="minimumAvailability", external_url="externalUrl",
    sync_enabled="syncEnabled", prevent_search="preventSearch", tag_requests="tagRequests", tags="tags",
)
SONARR_ONLY = ("active_anime_profile_id", "active_anime_profile_name", "active_anime_directory",
               "active_language_profile_id", "enable_season_folders", "series_type", "anime_series_type")
RADARR_ONLY = ("minimum_availability",)
# What a new entry gets for fields left out (what Overseerr's own form sends).
CREATE_DEFAULTS = dict(
    common=dict(useSsl=False, baseUrl="", is4k=False, isDefault=False, externalUrl="", syncEnabled=False,
                preventSearch=False, tagRequests=False, tags=[]),
    sonarr=dict(enableSeasonFolders=True, seriesType="standard", animeSeriesType="anime", animeTags=[]),
    radarr=dict(minimumAvailability="released"),
)
REQUIRED = ("hostname", "port", "apiKey", "activeProfileId", "activeProfileName", "activeDirectory")


def clean_base_url(value):
    value = (value or "").strip().rstrip("/")
    return "/" + value.lstrip("/") if value else ""


class LinkError(ValueError):
    pass


def resolve(kind, wanted, tested):
    """Profile ids/names filled in from the test answer; LinkError when they or the root folders do not exist."""
    profiles = tested.get("profiles") or []
    folders = [f.get("path") for f in tested.get("rootFolders") or []]
    for prefix in ("active", "activeAnime"):
        id_key, name_key = prefix + "ProfileId", prefix + "ProfileName"
        if wanted.get(id_key) is None and wanted.get(name_key) is None:
            continue
        match = [p for p in profiles if (wanted.get(id_key) is None or p.get("id") == wanted[id_key])
                 and (wanted.get(name_key) is None or p.get("name") == wanted[name_key])]
        if not match:
            raise LinkError("%s has no quality profile %s (it has: %s)" % (
                kind, " / ".join(str(wanted[k]) for k in (id_key, name_key) if wanted.get(k) is not None),
                ", ".join("%s=%s" % (p.get("id"), p.get("name")) for p in profiles) or "none"))
        wanted[id_key], wanted[name_key] = match[0].get("id"), match[0].get("name")
    for key in ("activeDirectory", "activeAnimeDirectory"):
        if wanted.get(key) and wanted[key].rstrip("/") not in [(f or "").rstrip("/") for f in folders]:
            raise LinkError("%s has no root folder %s (it has: %s)" % (kind, wanted[key], ", ".join(folders) or "none"))


def run(module, client):
    p = module.params
    kind = p["arr"]
    always = p["update_secrets"] == "always"
    wrong = [o for o in (RADARR_ONLY if kind == "sonarr" else SONARR_ONLY) if p[o] is not None]
    if wrong:
        module.fail_json(msg="overseerr_arr_link '%s': %s cannot be set for %s" % (p["name"], ", ".join(wrong), kind))

    client.wait_until_ready(p["wait_timeout"])
    servers = client.servers(kind)
    found = [s for s in servers if s.get("name") == p["name"]]
    if len(found) > 1:
        module.warn("Overseerr has %d %s servers named '%s'; managing the first (id %s)"
                    % (len(found), kind, p["name"], found[0].get("id")))
    before = found[0] if found else None

    if p["state"] == "absent":
        if before and not module.check_mode:
            client.delete(kind, before["id"])
        return dict(changed=before is not None, server={}, changed_fields=[],
                    diff=diff(before, None, SECRETS))

    wanted = dict((FIELDS[o], p[o]) for o in FIELDS if p[o] is not None)
    if "baseUrl" in wanted:
        wanted["baseUrl"] = clean_base_url(wanted["baseUrl"])
    base = before or dict(CREATE_DEFAULTS["common"], **CREATE_DEFAULTS[kind])
    try:
        if p["test_connection"]:
            target = merge(base, wanted)
            missing = [k for k in ("hostname", "port", "apiKey") if target.get(k) in (None, "")]
            if missing:
                raise LinkError("test_connection needs %s" % ", ".join(missing))
            resolve(kind, wanted, client.test(kind, target["hostname"], target["port"], target["apiKey"],
                                              target.get("useSsl", False), target.get("baseUrl", "")))
        after = merge(base, wanted)
        after["name"] = p["name"]
        if before is None:
            missing = [k for k in REQUIRED if after.get(k) in (None, "")]
            if missing:
                hint = ""
                if "activeProfileId" in missing or "activeProfileName" in missing:
                    hint = " (test_connection=true looks up a profile id from its name)"
                raise LinkError("creating it needs %s%s" % (", ".join(missing), hint))
    except LinkError as exc:
        module.fail_json(msg="overseerr_arr_link '%s' (%s): %s; nothing was written" % (p["name"], kind, exc))

    if before is None:
        changed_fields = sorted(after)
    else:
        current = copy.deepcopy(before)
        current["baseUrl"] = clean_base_url(current.get("baseUrl"))
        changed_fields = sorted(changes(current, wanted, SECRETS, update_secrets=always))
    changed = bool(changed_fields)
    if changed and not module.check_mode:
        body = dict((k, v) for k, v in after.items() if k != "id")
        saved = client.create(kind, body) if before is None else client.update(kind, before["id"], body)
        if isinstance(saved, dict):
            after = saved
    return dict(changed=changed, changed_fields=changed_fields, server=diff(None, after, SECRETS)["after"],
                diff=diff(before, after, SECRETS))


def main():
    spec = dict((option, dict(type="str")) for option in FIELDS)
    for option in ("port", "active_profile_id", "active_anime_profile_id", "active_language_profile_id"):
        spec[option] = dict(type="int")
    for option in ("use_ssl", "is4k", "is_default", "enable_season_folders", "sync_enabled", "prevent_search",
                   "tag_requests"):
        spec[option] = dict(type="bool")
    spec["arr_api_key"] = dict(type="str", no_log=True)
    spec["tags"] = dict(type="list", elements="int")
    spec["series_type"] = dict(type="str", choices=["standard", "daily", "anime"])
    spec["anime_series_type"] = dict(type="str", choices=["standard", "daily", "anime"])
    spec["minimum_availability"] = dict(type="str", choices=["announced", "inCinemas", "released"])
    module = AnsibleModule(
        argument_spec=argument_spec(
            "overseerr",
            arr=dict(type="str", choices=["sonarr", "radarr"], required=True),
            name=dict(type="str", required=True),
            test_connection=dict(type="bool", default=False),
            state=dict(type="str", choices=["present", "absent"], default="present"),
            update_secrets=dict(type="str", choices=["always", "on_create"], default="on_create", no_log=False),
            **spec
        ),
        supports_check_mode=True,
    )
    client = OverseerrClient.from_module(module, secrets=[module.params["arr_api_key"] or ""])
    run_module(module, client, run)


if __name__ == "__main__":
    main()
