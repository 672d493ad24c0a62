# -*- coding: utf-8 -*-
# Copyright: monsterr.mediaserver developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The typed schema of a catalog entry (roles/catalog/services/<app>.yml), at every depth.

One schema checks the shipped entries (tests/unit) and the household's catalog_overrides (preflight, through
catalog_problems): an unknown key anywhere (``proxy: {subdomian: tv}``), a wrong type (``port: "8989a"``) or
a value out of range (``port: 0``) is one problem naming the path, the value and the fix.

A field is ``Field(kind, ...)``; kinds: str, int, bool, list, dict (fixed keys), map (free keys, one value
schema), any (one of several schemas).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible.module_utils.common._collections_compat import Mapping
from ansible.module_utils.six import integer_types, string_types


class Field(object):
    def __init__(self, kind, doc="", keys=None, values=None, elements=None, choices=None, pattern=None,
                 minimum=None, maximum=None, options=None, required=(), example=None, derived=False):
        self.kind = kind
        self.doc = doc
        self.keys = keys or {}
        self.values = values
        self.elements = elements
        self.choices = choices
        self.pattern = re.compile(pattern) if pattern else None
        self.minimum = minimum
        self.maximum = maximum
        self.options = options or []
        self.required = tuple(required)
        self.example = example
        self.derived = derived     # set by catalog_resolve, never written by hand

    def describe(self):
        if self.kind == "any":
            return " or ".join(option.describe() for option in self.options)
        if self.kind == "list":
            return "a list of %s" % (self.elements.describe() if self.elements else "values")
        if self.kind in ("dict", "map"):
            return "a dict"
        if self.choices:
            return "one of %s" % ", ".join("%s" % c for c in self.choices)
        if self.kind == "int" and self.minimum is not None:
            return "a whole number from %s to %s" % (self.minimum, self.maximum)
        return {"str": "a string", "int": "a whole number", "bool": "true or false"}.get(self.kind, self.kind)


def _s(doc="", **kw):
    return Field("str", doc, **kw)


def _port(doc="", zero=False):
    return Field("int", doc, minimum=0 if zero else 1, maximum=65535, example=8080)


def _strings(doc="", **kw):
    return Field("list", doc, elements=_s(**kw))


_LABEL = r"^(?!-)[a-z0-9-]{1,63}(?<!-)$"
_DURATION = r"^([0-9]+(ns|us|ms|s|m|h))+$"

SECRET = Field("dict", "a secret the service needs", keys={
    "generate": _s("format of a generated value: hex, alnum or base64, with an optional minimum length (hex32)",
                   pattern=r"^(hex|alnum|base64)_?[0-9]*$"),
    "pattern": _s("a regular expression every consumer of the secret accepts; vault values and stored files must match"),
    "env": _s("environment variable of the container that receives it", pattern=r"^[A-Za-z_][A-Za-z0-9_]*$"),
    "value": _s("a value the household gives (from its vault)"),
    "variable": _s("the inventory variable that gives the value", pattern=r"^[a-z_][a-z0-9_]*$"),
    "required": Field("bool", "the service cannot start without it"),
    "description": _s("what it is for"),
})

ENTRY = Field("dict", "a catalog entry", required=("image",), keys={
    "name": _s("the service name (the file name)", derived=True),
    "description": _s("one line: what the service does"),
    "group": _s("dashboard group", example="media"),
    "image": _s("<registry>/<name>:<version> or @sha256:<64 hex>", example="lscr.io/linuxserver/sonarr:4.0.19"),
    "command": Field("list", "arguments of the container", elements=Field("any", options=[_s(), Field("int")])),
    "user_env": Field("bool", "the image takes PUID, PGID, TZ and UMASK"),
    "user": Field("any", "run the container as this uid[:gid]", options=[_s(), Field("int")]),
    "port": _port("the port the service listens on inside its container"),
    "environment": Field("map", "NAME: value", values=Field(
        "any", options=[_s(), Field("int"), Field("bool"), Field("float"), Field("null")])),
    "volumes": Field("list", "bind mounts", elements=Field("dict", required=("source", "target"), keys={
        "source": _s("config, config:<sub>, data or an absolute path"),
        "target": _s("path inside the container", pattern=r"^/"),
        "read_only": Field("bool"),
        "owner": Field("any", options=[_s(), Field("int")]),
        "group": Field("any", options=[_s(), Field("int")]),
        "mode": _s("octal, quoted", pattern=r"^0?[0-7]{3,4}$"),
    })),
    "publish": Field("list", "ports published on the host", elements=Field("dict", required=("host_port", "container_port"), keys={
        "host_port": _port(), "container_port": _port(), "protocol": _s(choices=("tcp", "udp")),
    })),
    "read_only": Field("bool", "read-only root filesystem"),
    "tmpfs": _strings("tmpfs mounts"),
    "capabilities": _strings("added Linux capabilities", pattern=r"^[A-Z_]+$"),
    "networks": _strings("extra networks"),
    "healthcheck": Field("dict", "how Docker probes the service", keys={
        "test": Field("any", options=[Field("list", elements=_s()), _s()]),
        "interval": _s(pattern=_DURATION), "timeout": _s(pattern=_DURATION), "start_period": _s(pattern=_DURATION),
        "start_interval": _s(pattern=_DURATION), "retries": Field("int", minimum=1, maximum=1000),
    }),
    "proxy": Field("dict", "served by the proxy at <subdomain>.<household_domain>", keys={
        "subdomain": _s("a DNS label", pattern=_LABEL, example="tv"),
        "auth": _s(choices=("two_factor", "one_factor", "bypass", "none")),
        "groups": _strings("sign-on groups allowed"),
        "websocket": Field("bool"),
        "bypass_paths": _strings("URL path prefixes the app protects itself", pattern=r"^/"),
        "upstream_port": _port(),
        "client_max_body_size": _s(pattern=r"^[0-9]+[kKmMgG]?$"),
        "frame_ancestors": _strings(),
        "host": _s(derived=True), "url": _s(derived=True),
    }),
    "api": Field("dict", "how the wiring modules talk to the service", keys={
        "kind": _s(), "app": _s(), "version": _s(), "url_base": _s(pattern=r"^(/[A-Za-z0-9._~-]+)*$"), "username": _s(),
    }),
    "secrets": Field("map", "name: secret spec", values=SECRET, example="api_key"),
    "seeds": Field("list", "files written once before the first start", elements=Field("dict", required=("template", "dest"), keys={
        "template": _s(), "dest": _s(),
    })),
    "metrics": Field("dict", "what Prometheus scrapes", keys={
        "exporter": _s(choices=("builtin", "exportarr", "none")), "image": _s(), "port": _port(), "path": _s(pattern=r"^/"),
    }),
    "backup": Field("any", "what the backup saves", options=[Field("bool"), Field("dict", keys={
        "enabled": Field("bool"), "paths": _strings(), "exclude": _strings(), "stop": Field("bool"),
    })]),
    "dashboard": Field("dict", "the dashboard tile", keys={"icon": _s(), "widget": _s(), "description": _s()}),
    "wiring": _s("how the wiring layer connects it"),
    "depends_on": _strings("services that must run first (compose depends_on)"),
    "requires": _strings("services that must be enabled with it (no start order)"),
    "links": Field("list", "environment the service gets per enabled app it supports", elements=Field("dict", keys={
        "kind": _s("the api.kind of the apps it links to"),
        "apps": _strings("the api.app names it supports"),
        "environment": Field("map", "NAME: value with {APP}, {INDEX}, {url}, {secret:<name>}, {data}", values=_s()),
    })),
    "opt_in": Field("bool", "not in the default household"),
    "deprecated": _s("why the service is no longer recommended; preflight warns when it is enabled"),
    "address": Field("int", "fixed host number of the container inside the stack network's subnet", minimum=2, maximum=254),
    "address_env": Field("map", "NAME: service whose fixed address the variable receives", values=_s()),
    "internal_url": _s("how the other containers reach it", pattern=r"^(https?://\S+)?$"),
    "host_port": _port("127.0.0.1 port for tools on the host; 0 for none", zero=True),
    "host_url": _s("how tools on the host reach it (default http://127.0.0.1:<host_port>)"),
    "host_loopback": Field("bool", derived=True),
    "appdata": _s(derived=True),
})


def _kind_ok(value, kind):
    if kind == "str":
        return isinstance(value, string_types)
    if kind == "int":
        if isinstance(value, bool):
            return False
        return isinstance(value, integer_types) or (isinstance(value, string_types) and re.match(r"^[0-9]+$", value or "") is not None)
    if kind == "bool":
        return isinstance(value, bool)
    if kind == "float":
        return isinstance(value, float)
    if kind == "null":
        return value is None
    if kind == "list":
        return isinstance(value, (list, tuple))
    if kind in ("dict", "map"):
        return isinstance(value, Mapping)
    return True


def _templated(value):
    return isinstance(value, string_types) and "{{" in value


def validate(value, field, path, raw=False, partial=False):
    """[(path, value, what is wrong, fix)] for value against field. raw: shipped YAML, where "{{ }}" stands for
    a value Ansible fills in. partial: an override, merged over an entry, so required keys may be missing."""
    if raw and _templated(value):
        return []
    if field.kind == "any":
        found = [validate(value, option, path, raw, partial) for option in field.options]
        if any(not f for f in found):
            return []
        matching = [f for f, option in zip(found, field.options) if _kind_ok(value, option.kind)]
        return matching[0] if matching else [(path, value, "is not %s" % field.describe(), "give %s" % field.describe())]
    if not _kind_ok(value, field.kind):
        fix = "give %s" % field.describe()
        if field.example is not None and field.kind != "map":
            fix += ", e.g. %s" % field.example
        return [(path, value, "is not %s" % field.describe(), fix)]
    out = []
    if field.kind == "int" and field.minimum is not None and not field.minimum <= int(value) <= field.maximum:
        out.append((path, value, "is outside %s..%s" % (field.minimum, field.maximum),
                    "give %s" % field.describe() + (" (0 is not a port)" if field.minimum == 1 else "")))
    if field.kind == "str":
        if field.choices and value not in field.choices:
            out.append((path, value, "is not one of %s" % ", ".join(field.choices), "use one of %s" % ", ".join(field.choices)))
        elif field.pattern and not field.pattern.search(value):
            out.append((path, value, "is not %s" % (field.doc or "in the expected form"),
                        "match %s%s" % (field.pattern.pattern, ", e.g. %s" % field.example if field.example else "")))
    if field.kind == "list":
        for index, item in enumerate(value):
            out.extend(validate(item, field.elements, "%s[%d]" % (path, index), raw, partial))
    if field.kind == "map":
        for key in sorted(value, key=str):
            out.extend(validate(value[key], field.values, "%s.%s" % (path, key), raw, partial))
    if field.kind == "dict":
        known = sorted(field.keys)
        for key in sorted(value, key=str):
            if key not in field.keys:
                out.append(("%s.%s" % (path, key), value[key], "is not a field of %s" % path.split(".")[-1].split("[")[0],
                            _did_you_mean(key, known) + "use one of " + ", ".join(k for k in known if not field.keys[k].derived)))
            else:
                out.extend(validate(value[key], field.keys[key], "%s.%s" % (path, key), raw, partial))
        if not partial:
            for key in field.required:
                if key not in value:
                    out.append(("%s.%s" % (path, key), None, "is missing", "give %s" % field.keys[key].describe()))
    return out


def _did_you_mean(key, known):
    import difflib
    close = difflib.get_close_matches("%s" % key, known, n=1, cutoff=0.6)
    return "did you mean %s? " % close[0] if close else ""


def entry_problems(name, entry, raw=False, partial=False, prefix=None):
    """Schema problems of one catalog entry (or one override when partial) as (path, value, reason, fix)."""
    return validate(entry, ENTRY, prefix or name, raw=raw, partial=partial)


def reference():
    """The field reference (markdown lines) generated from the schema."""
    lines = []

    def walk(field, path):
        for key in sorted(field.keys):
            sub = field.keys[key]
            if sub.derived:
                continue
            lines.append("| `%s` | %s | %s |" % (path + key, sub.describe(), sub.doc))
            if sub.kind == "dict":
                walk(sub, path + key + ".")
            if sub.kind == "list" and sub.elements is not None and sub.elements.kind == "dict":
                walk(sub.elements, path + key + "[].")
            if sub.kind == "map" and sub.values is not None and sub.values.kind == "dict":
                walk(sub.values, path + key + ".<name>.")
    walk(ENTRY, "")
    return ["| field | type | meaning |", "| --- | --- | --- |"] + lines
