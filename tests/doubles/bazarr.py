# -*- coding: utf-8 -*-
# Copyright: monsterr.mediaserver developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A Bazarr 1.5 test double (loopback, standard library only).

Reproduced from Bazarr's source (morpheus65535/bazarr, 1.5.x; paths in that repository):

- GET {base}/api/system/ping answers {"status": "OK"} without a key.
- Every other /api call needs the key in the X-API-KEY header (any case) or the apikey query/form parameter;
  wrong or missing -> 401 (api/utils.py authenticate).
- GET {base}/api/system/settings returns the settings nested by section (general, auth, sonarr, radarr),
  secrets (sonarr.apikey, radarr.apikey, auth.apikey) in clear (app/config.py get_settings(): an empty value of
  an array key is returned as []).
- POST {base}/api/system/settings (api/system/settings.py) passes ``zip(request.form.keys(),
  request.form.listvalues())`` to app/config.py save_settings(), which for each field:
    * ``if isinstance(value, list) and len(value) == 1 and settings_keys[-1] not in array_keys: value = value[0]``
      (and 'None'/'null'/'undefined' become None);
    * ``if isinstance(value, str) and settings_keys[-1] not in str_keys: value = int(value)`` when that works,
      with ``str_keys = ['chmod', 'log_include_filter', 'log_exclude_filter', 'password', 'f_password',
      'hashed_password']``: an all-digit API key becomes an int;
    * ``if settings_keys[-1] in array_keys and value[0] in empty_values: value = []``: a list is cleared only by
      sending its field (once) with an empty value; a field not sent is not changed;
    * 'true'/'false' become booleans; base_url goes through base_url_slash_cleaner() (no double slashes);
  then ``settings.validators.validate()``: a value of the wrong type or out of range -> ValidationError, the
  settings are reloaded (nothing stored) and the POST answers 406 with the message ("{name} must {operation}
  {op_value} but it is {value}", Bazarr's Validator.default_messages); else 204.
- base_url '/' is stored back as '': sonarr/info.py url_sonarr() (radarr/info.py url_radarr() alike), called
  whenever Bazarr builds the app's URL (the SignalR client restarted after a save, every sync), rewrites
  ``settings.sonarr.base_url``: '' -> '/', a leading '/' added, a trailing '/' removed, so '/' ends as ''.
- The validators of the sonarr/radarr sections (app/config.py): ip str (default 127.0.0.1), port int 1-65535
  (8989/7878), base_url str ('/'), ssl bool, http_timeout in [60, 120, 180, 240, 300, 600], apikey str (''),
  only_monitored bool, series_sync / movies_sync in [15, 60, 180, 360, 720, 1440, 10080, 52560000],
  excluded_tags a list of ^[a-z0-9_-]+$.
Not reproduced: a form key Bazarr does not know is stored by Bazarr as a new key; here it is ignored.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import re

from ansible_collections.monsterr.mediaserver.tests.doubles.loopback import LoopbackDouble

# app/config.py
ARRAY_KEYS = ("excluded_tags", "exclude", "included_codecs", "subzero_mods", "excluded_series_types",
              "enabled_providers", "enabled_integrations", "path_mappings", "path_mappings_movie",
              "remove_profile_tags", "language_equals", "blacklisted_languages", "blacklisted_providers")
EMPTY_VALUES = ("", "None", "null", "undefined", None)
STR_KEYS = ("chmod", "log_include_filter", "log_exclude_filter", "password", "f_password", "hashed_password")
SYNC_CHOICES = [15, 60, 180, 360, 720, 1440, 10080, 52560000]
TIMEOUT_CHOICES = [60, 120, 180, 240, 300, 600]


def default_settings(api_key):
    def arr(port):
        return {"ip": "127.0.0.1", "port": port, "base_url": "/", "ssl": False, "http_timeout": 60, "apikey": "",
                "full_update": "Daily", "full_update_day": 6, "full_update_hour": 4, "only_monitored": False,
                "series_sync": 60, "excluded_tags": [], "defer_search_signalr": False}
    settings = {
        "general": {"ip": "*", "port": 6767, "base_url": "", "use_sonarr": False, "use_radarr": False,
                    "path_mappings": [], "path_mappings_movie": [], "debug": False, "chmod": "0640"},
        "auth": {"type": None, "apikey": api_key, "username": "", "password": ""},
        "sonarr": arr(8989),
        "radarr": arr(7878),
    }
    settings["sonarr"]["exclude_season_zero"] = False
    settings["sonarr"]["excluded_series_types"] = []
    settings["radarr"].pop("series_sync")
    settings["radarr"]["movies_sync"] = 60
    return settings


def url_base(value):
    """sonarr/info.py url_sonarr(): the URL base as Bazarr rewrites it when it builds the app's URL."""
    if value == "":
        value = "/"
    if not value.startswith("/"):
        value = "/" + value
    if value.endswith("/"):
        value = value[:-1]
    return value


def form_value(key, values):
    """One field's value the way save_settings() reads it."""
    value = values
    if len(values) == 1 and key not in ARRAY_KEYS:
        value = values[0]
        if value in EMPTY_VALUES and value != "":
            value = None
    if isinstance(value, str) and key not in STR_KEYS:
        try:
            value = int(value)
        except ValueError:
            pass
    if key in ARRAY_KEYS and value[0] in EMPTY_VALUES:
        value = []
    if value == "true":
        value = True
    elif value == "false":
        value = False
    if key == "base_url" and isinstance(value, str):
        while "//" in value:
            value = value.replace("//", "/")
    return value


def validate(section, key, value, default):
    """The validator's message, or None (the types of the defaults; the ranges and choices of app/config.py)."""
    name = "%s.%s" % (section, key)
    if isinstance(default, bool):
        wanted = bool
    elif isinstance(default, int):
        wanted = int
    elif isinstance(default, list):
        wanted = list
    elif default is None:
        wanted = (type(None), str)
    else:
        wanted = str
    if not isinstance(value, wanted) or wanted is int and isinstance(value, bool):
        return "%s must is_type_of %s but it is %s" % (name, wanted, value)
    if key == "port" and not 1 <= value <= 65535:
        return "%s must %s %s but it is %s" % (name, "gte" if value < 1 else "lte", 1 if value < 1 else 65535, value)
    if key in ("series_sync", "movies_sync") and value not in SYNC_CHOICES:
        return "%s must is_in %s but it is %s" % (name, SYNC_CHOICES, value)
    if key == "http_timeout" and value not in TIMEOUT_CHOICES:
        return "%s must is_in %s but it is %s" % (name, TIMEOUT_CHOICES, value)
    if key == "excluded_tags" and not all(isinstance(t, str) and re.match(r"^[a-z0-9_-]+$", t) for t in value):
        return "%s invalid for validate_tags(%s)" % (name, value)
    return None


class BazarrDouble(LoopbackDouble):
    app = "bazarr"

    def __init__(self, api_key, base_url=""):
        super(BazarrDouble, self).__init__()
        self.api_key = api_key
        self.base = base_url.rstrip("/")
        self.settings = default_settings(api_key)
        self.posts = []      # the form of every accepted or refused POST, as parse_qs gives it

    def _authorised(self, query, headers, form):
        given = headers.get("X-API-KEY") or (query.get("apikey") or [None])[0] or (form.get("apikey") or [None])[0]
        return given == self.api_key

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
        self.posts.append(form)
        updated = copy.deepcopy(self.settings)
        for field, values in form.items():
            parts = field.split("-")
            if parts[0] != "settings" or len(parts) != 3 or parts[1] not in updated or parts[2] not in updated[parts[1]]:
                continue
            section, key = parts[1], parts[2]
            updated[section][key] = form_value(key, values)
        defaults = default_settings(self.api_key)
        for section in ("general", "auth", "sonarr", "radarr"):
            for key, value in updated[section].items():
                problem = validate(section, key, value, defaults[section].get(key))
                if problem:
                    return 406, problem      # nothing stored (settings.reload())
        # The SignalR client is restarted when a connection key of the app changes, and the sync jobs run while
        # the app is in use: both build its URL, rewriting base_url (url_sonarr()).
        for section in ("sonarr", "radarr"):
            if updated["general"]["use_" + section] or any(f.startswith("settings-%s-" % section) for f in form):
                updated[section]["base_url"] = url_base(updated[section]["base_url"])
        self.settings = updated
        return 204, None

    # behind the module's back ----------------------------------------------------------------------------

    def set(self, section, key, value):
        with self.lock:
            self.settings[section][key] = value
