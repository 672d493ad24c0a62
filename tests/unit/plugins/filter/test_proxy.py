# -*- coding: utf-8 -*-
# Copyright: monsterr.mediaserver developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""proxy_sites and proxy_problems: the proxy's view of the resolved catalog."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.monsterr.mediaserver.plugins.filter.proxy import proxy_problems, proxy_sites


def catalog(**extra):
    entries = [
        {"name": "proxy", "image": "nginx:1", "publish": [{"host_port": 80}]},
        {"name": "authelia", "port": 9091, "internal_url": "http://authelia:9091",
         "proxy": {"subdomain": "auth", "auth": "none", "host": "auth.example.org", "url": "https://auth.example.org",
                   "upstream_port": 9091}},
        {"name": "sonarr", "port": 8989, "internal_url": "http://sonarr:8989",
         "proxy": {"subdomain": "tv", "auth": "two_factor", "groups": ["admins"], "websocket": True,
                   "bypass_paths": ["/api/", "/feed/"], "host": "tv.example.org", "url": "https://tv.example.org",
                   "upstream_port": 8989}},
        {"name": "plex", "port": 32400, "internal_url": "http://plex:32400",
         "proxy": {"subdomain": "plex", "auth": "none", "host": "plex.example.org", "upstream_port": 32400}},
        {"name": "redis", "port": 6379, "internal_url": "http://redis:6379"},
    ]
    for entry in entries:
        entry.update(extra.get(entry["name"], {}))
    return entries


def test_one_site_per_exposed_service_sorted_by_host():
    sites = proxy_sites(catalog())
    assert [s["host"] for s in sites] == ["auth.example.org", "plex.example.org", "tv.example.org"]
    tv = sites[2]
    assert tv["protected"] and tv["groups"] == ["admins"] and tv["websocket"]
    assert tv["bypass_paths"] == ["/api/", "/feed/"]
    assert tv["upstream"] == "http://sonarr:8989"
    assert tv["authz_url"] == "http://authelia:9091/api/authz/auth-request"
    assert tv["portal_url"] == "https://auth.example.org"
    assert tv["frame_ancestors"] == ["'self'"] and tv["client_max_body_size"] == "100m"
    assert not sites[0]["protected"] and not sites[1]["protected"]
    assert proxy_problems(sites) == []


def test_upstream_follows_internal_url_or_a_different_upstream_port():
    sites = proxy_sites(catalog(sonarr={"internal_url": "http://127.0.0.1:18989"}))
    assert sites[2]["upstream"] == "http://127.0.0.1:18989"
    entries = catalog()
    entries[2]["proxy"]["upstream_port"] = 9000
    assert proxy_sites(entries)[2]["upstream"] == "http://sonarr:9000"


def test_per_site_frame_ancestors_and_body_size():
    entries = catalog()
    entries[2]["proxy"].update(frame_ancestors=["'self'", "https://home.example.org"], client_max_body_size="2g")
    tv = proxy_sites(entries, default_frame_ancestors=["'none'"], default_body_size="10m")[2]
    assert tv["frame_ancestors"] == ["'self'", "https://home.example.org"] and tv["client_max_body_size"] == "2g"
    assert proxy_sites(entries, default_frame_ancestors=["'none'"])[1]["frame_ancestors"] == ["'none'"]


def test_protected_site_without_authelia_is_a_problem():
    entries = [e for e in catalog() if e["name"] != "authelia"]
    problems = proxy_problems(proxy_sites(entries))
    assert len(problems) == 1 and "catalog_overrides.sonarr.proxy.auth is two_factor" in problems[0]
    assert "'authelia' is not enabled" in problems[0]


@pytest.mark.parametrize("field, value, needle", [
    ("bypass_paths", ["/api; return 200"], "bypass_paths has '/api; return 200'"),
    ("bypass_paths", ["/"], "bypass_paths has '/'"),
    ("bypass_paths", ["api/"], "bypass_paths has 'api/'"),
    ("client_max_body_size", "lots", "client_max_body_size = 'lots'"),
    ("frame_ancestors", ["https://x.org\" always; evil"], "frame_ancestors has"),
    ("auth", "three_factor", "auth = 'three_factor' is not a policy"),
])
def test_unsafe_or_invalid_site_settings_are_reported(field, value, needle):
    entries = catalog()
    entries[2]["proxy"][field] = value
    problems = proxy_problems(proxy_sites(entries))
    assert any(needle in p for p in problems), problems


def test_every_problem_at_once():
    entries = catalog(sonarr={"internal_url": "http://bad host:1"})
    entries[2]["proxy"].update(bypass_paths=["/a b"], client_max_body_size="x")
    assert len(proxy_problems(proxy_sites(entries))) == 3


def test_not_a_list_is_an_error():
    with pytest.raises(AnsibleFilterError):
        proxy_sites({"sonarr": {}})
