# -*- coding: utf-8 -*-
# Copyright: monsterr.mediaserver developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Overseerr / Jellyseerr settings client on the shared HttpClient (private).

``/api/v1/settings/sonarr`` and ``/api/v1/settings/radarr`` hold lists of server objects (API key in clear):
GET the list, POST to add (no uniqueness check on ``name``: a second POST makes a duplicate), PUT ``/{id}`` to
replace one, DELETE ``/{id}``; POST ``/test`` checks a connection and returns the target's profiles and root
folders. The API key acts as the admin user (id 1), so it only works once that user exists (403 before).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import time

from ansible_collections.monsterr.mediaserver.plugins.module_utils._http import ApiError, HttpClient, api_key_argument_spec

KINDS = ("sonarr", "radarr")


def _sleep(seconds):
    time.sleep(seconds)


# Connection options of the Overseerr modules (doc fragment monsterr.mediaserver.overseerr).
argument_spec = api_key_argument_spec


class OverseerrClient(object):
    def __init__(self, url, api_key, validate_certs=True, timeout=30, sleep=_sleep, secrets=()):
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

    def _call(self, method, path, **kwargs):
        try:
            return self.http.request(method, path, **kwargs)
        except ApiError as exc:
            if exc.status in (401, 403):
                raise self.http._error(method, path, exc.status, "%s; the API key was refused, or no admin user exists "
                                       "yet (Overseerr's key acts as user 1)" % (exc.reason or "Forbidden"), exc.body)
            raise

    def servers(self, kind):
        return self._call("GET", "/api/v1/settings/%s" % kind).json() or []

    def create(self, kind, body):
        return self._call("POST", "/api/v1/settings/%s" % kind, json_body=body).json()

    def update(self, kind, server_id, body):
        return self._call("PUT", "/api/v1/settings/%s/%s" % (kind, server_id), json_body=body).json()

    def delete(self, kind, server_id):
        self._call("DELETE", "/api/v1/settings/%s/%s" % (kind, server_id))

    def test(self, kind, hostname, port, api_key, use_ssl, base_url):
        """Overseerr contacts the *arr app: {profiles, rootFolders, languageProfiles, tags, urlBase}."""
        body = {"hostname": hostname, "port": port, "apiKey": api_key, "useSsl": use_ssl, "baseUrl": base_url or ""}
        try:
            return self.http.request("POST", "/api/v1/settings/%s/test" % kind, json_body=body).json() or {}
        except ApiError as exc:
            if exc.status in (401, 403):
                raise
            raise self.http._error("POST", "/api/v1/settings/%s/test" % kind, exc.status,
                                   "Overseerr could not connect to %s at %s:%s (%s); check hostname, port, base_url "
                                   "and the %s API key" % (kind, hostname, port, exc.reason, kind), exc.body)
