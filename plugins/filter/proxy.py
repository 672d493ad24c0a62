# -*- coding: utf-8 -*-
# Copyright: monsterr.mediaserver developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The proxy's view of the resolved catalog: one site per exposed service, and the problems that would
make nginx refuse (or silently mis-route) the rendered configuration.

Nothing here names a service: the sites come from the services that carry a proxy.host.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible.errors import AnsibleFilterError
from ansible.module_utils.six import string_types

from ansible_collections.monsterr.mediaserver.plugins.plugin_utils._data import plain as _plain

PROTECTED = ("one_factor", "two_factor", "bypass")     # policies that go through Authelia's auth_request
POLICIES = PROTECTED + ("none",)
AUTHZ_PATH = "/api/authz/auth-request"
# A location prefix nginx takes literally: no spaces, quotes, braces, semicolons or regex/variable syntax.
_PATH_RE = re.compile(r"^/[A-Za-z0-9._~!&'()*+,=:@/%-]*$")
_URL_RE = re.compile(r"^https?://[A-Za-z0-9._-]+(:[0-9]{1,5})?/?$")
_SIZE_RE = re.compile(r"^[0-9]+[kKmMgG]?$")
# A frame-ancestors source: a keyword or a scheme/host source, nothing that could close the header.
_SOURCE_RE = re.compile(r"^('self'|'none'|[A-Za-z][A-Za-z0-9+.-]*:|(https?://)?(\*\.)?[A-Za-z0-9.-]+(:[0-9]{1,5})?)$")


def _find(resolved, name):
    for entry in resolved:
        if entry.get("name") == name:
            return entry
    return None


def _upstream(entry):
    proxy = entry.get("proxy") or {}
    port = proxy.get("upstream_port") or entry.get("port")
    if entry.get("internal_url") and str(port) == str(entry.get("port")):
        return str(entry["internal_url"]).rstrip("/")
    return "http://%s:%s" % (entry["name"], port)


def proxy_sites(resolved, authelia_service="authelia", default_frame_ancestors=None, default_body_size="100m"):
    """One dict per exposed service, sorted by host, with everything the nginx template needs.

    host, name, auth, protected (auth_request or not), groups, websocket, bypass_paths, upstream,
    frame_ancestors, client_max_body_size, and authz_url / portal_url (empty when Authelia is not enabled).
    """
    if not isinstance(resolved, (list, tuple)):
        raise AnsibleFilterError("proxy_sites: expected the resolved catalog (a list), got %s" % type(resolved).__name__)
    resolved = _plain(resolved)
    authelia = _find(resolved, authelia_service)
    authz_url = _upstream(authelia) + AUTHZ_PATH if authelia and authelia.get("port") else ""
    portal_url = ((authelia or {}).get("proxy") or {}).get("url", "")
    frame_default = list(default_frame_ancestors or ["'self'"])
    sites = []
    for entry in resolved:
        proxy = entry.get("proxy")
        if not isinstance(proxy, dict) or not proxy.get("host"):
            continue
        auth = proxy.get("auth", "two_factor")
        sites.append({
            "name": entry["name"],
            "host": proxy["host"],
            "url": proxy.get("url", "https://%s" % proxy["host"]),
            "auth": auth,
            "protected": auth in PROTECTED,
            "groups": list(proxy.get("groups") or []),
            "websocket": bool(proxy.get("websocket", False)),
            "bypass_paths": list(proxy.get("bypass_paths") or []),
            "upstream": _upstream(entry),
            "frame_ancestors": list(proxy.get("frame_ancestors") or frame_default),
            "client_max_body_size": str(proxy.get("client_max_body_size") or default_body_size),
            "authz_url": authz_url,
            "portal_url": portal_url,
        })
    return sorted(sites, key=lambda s: s["host"])


def proxy_problems(sites, authelia_service="authelia"):
    """Every problem with the sites, one line each (variable, value, fix)."""
    problems = []
    where = "catalog_overrides.%s.proxy.%s"
    for site in sites:
        name = site["name"]
        if site["auth"] not in POLICIES:
            problems.append("%s = %r is not a policy. Fix: one of %s." % (where % (name, "auth"), site["auth"], ", ".join(POLICIES)))
        if site["protected"] and not site["authz_url"]:
            problems.append("%s is %s but the sign-on service '%s' is not enabled (or has no port). Fix: add %s to "
                            "catalog_enabled, or set proxy_authelia_service to its name, or set auth: none."
                            % (where % (name, "auth"), site["auth"], authelia_service, authelia_service))
        if site["protected"] and site["authz_url"] and not site["portal_url"]:
            problems.append("the sign-on service '%s' has no proxy.subdomain, so %s cannot redirect to a portal. Fix: "
                            "give %s a proxy.subdomain (e.g. auth)." % (authelia_service, name, authelia_service))
        for path in site["bypass_paths"]:
            if not isinstance(path, string_types) or not _PATH_RE.match(path) or path == "/":
                problems.append("%s has %r, not a URL path prefix other than '/'. Fix: e.g. /api/ (letters, digits and "
                                "/._~-, no spaces, quotes, braces or ';')." % (where % (name, "bypass_paths"), path))
        if not _URL_RE.match(site["upstream"]):
            problems.append("%s upstream %r is not http(s)://<host>[:port]. Fix: catalog_overrides.%s.internal_url "
                            "or proxy.upstream_port." % (name, site["upstream"], name))
        if site["authz_url"] and not _URL_RE.match(site["authz_url"][:-len(AUTHZ_PATH)]):
            problems.append("the sign-on service's internal_url %r is not http(s)://<host>[:port]. Fix: "
                            "catalog_overrides.%s.internal_url." % (site["authz_url"][:-len(AUTHZ_PATH)], authelia_service))
        if not _SIZE_RE.match(site["client_max_body_size"]):
            problems.append("%s = %r is not an nginx size. Fix: e.g. 100m, 2g or 0 (no limit)."
                            % (where % (name, "client_max_body_size"), site["client_max_body_size"]))
        for source in site["frame_ancestors"]:
            if not isinstance(source, string_types) or not _SOURCE_RE.match(source):
                problems.append("%s has %r, not a CSP source. Fix: 'self', 'none' or an origin such as "
                                "https://home.example.org." % (where % (name, "frame_ancestors"), source))
    return sorted(set(problems), key=problems.index)


class FilterModule(object):
    def filters(self):
        return {
            "proxy_sites": proxy_sites,
            "proxy_problems": proxy_problems,
        }
