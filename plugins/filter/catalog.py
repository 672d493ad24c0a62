# -*- coding: utf-8 -*-
# Copyright: monsterr.mediaserver developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Resolve and check the service catalog: the shipped definitions (one file per service under the
catalog role) merged by name with the household's overrides, for the services it enables.

Every later layer reads the resolved list; nothing downstream names a service.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import difflib
import re

from ansible.errors import AnsibleFilterError
from ansible.module_utils.common._collections_compat import Mapping
from ansible.module_utils.six import string_types

from ansible_collections.monsterr.mediaserver.plugins.plugin_utils import _catalog_schema as _schema
from ansible_collections.monsterr.mediaserver.plugins.plugin_utils._data import plain as _plain
from ansible_collections.monsterr.mediaserver.plugins.plugin_utils._problems import problem as _problem

# Every field a catalog entry may carry (the typed schema's top level); an override with any other key is a typo.
FIELDS = frozenset(key for key, field in _schema.ENTRY.keys.items() if not field.derived or key == "name")
POLICIES = ("two_factor", "one_factor", "bypass", "none")
_NAME_RE = re.compile(r"^[a-z][a-z0-9-]{0,62}$")
_LABEL_RE = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
_DIGEST_RE = re.compile(r"@sha256:[0-9a-f]{64}$")
_TAG_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")


def _merge(base, override):
    merged = _plain(base)
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = _plain(value)
    return merged


def _expand_volume(volume, name, appdata_root, data_root):
    """`config` means <appdata_root>/<name>, `data` the data root, `config:<sub>` a subdirectory of it."""
    source = volume.get("source", "")
    if source == "config":
        source = "%s/%s" % (appdata_root.rstrip("/"), name)
    elif source.startswith("config:"):
        source = "%s/%s/%s" % (appdata_root.rstrip("/"), name, source.split(":", 1)[1].strip("/"))
    elif source == "data":
        source = data_root.rstrip("/")
    expanded = dict(volume, source=source)
    expanded.setdefault("read_only", False)
    return expanded


def catalog_resolve(shipped, enabled, overrides=None, appdata_root="/opt/monsterr", data_root="/data", domain=""):
    """The enabled services, each its shipped definition merged with the household's override.

    Names that are not in the catalog are skipped here and reported by catalog_problems.
    """
    if not isinstance(shipped, dict):
        raise AnsibleFilterError("catalog_resolve: the shipped catalog must be a dict of name -> definition")
    overrides = overrides or {}
    resolved = []
    for name in sorted(set(enabled or [])):
        if name not in shipped:
            continue
        entry = _merge(shipped[name], overrides.get(name) or {})
        entry["name"] = name
        entry["volumes"] = [_expand_volume(v, name, appdata_root, data_root) for v in entry.get("volumes") or []]
        entry["appdata"] = "%s/%s" % (appdata_root.rstrip("/"), name)
        port = entry.get("port")
        entry.setdefault("internal_url", "http://%s:%s" % (name, port) if port else "")
        _host_path(entry)
        proxy = entry.get("proxy")
        if isinstance(proxy, dict) and proxy.get("subdomain") and domain:
            proxy.setdefault("upstream_port", port)
            proxy["host"] = "%s.%s" % (proxy["subdomain"], domain)
            proxy["url"] = "https://%s" % proxy["host"]
        resolved.append(entry)
    return resolved


def _int_or_none(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _host_path(entry):
    """The host-private way in for tools that run on the host (the wiring modules), apart from internal_url.

    A service with an HTTP port that the proxy or an API client talks to gets ``host_url``
    ``http://127.0.0.1:<host_port>``: through a port it already publishes for that container port (Plex), else
    through ``host_port`` bound on 127.0.0.1 only (default: the container port itself, which also keeps
    qBittorrent's Host-header check happy). ``host_port: 0`` opts out; ``host_loopback`` says whether the stack
    must bind the loopback port.
    """
    port = _int_or_none(entry.get("port"))
    published = [p for p in entry.get("publish") or [] if isinstance(p, Mapping)
                 and port is not None and _int_or_none(p.get("container_port")) == port
                 and p.get("protocol", "tcp") == "tcp"]
    wanted = entry.get("host_port")
    entry["host_loopback"] = False
    if wanted is None:
        if port is None or not (entry.get("proxy") or entry.get("api")):
            wanted = 0
        elif published:
            wanted = _int_or_none(published[0].get("host_port"))
        else:
            wanted = port
            entry["host_loopback"] = True
    elif _int_or_none(wanted):
        entry["host_loopback"] = not (published and _int_or_none(published[0].get("host_port")) == _int_or_none(wanted))
    entry["host_port"] = _int_or_none(wanted) if _int_or_none(wanted) is not None else wanted
    if "host_url" not in entry:
        entry["host_url"] = "http://127.0.0.1:%s" % entry["host_port"] if entry["host_port"] else ""


def _image_problem(image):
    if not isinstance(image, string_types) or not image:
        return "has no image", "set image: <registry>/<name>:<version>"
    if "@" in image:
        if _DIGEST_RE.search(image):
            return None
        return ("has a digest that is not sha256 with 64 hex digits (truncated?)",
                "copy the whole digest, e.g. %s@sha256:<64 hex digits>, or pin a version tag" % image.split("@", 1)[0])
    last = image.rsplit("/", 1)[-1]
    if ":" not in last:
        return "has no tag (that means :latest)", "pin a version, e.g. %s:1.2.3" % image
    tag = last.rsplit(":", 1)[1]
    if not _TAG_RE.match(tag):
        return "has the tag '%s', which no registry accepts" % tag, "pin a release version, e.g. %s:1.2.3" % image.rsplit(":", 1)[0]
    if tag == "latest" or tag in ("develop", "nightly", "edge", "main", "master", "stable", "release"):
        return "uses the floating tag :%s" % tag, "pin a release version or a digest; upgrades happen by changing the pin and re-running"
    return None


def _line(variable, value, reason, fix, where):
    return _problem(variable, value, reason, fix, where)


def _templated(value):
    """A value Ansible has not filled in yet (the shipped files read as plain YAML, in unit tests)."""
    return isinstance(value, string_types) and "{{" in value


def catalog_problems(resolved, shipped, enabled, overrides=None, where="inventories/<household>/group_vars/mediaserver/main.yml",
                     retired=None, domain=None):
    """Every problem with the household's choice of services, one line each, all at once.

    Overrides are checked against the typed entry schema (plugins/plugin_utils/_catalog_schema.py) at every
    depth; ``retired`` maps a name no longer shipped to its replacement (or a message); ``domain`` is the
    household's domain, for the length of every served name.
    """
    overrides = _plain(overrides) if overrides is not None else {}
    resolved = _plain(resolved or [])
    retired = _plain(retired or {})
    problems = []
    known = ", ".join(sorted(shipped))
    if not isinstance(enabled, (list, tuple)):
        return [_line("catalog_enabled", enabled, "is not a list", "list service names, e.g. [plex, sonarr]", where)]
    enabled = [_plain(n) for n in enabled]
    for name in enabled:
        if not isinstance(name, string_types):
            problems.append(_line("catalog_enabled", name, "is not a service name", "list names such as plex, sonarr", where))
        elif name in retired and name not in shipped:
            problems.append(_line("catalog_enabled", name, "is retired: %s" % ("%s" % retired[name]).strip().rstrip("."),
                                  "remove %s from catalog_enabled%s" % (name, _replacement(retired[name], shipped)), where))
        elif name not in shipped:
            problems.append(_line("catalog_enabled", name, "is not a service of the catalog",
                                  _did_you_mean(name, shipped) + "use one of " + known, where))
    for name in sorted(set(n for n in enabled if isinstance(n, string_types) and enabled.count(n) > 1)):
        problems.append(_line("catalog_enabled", name, "is listed more than once", "list each service once", where))
    if not isinstance(overrides, dict):
        problems.append(_line("catalog_overrides", overrides, "is not a dict",
                              "give the fields to change per service, e.g. {sonarr: {proxy: {subdomain: tv}}}", where))
        overrides = {}
    reported = set()  # override paths the schema already found wrong: not reported twice
    for name, override in sorted(overrides.items(), key=lambda kv: "%s" % kv[0]):
        if name in retired and name not in shipped:
            problems.append(_line("catalog_overrides.%s" % name, override, "is retired: %s" % ("%s" % retired[name]).strip().rstrip("."),
                                  "move these settings to the replacement, or delete them", where))
            continue
        if name not in shipped:
            problems.append(_line("catalog_overrides.%s" % name, override, "is not a service of the catalog",
                                  _did_you_mean(name, shipped) + "use one of %s, or add a catalog file "
                                  "roles/catalog/services/%s.yml" % (known, name), where))
            continue
        if not isinstance(override, dict):
            problems.append(_line("catalog_overrides.%s" % name, override, "is not a dict",
                                  "give the fields to change, e.g. {proxy: {subdomain: tv}}", where))
            continue
        for path, value, reason, fix in _schema.entry_problems(name, override, partial=True, prefix="catalog_overrides." + name):
            problems.append(_line(path, value, reason, fix, where))
            reported.add(path)

    hosts, ports = {}, {}
    for entry in resolved:
        name = entry["name"]
        override = "catalog_overrides.%s" % name
        for field, image in (("image", entry.get("image")), ("metrics.image", (entry.get("metrics") or {}).get("image"))):
            if field == "metrics.image" and image in (None, ""):
                continue
            found = None if "%s.%s" % (override, field) in reported else _image_problem(image)
            if found:
                problems.append(_line("%s.%s" % (override, field), image, found[0], found[1], where))
        proxy = entry.get("proxy") or {}
        if isinstance(proxy, dict) and proxy:
            sub = proxy.get("subdomain")
            if override + ".proxy.subdomain" in reported:
                pass
            elif not isinstance(sub, string_types) or not _LABEL_RE.match(sub):
                problems.append(_line(override + ".proxy.subdomain", sub, "is not a DNS label",
                                      "lowercase letters, digits and '-', e.g. tv", where))
            else:
                hosts.setdefault(sub, []).append(name)
                # (a domain too long by itself is household_domain's own problem, reported once there)
                if isinstance(domain, string_types) and 0 < len(domain) <= 253 and len("%s.%s" % (sub, domain)) > 253:
                    problems.append(_line(override + ".proxy.subdomain", sub, "makes %s.%s longer than the 253 characters "
                                          "a DNS name may have" % (sub, domain[:20] + "..."),
                                          "shorten household_domain or the subdomain", where))
            policy = proxy.get("auth")
            if override + ".proxy.auth" in reported:
                pass
            elif policy not in POLICIES:
                problems.append(_line(override + ".proxy.auth", policy, "is not a policy", "one of " + ", ".join(POLICIES), where))
            elif policy in ("one_factor", "two_factor") and not proxy.get("groups"):
                problems.append(_line(override + ".proxy.groups", proxy.get("groups"), "is empty for policy %s: nobody "
                                      "could sign in" % policy, "list groups, e.g. [admins]", where))
        for publish in entry.get("publish") or []:
            if not isinstance(publish, dict) or _templated(publish.get("host_port")) or override + ".publish" in \
                    set(p.split("[")[0] for p in reported):
                continue
            if "publish" not in (overrides.get(name) or {}) and _int_or_none(publish.get("host_port")) is not None \
                    and not 0 < _int_or_none(publish.get("host_port")) < 65536:
                continue  # a shipped port from a setting (catalog_torrent_port), which its own check reports
            host_port = _int_or_none(publish.get("host_port"))
            if host_port is None or not 0 < host_port < 65536:
                problems.append(_line(override + ".publish", publish, "has a host_port that is not a port",
                                      "a number from 1 to 65535", where))
                continue
            key = "%s/%s" % (host_port, publish.get("protocol", "tcp"))
            ports.setdefault(key, []).append(name)
        host_port = entry.get("host_port")
        if override + ".host_port" in reported:
            pass
        elif host_port not in (None, 0, "") and not (_int_or_none(host_port) and 0 < _int_or_none(host_port) < 65536):
            problems.append(_line(override + ".host_port", host_port, "is not a port",
                                  "a number from 1 to 65535, or 0 for no host-private port", where))
        elif entry.get("host_loopback"):
            ports.setdefault("%s/tcp" % host_port, []).append(name)
        for dependency in list(entry.get("depends_on") or []) + list(entry.get("requires") or []):
            if dependency not in enabled:
                problems.append(_line("catalog_enabled", name, "needs '%s', which is not enabled" % dependency,
                                      "add %s to catalog_enabled, or remove %s" % (dependency, name), where))
        for secret, spec in sorted((entry.get("secrets") or {}).items()):
            if isinstance(spec, dict) and spec.get("required") and not spec.get("value"):
                variable = spec.get("variable") or "vault_%s_%s" % (re.sub(r"[^a-z0-9]", "_", name), secret)
                problems.append(_line(variable, spec.get("value") or "", "is missing (%s's %s)" % (name, secret),
                                      "set %s in an ansible-vault encrypted vault.yml beside main.yml" % variable,
                                      where.rsplit("/", 1)[0] + "/vault.yml" if "/" in where else where))
    for sub, names in sorted(hosts.items()):
        if len(names) > 1:
            problems.append(_line("proxy.subdomain", sub, "is used by %s" % " and ".join(names),
                                  "give each a different catalog_overrides.<service>.proxy.subdomain", where))
    for port, names in sorted(ports.items()):
        if len(names) > 1:
            problems.append(_line("host port", port, "is published by %s" % " and ".join(names),
                                  "change publish (or host_port, the 127.0.0.1 port) of one of them in catalog_overrides", where))
    return problems


def catalog_warnings(resolved):
    """One line per enabled service whose entry is marked deprecated (not a failure)."""
    return ["%s is deprecated: %s" % (entry["name"], entry["deprecated"]) for entry in _plain(resolved or [])
            if entry.get("deprecated")]


def _replacement(message, shipped):
    """The service a retired one's message names as its replacement ("replace x with y", "use y")."""
    names = [n for n in re.findall(r"\b(?:with|use)\s+([a-z0-9][a-z0-9-]*)", "%s" % message, re.IGNORECASE) if n in shipped]
    return "; add %s instead" % names[0] if names else ""


def _did_you_mean(name, known):
    close = difflib.get_close_matches("%s" % name, sorted(known), n=1, cutoff=0.6)
    return "did you mean %s? " % close[0] if close else ""


class FilterModule(object):
    def filters(self):
        return {
            "catalog_resolve": catalog_resolve,
            "catalog_problems": catalog_problems,
            "catalog_warnings": catalog_warnings,
        }
