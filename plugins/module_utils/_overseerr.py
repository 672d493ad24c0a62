# -*- coding: utf-8 -*-
# Copyright: monsterr.mediaserver developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Overseerr / Jellyseerr / Seerr settings client on the shared HttpClient (private).

``/api/v1/settings/sonarr`` and ``/api/v1/settings/radarr`` hold lists of server objects (API key in clear):
GET the list, POST to add (no uniqueness check on ``name``: a second POST makes a duplicate), PUT ``/{id}`` to
replace one, DELETE ``/{id}``; POST ``/test`` checks a connection and returns the target's profiles and root
folders.

The API key acts as user 1, the admin created by the first sign-in (server/middleware/auth.ts, checkUser():
``if (req.header('X-API-Key') === settings.main.apiKey) { userId = 1 ... findOne({id: userId}) }``); every
/settings route needs that user to be an admin (server/routes/index.ts:
``router.use('/settings', isAuthenticated(Permission.ADMIN), settingsRoutes)``), and isAuthenticated() answers
403 when there is no user. So a wrong key and a right key before the first sign-in both get 403. What tells them
apart is public: ``GET /api/v1/settings/public`` (no auth) has ``initialized``, set to true only by
``POST /settings/initialize``, itself behind that admin check. Once ``initialized`` is true an admin exists,
and a 403 means the key is wrong. Before, the link is pending (the key cannot be checked until an admin
exists). Same code in Overseerr 1.34 and Seerr (seerr-team/seerr).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.monsterr.mediaserver.plugins.module_utils._http import LIST_OF_DICTS, ApiError, HttpClient

KINDS = ("sonarr", "radarr")
PUBLIC = "/api/v1/settings/public"


class AdminPending(ApiError):
    """403 before Overseerr's first admin exists: the key cannot work yet, and cannot be checked yet. The module's
    failure carries ``admin_pending: true`` so a caller (the wiring role) can report the link as pending."""

    result = {"admin_pending": True}


class OverseerrClient(object):
    def __init__(self, url, api_key, validate_certs=True, timeout=30, sleep=None, secrets=()):
        self.http = HttpClient("overseerr", url, headers={"X-Api-Key": api_key}, timeout=timeout,
                               validate_certs=validate_certs, secrets=[api_key] + list(secrets), sleep=sleep)

    @classmethod
    def from_module(cls, module, secrets=()):
        p = module.params
        return cls(p["url"], p["api_key"], validate_certs=p["validate_certs"], timeout=p["timeout"], secrets=secrets)

    @property
    def requests(self):
        return self.http.requests

    def wait_until_ready(self, timeout):
        if timeout and timeout > 0:
            self.http.wait_until_ready("/api/v1/status", timeout)

    def initialized(self):
        """``initialized`` of the public settings (no key needed): true once the setup (and so an admin) exists."""
        response = self.http.request("GET", PUBLIC)
        return response.json(dict).get("initialized") is True

    def refused(self, exc):
        """The ApiError to raise for a 401/403 answer: wrong key (fails) or AdminPending (no admin yet)."""
        if exc.status == 401:
            return exc.replace(reason="no API key reached Overseerr (401); is a proxy dropping the X-Api-Key header?")
        if self.initialized():
            return exc.replace(reason="the API key was refused although Overseerr's setup is finished "
                                      "(%s says initialized: true, so its admin exists): the key is wrong. Give "
                                      "main.apiKey of Overseerr's settings.json" % PUBLIC)
        values = dict(app=exc.app, method=exc.method, path=exc.path, status=exc.status, body=exc.body, where=exc.where)
        return AdminPending(reason="pending: Overseerr's setup is not finished (%s says initialized: false), so "
                                   "no admin exists yet and the API key (which acts as the admin) cannot work, nor be "
                                   "checked. Sign in to Overseerr once and finish its setup, then run again" % PUBLIC,
                            **values)

    def _call(self, method, path, shape=None, **kwargs):
        try:
            return self.http.request(method, path, **kwargs).json(shape)
        except ApiError as exc:
            if exc.status in (401, 403):
                raise self.refused(exc)
            raise

    def servers(self, kind):
        return self._call("GET", "/api/v1/settings/%s" % kind, shape=LIST_OF_DICTS)

    def create(self, kind, body):
        return self._call("POST", "/api/v1/settings/%s" % kind, json_body=body, shape=dict)

    def update(self, kind, server_id, body):
        return self._call("PUT", "/api/v1/settings/%s/%s" % (kind, server_id), json_body=body, shape=dict)

    def delete(self, kind, server_id):
        self._call("DELETE", "/api/v1/settings/%s/%s" % (kind, server_id))

    def test(self, kind, hostname, port, api_key, use_ssl, base_url):
        """Overseerr contacts the *arr app: {profiles, rootFolders, languageProfiles, tags, urlBase}."""
        body = {"hostname": hostname, "port": port, "apiKey": api_key, "useSsl": use_ssl, "baseUrl": base_url or ""}
        path = "/api/v1/settings/%s/test" % kind
        try:
            return self._call("POST", path, json_body=body, shape=dict)
        except ApiError as exc:
            if exc.status in (401, 403) or exc.kind is not None or exc.status is None:
                raise
            raise exc.replace(reason="Overseerr could not connect to %s at %s:%s (%s); check hostname, port, base_url "
                                     "and the %s API key" % (kind, hostname, port, exc.reason, kind))
