# -*- coding: utf-8 -*-
# Copyright: monsterr.mediaserver developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A Bazarr test double (loopback, standard library only), after reference/media-apps-api.md section 5.

Reproduced:
- GET {base}/api/system/ping answers {"status": "OK"} without a key.
- Every other /api call needs the key in the X-API-KEY header (any case) or the apikey query/form parameter;
  wrong or missing -> 401.
- GET {base}/api/system/settings returns the settings nested by section (general, auth, sonarr, radarr),
  secrets (sonarr.apikey, radarr.apikey, auth.apikey) in clear.
- POST {base}/api/system/settings takes form fields settings-<section>-<key>; only the keys sent change;
  "true"/"false" become booleans, numeric strings integers (except string keys such as apikey, ip, base_url,
  passwords), list keys come as repeated fields; answers 204, or 406 with a message when a value fails
  validation (here: a port outside 1-65535 or not a number, series_sync below 15). Nothing is stored on 406.
- The defaults of the sonarr/radarr sections: ip 127.0.0.1, port 8989/7878, base_url "/", ssl false, use_* false.
Not known from the reference (assumed): a form key Bazarr does not know is ignored without an error.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy

from ansible_collections.monsterr.mediaserver.tests.doubles.loopback import LoopbackDouble

STRING_KEYS = ("apikey", "ip", "base_url", "password", "username", "excluded_tags_text")


def default_settings(api_key):
    def arr(port):
        return {"ip": "127.0.0.1", "port": port, "base_url": "/", "ssl": False, "http_timeout": 60, "apikey": "",
                "full_update": "Daily", "full_update_day": 6, "full_update_hour": 4, "only_monitored": False,
                "series_sync": 60, "excluded_tags": [], "defer_search_signalr": False}
    settings = {
        "general": {"ip": "0.0.0.0", "port": 6767, "base_url": "", "use_sonarr": False, "use_radarr": False,
                    "path_mappings": [], "path_mappings_movie": [], "debug": False},
        "auth": {"type": None, "apikey": api_key, "username": "", "password": ""},
        "sonarr": arr(8989),
        "radarr": arr(7878),
    }
    settings["sonarr"]["exclude_season_zero"] = False
    settings["radarr"].pop("series_sync")
    settings["radarr"]["movies_sync"] = 60
    return settings


class BazarrDouble(LoopbackDouble):
    app = "bazarr"

    def __init__(self, api_key, base_url=""):
        super(BazarrDouble, self).__init__()
        self.api_key = api_key
        self.base = base_url.rstrip("/")
        self.settings = default_settings(api_key)

    def _authorised(self, query, headers, form):
        given = headers.get("X-API-KEY") or (query.get("apikey") or [None])[0] or (form.get("apikey") or [None])[0]
        return given == self.api_key

    @staticmethod
    def _convert(key, values, current):
        if isinstance(current, list):
            return [v for v in values if v != ""]
        value = values[-1]
        if key in STRING_KEYS or key.endswith("password"):
            return value
        if value in ("true", "false"):
            return value == "true"
        if value.lstrip("-").isdigit():
            return int(value)
        return value

    def handle(self, method, path, query, headers, raw):
        if not path.startswith(self.base + "/api/"):
            return 404, "Not Found"
        path = path[len(self.base):]
        if path == "/api/system/ping":
            return 200, {"status": "OK"}
        form = self.form_body(raw) if method == "POST" else {}
        if not self._authorised(query, headers, form):
            return 401, {"message": "Unauthorized"}
        if path != "/api/system/settings":
            return 404, {"message": "Not Found"}
        if method == "GET":
            return 200, copy.deepcopy(self.settings)
        if method != "POST":
            return 405, {"message": "Method Not Allowed"}
        updated = copy.deepcopy(self.settings)
        for field, values in form.items():
            if not field.startswith("settings-"):
                continue
            parts = field[len("settings-"):].split("-", 1)
            if len(parts) != 2 or parts[0] not in updated or parts[1] not in updated[parts[0]]:
                continue  # assumed: unknown keys are ignored
            section, key = parts
            value = self._convert(key, values, updated[section][key])
            if key == "port" and (not isinstance(value, int) or not 0 < value < 65536):
                return 406, "Invalid value for %s.port: %s" % (section, values[-1])
            if key in ("series_sync", "movies_sync") and (not isinstance(value, int) or value < 15):
                return 406, "%s.%s must be at least 15" % (section, key)
            updated[section][key] = value
        self.settings = updated
        return 204, None

    # behind the module's back ----------------------------------------------------------------------------

    def set(self, section, key, value):
        with self.lock:
            self.settings[section][key] = value
