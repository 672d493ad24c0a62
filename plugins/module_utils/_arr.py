# -*- coding: utf-8 -*-
# Copyright: monsterr.mediaserver developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The Servarr client (Sonarr, Radarr, Lidarr, Readarr, Prowlarr) of the wiring modules (private).

Built on _http.HttpClient: base URL including the app's URL base, the X-Api-Key header (a secret, never
in a message), the API generation per app, a wait for an app that is still starting (/ping, then
system/status with the key), CRUD for one resource kind, and the provider logic every provider module
shares: build the wanted provider from the app's own /schema entry, overlay the user's fields by name
(unknown names and wrong types fail before anything is written), merge onto the existing provider found by
name (the apps reset omitted fields, so the whole object is always sent), compare only what the user set,
and treat masked secrets as equal unless update_secrets=always.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy

from ansible.module_utils.six import string_types
from ansible_collections.monsterr.mediaserver.plugins.module_utils._http import LIST_OF_DICTS, ApiError, HttpClient
from ansible_collections.monsterr.mediaserver.plugins.module_utils._http import sleep as _sleep
from ansible_collections.monsterr.mediaserver.plugins.module_utils._module import ARR_APPS, InputError
from ansible_collections.monsterr.mediaserver.plugins.module_utils._resource import HIDDEN, changes, redact

APP_API = {"sonarr": "v3", "radarr": "v3", "lidarr": "v1", "readarr": "v1", "prowlarr": "v1"}
MEDIA_APPS = ("lidarr", "radarr", "readarr", "sonarr")
SECRET_PRIVACY = ("password", "apiKey")
UPDATE_SECRETS = ("always", "on_create")
TRUE_STRINGS = ("true", "yes", "on", "1")
FALSE_STRINGS = ("false", "no", "off", "0")


class ArrInputError(InputError):
    """Bad input found before anything was written: the message names the item and what to do."""


def single_item_options(item_options, key):
    """A list module's options for one item at the top level: the list item's options with ``key`` (which
    identifies the item) no longer required, since list mode leaves it out."""
    options = dict(item_options)
    options[key] = dict(item_options[key], required=False)
    return options


class ArrClient(object):
    """Requests against one Servarr app.

    :arg app: sonarr, radarr, lidarr, readarr or prowlarr (decides /api/v3 or /api/v1).
    :arg url: scheme, host, port and URL base, e.g. ``http://127.0.0.1:8989/sonarr``.
    :arg wait_timeout: seconds to wait for an app that is starting or not up yet (0: do not wait).
    """

    def __init__(self, app, url, api_key, timeout=30, validate_certs=True, wait_timeout=120, retries=3, sleep=None):
        if app not in APP_API:
            raise ArrInputError("app: '%s' is not a Servarr app; use one of %s" % (app, ", ".join(ARR_APPS)))
        self.app = app
        self.url = url.rstrip("/")
        self.prefix = "/api/" + APP_API[app]
        self.wait_timeout = max(0, int(wait_timeout or 0))
        self.sleep = sleep or _sleep
        self.http = HttpClient(app, self.url, headers={"X-Api-Key": api_key, "Accept": "application/json"},
                               timeout=timeout, retries=retries, validate_certs=validate_certs, secrets=[api_key],
                               sleep=self.sleep)
        self.counts = {}
        self._ready = False
        self._schemas = {}

    @classmethod
    def from_module(cls, module):
        p = module.params
        return cls(p["app"], p["url"], p["api_key"], timeout=p["timeout"], validate_certs=p["validate_certs"],
                   wait_timeout=p["wait_timeout"])

    # ---- transport
    @property
    def requests(self):
        return self.http.requests

    @property
    def reads(self):
        return sum(n for m, n in self.counts.items() if m in ("GET", "HEAD"))

    @property
    def writes(self):
        return sum(n for m, n in self.counts.items() if m not in ("GET", "HEAD"))

    def _send(self, method, path, body=None, params=None, shape=None):
        self.counts[method] = self.counts.get(method, 0) + 1
        response = self.http.request(method, path, params=params, json_body=body)
        return response.json(shape) if response.raw or shape is not None else None

    def _refused(self, exc):
        if exc.status == 401:
            return exc.replace(reason="the API key was rejected; give the key of this %s instance" % self.app)
        return exc

    def call(self, method, path, body=None, params=None, shape=None):
        """One API request; on the first request, an app that is down or starting is waited for.

        ``shape``: what the answer must be (dict, list, LIST_OF_DICTS), else ApiError.
        """
        try:
            result = self._send(method, path, body, params, shape)
        except ApiError as exc:
            if self._ready or not self.wait_timeout or not exc.transient:
                raise self._refused(exc)
            self.wait_until_ready()
            result = self._send(method, path, body, params, shape)
        self._ready = True
        return result

    def wait_until_ready(self):
        """Poll /ping until 200, then system/status with the key until 200 (reference §1.3)."""
        for path in ("/ping", self.prefix + "/system/status"):
            try:
                self.http.poll(lambda path=path: self._send("GET", path), self.wait_timeout)
            except ApiError as exc:
                raise self._refused(exc)
        self._ready = True

    def path(self, kind, ident=None):
        path = "%s/%s" % (self.prefix, kind)
        return path if ident is None else "%s/%s" % (path, ident)

    # ---- resources
    def list(self, kind):
        return self.call("GET", self.path(kind), shape=LIST_OF_DICTS)

    def get(self, kind, ident=None, shape=dict):
        return self.call("GET", self.path(kind, ident), shape=shape)

    def create(self, kind, body, force_save=False):
        return self.call("POST", self.path(kind), body, {"forceSave": "true"} if force_save else None, shape=dict)

    def update(self, kind, ident, body, force_save=False):
        return self.call("PUT", self.path(kind, ident), body, {"forceSave": "true"} if force_save else None,
                         shape=dict)

    def save(self, kind, current, body):
        """Update ``current`` (a resource read from the app) with ``body``, or create it when there is none."""
        return self.update(kind, current["id"], body) if current else self.create(kind, body)

    def delete(self, kind, ident):
        return self.call("DELETE", self.path(kind, ident))

    def schema(self, kind):
        """The app's templates for a provider kind (``/<kind>/schema``), read once per client."""
        if kind not in self._schemas:
            self._schemas[kind] = self.call("GET", self.path(kind) + "/schema", shape=LIST_OF_DICTS)
        return self._schemas[kind]


# ------------------------------------------------------------------------------------------------
# Provider helpers

def find_by_name(items, name):
    """The item whose name matches case-insensitively (names are unique that way in the apps)."""
    for item in items or []:
        if str(item.get("name", "")).lower() == name.lower():
            return item
    return None


def find_template(templates, wanted, what, keys=("implementation",)):
    """The schema entry whose ``keys`` value equals ``wanted`` (case-insensitive), or ArrInputError."""
    for key in keys:
        for template in templates:
            if str(template.get(key) or "").lower() == wanted.lower():
                return template
    valid = sorted(set(str(t.get(keys[0])) for t in templates if t.get(keys[0])))
    raise ArrInputError("%s: unknown %s '%s'; the app offers: %s" % (what, keys[0], wanted, ", ".join(valid)))


def is_secret(field):
    """A secret field: privacy password/apiKey; Readarr 0.3 has no privacy, so its password fields and API keys."""
    if "privacy" in field:
        return field["privacy"] in SECRET_PRIVACY
    return field.get("type") == "password" or str(field.get("name", "")).lower() in ("password", "apikey")


def _field_kind(field):
    default = field.get("value")
    ftype = field.get("type")
    if isinstance(default, list) or ftype in ("tag", "tagSelect"):
        return "list"
    if ftype == "checkbox" or isinstance(default, bool):
        return "bool"
    if field.get("isFloat"):
        return "float"
    if ftype == "number" or isinstance(default, int) or ftype == "select" and not field.get("selectOptionsProviderAction"):
        return "int"
    if ftype in ("keyValueList", "device", "oAuth", "captcha", "action", "info"):
        return "any"
    return "str"


def _option_value(field, value):
    """A select value given as the option's value or its name (case-insensitive)."""
    for option in field.get("selectOptions") or []:
        if isinstance(value, string_types) and str(option.get("name", "")).lower() == value.strip().lower():
            return option["value"]
    return value


def coerce_field(field, value, what):
    """The user's ``value`` in the type the app's schema entry wants, or ArrInputError naming the field."""
    kind = _field_kind(field)
    name = field["name"]

    def wrong(expected):
        return ArrInputError("%s: field '%s' expects %s, got %r (%s)" % (what, name, expected, value, type(value).__name__))

    if kind == "bool":
        if isinstance(value, bool):
            return value
        if isinstance(value, string_types) and value.strip().lower() in TRUE_STRINGS + FALSE_STRINGS:
            return value.strip().lower() in TRUE_STRINGS
        raise wrong("a boolean")
    if kind in ("int", "float"):
        value2 = _option_value(field, value)
        if isinstance(value2, bool):
            raise wrong("an integer")
        if isinstance(value2, string_types):
            try:
                value2 = float(value2) if kind == "float" else int(value2.strip())
            except ValueError:
                raise wrong("a number" if kind == "float" else "an integer")
        if kind == "int" and isinstance(value2, float) and value2.is_integer():
            value2 = int(value2)
        if not isinstance(value2, (int, float)) or kind == "int" and not isinstance(value2, int):
            raise wrong("a number" if kind == "float" else "an integer")
        options = [o.get("value") for o in field.get("selectOptions") or []]
        if options and value2 not in options:
            names = ", ".join("%s (%s)" % (o.get("value"), o.get("name")) for o in field["selectOptions"])
            raise ArrInputError("%s: field '%s' must be one of %s, got %r" % (what, name, names, value))
        return value2
    if kind == "list":
        items = value
        if isinstance(items, string_types):
            items = [v.strip() for v in items.split(",") if v.strip()]
        if not isinstance(items, list):
            raise wrong("a list of integers")
        out = []
        for item in items:
            item = _option_value(field, item)
            try:
                if isinstance(item, bool):
                    raise ValueError()
                out.append(int(item))
            except (TypeError, ValueError):
                raise wrong("a list of integers")
        return out
    if kind == "str":
        if isinstance(value, bool) or isinstance(value, (list, dict)):
            raise wrong("a string")
        if isinstance(value, (int, float)):
            return str(value)
        return value
    return value


def check_fields(field_defs, user_fields, what, implementation):
    """Validate the user's fields against the app's field definitions; return them coerced."""
    defs = dict((f["name"], f) for f in field_defs)
    unknown = sorted(set(user_fields) - set(defs))
    if unknown:
        raise ArrInputError("%s: unknown field%s %s for implementation %s; valid names: %s"
                            % (what, "s" if len(unknown) > 1 else "", ", ".join("'%s'" % u for u in unknown),
                               implementation, ", ".join(f["name"] for f in field_defs)))
    out = {}
    for name, value in user_fields.items():
        if value is None:
            continue
        out[name] = coerce_field(defs[name], value, what)
    return out


def fields_view(obj):
    return dict((f["name"], f.get("value")) for f in (obj or {}).get("fields") or [])


def secret_names(obj):
    return [f["name"] for f in (obj or {}).get("fields") or [] if is_secret(f)]


def provider_view(obj, top_keys):
    """What a diff shows of a provider: name, implementation, the managed top-level keys, fields by name."""
    if not obj:
        return {}
    view = dict((k, obj.get(k)) for k in ("name", "implementation") + tuple(top_keys) if k in obj)
    if isinstance(view.get("tags"), list):
        view["tags"] = sorted(view["tags"])
    view["fields"] = fields_view(obj)
    return view


def _sorted_lists(values, field_defs):
    out = dict(values)
    for name, value in values.items():
        if isinstance(value, list) and _field_kind(field_defs.get(name, {})) == "list":
            try:
                out[name] = sorted(value)
            except TypeError:
                pass
    return out


class ProviderManager(object):
    """Present/absent for one named provider of one kind (download client, application, indexer).

    :arg kind: the API resource, e.g. ``downloadclient``.
    :arg what: how messages name the item, e.g. ``download client 'qBittorrent'``.
    :arg match: keys of a schema entry that ``implementation`` is matched against (indexers: definitionName).
    :arg enable_key: (key, off value) that makes the app skip its save-time test (§1.6).
    :arg required_on_create: (field, option) pairs that must be given to create one.
    """

    def __init__(self, client, kind, name, what, match=("implementation",), enable_key=("enable", False),
                 required_on_create=(), module=None):
        self.module = module
        self.required_on_create = required_on_create
        self.client = client
        self.kind = kind
        self.name = name
        self.what = what
        self.match = match
        self.enable_key = enable_key

    def _identity(self, obj):
        for key in self.match:
            if obj.get(key):
                return str(obj[key]).lower()
        return ""

    def run(self, state, implementation=None, top=None, fields=None, update_secrets="on_create",
            force_save=False, check_mode=False, items=None):
        """Plan, then (unless ``check_mode``) write; ``items``: the kind's list when the caller already read it."""
        result, action = self.plan(state, implementation, top, fields, update_secrets, items)
        if action is not None and not check_mode:
            self.apply(result, action, force_save)
        return result

    def plan(self, state, implementation=None, top=None, fields=None, update_secrets="on_create", items=None):
        """(result, action): what differs, with every input checked; nothing is written.

        ``action`` is None when nothing is to be written, else what apply() does: ("delete", current) or
        ("save", current, wanted, replace).
        """
        top = dict((k, v) for k, v in (top or {}).items() if v is not None)
        if isinstance(top.get("tags"), list):
            top["tags"] = sorted(set(top["tags"]))
        fields = dict((k, v) for k, v in (fields or {}).items() if v is not None)
        current = find_by_name(self.client.list(self.kind) if items is None else items, self.name)
        result = dict(changed=False, diff=dict(before={}, after={}))
        top_keys = tuple(sorted(top))

        if state == "absent":
            if current:
                result["changed"] = True
                result["diff"] = dict(before=redact(provider_view(current, top_keys), secret_names(current)), after={})
                return result, ("delete", current)
            return result, None

        if not implementation:
            if not current:
                raise ArrInputError("%s: implementation is required to create it" % self.what)
            implementation = current.get(self.match[0]) or current.get("implementation")
        replace = bool(current) and self._identity(current) != implementation.lower() and \
            str(current.get("implementation") or "").lower() != implementation.lower()

        # Field definitions: the current object carries them; the schema only when needed.
        template = None
        if current and not replace and set(fields) <= set(fields_view(current)):
            field_defs = current["fields"]
        else:
            template = find_template(self.client.schema(self.kind), implementation, self.what, self.match)
            field_defs = template["fields"]
        base_for_keys = template if template is not None else current
        unknown_top = sorted(k for k in top if k not in base_for_keys and k != "tags")
        if unknown_top:
            raise ArrInputError("%s: %s does not have %s; this app offers: %s"
                                % (self.what, self.client.app, ", ".join(unknown_top),
                                   ", ".join(sorted(k for k in base_for_keys if k not in ("fields", "presets", "id")))))
        defs = dict((f["name"], f) for f in field_defs)
        secrets = [n for n, f in defs.items() if is_secret(f)]
        if self.module is not None:
            protect(self.module, fields, secrets)
        fields = check_fields(field_defs, fields, self.what, implementation)

        if current and not replace:
            found = changes(dict(current, tags=sorted(current.get("tags") or [])), top)
            found.update(("fields." + k, v) for k, v in changes(
                _sorted_lists(fields_view(current), defs), _sorted_lists(fields, defs), secrets=secrets,
                update_secrets=update_secrets == "always").items())
            wanted = self._merge(current, template, top, fields)
        else:
            missing = [option for field, option in self.required_on_create if fields.get(field) in (None, "")]
            if missing:
                raise ArrInputError("%s: %s is required to create it" % (self.what, ", ".join(missing)))
            found = {"created": True}
            wanted = self._merge(None, template, top, fields)
            wanted["name"] = self.name

        view_after = provider_view(wanted, top_keys)
        hide = secrets + ["apiKey", "password"]
        result["diff"] = dict(before=redact(provider_view(current, top_keys), hide),
                              after=redact(view_after, hide))
        if current and not replace and not found:
            result[self.kind] = hide_secrets(current)
            return result, None
        result["changed"] = True
        result["changes"] = sorted(found)
        return result, ("save", current, wanted, replace)

    def writer(self, result, action, force_save=False):
        """A callable doing apply() later (see write_planned), or None when there is nothing to write."""
        if action is None:
            return None

        def write():
            return self.apply(result, action, force_save)
        return write

    def apply(self, result, action, force_save=False):
        """Write what plan() found (``result`` gets the saved object)."""
        if action[0] == "delete":
            self.client.delete(self.kind, action[1]["id"])
            return result
        _op, current, wanted, replace = action
        if replace:
            self.client.delete(self.kind, current["id"])
            current = None
        if current:
            saved = self.client.update(self.kind, current["id"], wanted, force_save=force_save)
        else:
            saved = self._create(wanted, force_save)
        result[self.kind] = hide_secrets(saved)
        return result

    def _merge(self, current, template, top, fields):
        if current:
            wanted = copy.deepcopy(current)
        else:
            wanted = copy.deepcopy(template)
            for key in ("presets", "id", "message"):
                wanted.pop(key, None)
        have = dict((f["name"], f) for f in wanted.get("fields") or [])
        merged = []
        for tfield in (template or wanted)["fields"]:
            merged.append(copy.deepcopy(have.get(tfield["name"], tfield)))
        names = set(f["name"] for f in merged)
        merged += [f for f in wanted.get("fields") or [] if f["name"] not in names]
        for field in merged:
            if field["name"] in fields:
                field["value"] = fields[field["name"]]
        wanted["fields"] = merged
        wanted.update(copy.deepcopy(top))
        return wanted

    def _create(self, wanted, force_save):
        key, off = self.enable_key
        if force_save and wanted.get(key, off) != off:
            # The app tests an enabled provider on create and forceSave does not skip a failing test; a
            # disabled one is not tested. Create it disabled, then switch it on with a forced (untested) save.
            first = dict(wanted, **{key: off})
            created = self.client.create(self.kind, first, force_save=True)
            return self.client.update(self.kind, created["id"], dict(wanted, id=created["id"]), force_save=True)
        return self.client.create(self.kind, wanted, force_save=force_save)


def duplicates(keys, what):
    """ArrInputError when a list option names one item twice (compared case-insensitively, as the apps do)."""
    seen = [str(k).lower() for k in keys]
    twice = sorted(set(k for k in seen if seen.count(k) > 1))
    if twice:
        raise ArrInputError("%s: %s listed more than once" % (what, ", ".join("'%s'" % k for k in twice)))


def write_planned(planned, check_mode):
    """The writes of items planned beforehand, in order (none in check mode).

    ``planned``: [(key, what, result, write)] where ``write`` is a callable doing the item's writes, or None when
    nothing differs. Every item was planned (and its input checked) before this runs, so bad input in one item
    never leaves the others half-written. An API error names the item it happened on.
    """
    if check_mode:
        return
    for _key, what, _result, write in planned:
        if write is None:
            continue
        try:
            write()
        except ApiError as exc:
            raise exc.replace(reason="%s: %s" % (what, exc.reason))


def batch_result(planned, list_key):
    """One module result for a list of items: changed if any is, the diff keyed by item, the items' results."""
    results = [result for _key, _what, result, _write in planned]
    return {"changed": any(r.get("changed") for r in results),
            "diff": {"before": dict((key, r["diff"]["before"]) for key, _w, r, _x in planned if r["diff"]["before"]),
                     "after": dict((key, r["diff"]["after"]) for key, _w, r, _x in planned if r["diff"]["after"])},
            list_key: results}


SECRET_HINTS = ("password", "apikey", "api_key", "token", "secret", "cookie", "passkey")


def protect(module, fields, names=()):
    """Keep secret field values out of the module's output (its invocation echoes ``fields``).

    Names that look secret are protected up front; ``names`` adds those the app's schema marks as secret.
    """
    for name, value in (fields or {}).items():
        if value in (None, "") or not isinstance(value, (string_types, int)) or isinstance(value, bool):
            continue
        if name in names or any(hint in str(name).lower() for hint in SECRET_HINTS):
            module.no_log_values.add(str(value))


def strip_trailing(path):
    return path.rstrip("/") or "/" if isinstance(path, string_types) else path


def with_trailing(path):
    return path if not isinstance(path, string_types) or path.endswith("/") else path + "/"


def hide_secrets(obj):
    """A copy of a provider for return values: every non-empty secret field's value hidden (Readarr sends them in clear)."""
    if not obj:
        return obj
    obj = copy.deepcopy(obj)
    for field in obj.get("fields") or []:
        if is_secret(field) and field.get("value") not in (None, ""):
            field["value"] = HIDDEN
    return obj
