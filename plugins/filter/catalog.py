# -*- coding: utf-8 -*-
# Copyright: monsterr.mediaserver developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Resolve and check the service catalog: the shipped definitions (one file per service under the
catalog role) merged by name with the household's overrides, for the services it enables.

Every later layer reads the resolved list; nothing downstream names a service.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible.errors import AnsibleFilterError
from ansible.module_utils.common._collections_compat import Mapping
from ansible.module_utils.six import string_types

from ansible_collections.monsterr.mediaserver.plugins.plugin_utils._data import plain as _plain

# Every field a catalog entry may carry; an override with any other key is a typo.
FIELDS = frozenset([
    "name", "description", "group", "image", "command", "user_env", "port", "environment", "volumes",
    "publish", "read_only", "tmpfs", "healthcheck", "proxy", "api", "secrets", "seeds", "metrics", "backup",
    "dashboard", "wiring", "depends_on", "opt_in", "capabilities", "networks", "internal_url", "host_port", "host_url",
    "user",
])
POLICIES = ("two_factor", "one_factor", "bypass", "none")
_NAME_RE = re.compile(r"^[a-z][a-z0-9-]{0,62}$")
_LABEL_RE = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
_DIGEST_RE = re.compile(r"@sha256:[0-9a-f]{64}$")


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
    if _DIGEST_RE.search(image):
        return None
    last = image.rsplit("/", 1)[-1]
    if ":" not in last:
        return "has no tag (that means :latest)", "pin a version, e.g. %s:1.2.3" % image
    tag = last.rsplit(":", 1)[1]
    if tag == "latest" or tag in ("develop", "nightly", "edge", "main", "master"):
        return "uses the floating tag :%s" % tag, "pin a release version or a digest; upgrades happen by changing the pin and re-running"
    return None


def catalog_problems(resolved, shipped, enabled, overrides=None, where="inventories/<household>/group_vars/mediaserver/main.yml"):
    """Every problem with the household's choice of services, one line each, all at once."""
    overrides = overrides or {}
    problems = []
    known = ", ".join(sorted(shipped))
    if not isinstance(enabled, (list, tuple)):
        return ["catalog_enabled = %r is not a list. Fix: list service names, e.g. [plex, sonarr] (in %s)." % (enabled, where)]
    for name in enabled:
        if name not in shipped:
            problems.append("catalog_enabled has unknown service '%s'. Fix: use one of %s (in %s)." % (name, known, where))
    duplicates = sorted(set(n for n in enabled if list(enabled).count(n) > 1))
    for name in duplicates:
        problems.append("catalog_enabled lists '%s' more than once. Fix: list each service once (in %s)." % (name, where))
    for name, override in sorted(overrides.items()):
        if name not in shipped:
            problems.append("catalog_overrides has unknown service '%s'. Fix: use one of %s, or add a catalog file "
                            "roles/catalog/services/%s.yml (in %s)." % (name, known, name, where))
            continue
        if not isinstance(override, dict):
            problems.append("catalog_overrides.%s = %r is not a dict. Fix: give the fields to change, e.g. "
                            "{subdomain: tv} (in %s)." % (name, override, where))
            continue
        for field in sorted(set(override) - FIELDS):
            problems.append("catalog_overrides.%s has unknown field '%s'. Fix: use one of %s (in %s)."
                            % (name, field, ", ".join(sorted(FIELDS - {"name"})), where))

    hosts, ports = {}, {}
    for entry in resolved:
        name = entry["name"]
        found = _image_problem(entry.get("image"))
        if found:
            problems.append("%s image = %r %s. Fix: %s (catalog_overrides.%s.image in %s)."
                            % (name, entry.get("image"), found[0], found[1], name, where))
        proxy = entry.get("proxy") or {}
        if proxy:
            sub = proxy.get("subdomain")
            if not isinstance(sub, string_types) or not _LABEL_RE.match(sub):
                problems.append("%s proxy.subdomain = %r is not a DNS label. Fix: lowercase letters, digits and '-', "
                                "e.g. tv (catalog_overrides.%s.proxy.subdomain in %s)." % (name, sub, name, where))
            else:
                hosts.setdefault(sub, []).append(name)
            policy = proxy.get("auth")
            if policy not in POLICIES:
                problems.append("%s proxy.auth = %r is not a policy. Fix: one of %s (catalog_overrides.%s.proxy.auth in %s)."
                                % (name, policy, ", ".join(POLICIES), name, where))
            elif policy in ("one_factor", "two_factor") and not proxy.get("groups"):
                problems.append("%s proxy.groups is empty for policy %s: nobody could sign in. Fix: list groups, e.g. "
                                "[admins] (catalog_overrides.%s.proxy.groups in %s)." % (name, policy, name, where))
        for publish in entry.get("publish") or []:
            key = "%s/%s" % (publish.get("host_port"), publish.get("protocol", "tcp"))
            ports.setdefault(key, []).append(name)
        host_port = entry.get("host_port")
        if host_port not in (None, 0, "") and not (_int_or_none(host_port) and 0 < _int_or_none(host_port) < 65536):
            problems.append("%s host_port = %r is not a port. Fix: a number from 1 to 65535, or 0 for no host-private "
                            "port (catalog_overrides.%s.host_port in %s)." % (name, host_port, name, where))
        elif entry.get("host_loopback"):
            ports.setdefault("%s/tcp" % host_port, []).append(name)
        for dependency in entry.get("depends_on") or []:
            if dependency not in enabled:
                problems.append("%s needs '%s', which is not enabled. Fix: add %s to catalog_enabled, or remove %s "
                                "(in %s)." % (name, dependency, dependency, name, where))
        for secret, spec in sorted((entry.get("secrets") or {}).items()):
            if isinstance(spec, dict) and spec.get("required") and not spec.get("value"):
                problems.append("%s secret '%s' is missing. Fix: set %s (e.g. in an ansible-vault encrypted vault.yml "
                                "beside %s)." % (name, secret, spec.get("variable", "its variable"), where))
    for sub, names in sorted(hosts.items()):
        if len(names) > 1:
            problems.append("subdomain '%s' is used by %s. Fix: give each a different proxy.subdomain in "
                            "catalog_overrides (in %s)." % (sub, " and ".join(names), where))
    for port, names in sorted(ports.items()):
        if len(names) > 1:
            problems.append("host port %s is published by %s. Fix: change publish (or host_port, the 127.0.0.1 port) "
                            "of one of them in catalog_overrides (in %s)." % (port, " and ".join(names), where))
    return problems


class FilterModule(object):
    def filters(self):
        return {
            "catalog_resolve": catalog_resolve,
            "catalog_problems": catalog_problems,
        }
