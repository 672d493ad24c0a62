#!/usr/bin/env python3
# -*- coding: utf-8 -*-
# Copyright: monsterr.mediaserver developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A test double of one Servarr app (Sonarr, Radarr, Lidarr, Readarr or Prowlarr), standard library only.

A real, threaded HTTP server on loopback that behaves like the app where the wiring modules can trip
(facts from ../shared/reference/media-apps-api.md, "reference" below):

- ``{urlBase}/ping`` is anonymous; every ``/api`` route needs ``X-Api-Key`` (or ``?apikey=``): 401
  without it or with a wrong key, even for ``/schema`` and even while starting (§1.2, §1.3).
  A request without the URL base gets 307 to the prefixed path (§1.1).
- An optional starting-up phase: the first N requests answer 503 (§1.3).
- ``/<kind>/schema`` comes from the project's synthesized fixtures (tests/fixtures/contracts/synthesized/*.synth.json,
  provenance in SOURCES.md there): Sonarr and Radarr download
  clients, Prowlarr applications. DERIVED here (no upstream fixture exists): Lidarr and Readarr download
  clients from the Sonarr one, renaming the category/priority fields per §1.8 (Lidarr music*, Readarr
  musicCategory + recentTvPriority/olderTvPriority, no qBittorrent apiKey outside Sonarr); Prowlarr
  download clients likewise (category, priority; categories mapping, no remove* flags); the Prowlarr
  indexer schema is hand-written from §2.2 (Newznab, Torznab and one Cardigann definition, 1337x).
- Secrets (``privacy`` password/apiKey) are returned as ``********`` (not by Readarr, §1.5.5); a PUT
  carrying the mask keeps the stored secret.
- A POST/PUT builds the provider afresh from the implementation's defaults and copies in only the fields
  present in the body: an omitted field RESETS to its default (§1.5.1); omitted top-level booleans and
  numbers become false/0. ``config/mediamanagement`` PUT likewise writes false/0 for missing keys (§1.11).
- Validation errors come back as the apps' 400 array (§1.4): unknown implementation, missing required
  field, duplicate name (case-insensitive), bad root folder / mapping path. A duplicate remote path
  mapping is a 500 object, as the app's service guard throws (§1.4, §1.11).
- Save-time tests (§1.6): hosts listed as unreachable (control endpoint) make an enabled provider's test
  fail. Sonarr/Radarr/Lidarr: POST tests when enabled (forceSave does not help), PUT tests only a changed,
  enabled provider and not with forceSave. Prowlarr/Readarr: PUT without forceSave tests every time.
- POST 201, PUT 202, DELETE 200 (``{}`` for providers, empty for the others).
- Request bodies are checked against the upstream OpenAPI document (openapi/<app>-v<n>.json of
  tests/fixtures/contracts/MANIFEST.tsv, which ``make setup`` puts in .cache/contracts; tests/contracts.py) with a
  small built-in validator (OpenAPI 3 subset: $ref, type, nullable, enum, properties,
  additionalProperties, items, uniqueItems, int32 range); a body the contract rejects gets 400.
  Deliberately stricter than the app on unknown top-level keys (the app ignores them): a module that
  sends a misspelt key should fail its tests. Known deltas between the spec and the real serializer
  (KNOWN_DELTAS) are allowed.
- Every request is counted per method and path (``GET /__double__/stats``; ``POST /__double__/reset``),
  every exchange is kept for contract tests (``GET /__double__/exchanges``), and ``POST /__double__/control``
  sets ``unreachable_hosts``, ``starting`` (503 count) and ``check_paths`` (root folder / mapping local
  paths must exist on this machine). The ``/__double__`` routes need no key and are not counted.
- ``GET qualityprofile`` lists a fresh install's profiles (Any, SD, HD-720p, HD-1080p, ...), read-only, for
  Overseerr's connection test.
- Container mode keeps what the app holds (providers, root folders, mappings, media management) in
  ``/config/servarr-double.json``, written after every successful change, so that a recreated container
  (a new image tag) still has it, as the apps keep their database in /config.

Run: ``python3 tests/doubles/servarr.py --app sonarr --port 8989 --api-key KEY [--url-base /sonarr]``.

Container mode (the ``servarr`` test image, tests/images/servarr): ``--config-dir /config`` takes the app, API key,
port, URL base and authentication method the way the real images do (reference §1.2): the ``<APP>__AUTH__APIKEY``,
``<APP>__AUTH__METHOD``, ``<APP>__SERVER__PORT``, ``<APP>__SERVER__URLBASE``... environment overrides win and are
never written back; otherwise ``config.xml``, which is created with a random key when missing or empty, has
unknown elements dropped and missing defaults added, and is rewritten at every start (as the apps do). A config.xml
that is not XML with one ``<Config>`` root stops the start, as it does the apps'.
"""

from __future__ import absolute_import, division, print_function

import argparse
import copy
import datetime
import importlib.util
import json
import os
import re
import signal
import sys
import threading
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

APPS = {
    "sonarr": {"api": "v3", "name": "Sonarr", "version": "4.0.19.2979", "branch": "main", "new_put": True, "masks": True},
    "radarr": {"api": "v3", "name": "Radarr", "version": "6.0.3.10276", "branch": "master", "new_put": True, "masks": True},
    "lidarr": {"api": "v1", "name": "Lidarr", "version": "2.14.5.4836", "branch": "master", "new_put": True, "masks": True},
    "readarr": {"api": "v1", "name": "Readarr", "version": "0.3.21.2475", "branch": "develop", "new_put": False, "masks": False},
    "prowlarr": {"api": "v1", "name": "Prowlarr", "version": "2.3.5.5327", "branch": "master", "new_put": False, "masks": True},
}
SPEC_FILES = {"sonarr": "sonarr-v3.json", "radarr": "radarr-v3.json", "lidarr": "lidarr-v1.json",
              "readarr": "readarr-v1.json", "prowlarr": "prowlarr-v1.json"}
MASK = "********"
SECRET_PRIVACY = ("password", "apiKey")

# Where the real serializer and the committed spec disagree (fixtures/SOURCES.md): allowed extra properties.
KNOWN_DELTAS = {
    # Prowlarr serializes `enable` (derived from syncLevel) although the spec hides it.
    "ApplicationResource": {"enable": {"type": "boolean"}},
}

# Quality profiles of a fresh install (GET qualityprofile; not writable here).
PROFILES = {"sonarr": ("Any", "SD", "HD-720p", "HD-1080p", "Ultra-HD", "HD - 720p/1080p"),
            "radarr": ("Any", "SD", "HD-720p", "HD-1080p", "Ultra-HD", "HD - 720p/1080p"),
            "lidarr": ("Any", "Lossless", "Standard"), "readarr": ("eBook", "Spoken")}

PROVIDER_KINDS = {
    "sonarr": ("downloadclient",), "radarr": ("downloadclient",), "lidarr": ("downloadclient",),
    "readarr": ("downloadclient",), "prowlarr": ("downloadclient", "applications", "indexer"),
}


_PROJECT_CONTRACTS = []


def project_contracts():
    """tests/contracts.py, the one place that knows where the project keeps its contract documents (loaded by path:
    this file also runs as a script)."""
    if not _PROJECT_CONTRACTS:
        path = os.path.join(os.path.dirname(os.path.realpath(__file__)), "..", "contracts.py")
        if not os.path.exists(path):
            raise ValueError("no %s beside this copy of the double: pass --contracts DIR (openapi/ and fixtures/)" % path)
        spec = importlib.util.spec_from_file_location("monsterr_test_contracts", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        _PROJECT_CONTRACTS.append(module)
    return _PROJECT_CONTRACTS[0]


def contract_files(app, contracts_dir=None):
    """(the app's OpenAPI document, a function from a fixture's name to its path). Without contracts_dir: the
    project's locations (the cache `make setup` fills, the synthesized fixtures in the repository), checked by
    tests/contracts.py, which names the fix when one is missing. With it: a directory in the layout of a contracts
    mirror, openapi/<spec> and fixtures/<name> (what tests/images/servarr/stage.sh stages for the image)."""
    if contracts_dir:
        return (os.path.join(contracts_dir, "openapi", SPEC_FILES[app]),
                lambda name: os.path.join(contracts_dir, "fixtures", name))
    contracts = project_contracts()
    return contracts.document("openapi/" + SPEC_FILES[app]), contracts.fixture


# ------------------------------------------------------------------------------------------------
# OpenAPI subset validator (standard library; the contract test uses jsonschema independently)

class Contract(object):
    def __init__(self, spec):
        self.spec = spec
        self.schemas = spec.get("components", {}).get("schemas", {})
        self._templates = []
        for template in spec.get("paths", {}):
            pattern = "^" + re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(template)) + "$"
            self._templates.append((template.count("{"), template, re.compile(pattern)))
        self._templates.sort()

    def operation(self, method, path):
        for _, template, pattern in self._templates:
            if pattern.match(path):
                return template, self.spec["paths"][template].get(method.lower())
        return None, None

    def request_schema(self, method, path):
        _, op = self.operation(method, path)
        if not op or "requestBody" not in op:
            return None
        content = op["requestBody"].get("content", {})
        media = content.get("application/json") or next(iter(content.values()), {})
        return media.get("schema")

    def response_schema(self, method, path):
        _, op = self.operation(method, path)
        if not op:
            return None
        ok = op.get("responses", {}).get("200", {})
        media = ok.get("content", {}).get("application/json") or next(iter(ok.get("content", {}).values()), {})
        return media.get("schema")

    def errors(self, schema, value, where="$"):
        if schema is None:
            return []
        if "$ref" in schema:
            name = schema["$ref"].rsplit("/", 1)[-1]
            target = dict(self.schemas[name])
            if name in KNOWN_DELTAS:
                target["properties"] = dict(target.get("properties", {}), **KNOWN_DELTAS[name])
            if value is None and schema.get("nullable"):
                return []
            return self.errors(target, value, where)
        if value is None:
            return [] if schema.get("nullable") or not schema.get("type") and "enum" not in schema else \
                ["%s: null is not allowed" % where]
        if "enum" in schema and value not in schema["enum"]:
            return ["%s: %r is not one of %s" % (where, value, ", ".join(map(str, schema["enum"])))]
        kind = schema.get("type")
        if kind == "integer":
            if isinstance(value, bool) or not isinstance(value, int):
                return ["%s: %r is not an integer" % (where, value)]
            if schema.get("format") == "int32" and not -2 ** 31 <= value < 2 ** 31:
                return ["%s: %r is out of the int32 range" % (where, value)]
        elif kind == "number":
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                return ["%s: %r is not a number" % (where, value)]
        elif kind == "string":
            if not isinstance(value, str):
                return ["%s: %r is not a string" % (where, value)]
        elif kind == "boolean":
            if not isinstance(value, bool):
                return ["%s: %r is not a boolean" % (where, value)]
        elif kind == "array":
            if not isinstance(value, list):
                return ["%s: %r is not an array" % (where, value)]
            found = []
            for index, item in enumerate(value):
                found += self.errors(schema.get("items"), item, "%s[%d]" % (where, index))
            if schema.get("uniqueItems") and len(set(json.dumps(v, sort_keys=True) for v in value)) != len(value):
                found.append("%s: items are not unique" % where)
            return found
        elif kind == "object" or "properties" in schema:
            if not isinstance(value, dict):
                return ["%s: %r is not an object" % (where, value)]
            found = []
            props = schema.get("properties", {})
            for key, item in value.items():
                if key in props:
                    found += self.errors(props[key], item, "%s.%s" % (where, key))
                elif schema.get("additionalProperties") is False:
                    found.append("%s: unknown property %r" % (where, key))
                elif isinstance(schema.get("additionalProperties"), dict):
                    found += self.errors(schema["additionalProperties"], item, "%s.%s" % (where, key))
            return found
        return []


# ------------------------------------------------------------------------------------------------
# Schemas served at /<kind>/schema

def _rename(fields, renames, drop=()):
    out = []
    for field in fields:
        if field["name"] in drop:
            continue
        field = copy.deepcopy(field)
        if field["name"] in renames:
            new = renames[field["name"]]
            if isinstance(new, tuple):
                field["name"], field["value"] = new
            else:
                field["name"] = new
        out.append(field)
    for order, field in enumerate(out):
        field["order"] = order
    return out


def _retext(obj, old, new):
    text = json.dumps(obj).replace(old, new).replace(old.lower() + "/", new.lower() + "/")
    return json.loads(text)


def derived_download_clients(sonarr, app):
    """Lidarr/Readarr/Prowlarr download-client templates derived from Sonarr's (reference §1.8)."""
    templates = []
    for template in sonarr:
        template = _retext(copy.deepcopy(template), "Sonarr", APPS[app]["name"])
        qbit = template["implementation"] == "QBittorrent"
        if app == "lidarr":
            renames = {"tvCategory": ("musicCategory", "lidarr" if qbit else "Music"),
                       "tvImportedCategory": "musicImportedCategory",
                       "recentTvPriority": "recentMusicPriority", "olderTvPriority": "olderMusicPriority"}
            drop = ("apiKey",)
        elif app == "readarr":
            renames = {"tvCategory": ("musicCategory", "readarr" if qbit else "Readarr"),
                       "tvImportedCategory": "musicImportedCategory"}
            drop = ("apiKey",)
        else:  # prowlarr
            renames = {"tvCategory": ("category", "prowlarr" if qbit else "Prowlarr"), "recentTvPriority": "priority"}
            drop = ("apiKey", "tvImportedCategory", "olderTvPriority")
        template["fields"] = _rename(template["fields"], renames, drop)
        for field in template["fields"]:
            field["label"] = field.get("label", "").replace("Tv ", "").replace("TV ", "")
        if app == "prowlarr":
            template.pop("removeCompletedDownloads", None)
            template.pop("removeFailedDownloads", None)
            template["categories"] = []
            template["supportsCategories"] = True
            template["priority"] = 1
        templates.append(template)
    return templates


def _field(order, name, label, value=None, ftype="textbox", privacy="normal", advanced=False, **extra):
    field = {"order": order, "name": name, "label": label, "type": ftype, "advanced": advanced, "privacy": privacy,
             "isFloat": False}
    if value is not None:
        field["value"] = value
    field.update(extra)
    return field


def prowlarr_indexer_schema():
    """Hand-written from reference §2.2 (no upstream capture exists): two generic and one Cardigann entry."""
    limits = [
        _field(10, "baseSettings.queryLimit", "Query Limit", ftype="number", advanced=True),
        _field(11, "baseSettings.grabLimit", "Grab Limit", ftype="number", advanced=True),
        _field(12, "baseSettings.limitsUnit", "Limits Unit", 0, "select", advanced=True,
               selectOptions=[{"value": 0, "name": "Day", "order": 0}, {"value": 1, "name": "Hour", "order": 1}]),
    ]
    torrent = [
        _field(20, "torrentBaseSettings.appMinimumSeeders", "Apps Minimum Seeders", ftype="number", advanced=True),
        dict(_field(21, "torrentBaseSettings.seedRatio", "Seed Ratio", ftype="number", advanced=True), isFloat=True),
        _field(22, "torrentBaseSettings.seedTime", "Seed Time", ftype="number", advanced=True, unit="minutes"),
        _field(23, "torrentBaseSettings.packSeedTime", "Pack Seed Time", ftype="number", advanced=True, unit="minutes"),
        _field(24, "torrentBaseSettings.preferMagnetUrl", "Prefer Magnet URL", False, "checkbox", advanced=True),
    ]

    def entry(implementation, contract, definition, protocol, privacy, fields, urls, description):
        return {
            "id": 0, "name": "", "fields": fields, "implementationName": implementation, "implementation": implementation,
            "configContract": contract, "infoLink": "https://wiki.servarr.com/prowlarr/supported-indexers#%s"
            % definition.lower(), "tags": [], "presets": [], "indexerUrls": urls, "legacyUrls": [],
            "definitionName": definition, "description": description, "language": "en-US", "enable": False,
            "redirect": False, "supportsRss": True, "supportsSearch": True, "supportsRedirect": protocol == "usenet",
            "supportsPagination": False, "appProfileId": 0, "protocol": protocol, "privacy": privacy, "priority": 25,
            "downloadClientId": 0, "sortName": definition.lower(),
        }

    newznab = [_field(0, "baseUrl", "URL"), _field(1, "apiPath", "API Path", "/api", advanced=True),
               _field(2, "apiKey", "API Key", privacy="apiKey"),
               _field(3, "additionalParameters", "Additional Parameters", advanced=True)] + copy.deepcopy(limits)
    torznab = copy.deepcopy(newznab) + copy.deepcopy(torrent)
    cardigann = [
        _field(0, "definitionFile", "Definition File", "1337x", hidden="hidden"),
        _field(1, "baseUrl", "Base Url", "https://1337x.to/", "select", selectOptionsProviderAction="getUrls"),
    ] + copy.deepcopy(limits) + copy.deepcopy(torrent) + [
        _field(30, "sort", "Sort requested from site", 2, "select", selectOptions=[
            {"value": 0, "name": "created", "order": 0}, {"value": 1, "name": "seeders", "order": 1},
            {"value": 2, "name": "time", "order": 2}]),
        _field(31, "type", "Order requested from site", 1, "select", selectOptions=[
            {"value": 0, "name": "asc", "order": 0}, {"value": 1, "name": "desc", "order": 1}]),
    ]
    return [
        entry("Newznab", "NewznabSettings", "Newznab", "usenet", "private", newznab, [], "Newznab is an API search specification for Usenet"),
        entry("Torznab", "TorznabSettings", "Torznab", "torrent", "private", torznab, [], "Torznab is an API specification for torrent indexers"),
        entry("Cardigann", "CardigannSettings", "1337x", "torrent", "public", cardigann,
              ["https://1337x.to/", "https://1337x.st/"], "1337X is a Public torrent site"),
    ]


def load_schemas(app, fixture_path):
    def read(name):
        with open(fixture_path(name)) as handle:
            return json.load(handle)

    sonarr = read("sonarr-v3-downloadclient-schema.synth.json")
    schemas = {}
    if app == "sonarr":
        schemas["downloadclient"] = sonarr
    elif app == "radarr":
        schemas["downloadclient"] = read("radarr-v3-downloadclient-schema.synth.json")
    else:
        schemas["downloadclient"] = derived_download_clients(sonarr, app)
    if app == "prowlarr":
        schemas["applications"] = read("prowlarr-v1-applications-schema.synth.json")
        schemas["indexer"] = prowlarr_indexer_schema()
    return schemas


# ------------------------------------------------------------------------------------------------
# The app's state

def failure(prop, message, value=None, description=None, code=None, warning=False):
    item = {"isWarning": warning, "propertyName": prop, "errorMessage": message, "severity": "error"}
    if value is not None:
        item["attemptedValue"] = value
    if description:
        item["detailedDescription"] = description
    if code:
        item["errorCode"] = code
    return item


class Reply(Exception):
    def __init__(self, status, body=None, headers=None):
        super(Reply, self).__init__(status)
        self.status = status
        self.body = body
        self.headers = headers or {}


def _host_of(value):
    if not isinstance(value, str) or not value:
        return None
    return urlsplit(value if "://" in value else "http://" + value).hostname


_CONTRACTS = {}


def load_contract(path):
    """The parsed OpenAPI document, read once per process (read-only afterwards)."""
    if path not in _CONTRACTS:
        with open(path) as handle:
            _CONTRACTS[path] = Contract(json.load(handle))
    return _CONTRACTS[path]


class ServarrState(object):
    """Everything one app holds; all mutation happens under ``lock``."""

    def __init__(self, app, api_key, url_base="", contracts_dir=None, starting=0, check_paths=True, state_file=None):
        if app not in APPS:
            raise ValueError("unknown app %r" % app)
        self.app = app
        self.info = APPS[app]
        self.api_key = api_key
        self.url_base = ("/" + url_base.strip("/")) if url_base and url_base.strip("/") else ""
        spec_path, fixture_path = contract_files(app, contracts_dir)
        self.contract = load_contract(spec_path)
        resources = {"downloadclient": "DownloadClientResource", "applications": "ApplicationResource",
                     "indexer": "IndexerResource"}
        self.schemas = dict((kind, [self.shape_provider(resources[kind], t) for t in templates])
                            for kind, templates in load_schemas(app, fixture_path).items())
        self.lock = threading.RLock()
        self.starting = starting
        self.check_paths = check_paths
        self.unreachable = set()
        self.stats = Counter()
        self.exchanges = []
        self.store = {kind: {} for kind in PROVIDER_KINDS[app]}
        if app != "prowlarr":
            self.store["rootfolder"] = {}
            self.store["remotepathmapping"] = {}
            self.media = dict(self._media_defaults(), id=1)
        self.next_id = Counter()
        self.started = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        self.authentication = "forms"
        self.state_file = state_file
        self.load()

    # ---- persistence (container mode: the apps keep everything in their database under /config)
    def load(self):
        if not self.state_file or not os.path.exists(self.state_file):
            return
        with open(self.state_file) as handle:
            saved = json.load(handle)
        for kind, items in saved.get("store", {}).items():
            if kind in self.store:
                self.store[kind] = dict((int(ident), obj) for ident, obj in items.items())
        if "media" in saved and hasattr(self, "media"):
            self.media = saved["media"]
        self.next_id = Counter(saved.get("next_id", {}))

    def persist(self):
        """Write what the app holds, atomically, after every change (a restarted container keeps it)."""
        if not self.state_file:
            return
        saved = {"store": self.store, "next_id": dict(self.next_id)}
        if hasattr(self, "media"):
            saved["media"] = self.media
        temporary = self.state_file + ".new"
        # It holds the download clients' passwords, as the apps' database does: owner only.
        with os.fdopen(os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as handle:
            json.dump(saved, handle)
        os.rename(temporary, self.state_file)

    @property
    def api(self):
        return "/api/" + self.info["api"]

    # ---- helpers
    def shape(self, schema_name, obj):
        """Only the properties the app's own resource has (per its OpenAPI document)."""
        props = self.contract.schemas[schema_name]["properties"]
        return dict((k, v) for k, v in obj.items() if k in props)

    def shape_provider(self, resource, template):
        """A template cut to what this app's serializer has (e.g. Readarr 0.3 fields have no ``privacy``)."""
        template = self.shape(resource, template) if resource == "DownloadClientResource" else dict(template)
        template["fields"] = [self.shape("Field", f) for f in template["fields"]]
        for field in template["fields"]:
            if "selectOptions" in field:
                field["selectOptions"] = [self.shape("SelectOption", o) for o in field["selectOptions"]]
        return template

    def _media_defaults(self):
        props = self.contract.schemas["MediaManagementConfigResource"]["properties"]
        special = {"recycleBin": "", "recycleBinCleanupDays": 7, "chmodFolder": "755", "chownGroup": "",
                   "minimumFreeSpaceWhenImporting": 100, "copyUsingHardlinks": True, "extraFileExtensions": "srt",
                   "enableMediaInfo": True, "scriptImportPath": "", "rescanAfterRefresh": "always",
                   "episodeTitleRequired": "always", "downloadPropersAndRepacks": "preferAndUpgrade",
                   "fileDate": "none", "allowFingerprinting": "newFiles", "watchLibraryForChanges": True,
                   "autoRenameFolders": False, "pathsDefaultStatic": False}
        out = {}
        for key, prop in props.items():
            if key == "id":
                continue
            if key in special:
                out[key] = special[key]
                continue
            resolved = self._resolve(prop)
            kind = resolved.get("type")
            if "enum" in resolved:
                out[key] = resolved["enum"][0]
            elif kind == "boolean":
                out[key] = False
            elif kind == "integer":
                out[key] = 0
            elif kind == "string":
                out[key] = ""
        if "allowFingerprinting" in out:
            enum = self._resolve(props["allowFingerprinting"]).get("enum")
            if enum and out["allowFingerprinting"] not in enum:
                out["allowFingerprinting"] = enum[0]
        return out

    def _resolve(self, prop):
        if "$ref" in prop:
            return self.contract.schemas[prop["$ref"].rsplit("/", 1)[-1]]
        return prop

    def new_id(self, kind):
        self.next_id[kind] += 1
        return self.next_id[kind]

    def template(self, kind, implementation):
        for template in self.schemas.get(kind, []):
            if template["implementation"].lower() == str(implementation or "").lower():
                return template
        return None

    def out_provider(self, kind, stored):
        """The provider as the app serializes it: field definitions with values, secrets masked."""
        obj = copy.deepcopy(stored)
        for field in obj["fields"]:
            if field.get("value") is None:
                field.pop("value", None)
            elif self.info["masks"] and field.get("privacy") in SECRET_PRIVACY and field["value"] != "":
                field["value"] = MASK
        return obj

    # ---- providers
    def _coerce(self, field, value):
        """(ok, value) the way the app's field converter reads a JSON value."""
        default = field.get("value")
        ftype = field.get("type")
        if value is None:
            return True, None
        if isinstance(default, list) or ftype == "tag":
            if isinstance(value, str):
                value = [v for v in value.split(",") if v.strip()]
            if not isinstance(value, list):
                return False, value
            try:
                return True, [int(v) for v in value]
            except (TypeError, ValueError):
                return False, value
        if ftype == "checkbox" or isinstance(default, bool):
            return isinstance(value, bool), value
        if ftype in ("number", "select") and not (field.get("selectOptionsProviderAction")) or isinstance(default, int):
            if isinstance(value, bool):
                return False, value
            if field.get("isFloat") and isinstance(value, (int, float)):
                return True, value
            if isinstance(value, int):
                return True, value
            if isinstance(value, str) and re.match(r"^-?\d+$", value.strip()):
                return True, int(value)
            return False, value
        if not isinstance(value, str):
            return False, value
        return True, value

    def build_provider(self, kind, body, existing=None):
        """A fresh provider from the implementation's defaults plus what the body carries (§1.5)."""
        failures = []
        implementation = body.get("implementation")
        template = self.template(kind, implementation)
        if not implementation:
            raise Reply(400, [failure("Implementation", "'Implementation' must not be empty.", code="NotEmptyValidator")])
        if template is None:
            raise Reply(400, [failure("Implementation", "Unknown implementation '%s'" % implementation, implementation)])
        if not body.get("configContract"):
            failures.append(failure("ConfigContract", "'Config Contract' must not be empty.", code="NotEmptyValidator"))
        name = body.get("name") or ""
        if not name.strip():
            failures.append(failure("Name", "'Name' must not be empty.", name, code="NotEmptyValidator"))
        for other in self.store[kind].values():
            if other["name"].lower() == name.lower() and (existing is None or other["id"] != existing["id"]):
                failures.append(failure("Name", "Should be unique", name))
        given = dict((f.get("name"), f.get("value")) for f in body.get("fields") or [] if isinstance(f, dict))
        old = dict((f["name"], f.get("value")) for f in existing["fields"]) if existing else {}
        fields = []
        for tfield in template["fields"]:
            field = copy.deepcopy(tfield)
            if tfield["name"] in given:
                value = given[tfield["name"]]
                if value == MASK and tfield.get("privacy") in SECRET_PRIVACY:
                    value = old.get(tfield["name"]) if existing else None
                ok, value = self._coerce(tfield, value)
                if not ok:
                    failures.append(failure(tfield["name"], "The value %r is not valid for %s" % (value, tfield.get("label")), value))
                field["value"] = value
            elif "value" in field:
                pass  # reset to the default
            fields.append(field)
        top = dict((k, copy.deepcopy(v)) for k, v in template.items() if k not in ("fields", "presets", "name", "id"))
        values = dict((f["name"], f.get("value")) for f in fields)
        if kind == "downloadclient":
            top["enable"] = bool(body.get("enable", False))
            top["priority"] = body.get("priority", 0)
            if self.app == "prowlarr":
                top["categories"] = body.get("categories") or []
            else:
                top["removeCompletedDownloads"] = bool(body.get("removeCompletedDownloads", False))
                top["removeFailedDownloads"] = bool(body.get("removeFailedDownloads", False))
            if not values.get("host"):
                failures.append(failure("Host", "'Host' must not be empty.", code="NotEmptyValidator"))
            port = values.get("port")
            if not isinstance(port, int) or not 0 < port < 65536:
                failures.append(failure("Port", "'Port' must be between 1 and 65535.", port))
            for key, value in values.items():
                if key.lower().endswith("category") and isinstance(value, str) and value and template["implementation"] == "QBittorrent":
                    if "\\" in value or "//" in value or value.startswith("/") or value.endswith("/"):
                        failures.append(failure(key[0].upper() + key[1:], "Category is not valid", value))
        elif kind == "applications":
            level = body.get("syncLevel", "disabled")
            top["syncLevel"] = level
            top["enable"] = level != "disabled"
            if not values.get("apiKey"):
                failures.append(failure("ApiKey", "'Api Key' must not be empty.", code="NotEmptyValidator"))
            for key in ("prowlarrUrl", "baseUrl"):
                if not _host_of(values.get(key)) or not re.match(r"^https?://", values.get(key) or ""):
                    failures.append(failure(key[0].upper() + key[1:], "'%s' must be a valid URL" % key, values.get(key)))
            if template["implementation"] in ("Radarr", "Readarr") and not values.get("syncCategories"):
                failures.append(failure("SyncCategories", "'Sync Categories' must not be empty.", code="NotEmptyValidator"))
        elif kind == "indexer":
            for key in ("enable", "redirect"):
                top[key] = bool(body.get(key, False))
            top["appProfileId"] = body.get("appProfileId", 0)
            top["priority"] = body.get("priority", 0)
            top["downloadClientId"] = body.get("downloadClientId", 0)
            if top["appProfileId"] != 1:
                failures.append(failure("AppProfileId", "App Profile does not exist", top["appProfileId"]))
            if not 1 <= (top["priority"] or 0) <= 50:
                failures.append(failure("Priority", "'Priority' must be between 1 and 50.", top["priority"]))
            if template["implementation"] in ("Newznab", "Torznab") and not values.get("baseUrl"):
                failures.append(failure("BaseUrl", "'Base Url' must not be empty.", code="NotEmptyValidator"))
            top["added"] = self.started
        top["tags"] = sorted(set(body.get("tags") or []))
        obj = dict(top, name=name, fields=fields)
        if failures:
            raise Reply(400, failures)
        return obj

    def enabled(self, kind, obj):
        if kind == "applications":
            return obj.get("syncLevel") != "disabled"
        return bool(obj.get("enable"))

    def live_test(self, kind, obj):
        values = dict((f["name"], f.get("value")) for f in obj["fields"])
        if kind == "downloadclient":
            host = values.get("host")
            if host in self.unreachable:
                return [failure("Host", "Unable to connect to %s" % obj["implementationName"], host,
                                "Please verify the hostname and port.")]
        elif kind == "applications":
            host = _host_of(values.get("baseUrl"))
            if host in self.unreachable:
                return [failure("BaseUrl", "Unable to complete application test, cannot connect to %s" % obj["implementationName"],
                                values.get("baseUrl"))]
        elif kind == "indexer":
            host = _host_of(values.get("baseUrl"))
            if host in self.unreachable:
                return [failure("", "Unable to connect to indexer, check the log above the ValidationFailure for more details")]
        return []

    def provider_post(self, kind, body, force):
        obj = self.build_provider(kind, body)
        if body.get("id"):
            raise Reply(500, {"message": "Can't insert model with existing ID %s" % body["id"]})
        if self.enabled(kind, obj):
            errors = self.live_test(kind, obj)
            if errors:  # forceSave only suppresses warnings on create (§1.6)
                raise Reply(400, errors)
        obj["id"] = self.new_id(kind)
        self.store[kind][obj["id"]] = obj
        return 201, self.out_provider(kind, obj)

    def provider_put(self, kind, ident, body, force):
        existing = self.store[kind].get(ident)
        if existing is None:
            raise Reply(404, {"message": "NotFound", "description": "Provider with ID %s does not exist" % ident})
        obj = self.build_provider(kind, body, existing)
        obj["id"] = ident
        if self.info["new_put"]:
            if obj == existing:
                return 202, self.out_provider(kind, existing)
            run_test = self.enabled(kind, obj) and not force
        else:
            run_test = not force and self.enabled(kind, obj)
        if run_test:
            errors = self.live_test(kind, obj)
            if errors:
                raise Reply(400, errors)
        self.store[kind][ident] = obj
        return 202, self.out_provider(kind, obj)

    # ---- root folders and remote path mappings
    def _path_failures(self, prop, path):
        if not isinstance(path, str) or not path.strip():
            return [failure(prop, "'%s' must not be empty." % prop, path, code="NotEmptyValidator")]
        if not path.startswith("/"):
            return [failure(prop, "Invalid Path: '%s'" % path, path)]
        if self.check_paths and not os.path.isdir(path):
            return [failure(prop, "Path '%s' does not exist" % path, path)]
        return []

    def rootfolder_out(self, obj):
        full = dict(obj, accessible=True, freeSpace=1234567890, totalSpace=9876543210, unmappedFolders=[])
        return self.shape("RootFolderResource", full)

    def rootfolder_write(self, body, ident=None):
        path = body.get("path")
        failures = self._path_failures("Path", path)
        for other in self.store["rootfolder"].values():
            if other["path"] == path and other["id"] != ident:
                failures.append(failure("Path", "Path '%s' is already configured as a root folder" % path, path))
        obj = {"path": path}
        if self.app in ("lidarr", "readarr"):
            if not (body.get("name") or "").strip():
                failures.append(failure("Name", "'Name' must not be empty.", code="NotEmptyValidator"))
            for key in ("defaultMetadataProfileId", "defaultQualityProfileId"):
                if body.get(key, 0) != 1:
                    failures.append(failure(key[0].upper() + key[1:], "Profile does not exist", body.get(key, 0)))
            obj.update(name=body.get("name"), defaultMetadataProfileId=body.get("defaultMetadataProfileId", 0),
                       defaultQualityProfileId=body.get("defaultQualityProfileId", 0),
                       defaultMonitorOption=body.get("defaultMonitorOption", "all"),
                       defaultNewItemMonitorOption=body.get("defaultNewItemMonitorOption", "all"),
                       defaultTags=sorted(set(body.get("defaultTags") or [])))
            if self.app == "readarr":
                obj.update(isCalibreLibrary=bool(body.get("isCalibreLibrary", False)), port=body.get("port", 0),
                           useSsl=bool(body.get("useSsl", False)))
        if failures:
            raise Reply(400, failures)
        obj["id"] = ident or self.new_id("rootfolder")
        self.store["rootfolder"][obj["id"]] = obj
        return obj

    @staticmethod
    def _trail(path):
        return path if not isinstance(path, str) or path.endswith("/") else path + "/"

    def mapping_write(self, body, ident=None):
        failures = []
        if not (body.get("host") or "").strip():
            failures.append(failure("Host", "'Host' must not be empty.", code="NotEmptyValidator"))
        if not (body.get("remotePath") or "").strip():
            failures.append(failure("RemotePath", "'Remote Path' must not be empty.", code="NotEmptyValidator"))
        failures += self._path_failures("LocalPath", body.get("localPath"))
        if failures:
            raise Reply(400, failures)
        obj = {"host": body["host"], "remotePath": self._trail(body["remotePath"]), "localPath": self._trail(body["localPath"])}
        for other in self.store["remotepathmapping"].values():
            if other["id"] != ident and other["host"] == obj["host"] and other["remotePath"] == obj["remotePath"]:
                raise Reply(500, {"message": "RemotePath already configured.",
                                  "description": "System.InvalidOperationException: RemotePath already configured."})
        obj["id"] = ident or self.new_id("remotepathmapping")
        self.store["remotepathmapping"][obj["id"]] = obj
        return obj

    def media_put(self, body):
        """Whole-object save: missing booleans/numbers become false/0, missing strings stay (§1.11)."""
        new = dict(self.media)
        for key, value in self.media.items():
            if key == "id":
                continue
            if key in body:
                new[key] = body[key]
            elif isinstance(value, bool):
                new[key] = False
            elif isinstance(value, int):
                new[key] = 0
        self.media = new
        return new

    def quality_profiles(self):
        """The profiles of a fresh install (reference section 1.11), read-only here: what Overseerr's test lists."""
        names = PROFILES.get(self.app, PROFILES["sonarr"])
        return [self.shape("QualityProfileResource", {"id": index, "name": name, "upgradeAllowed": False, "cutoff": 1,
                                                      "items": [], "minFormatScore": 0, "cutoffFormatScore": 0,
                                                      "formatItems": []})
                for index, name in enumerate(names, 1)]

    def status(self):
        full = {"appName": self.info["name"], "instanceName": self.info["name"], "version": self.info["version"],
                "buildTime": "2025-01-01T00:00:00Z", "isDebug": False, "isProduction": True, "isAdmin": False,
                "isUserInteractive": False, "startupPath": "/app/bin", "appData": "/config", "osName": "debian",
                "osVersion": "12", "isNetCore": True, "isLinux": True, "isOsx": False, "isWindows": False,
                "isDocker": True, "mode": "console", "branch": self.info["branch"], "authentication": self.authentication,
                "sqliteVersion": "3.46.1", "migrationVersion": 215, "urlBase": self.url_base,
                "runtimeVersion": "8.0.12", "runtimeName": ".NET", "startTime": self.started,
                "packageUpdateMechanism": "docker", "databaseVersion": "3.46.1", "databaseType": "sqLite"}
        props = self.contract.schemas["SystemResource"]["properties"]
        # Readarr's spec types the version strings as System.Version objects (the serializer writes strings):
        # leave them out rather than send what the spec calls wrong.
        for key in [k for k, v in full.items() if isinstance(v, str) and "$ref" in props.get(k, {})
                    and self.contract.schemas[props[k]["$ref"].rsplit("/", 1)[-1]].get("type") == "object"]:
            del full[key]
        return self.shape("SystemResource", full)

    def health(self):
        items = [{"source": "ApiKeyValidationCheck", "type": "warning",
                  "message": "Please update your API key to be at least 20 characters long."}] if len(self.api_key) < 20 else []
        if not self.store["downloadclient"]:
            items.append({"source": "DownloadClientCheck", "type": "warning", "message": "No download client is available"})
        return items

    # ---- dispatch
    def handle(self, method, path, query, body):
        """(status, body) for one authenticated API request; path has no URL base."""
        api = self.api
        if path in (api, api + "/"):
            return 200, None
        if not path.startswith(api + "/"):
            raise Reply(404, {"message": "NotFound"})
        rest = path[len(api) + 1:].rstrip("/")
        force = (query.get("forceSave") or ["false"])[0].lower() == "true"
        parts = rest.split("/")
        if rest == "system/status" and method == "GET":
            return 200, self.status()
        if rest == "health" and method == "GET":
            return 200, self.health()
        if parts[0] in PROVIDER_KINDS[self.app]:
            kind = parts[0]
            if len(parts) == 1:
                if method == "GET":
                    return 200, [self.out_provider(kind, o) for o in sorted(self.store[kind].values(), key=lambda o: o["name"].lower())]
                if method == "POST":
                    return self.provider_post(kind, body, force)
            elif parts[1] == "schema" and method == "GET":
                return 200, copy.deepcopy(self.schemas[kind])
            elif parts[1] == "test" and method == "POST":
                obj = self.build_provider(kind, body, self.store[kind].get(body.get("id")))
                errors = self.live_test(kind, obj)
                if errors:
                    raise Reply(400, errors)
                return 200, None
            elif parts[1].isdigit() and len(parts) == 2:
                ident = int(parts[1])
                if method == "PUT":
                    return self.provider_put(kind, ident, body, force)
                if ident not in self.store[kind]:
                    raise Reply(404, {"message": "NotFound"})
                if method == "GET":
                    return 200, self.out_provider(kind, self.store[kind][ident])
                if method == "DELETE":
                    del self.store[kind][ident]
                    return 200, {}
            raise Reply(405, {"message": "Method not allowed"})
        if self.app == "prowlarr":
            raise Reply(404, {"message": "NotFound"})
        if parts[0] == "qualityprofile" and len(parts) == 1 and method == "GET":
            return 200, self.quality_profiles()
        if parts[0] == "rootfolder":
            if len(parts) == 1 and method == "GET":
                return 200, [self.rootfolder_out(o) for o in self.store["rootfolder"].values()]
            if len(parts) == 1 and method == "POST":
                return 201, self.rootfolder_out(self.rootfolder_write(body))
            if len(parts) == 2 and parts[1].isdigit():
                ident = int(parts[1])
                if ident not in self.store["rootfolder"]:
                    raise Reply(404, {"message": "NotFound"})
                if method == "GET":
                    return 200, self.rootfolder_out(self.store["rootfolder"][ident])
                if method == "DELETE":
                    del self.store["rootfolder"][ident]
                    return 200, None
                if method == "PUT" and self.app in ("lidarr", "readarr"):
                    return 202, self.rootfolder_out(self.rootfolder_write(body, ident))
            raise Reply(405, {"message": "Method not allowed"})
        if parts[0] == "remotepathmapping":
            store = self.store["remotepathmapping"]
            if len(parts) == 1 and method == "GET":
                return 200, list(store.values())
            if len(parts) == 1 and method == "POST":
                return 201, self.mapping_write(body)
            if len(parts) == 2 and parts[1].isdigit():
                ident = int(parts[1])
                if ident not in store:
                    raise Reply(404, {"message": "NotFound"})
                if method == "GET":
                    return 200, store[ident]
                if method == "PUT":
                    return 202, self.mapping_write(body, ident)
                if method == "DELETE":
                    del store[ident]
                    return 200, None
            raise Reply(405, {"message": "Method not allowed"})
        if parts[0] == "config" and len(parts) >= 2 and parts[1] == "mediamanagement":
            if method == "GET" and len(parts) in (2, 3):
                return 200, dict(self.media)
            if method == "PUT" and len(parts) == 3 and parts[2].isdigit():
                return 202, self.media_put(body)
            raise Reply(405, {"message": "Method not allowed"})
        raise Reply(404, {"message": "NotFound"})


# ------------------------------------------------------------------------------------------------
# HTTP

def make_handler(state):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # headers and body go out as two writes: no 40 ms delayed-ACK stall
        server_version = "Kestrel"
        wbufsize = 1 << 16  # one write per answer: headers and body in one segment (no Nagle/delayed-ACK stall)

        def log_message(self, *args):
            pass

        def _send(self, status, body, headers=None, content_type="application/json"):
            if body is None:
                raw = b""
            elif isinstance(body, (bytes, str)):
                raw = body.encode() if isinstance(body, str) else body
                content_type = "text/plain"
            else:
                raw = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", content_type if raw else "text/plain")
            self.send_header("Content-Length", str(len(raw)))
            self.send_header("X-Application-Version", state.info["version"])
            for key, value in (headers or {}).items():
                self.send_header(key, value)
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(raw)

        def _control(self, method, path, body):
            with state.lock:
                if path == "/__double__/stats":
                    by_method = Counter()
                    for key, count in state.stats.items():
                        by_method[key.split(" ", 1)[0]] += count
                    return 200, {"requests": dict(state.stats), "by_method": dict(by_method)}
                if path == "/__double__/exchanges":
                    return 200, state.exchanges
                if path == "/__double__/reset" and method == "POST":
                    state.stats.clear()
                    del state.exchanges[:]
                    return 200, {}
                if path == "/__double__/control" and method == "POST":
                    body = body or {}
                    if "unreachable_hosts" in body:
                        state.unreachable = set(body["unreachable_hosts"])
                    if "starting" in body:
                        state.starting = int(body["starting"])
                    if "check_paths" in body:
                        state.check_paths = bool(body["check_paths"])
                    return 200, {}
            return 404, {"message": "NotFound"}

        def _handle(self):
            split = urlsplit(self.path)
            path, query = split.path, parse_qs(split.query)
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            body = None
            parse_error = None
            if raw:
                try:
                    body = json.loads(raw.decode("utf-8"))
                except ValueError as exc:
                    parse_error = str(exc)
            if path.startswith("/__double__/"):
                status, payload = self._control(self.command, path, body)
                return self._send(status, payload)
            if state.url_base and not (path == state.url_base or path.startswith(state.url_base + "/")):
                return self._send(307, None, {"Location": state.url_base + self.path})
            path = path[len(state.url_base):] or "/"
            key = "%s %s" % (self.command, path)
            with state.lock:
                state.stats[key] += 1
                status, payload = self._answer(path, query, body, parse_error)
                if self.command in ("POST", "PUT", "DELETE") and 200 <= status < 300:
                    state.persist()
                state.exchanges.append({"method": self.command, "path": path, "request": body, "status": status,
                                        "response": payload})
            return self._send(status, payload)

        def _answer(self, path, query, body, parse_error):
            is_api = path == "/api" or path.startswith("/api/")
            if is_api:
                given = (query.get("apikey") or [None])[0] or self.headers.get("X-Api-Key")
                auth = self.headers.get("Authorization") or ""
                if not given and auth.startswith("Bearer "):
                    given = auth[7:]
                if given != state.api_key:
                    return 401, None
            if state.starting > 0:
                state.starting -= 1
                if is_api:
                    return 503, {"errorMessage": "%s is starting up, please try again later" % state.info["name"]}
                return 503, "%s is starting up, please try again later" % state.info["name"]
            if path == "/ping" and self.command in ("GET", "HEAD"):
                return 200, {"status": "OK"}
            if not is_api:
                return 404, None
            if parse_error:
                return 400, [failure("", "The JSON value could not be parsed: %s" % parse_error)]
            if self.command in ("POST", "PUT"):
                schema = state.contract.request_schema(self.command, path)
                errors = state.contract.errors(schema, body) if schema is not None else []
                if errors:
                    return 400, [failure(e.split(":", 1)[0], e.split(": ", 1)[-1]) for e in errors[:10]]
            try:
                return state.handle(self.command, path, query, body if body is not None else {})
            except Reply as reply:
                return reply.status, reply.body

        do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _handle

    return Handler


class ServarrDouble(object):
    """A running double: ``url`` (with URL base), ``state``, ``stats()``, ``reset()``, ``stop()``."""

    def __init__(self, app, api_key, port=0, url_base="", host="127.0.0.1", **kwargs):
        self.state = ServarrState(app, api_key, url_base, **kwargs)
        self.httpd = ThreadingHTTPServer((host, port), make_handler(self.state))
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.root = "http://%s:%d" % (host, self.port)
        self.url = self.root + self.state.url_base
        self.thread = None

    def start(self):
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()
        return self

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()

    def stats(self):
        """{"GET": n, "POST": n, ...} and per "METHOD /path" counts."""
        with self.state.lock:
            by_method = Counter()
            for key, count in self.state.stats.items():
                by_method[key.split(" ", 1)[0]] += count
            return {"by_method": dict(by_method), "requests": dict(self.state.stats)}

    def writes(self):
        return sum(n for m, n in self.stats()["by_method"].items() if m in ("POST", "PUT", "DELETE"))

    def reads(self):
        return sum(n for m, n in self.stats()["by_method"].items() if m in ("GET", "HEAD"))

    def reset(self):
        with self.state.lock:
            self.state.stats.clear()
            del self.state.exchanges[:]


# ------------------------------------------------------------------------------------------------
# Container mode: settings from the environment overrides and config.xml, like the real images

# Elements the apps persist on a fresh install, with the defaults that differ per app (reference §1.2).
CONFIG_DEFAULTS = {
    "sonarr": {"Port": "8989", "SslPort": "9898", "Branch": "main", "LogLevel": "debug", "InstanceName": "Sonarr"},
    "radarr": {"Port": "7878", "SslPort": "9898", "Branch": "master", "LogLevel": "debug", "InstanceName": "Radarr"},
    "lidarr": {"Port": "8686", "SslPort": "6868", "Branch": "master", "LogLevel": "debug", "InstanceName": "Lidarr"},
    "readarr": {"Port": "8787", "SslPort": "6868", "Branch": "develop", "LogLevel": "info", "InstanceName": "Readarr"},
    "prowlarr": {"Port": "9696", "SslPort": "6969", "Branch": "master", "LogLevel": "debug", "InstanceName": "Prowlarr"},
}
CONFIG_ORDER = ("BindAddress", "Port", "SslPort", "EnableSsl", "LaunchBrowser", "ApiKey", "AuthenticationMethod",
                "AuthenticationRequired", "Branch", "LogLevel", "SslCertPath", "SslCertPassword", "UrlBase",
                "InstanceName")
# Read when present, never added (reference §1.2, "Other elements the app reads").
CONFIG_OPTIONAL = ("AnalyticsEnabled", "ConsoleLogLevel", "ConsoleLogFormat", "Theme", "LogDbEnabled", "LogSql",
                   "LogRotate", "LogSizeLimit", "FilterSentryEvents", "UpdateAutomatically", "UpdateMechanism",
                   "UpdateScriptPath", "SyslogServer", "SyslogPort", "SyslogLevel", "TrustCgnatIpAddresses",
                   "PostgresHost", "PostgresPort", "PostgresUser", "PostgresPassword", "PostgresMainDb",
                   "PostgresLogDb", "PostgresCacheDb")
# <APP>__<SECTION>__<KEY> -> config.xml element
ENV_OVERRIDES = {
    "AUTH__APIKEY": "ApiKey", "AUTH__METHOD": "AuthenticationMethod", "AUTH__REQUIRED": "AuthenticationRequired",
    "SERVER__PORT": "Port", "SERVER__URLBASE": "UrlBase", "SERVER__BINDADDRESS": "BindAddress",
    "SERVER__ENABLESSL": "EnableSsl", "SERVER__SSLPORT": "SslPort", "APP__INSTANCENAME": "InstanceName",
    "APP__LAUNCHBROWSER": "LaunchBrowser", "APP__THEME": "Theme", "LOG__LEVEL": "LogLevel",
    "UPDATE__BRANCH": "Branch", "UPDATE__MECHANISM": "UpdateMechanism",
}


class ConfigError(Exception):
    pass


def detect_app(environ):
    found = sorted(app for app in APPS if any(key.startswith(app.upper() + "__") for key in environ))
    if environ.get("SERVARR_APP") in APPS:
        return environ["SERVARR_APP"]
    if len(found) != 1:
        raise ConfigError("cannot tell which app to be: set SERVARR_APP or exactly one app's <APP>__ variables "
                          "(found %s)" % (", ".join(found) or "none"))
    return found[0]


def container_settings(app, config_dir, environ):
    """(settings, env_keys): the effective config.xml values, after writing config.xml back as the app does."""
    import uuid
    import xml.etree.ElementTree as ET

    path = os.path.join(config_dir, "config.xml")
    stored = {}
    if os.path.exists(path):
        try:
            root = ET.parse(path).getroot()
        except ET.ParseError as exc:
            raise ConfigError("%s is not valid XML (%s). Please delete the config file and restart." % (path, exc))
        if root.tag != "Config":
            raise ConfigError("%s has root <%s>, not <Config>. Please delete the config file and restart." % (path, root.tag))
        for child in root:
            stored[child.tag] = (child.text or "").strip()
    known = set(CONFIG_ORDER) | set(CONFIG_OPTIONAL)
    if app == "readarr":
        known.discard("AuthenticationRequired")
    stored = dict((k, v) for k, v in stored.items() if k in known)   # unknown (or mis-cased) elements are dropped
    overrides = {}
    for suffix, element in ENV_OVERRIDES.items():
        value = environ.get("%s__%s" % (app.upper(), suffix))
        if value is not None:
            overrides[element] = value
    defaults = dict(BindAddress="*", EnableSsl="False", LaunchBrowser="True", AuthenticationMethod="None",
                    AuthenticationRequired="Enabled", SslCertPath="", SslCertPassword="", UrlBase="",
                    **CONFIG_DEFAULTS[app])
    if app == "readarr":
        del defaults["AuthenticationRequired"]
    written = dict(stored)
    for key, value in defaults.items():
        if key not in written and key not in overrides:
            written[key] = value
    if not written.get("ApiKey", "").strip() and "ApiKey" not in overrides:
        written["ApiKey"] = uuid.uuid4().hex
    order = [k for k in CONFIG_ORDER if k in written] + sorted(k for k in written if k not in CONFIG_ORDER)
    with open(path, "w") as handle:
        handle.write("<Config>\n")
        for key in order:
            handle.write("  <%s>%s</%s>\n" % (key, _xml_escape(written[key]), key))
        handle.write("</Config>\n")
    effective = dict(defaults, **written)
    effective.update(overrides)
    return effective, sorted(overrides)


def _xml_escape(text):
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def main(argv=None):
    parser = argparse.ArgumentParser(description="Servarr test double (standard library only)")
    parser.add_argument("--app", choices=sorted(APPS), help="required unless --config-dir tells it")
    parser.add_argument("--port", type=int, help="required unless --config-dir")
    parser.add_argument("--api-key", help="required unless --config-dir")
    parser.add_argument("--url-base", default="")
    parser.add_argument("--config-dir", help="container mode: settings from <APP>__* variables and config.xml here")
    parser.add_argument("--bind", default="127.0.0.1")
    parser.add_argument("--starting", type=int, default=0, help="answer 503 to the first N requests")
    parser.add_argument("--contracts", help="a directory holding openapi/<spec> and fixtures/<name> (default: the "
                        "project's, through tests/contracts.py)")
    parser.add_argument("--no-check-paths", action="store_true", help="accept root folder/mapping paths that do not exist here")
    args = parser.parse_args(argv)
    auth = "forms"
    if args.config_dir:
        try:
            app = args.app or detect_app(os.environ)
            settings, from_env = container_settings(app, args.config_dir, os.environ)
            port = int(settings["Port"])
        except (ConfigError, ValueError, OSError) as exc:
            sys.stderr.write("servarr double: %s\n" % exc)
            return 1
        api_key, url_base = settings["ApiKey"], settings["UrlBase"]
        auth = settings.get("AuthenticationMethod", "None").lower()
        sys.stdout.write("servarr double: %s settings from %s (environment overrides: %s)\n"
                         % (app, os.path.join(args.config_dir, "config.xml"), ", ".join(from_env) or "none"))
    else:
        if not (args.app and args.port and args.api_key):
            parser.error("--app, --port and --api-key are required without --config-dir")
        app, port, api_key, url_base = args.app, args.port, args.api_key, args.url_base
    # Container mode keeps what the app holds in /config, as the apps keep their database there.
    state_file = os.path.join(args.config_dir, "servarr-double.json") if args.config_dir else None
    double = ServarrDouble(app, api_key, port, url_base, host=args.bind, starting=args.starting,
                           contracts_dir=args.contracts, check_paths=not args.no_check_paths, state_file=state_file)
    double.state.authentication = auth
    sys.stdout.write("servarr double: %s on %s\n" % (app, double.url))
    sys.stdout.flush()
    # As PID 1 in a container, SIGTERM (docker stop) must end the process as it ends the real apps.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        double.httpd.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
