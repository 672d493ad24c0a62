# -*- coding: utf-8 -*-
# Copyright: monsterr.mediaserver developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""qBittorrent WebUI API v2 client on the shared HttpClient (private).

Authentication, in this order:

- ``api_key`` (qBittorrent 5.2+): ``Authorization: Bearer qbt_...`` on every request, no login, no CSRF check.
- ``password``: one ``POST /api/v2/auth/login``; the session cookie (``SID`` up to 5.1, ``QBT_SID_<port>`` from
  5.2) stays in the client's cookie jar. A refused login is NEVER retried: qBittorrent bans the client IP for
  ``WebUI\\BanDuration`` seconds (default 3600) after ``WebUI\\MaxAuthenticationFailCount`` failures (default 5),
  and up to 5.1 it answers a bad password with HTTP 200 and the body ``Fails.``.
- neither: no login, for hosts qBittorrent lets in without one (``bypass_local_auth``, subnet whitelist).

CSRF and Host-header checks: qBittorrent lets a request through when it carries neither ``Origin`` nor
``Referer``, and otherwise wants their host:port to equal the ``Host`` header. This client sends neither, so
the check passes behind a reverse proxy or a remapped port too; urllib sets ``Host`` from the URL itself.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

from ansible_collections.monsterr.mediaserver.plugins.module_utils._http import ApiError, HttpClient

LOGIN = "/api/v2/auth/login"
BAN_NOTE = ("qBittorrent bans the IP for WebUI\\BanDuration seconds (default 3600, or until it restarts) after "
            "WebUI\\MaxAuthenticationFailCount failed logins (default 5)")
# Keys qBittorrent accepts but never returns.
WRITE_ONLY_PREFERENCES = ("web_ui_password",)
SECRET_PREFERENCES = ("web_ui_password", "proxy_password", "mail_notification_password", "dyndns_password",
                      "web_ui_api_key")


class QbittorrentClient(object):
    """Preferences and categories of one qBittorrent."""

    def __init__(self, url, username="admin", password=None, api_key=None, validate_certs=True, timeout=30,
                 retries=3, sleep=None):
        headers = {}
        if api_key:
            headers["Authorization"] = "Bearer %s" % api_key
        self.url = url.rstrip("/")
        self.username = username
        self.password = password
        self.api_key = api_key
        self.logged_in = False
        self.http = HttpClient("qbittorrent", url, headers=headers, timeout=timeout, validate_certs=validate_certs,
                               retries=retries, secrets=[s for s in (password, api_key) if s], sleep=sleep)

    @classmethod
    def from_module(cls, module):
        p = module.params
        return cls(p["url"], username=p["username"], password=p["password"], api_key=p["api_key"],
                   validate_certs=p["validate_certs"], timeout=p["timeout"])

    @property
    def requests(self):
        return self.http.requests

    # -- session ---------------------------------------------------------------------------------------

    def wait_until_ready(self, timeout):
        """Poll until the WebUI answers at all (403 without a session counts: it is up)."""
        if timeout and timeout > 0:
            self.http.wait_until_ready("/api/v2/app/webapiVersion", timeout, ok=(200, 401, 403))

    def connect(self):
        """Log in once if a password is set (no-op for API-key or auth-free access)."""
        if self.api_key or self.password is None or self.logged_in:
            return
        response = self._login_once()
        body = response.text.strip()
        if response.status in (200, 204) and body in ("Ok.", ""):
            self.logged_in = True
            return
        if response.status == 403:
            raise self.http.error("POST", LOGIN, 403,
                                  "this host's IP is banned after too many failed logins: %s. Fix the credentials, "
                                  "then wait for the ban to end. Not retried" % BAN_NOTE)
        if body == "Fails." or response.status == 401:
            raise self.http.error("POST", LOGIN, response.status,
                                  "login refused for user '%s': wrong username or password. Not retried: %s"
                                  % (self.username, BAN_NOTE))
        raise self.http.error("POST", LOGIN, response.status, "unexpected login answer: %s" % body[:100])

    def _login_once(self):
        """One login. Refusals (``Fails.``, 401, 403) are answers, never retried; a connection error or a 502/503/504
        (qBittorrent not reached, or restarting behind a proxy) is retried by the transport like any request, a
        bounded number of times. A timeout is not (the login may have been counted)."""
        return self.http.request("POST", LOGIN, form={"username": self.username, "password": self.password},
                                 expect=(200, 204, 401, 403))

    def _call(self, method, path, **kwargs):
        self.connect()
        try:
            return self.http.request(method, path, **kwargs)
        except ApiError as exc:
            if exc.status in (401, 403):
                how = ("the API key was refused" if self.api_key else
                       "no valid session (give password, or api_key on qBittorrent 5.2+)")
                raise self.http.error(method, path, exc.status, "%s; %s" % (exc.reason or "Forbidden", how), exc.body)
            raise

    # -- app ---------------------------------------------------------------------------------------------

    def version(self):
        return self._call("GET", "/api/v2/app/version").text.strip()

    def webapi_version(self):
        return self._call("GET", "/api/v2/app/webapiVersion").text.strip()

    def preferences(self):
        return self._call("GET", "/api/v2/app/preferences").json(dict)

    def set_preferences(self, changes):
        """POST only the given keys (qBittorrent takes partial updates; unknown keys are silently ignored)."""
        self._call("POST", "/api/v2/app/setPreferences", form={"json": json.dumps(changes)})

    # -- categories -----------------------------------------------------------------------------------

    def categories(self):
        """{name: {savePath, download_path, ...}} (qBittorrent answers an object of objects)."""
        response = self._call("GET", "/api/v2/torrents/categories")
        categories = response.json(dict)
        if not all(isinstance(v, dict) for v in categories.values()):
            raise response.fail("answer has the wrong shape: categories are not objects")
        return categories

    @staticmethod
    def _category_form(name, save_path, download_path):
        form = {"category": name, "savePath": save_path or ""}
        if download_path is False:
            form["downloadPathEnabled"] = "false"
        elif download_path:
            form["downloadPathEnabled"] = "true"
            form["downloadPath"] = download_path
        return form

    def create_category(self, name, save_path, download_path=None):
        """``download_path``: None = global default, False = disabled, a path = enabled there."""
        self._call("POST", "/api/v2/torrents/createCategory", form=self._category_form(name, save_path, download_path))

    def edit_category(self, name, save_path, download_path=None):
        """Replaces the category: a download path left out returns to the global default."""
        self._call("POST", "/api/v2/torrents/editCategory", form=self._category_form(name, save_path, download_path))

    def remove_categories(self, names):
        self._call("POST", "/api/v2/torrents/removeCategories", form={"categories": "\n".join(names)})
