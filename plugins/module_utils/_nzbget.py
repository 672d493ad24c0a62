# -*- coding: utf-8 -*-
# Copyright: monsterr.mediaserver developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""NZBGet JSON-RPC client on the shared HttpClient (private).

``POST /jsonrpc`` with HTTP Basic (``ControlUsername``/``ControlPassword``), positional params only.
``saveconfig`` rewrites nzbget.conf and DROPS every option line it is not sent, so a write always sends the
whole option list read by ``loadconfig`` with the changed entries replaced; ``reload`` makes it take effect.
The category and news-server options are numbered (``Category1.Name``, ``Category1.DestDir``, ...).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible_collections.monsterr.mediaserver.plugins.module_utils._http import LIST_OF_DICTS, ApiError, HttpClient, shorten

RPC = "/jsonrpc"
CATEGORY_OPTION = re.compile(r"^Category(\d+)\.(\w+)$")
CATEGORY_FIELDS = ("Name", "DestDir", "Unpack", "Extensions", "Aliases")
# What NZBGet assumes for a category field that has no line in the file.
CATEGORY_DEFAULTS = {"DestDir": "", "Unpack": "yes", "Extensions": "", "Aliases": ""}


def is_secret_option(name):
    """ControlPassword, RestrictedPassword, AddPassword, ServerN.Password, ..."""
    return name.endswith("Password")


class NzbgetClient(object):
    def __init__(self, url, username, password, validate_certs=True, timeout=30, sleep=None):
        # HTTP Basic: the client sends the header itself and counts its token among the secrets.
        self.http = HttpClient("nzbget", url, timeout=timeout, validate_certs=validate_certs,
                               basic_auth=(username, password), sleep=sleep)
        self.username = username
        self._id = 0

    @classmethod
    def from_module(cls, module):
        p = module.params
        return cls(p["url"], p["username"], p["password"], validate_certs=p["validate_certs"], timeout=p["timeout"])

    @property
    def requests(self):
        return self.http.requests

    def call(self, method, *params, **kwargs):
        """One JSON-RPC call; a JSON-RPC error becomes ApiError naming the RPC method. ``shape`` (keyword): what
        the result must be."""
        shape = kwargs.pop("shape", None)
        self._id += 1
        path = "%s (%s)" % (RPC, method)
        try:
            response = self.http.request("POST", RPC, json_body={"method": method, "params": list(params), "id": self._id})
        except ApiError as exc:
            if exc.status == 401:
                raise exc.replace(path=path, reason="wrong ControlUsername/ControlPassword for user '%s'" % self.username)
            raise exc.replace(path=path)
        response.path = path
        body = response.json(dict)
        if body.get("error"):
            error = body["error"]
            message = error.get("message") if isinstance(error, dict) else error
            raise self.http.error("POST", path, response.status, str(message))
        result = body.get("result")
        if shape == LIST_OF_DICTS:
            fits = isinstance(result, list) and all(isinstance(o, dict) and "Name" in o and "Value" in o for o in result)
        else:
            fits = shape is None or isinstance(result, shape)
        if not fits:
            raise response.fail("answer has the wrong shape: the result of %s is %s" % (method, shorten(str(result), 100)))
        return result

    def wait_until_ready(self, timeout):
        if timeout and timeout > 0:
            self.http.poll(self.version, timeout)

    def version(self):
        return self.call("version")

    def loadconfig(self):
        """The options as written in nzbget.conf (``${MainDir}`` unexpanded), in file order: [(name, value)]."""
        return [(o["Name"], o["Value"]) for o in self.call("loadconfig", shape=LIST_OF_DICTS)]

    def config(self):
        """The running options (expanded, command-line overrides included): [(name, value)]."""
        return [(o["Name"], o["Value"]) for o in self.call("config", shape=LIST_OF_DICTS)]

    def saveconfig(self, options):
        """Write the WHOLE option list [(name, value)]; options left out are dropped from the file."""
        # "Name" must come before "Value" in each object: NZBGet reads them by position.
        ok = self.call("saveconfig", [dict([("Name", n), ("Value", v)]) for n, v in options])
        if ok is not True:
            raise self.http.error("POST", "%s (saveconfig)" % RPC, 200, "NZBGet refused to write its config file "
                                  "(result %r); check that nzbget.conf is writable by NZBGet" % (ok,))

    def reload(self):
        return self.call("reload")


def split_categories(options):
    """Category options -> ([{field: value}] ordered by number, the other options in file order)."""
    numbered = {}
    others = []
    for name, value in options:
        match = CATEGORY_OPTION.match(name)
        if match:
            numbered.setdefault(int(match.group(1)), {})[match.group(2)] = value
        else:
            others.append((name, value))
    return [numbered[n] for n in sorted(numbered)], others


def join_categories(categories):
    """[{field: value}] -> numbered options Category1.Name ... (fields in NZBGet's order, unknown ones after)."""
    options = []
    for number, category in enumerate(categories, 1):
        fields = [f for f in CATEGORY_FIELDS if f in category] + sorted(f for f in category if f not in CATEGORY_FIELDS)
        for field in fields:
            options.append(("Category%d.%s" % (number, field), category[field]))
    return options
