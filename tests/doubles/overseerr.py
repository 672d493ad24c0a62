# -*- coding: utf-8 -*-
# Copyright: monsterr.mediaserver developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""An Overseerr 1.34 test double (loopback, standard library only).

Reproduced (sct/overseerr v1.34.0 and seerr-team/seerr share this code; paths in those repositories):
- GET /api/v1/status answers without a key ({version, commitTag, updateAvailable, commitsBehind,
  restartRequired}).
- GET /api/v1/settings/public answers without a key (overseerr-api.yml: ``security: []``; server/routes/index.ts
  ``router.get('/settings/public', ...)`` returns ``settings.fullPublicSettings``), with ``initialized``:
  false on a fresh install, set to true only by ``POST /api/v1/settings/initialize``, a /settings route and so
  behind the admin check below (the setup wizard's last step).
- The key: server/middleware/auth.ts checkUser(): ``if (req.header('X-API-Key') === settings.main.apiKey)`` the
  request acts as user 1 (``userId = 1 ... userRepository.findOne({ where: { id: userId } })``), which exists
  only once someone signed in (the first Plex sign-in creates the admin). isAuthenticated() answers
  ``403 {"status": 403, "error": "You do not have permission to access this endpoint"}`` when there is no user:
  so a WRONG key -> 403, and the RIGHT key before the first sign-in (admin_exists=False) -> 403 too. No
  X-Api-Key header and no session cookie at all -> 401 (the request validator's security check,
  overseerr-api.yml security: cookieAuth or apiKey; observed on the real 1.34, reference/images.md).
  What tells a wrong key from "no admin yet" is ``initialized`` above.
- /api/v1/settings/sonarr and /radarr: GET the list (apiKey in clear); POST stores the body as is with
  id = last id + 1 (first 0) and answers 201; PUT /{id} replaces the object (404 if unknown); DELETE /{id};
  no uniqueness check on name; isDefault true clears isDefault on the other servers with the same is4k;
  POST and PUT do not test connectivity.
- Required body keys are checked (400 {"message": ...}): Sonarr name, hostname, port, apiKey, useSsl,
  activeProfileId, activeProfileName, activeDirectory, is4k, enableSeasonFolders, isDefault; Radarr the same
  minus enableSeasonFolders plus minimumAvailability.
- POST .../test with {hostname, port, apiKey, useSsl, baseUrl}: when they match an app registered with
  add_app(), answers {profiles, rootFolders:[{id, path}], languageProfiles (Sonarr only), tags, urlBase}; otherwise
  500 {"message": "Failed to connect to Sonarr"}.
Not known from the reference (assumed): a readOnly "id" in a body is ignored (the stored id wins).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import re

from ansible_collections.monsterr.mediaserver.tests.doubles.loopback import LoopbackDouble

COMMON_REQUIRED = ("name", "hostname", "port", "apiKey", "useSsl", "activeProfileId", "activeProfileName",
                   "activeDirectory", "is4k", "isDefault")
REQUIRED = {"sonarr": COMMON_REQUIRED + ("enableSeasonFolders",), "radarr": COMMON_REQUIRED + ("minimumAvailability",)}
ROUTE = re.compile(r"^/api/v1/settings/(sonarr|radarr)(?:/(test|\d+))?$")


class OverseerrDouble(LoopbackDouble):
    app = "overseerr"

    def __init__(self, api_key, admin_exists=True, initialized=None):
        """``admin_exists``: someone signed in (user 1 exists). ``initialized``: the setup wizard was finished
        (default: as ``admin_exists``; it cannot be true without an admin, except by editing settings.json)."""
        super(OverseerrDouble, self).__init__()
        self.api_key = api_key
        self.admin_exists = admin_exists
        self.initialized = admin_exists if initialized is None else initialized
        self.servers = {"sonarr": [], "radarr": []}
        self.apps = []

    def add_app(self, kind, hostname, port, api_key, profiles, root_folders, base_url=""):
        """A Sonarr/Radarr that /test can reach."""
        self.apps.append({"kind": kind, "hostname": hostname, "port": port, "apiKey": api_key, "baseUrl": base_url,
                          "profiles": profiles, "rootFolders": [{"id": i + 1, "path": p} for i, p in enumerate(root_folders)]})

    def handle(self, method, path, query, headers, raw):
        if path == "/api/v1/status" and method == "GET":
            return 200, {"version": "1.34.0", "commitTag": "v1.34.0", "updateAvailable": False, "commitsBehind": 0,
                         "restartRequired": False}
        if path == "/api/v1/settings/public" and method == "GET":
            return 200, {"initialized": self.initialized, "applicationTitle": "Overseerr", "applicationUrl": "",
                         "hideAvailable": False, "localLogin": True, "movie4kEnabled": False, "series4kEnabled": False,
                         "region": "", "originalLanguage": "", "partialRequestsEnabled": True, "cacheImages": False,
                         "vapidPublic": "", "enablePushRegistration": False, "locale": "en", "emailEnabled": False,
                         "newPlexLogin": True}
        if not path.startswith("/api/v1/"):
            return 404, "Not Found"
        if headers.get("X-Api-Key") is None and "connect.sid" not in (headers.get("Cookie") or ""):
            return 401, {"message": "'X-Api-Key' header required", "errors": [{"path": "/api/v1", "message":
                                                                                "'X-Api-Key' header required"}]}
        if headers.get("X-Api-Key") != self.api_key or not self.admin_exists:
            return 403, {"status": 403, "error": "You do not have permission to access this endpoint"}
        if path == "/api/v1/settings/initialize" and method == "POST":
            self.initialized = True
            return 200, {"initialized": True}
        match = ROUTE.match(path)
        if not match:
            return 404, {"status": 404, "message": "Not Found"}
        kind, tail = match.group(1), match.group(2)
        servers = self.servers[kind]
        body = self.json_body(raw)
        if tail == "test":
            if method != "POST":
                return 404, {"message": "Not Found"}
            return self._test(kind, body or {})
        if tail is None:
            if method == "GET":
                return 200, copy.deepcopy(servers)
            if method != "POST":
                return 404, {"message": "Not Found"}
            missing = self._missing(kind, body)
            if missing:
                return 400, {"message": "request.body should have required property '%s'" % missing}
            entry = dict(body)
            entry["id"] = servers[-1]["id"] + 1 if servers else 0
            self._default(kind, entry)
            servers.append(entry)
            return 201, copy.deepcopy(entry)
        found = [s for s in servers if s["id"] == int(tail)]
        if not found:
            return 404, {"status": 404, "message": "Settings for %s with id %s not found" % (kind, tail)}
        if method == "DELETE":
            servers.remove(found[0])
            return 200, copy.deepcopy(found[0])
        if method == "PUT":
            missing = self._missing(kind, body)
            if missing:
                return 400, {"message": "request.body should have required property '%s'" % missing}
            entry = dict(body)
            entry["id"] = found[0]["id"]
            servers[servers.index(found[0])] = entry
            self._default(kind, entry)
            return 200, copy.deepcopy(entry)
        if method == "GET":
            return 200, copy.deepcopy(found[0])
        return 404, {"message": "Not Found"}

    def is_write(self, method, path):
        return method in ("POST", "PUT", "DELETE") and not path.endswith("/test")

    @staticmethod
    def _missing(kind, body):
        if not isinstance(body, dict):
            return "name"
        return next((k for k in REQUIRED[kind] if k not in body), None)

    def _default(self, kind, entry):
        if entry.get("isDefault"):
            for other in self.servers[kind]:
                if other is not entry and other.get("is4k") == entry.get("is4k"):
                    other["isDefault"] = False

    def _test(self, kind, body):
        for app in self.apps:
            if app["kind"] == kind and all(app[k] == body.get(k) for k in ("hostname", "port", "apiKey")) \
                    and (app["baseUrl"] or "") == (body.get("baseUrl") or ""):
                answer = {"profiles": copy.deepcopy(app["profiles"]), "rootFolders": copy.deepcopy(app["rootFolders"]),
                          "tags": [], "urlBase": app["baseUrl"]}
                if kind == "sonarr":
                    answer["languageProfiles"] = [{"id": 1, "name": "English"}]
                return 200, answer
        return 500, {"message": "Failed to connect to %s" % kind.capitalize()}

    # behind the module's back ----------------------------------------------------------------------------

    def edit(self, kind, name, **fields):
        with self.lock:
            for server in self.servers[kind]:
                if server["name"] == name:
                    server.update(fields)
