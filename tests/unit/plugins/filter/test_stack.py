# -*- coding: utf-8 -*-
# Copyright: monsterr.mediaserver developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The stack filters on the shipped catalog: compose project, secrets, seeds, host-private ports, problems."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import hashlib

import pytest

from ansible_collections.monsterr.mediaserver.plugins.filter import stack
from ansible_collections.monsterr.mediaserver.plugins.filter.catalog import catalog_problems, catalog_resolve
from ansible_collections.monsterr.mediaserver.tests.unit.plugins.filter.test_catalog import shipped

OPTIONS = {"project": "monsterr", "network": "monsterr", "puid": 2000, "pgid": 2000, "timezone": "Europe/Berlin",
           "healthcheck_interval": "30s", "healthcheck_timeout": "10s", "healthcheck_retries": 3,
           "healthcheck_start_period": "30s", "healthcheck_start_interval": "3s"}


def catalog():
    cat = shipped()
    # The shipped files hold Jinja that Ansible renders before the filter sees it.
    for entry in cat.values():
        for publish in entry.get("publish") or []:
            for key in ("host_port", "container_port"):
                if "{{" in str(publish[key]):
                    publish[key] = 6881
        env = entry.get("environment") or {}
        for key, value in env.items():
            if "{{" in str(value):
                env[key] = "x"
    return cat


def resolve(enabled, overrides=None):
    cat = catalog()
    return catalog_resolve(cat, enabled, overrides or {}, "/opt/monsterr", "/data", "media.example.org")


def compose(enabled, overrides=None, **options):
    return stack.stack_compose(resolve(enabled, overrides), dict(OPTIONS, **options))


def test_every_container_gets_the_common_hardening():
    services = compose(sorted(catalog()))["services"]
    for name, service in services.items():
        assert service["container_name"] == name
        assert service["restart"] == "unless-stopped"
        assert service["security_opt"] == ["no-new-privileges:true"]
        assert service["logging"] == {"driver": "json-file", "options": {"max-size": "10m", "max-file": "3"}}
        assert service["networks"] == ["monsterr"] or list(service["networks"]) == ["monsterr"]


def test_only_publish_entries_are_public_and_app_ports_are_loopback_only():
    services = compose(sorted(catalog()))["services"]
    public = sorted((n, p["published"], p["protocol"]) for n, s in services.items() for p in s.get("ports", [])
                    if p.get("host_ip") != "127.0.0.1")
    assert public == [("plex", "32400", "tcp"), ("proxy", "443", "tcp"), ("proxy", "80", "tcp"),
                      ("qbittorrent", "6881", "tcp"), ("qbittorrent", "6881", "udp")]
    loopback = dict((n, p["published"]) for n, s in services.items() for p in s.get("ports", [])
                    if p.get("host_ip") == "127.0.0.1")
    assert loopback["sonarr"] == "8989" and loopback["qbittorrent"] == "8080" and loopback["homepage"] == "3001"
    assert "redis" not in loopback and "socket-proxy" not in loopback and "plex" not in loopback
    assert len(set(loopback.values())) == len(loopback)


def test_host_url_is_apart_from_internal_url():
    by_name = dict((e["name"], e) for e in resolve(["sonarr", "plex", "redis", "qbittorrent"]))
    assert by_name["sonarr"]["internal_url"] == "http://sonarr:8989"
    assert by_name["sonarr"]["host_url"] == "http://127.0.0.1:8989"
    assert by_name["plex"]["host_url"] == "http://127.0.0.1:32400" and not by_name["plex"]["host_loopback"]
    assert by_name["redis"]["host_url"] == ""


def test_a_loopback_port_clash_is_a_catalog_problem():
    cat = catalog()
    overrides = {"sonarr": {"host_port": 7878}, "radarr": {"host_port": "x"}}
    resolved = catalog_resolve(cat, ["sonarr", "radarr", "grafana"], overrides, "/opt/monsterr", "/data", "m.org")
    problems = catalog_problems(resolved, cat, ["sonarr", "radarr", "grafana"], overrides, "inv/main.yml")
    assert len(problems) == 1 and "catalog_overrides.radarr.host_port = 'x' is not a whole number" in problems[0]
    overrides = {"sonarr": {"host_port": 3000}}
    resolved = catalog_resolve(cat, ["sonarr", "grafana"], overrides, "/opt/monsterr", "/data", "m.org")
    problems = catalog_problems(resolved, cat, ["sonarr", "grafana"], overrides, "inv/main.yml")
    assert problems and "host port = '3000/tcp' is published by grafana and sonarr" in problems[0]


def test_user_env_images_get_the_household_account_and_secrets_stay_out():
    services = compose(["sonarr", "redis", "qbittorrent"])["services"]
    env = services["sonarr"]["environment"]
    assert (env["PUID"], env["PGID"], env["TZ"], env["UMASK"]) == ("2000", "2000", "Europe/Berlin", "002")
    assert env["SONARR__AUTH__APIKEY"] == "${SONARR_API_KEY}"
    assert env["SONARR__AUTH__METHOD"] == "External" and env["SONARR__SERVER__URLBASE"] == ""
    assert "environment" not in services["redis"]
    assert services["redis"]["read_only"] is True


def test_literal_dollars_are_escaped_for_compose():
    services = compose(["node-exporter"])["services"]
    assert any("($$|/)" in arg for arg in services["node-exporter"]["command"])


def test_fixed_subnet_gives_the_proxy_its_address_and_grafana_trusts_only_that():
    """Grafana's auth proxy believes Remote-User only from GF_AUTH_PROXY_WHITELIST: the proxy's fixed address."""
    project = compose(["proxy", "grafana", "sonarr"], subnet="10.223.0.0/24")
    # Docker hands out the upper half; the fixed addresses live below it, so no container started earlier can take
    # the proxy's (docker: "Address already in use", seen when the proxy started after nine others).
    assert project["networks"]["monsterr"]["ipam"] == {"config": [{"subnet": "10.223.0.0/24",
                                                                   "ip_range": "10.223.0.128/25"}]}
    services = project["services"]
    assert services["proxy"]["networks"] == {"monsterr": {"ipv4_address": "10.223.0.10"}}
    assert services["sonarr"]["networks"] == ["monsterr"]
    assert services["grafana"]["environment"]["GF_AUTH_PROXY_WHITELIST"] == "10.223.0.10"
    # Without the proxy (or without a fixed subnet) Grafana trusts no one outside its own container.
    assert compose(["grafana"], subnet="10.223.0.0/24")["services"]["grafana"]["environment"][
        "GF_AUTH_PROXY_WHITELIST"] == "127.0.0.1"
    no_subnet = compose(["proxy", "grafana"])
    assert "ipam" not in no_subnet["networks"]["monsterr"]
    assert no_subnet["services"]["grafana"]["environment"]["GF_AUTH_PROXY_WHITELIST"] == "127.0.0.1"


@pytest.mark.parametrize("subnet, address, message", [
    ("10.223.0.0/30", 10, "not a host number of the fixed half of stack_subnet"),
    ("10.223.0.0/24", 1, "1 is the gateway"),
    ("10.223.0.0/24", 128, "the upper half Docker's"),
    ("10.223.0.0/24", 255, "not a host number"),
    ("10.223.0.1/24", 10, "not an IPv4 network"),
])
def test_a_fixed_address_outside_the_subnet_is_refused(subnet, address, message):
    from ansible.errors import AnsibleFilterError
    with pytest.raises(AnsibleFilterError, match=message):
        compose(["proxy"], {"proxy": {"address": address}}, subnet=subnet)


def test_unpackerr_is_told_about_every_enabled_arr_it_supports():
    """With no app configured unpackerr idles silently (images.md): the catalog's links give it one group of
    UN_<APP>_<n>_* variables per enabled Sonarr/Radarr/Lidarr/Readarr, never Prowlarr."""
    services = compose(["unpackerr", "sonarr", "radarr", "prowlarr", "lidarr"])["services"]
    env = services["unpackerr"]["environment"]
    assert env["UN_SONARR_0_URL"] == "http://sonarr:8989"
    assert env["UN_SONARR_0_API_KEY"] == "${SONARR_API_KEY}"
    assert env["UN_SONARR_0_PATHS_0"] == "/data/downloads"
    assert env["UN_RADARR_0_URL"] == "http://radarr:7878" and env["UN_RADARR_0_API_KEY"] == "${RADARR_API_KEY}"
    assert env["UN_LIDARR_0_API_KEY"] == "${LIDARR_API_KEY}"
    assert not [k for k in env if "PROWLARR" in k]
    assert services["unpackerr"]["user"] == "{{ household_puid }}:{{ household_pgid }}"
    assert set(services["unpackerr"]["depends_on"]) == {"sonarr", "radarr", "lidarr"}
    # A second Sonarr (an override with api.app sonarr) is number 1; a URL base is part of the URL.
    cat = catalog()
    cat["sonarr-4k"] = dict(cat["sonarr"], api=dict(cat["sonarr"]["api"], url_base="/4k"))
    resolved = catalog_resolve(cat, ["unpackerr", "sonarr", "sonarr-4k"], {}, "/opt/monsterr", "/data", "m.org")
    env = stack.stack_compose(resolved, OPTIONS)["services"]["unpackerr"]["environment"]
    assert env["UN_SONARR_1_URL"] == "http://sonarr-4k:8989/4k" and env["UN_SONARR_1_API_KEY"] == "${SONARR_4K_API_KEY}"
    # Nothing enabled to link: nothing told, no dependency.
    alone = compose(["unpackerr"])["services"]["unpackerr"]
    assert not [k for k in alone["environment"] if k.startswith("UN_SONARR")] and "depends_on" not in alone


def test_secret_specs_carry_the_catalog_pattern():
    specs = stack.stack_secret_specs(resolve(["sonarr", "overseerr"]))
    by_term = dict((s["term"], s) for s in specs)
    assert by_term["sonarr/api_key"]["format"] == "hex32"
    assert by_term["sonarr/api_key"]["pattern"] == "^(?=.*[a-f])[0-9a-f]{32}$"
    assert by_term["overseerr/api_key"]["pattern"]


def test_exportarr_sidecar_per_arr_unless_switched_off():
    services = compose(["sonarr", "radarr"])["services"]
    sidecar = services["sonarr-exporter"]
    assert sidecar["command"] == ["sonarr"]
    assert sidecar["environment"] == {"PORT": "9707", "URL": "http://sonarr:8989", "APIKEY": "${SONARR_API_KEY}"}
    assert "ports" not in sidecar and sidecar["read_only"] is True
    off = compose(["sonarr"], {"sonarr": {"metrics": {"exporter": "none"}}})["services"]
    assert sorted(off) == ["sonarr"]


def test_healthchecks_volumes_and_dependencies():
    services = compose(["bazarr", "sonarr", "radarr", "plex", "cadvisor"])["services"]
    assert services["sonarr"]["healthcheck"]["start_period"] == "90s"
    assert services["sonarr"]["healthcheck"]["start_interval"] == "3s"
    assert "healthcheck" not in services["cadvisor"]
    assert services["bazarr"]["depends_on"] == {"sonarr": {"condition": "service_healthy"},
                                                "radarr": {"condition": "service_healthy"}}
    assert {"type": "bind", "source": "/data", "target": "/data", "read_only": True,
            "bind": {"create_host_path": False}} in services["plex"]["volumes"]
    assert services["plex"]["tmpfs"] == ["/transcode"]
    old_engine = compose(["sonarr"], start_interval_supported=False)["services"]["sonarr"]["healthcheck"]
    assert "start_interval" not in old_engine


def test_secret_specs_env_file_and_seeds():
    resolved = resolve(["sonarr", "qbittorrent", "calibre-web", "plex"])
    specs = stack.stack_secret_specs(resolved)
    assert [(s["term"], s["variable"], s["placeholder"]) for s in specs] == [
        ("qbittorrent/password", "vault_qbittorrent_password", "QBITTORRENT_PASSWORD"),
        ("sonarr/api_key", "vault_sonarr_api_key", "SONARR_API_KEY")]
    secrets = stack.stack_secrets_dict(specs, ["p" * 43, "a" * 64])
    assert secrets == {"qbittorrent": {"password": "p" * 43}, "sonarr": {"api_key": "a" * 64}}
    assert stack.stack_env_file(specs, secrets) == "QBITTORRENT_PASSWORD='%s'\nSONARR_API_KEY='%s'\n" % ("p" * 43, "a" * 64)
    seeds = stack.stack_seeds(resolved, "/opt/monsterr/")
    assert {"service": "qbittorrent", "template": "qbittorrent/categories.json.j2",
            "dest": "/opt/monsterr/qbittorrent/qBittorrent/categories.json"} in seeds
    assert {"service": "sonarr", "template": "servarr/config.xml.j2", "dest": "/opt/monsterr/sonarr/config.xml"} in seeds


def test_problems_are_reported_at_once():
    resolved = resolve(["sonarr", "radarr"], {
        "sonarr": {"environment": {"SONARR__SERVER__URLBASE": "/tv", "bad-name": "x"}},
        "radarr": {"healthcheck": {"interval": "often"}, "seeds": [{"template": "../../etc/passwd", "dest": "x"}]},
    })
    problems = stack.stack_problems(resolved, "inv/main.yml")
    expected = ["catalog_overrides.sonarr.environment.bad-name = 'x' has a name that is not an environment variable",
                "catalog_overrides.sonarr.environment.SONARR__SERVER__URLBASE = '/tv' differs from api.url_base = ''",
                "catalog_overrides.radarr.healthcheck.interval = 'often' is not a duration",
                "catalog_overrides.radarr.seeds = {'template': '../../etc/passwd', 'dest': 'x'} has a seed"]
    for fragment in expected:
        assert len([p for p in problems if fragment in p]) == 1, (fragment, problems)
    assert len(problems) == len(expected), problems
    assert all(p.endswith("(in inv/main.yml).") for p in problems)
    assert stack.stack_problems(resolve(["sonarr", "radarr", "prowlarr"])) == []


def test_qbittorrent_hash_is_pbkdf2_sha512_and_stable():
    value = stack.qbittorrent_pbkdf2("s3cret-Passw0rd")
    assert value == stack.qbittorrent_pbkdf2("s3cret-Passw0rd")
    assert value != stack.qbittorrent_pbkdf2("s3cret-Passw0rd!")
    salt, key = value[len("@ByteArray("):-1].split(":")
    salt = base64.b64decode(salt)
    assert len(salt) == 16
    assert base64.b64decode(key) == hashlib.pbkdf2_hmac("sha512", b"s3cret-Passw0rd", salt, 100000, dklen=64)


@pytest.mark.parametrize("value", [["a", "b"], "x"])
def test_secrets_dict_needs_one_value_per_spec(value):
    from ansible.errors import AnsibleFilterError
    with pytest.raises(AnsibleFilterError):
        stack.stack_secrets_dict([{"service": "s", "name": "n"}], value if isinstance(value, list) else [])


def test_directory_overrides_come_from_the_catalog_volume_entries():
    """The proxy's ACME webroot is shared with the letsencrypt layer (certbot writes it as root, nginx's worker
    reads it): the stack must create it root 0755 like that layer, never the household's 0750."""
    resolved = catalog_resolve(shipped(), ["proxy", "sonarr"], {"sonarr": {"volumes": [
        {"source": "config", "target": "/config"},
        {"source": "/srv/elsewhere", "target": "/x", "mode": "0700"}]}})
    assert stack.stack_directory_overrides(resolved, "/opt/monsterr/") == {
        "/opt/monsterr/proxy/acme": {"owner": "root", "group": "root", "mode": "0755"}}
