# -*- coding: utf-8 -*-
# Copyright: monsterr.mediaserver developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The catalog filters, on the shipped service files themselves and on broken overrides."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import glob
import os

import pytest
import yaml

from ansible_collections.monsterr.mediaserver.plugins.filter.catalog import FIELDS, catalog_problems, catalog_resolve

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", "..", ".."))
SERVICES = os.path.join(ROOT, "roles", "catalog", "services")
DEFAULTS = yaml.safe_load(open(os.path.join(ROOT, "roles", "catalog", "defaults", "main.yml")))


def shipped():
    """The service files as the role loads them (Jinja left as text: these tests check structure)."""
    catalog = {}
    for path in sorted(glob.glob(os.path.join(SERVICES, "*.yml"))):
        data = yaml.safe_load(open(path))
        assert list(data) == [os.path.basename(path)[:-4]], "%s must define exactly the service named like the file" % path
        catalog.update(data)
    return catalog


def resolve(enabled=None, overrides=None):
    cat = shipped()
    enabled = DEFAULTS["catalog_enabled"] if enabled is None else enabled
    resolved = catalog_resolve(cat, enabled, overrides, "/opt/monsterr", "/data", "media.example.org")
    return resolved, catalog_problems(resolved, cat, enabled, overrides, "inv/main.yml")


def test_every_service_of_the_mission_is_in_the_catalog():
    mission = {"plex", "sonarr", "radarr", "lidarr", "readarr", "bazarr", "prowlarr", "qbittorrent", "nzbget", "overseerr",
               "tautulli", "calibre-web", "audiobookshelf", "recyclarr", "unpackerr", "prometheus", "node-exporter",
               "cadvisor", "grafana", "authelia", "redis", "homepage", "portainer", "diun", "socket-proxy", "proxy"}
    assert mission <= set(shipped())


def test_retired_services_are_gone_and_say_what_instead():
    """A retired name has no catalog file and a message naming its replacement, which the catalog ships."""
    retired = yaml.safe_load(open(os.path.join(ROOT, "roles", "catalog", "retired.yml")))
    assert "watchtower" in retired
    for name, message in retired.items():
        assert name not in shipped(), "%s is retired but still has a catalog file" % name
        replacements = [other for other in shipped() if other in message]
        assert replacements and len(message) > 80, (name, message)


def test_deprecated_entries_are_opt_in_and_say_why_since_when_and_what_instead():
    deprecated = dict((n, e) for n, e in shipped().items() if e.get("deprecated"))
    assert sorted(deprecated) == ["readarr"]
    for name, entry in deprecated.items():
        assert name not in DEFAULTS["catalog_enabled"] and entry.get("opt_in", True)
        assert "\n" not in entry["deprecated"].strip() and any(c.isdigit() for c in entry["deprecated"])
        assert any(other in entry["deprecated"] for other in shipped() if other != name)


@pytest.mark.parametrize("name", sorted(shipped()))
def test_shipped_entry_is_complete_and_pinned(name):
    entry = shipped()[name]
    assert set(entry) <= FIELDS, "unknown fields %s" % (set(entry) - FIELDS)
    assert entry.get("description") and entry.get("group") and entry.get("image")
    tag = entry["image"].rsplit("/", 1)[-1]
    assert ":" in tag and not tag.endswith(":latest"), entry["image"]
    if entry.get("proxy"):
        assert entry["proxy"]["auth"] in ("two_factor", "one_factor", "bypass", "none")
        assert entry.get("port"), "an exposed service needs its upstream port"


def test_default_household_resolves_without_problems():
    resolved, problems = resolve()
    assert problems == []
    names = [s["name"] for s in resolved]
    assert names == sorted(DEFAULTS["catalog_enabled"])
    sonarr = next(s for s in resolved if s["name"] == "sonarr")
    assert sonarr["proxy"]["host"] == "sonarr.media.example.org"
    assert sonarr["internal_url"] == "http://sonarr:8989"
    assert {"source": "/opt/monsterr/sonarr", "target": "/config", "read_only": False} in sonarr["volumes"]
    assert {"source": "/data", "target": "/data", "read_only": False} in sonarr["volumes"]


def test_every_service_enabled_together_resolves_without_problems():
    _, problems = resolve(enabled=sorted(shipped()))
    assert problems == []


def test_overrides_merge_by_name_and_lists_replace():
    resolved, problems = resolve(overrides={"sonarr": {"proxy": {"subdomain": "tv"}, "publish": []}})
    sonarr = next(s for s in resolved if s["name"] == "sonarr")
    assert problems == []
    assert sonarr["proxy"]["subdomain"] == "tv" and sonarr["proxy"]["auth"] == "two_factor"
    assert sonarr["proxy"]["host"] == "tv.media.example.org"


def test_every_problem_is_reported_at_once():
    overrides = {
        "sonarr": {"image": "lscr.io/linuxserver/sonarr:latest", "proxy": {"subdomain": "radarr"}, "colour": "red"},
        "radarr": {"image": "lscr.io/linuxserver/radarr"},
        "qbittorrent": {"publish": [{"host_port": 32400, "container_port": 6881, "protocol": "tcp"}]},
        "grafana": {"proxy": {"auth": "two_factors"}},
        "homepage": {"proxy": {"groups": []}},
        "bogus": {"image": "x:1"},
    }
    enabled = DEFAULTS["catalog_enabled"] + ["portainer", "nonexistent"]
    _, problems = resolve(enabled=enabled, overrides=overrides)
    expected = [
        "catalog_enabled = 'nonexistent' is not a service of the catalog",
        "catalog_overrides.bogus = {'image': 'x:1'} is not a service of the catalog",
        "catalog_overrides.sonarr.colour = 'red' is not a field of sonarr",
        "catalog_overrides.sonarr.image = 'lscr.io/linuxserver/sonarr:latest' uses the floating tag :latest",
        "catalog_overrides.radarr.image = 'lscr.io/linuxserver/radarr' has no tag",
        "catalog_overrides.grafana.proxy.auth = 'two_factors' is not one of",
        "catalog_overrides.homepage.proxy.groups = [] is empty for policy one_factor",
        "catalog_enabled = 'portainer' needs 'socket-proxy', which is not enabled",
        "proxy.subdomain = 'radarr' is used by radarr and sonarr",
        "host port = '32400/tcp' is published by plex and qbittorrent",
    ]
    for fragment in expected:
        assert len([p for p in problems if fragment in p]) == 1, (fragment, problems)
    assert len(problems) == len(expected), problems
    assert all("Fix:" in p and "inv/main.yml" in p for p in problems)


def test_required_secret_missing_is_reported():
    cat = shipped()
    cat["plex"]["secrets"]["claim"].update(required=True, value="")
    resolved = catalog_resolve(cat, ["plex"], {}, "/opt/monsterr", "/data", "x.org")
    problems = catalog_problems(resolved, cat, ["plex"], {}, "inv/main.yml")
    assert problems == ["vault_plex_claim_token = '' is missing (plex's claim). Fix: set vault_plex_claim_token in an "
                        "ansible-vault encrypted vault.yml beside main.yml (in inv/vault.yml)."]
