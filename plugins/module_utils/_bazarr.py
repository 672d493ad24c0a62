# -*- coding: utf-8 -*-
# Copyright: monsterr.mediaserver developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Bazarr settings client on the shared HttpClient (private).

``GET {base}/api/system/settings`` returns the settings nested by section, secrets in clear;
``POST {base}/api/system/settings`` takes FORM fields ``settings-<section>-<key>`` (not JSON), changes only the
keys sent and answers 204 (406 with a message when a value fails validation). Auth: ``X-API-KEY``.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import time

from ansible.module_utils.six import integer_types

from ansible_collections.monsterr.mediaserver.plugins.module_utils._http import ApiError, HttpClient, api_key_argument_spec

SETTINGS = "/api/system/settings"


def _sleep(seconds):
    time.sleep(seconds)


# Connection options of the Bazarr modules (doc fragment monsterr.mediaserver.bazarr).
argument_spec = api_key_argument_spec


def form_value(value):
    """A settings value the way Bazarr's form parser reads it back: 'true'/'false', digits, text."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (integer_types, float)):
        return str(value)
    return value


class BazarrClient(object):
    def __init__(self, url, api_key, validate_certs=True, timeout=30, sleep=_sleep):
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
                raise self.http._error(method, path, exc.status, "the API key was refused (Bazarr's auth.apikey)",
                                       exc.body)
            raise

    def settings(self):
        return self._call("GET", SETTINGS).json() or {}

    def save_settings(self, changes):
        """``changes``: {(section, key): value}; lists go as repeated fields."""
        form = []
        for (section, key), value in sorted(changes.items()):
            field = "settings-%s-%s" % (section, key)
            values = value if isinstance(value, (list, tuple)) else [value]
            form.extend((field, form_value(v)) for v in values)
        self._call("POST", SETTINGS, form=form, expect=(200, 204))
