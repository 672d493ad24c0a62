# -*- coding: utf-8 -*-
# Copyright: monsterr.mediaserver developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Bazarr settings client on the shared HttpClient (private).

``GET {base}/api/system/settings`` returns the settings nested by section, secrets in clear;
``POST {base}/api/system/settings`` takes FORM fields ``settings-<section>-<key>`` (not JSON), changes only the
keys sent and answers 204 (406 with a message when a value fails validation). Auth: ``X-API-KEY``.

How Bazarr 1.5 reads the form (bazarr/app/config.py, save_settings(); the POST handler passes
``zip(request.form.keys(), request.form.listvalues())``, so every value arrives as a list):

- a key in ``array_keys`` (excluded_tags, path_mappings, ...) keeps the list; a list whose first value is empty
  becomes ``[]``. So a list is sent as one field per item, and an empty list as the field ONCE with an empty
  value: a field not sent at all is not changed.
- any other value is unwrapped, then cast to int when it is all digits, unless its key is in ``str_keys``
  (chmod, log filters, passwords): an all-digit API key becomes a number and fails validation (406).
- "true"/"false" become booleans.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.module_utils.six import integer_types, string_types

from ansible_collections.monsterr.mediaserver.plugins.module_utils._http import ApiError, HttpClient

SETTINGS = "/api/system/settings"
# bazarr/app/config.py: the keys whose all-digit values stay text.
STR_KEYS = ("chmod", "log_include_filter", "log_exclude_filter", "password", "f_password", "hashed_password")


def form_value(value):
    """A settings value the way Bazarr's form parser reads it back: 'true'/'false', digits, text."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (integer_types, float)):
        return str(value)
    return value


def form_fields(changes):
    """``changes`` {(section, key): value} as form fields [(name, value)]: a list one field per item, an empty
    list one field with an empty value (Bazarr clears the list only then)."""
    form = []
    for (section, key), value in sorted(changes.items()):
        field = "settings-%s-%s" % (section, key)
        if isinstance(value, (list, tuple)):
            form.extend((field, form_value(v)) for v in value)
            if not value:
                form.append((field, ""))
        else:
            form.append((field, form_value(value)))
    return form


def becomes_number(key, value):
    """True when Bazarr would store text ``value`` for ``key`` as a number (all digits, key not in str_keys)."""
    return isinstance(value, string_types) and value.strip().isdigit() and key not in STR_KEYS


class BazarrClient(object):
    def __init__(self, url, api_key, validate_certs=True, timeout=30, sleep=None):
        self.http = HttpClient("bazarr", url, headers={"X-API-KEY": api_key}, timeout=timeout,
                               validate_certs=validate_certs, secrets=[api_key], sleep=sleep)

    @classmethod
    def from_module(cls, module):
        p = module.params
        return cls(p["url"], p["api_key"], validate_certs=p["validate_certs"], timeout=p["timeout"])

    @property
    def requests(self):
        return self.http.requests

    def wait_until_ready(self, timeout):
        if timeout and timeout > 0:
            self.http.wait_until_ready("/api/system/ping", timeout)

    def _call(self, method, path, **kwargs):
        try:
            return self.http.request(method, path, **kwargs)
        except ApiError as exc:
            if exc.status in (401, 403):
                raise exc.replace(reason="the API key was refused (Bazarr's auth.apikey)")
            raise

    def settings(self):
        """{section: {key: value}}; anything else is ApiError."""
        response = self._call("GET", SETTINGS)
        settings = response.json(dict)
        if not all(isinstance(v, dict) for k, v in settings.items() if k in ("general", "sonarr", "radarr")):
            raise response.fail("answer has the wrong shape: its general/sonarr/radarr sections are not objects")
        return settings

    def save_settings(self, changes):
        """``changes``: {(section, key): value}; see form_fields()."""
        self._call("POST", SETTINGS, form=form_fields(changes), expect=(200, 204))
