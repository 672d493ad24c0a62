# -*- coding: utf-8 -*-
# Copyright: monsterr.mediaserver developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The catalog's `user` field: images that take no PUID/PGID but read the household's appdata (0750, owned by
the household's account) run as that account, so the monitoring containers can read what the monitoring layer
writes."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.monsterr.mediaserver.plugins.filter.catalog import catalog_problems
from ansible_collections.monsterr.mediaserver.tests.unit.plugins.filter.test_stack import catalog, compose, resolve

HOUSEHOLD = "{{ household_puid }}:{{ household_pgid }}"


def test_monitoring_images_run_as_the_household_account():
    cat = catalog()
    for name in ("prometheus", "alertmanager", "node-exporter", "grafana"):
        assert cat[name]["user"] == HOUSEHOLD, name
    services = compose(["prometheus", "alertmanager", "node-exporter", "grafana", "cadvisor", "sonarr", "redis"])["services"]
    assert services["prometheus"]["user"] == HOUSEHOLD
    # redis too: started as root its entrypoint chowns /data to 999, and the playbook would chown it back.
    assert services["redis"]["user"] == HOUSEHOLD
    # cAdvisor reads Docker's state as root; PUID images keep the image's s6 start as root.
    assert "user" not in services["cadvisor"] and "user" not in services["sonarr"]


def test_user_is_a_known_override_field_and_reaches_compose():
    overrides = {"redis": {"user": "999:999"}}
    cat = catalog()
    resolved = resolve(["redis"], overrides)
    assert catalog_problems(resolved, cat, ["redis"], overrides, "inv/main.yml") == []
    assert compose(["redis"], overrides)["services"]["redis"]["user"] == "999:999"
    assert compose(["redis"], {"redis": {"user": 1000}})["services"]["redis"]["user"] == "1000"
