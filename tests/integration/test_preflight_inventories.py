# -*- coding: utf-8 -*-
# Copyright: monsterr.mediaserver developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Bad inventories and bad hosts against the real site.yml: preflight stops the run, names every
problem (variable, value, fix) in one failure, and leaves the host exactly as it was.

The table: one inventory (a copy of inventories/example) with one host alias per case, each alias with its
own broken host_vars, all of them connecting to the same long-lived container (or, for the OS case, to a
Debian 11 look-alike). ONE `ansible-playbook site.yml` run covers every case in parallel; then each alias
must have failed in preflight with exactly its own lines, no other layer may have run for it, and `docker
diff` of both containers must be what it was before the run. A few cases cannot share that run (an inventory
whose host is outside `mediaserver`, a run narrowed with --tags) and run on their own.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import glob
import json
import os
import re
import resource
import shutil
import subprocess
import sys
import time
from collections import namedtuple

import pytest
import yaml

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
EXAMPLE = os.path.join(ROOT, "inventories", "example")
IMAGE = "monsterr/debian12-systemd:base"
CONTAINER = "monsterr-preflight-test-%d" % os.getpid()
OLD_IMAGE = "monsterr-preflight-test/debian11:local"
OLD_CONTAINER = "monsterr-preflight-test-debian11-%d" % os.getpid()
# A test container is smaller than a media server: the demo's minimums, in the inventory (a case may raise one
# again in its host_vars, which win over group_vars).
RELAXED = {"preflight_min_cpus": 1, "preflight_min_ram_mb": 256, "preflight_min_disk_gb": 1}
LAYERS = ["household", "preflight", "base", "ufw", "fail2ban", "docker", "letsencrypt", "catalog", "proxy", "authelia",
          "monitoring", "stack", "wiring", "backup"]
FAILED_TASK = "Check the household's settings and the host"


def _docker_works():
    try:
        return subprocess.run(["docker", "info"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              timeout=30, check=False).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


pytestmark = [
    pytest.mark.integration,
    pytest.mark.docker,
    pytest.mark.needs(_docker_works(), "`docker info` fails: these tests need a running Docker engine: run `make setup` "
                                       "(apt-get install docker.io) and `bash scripts/ensure-docker.sh`"),
]


def _docker(*args, check=True):
    return subprocess.run(["docker"] + list(args), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          universal_newlines=True, check=check)


def _tool(name):
    """The Ansible CLI of the Python running the tests (the project's venv), else the one on PATH."""
    local = os.path.join(os.path.dirname(sys.executable), name)
    return local if os.path.exists(local) else shutil.which(name)


def _diff(container):
    """Everything added, changed or deleted in the container's filesystem since it started."""
    return sorted(_docker("diff", container).stdout.splitlines())


def _env(facts, stdout="json"):
    env = dict(os.environ)
    env.pop("ANSIBLE_FORCE_COLOR", None)
    env.update({
        "ANSIBLE_CONFIG": os.path.join(ROOT, "ansible.cfg"),
        "ANSIBLE_CACHE_PLUGIN_CONNECTION": str(facts),
        "ANSIBLE_NOCOLOR": "1",
        # Not profile_tasks (its lines would land inside the JSON document): junit writes to a directory only.
        "ANSIBLE_CALLBACKS_ENABLED": "ansible.builtin.junit",
        "JUNIT_OUTPUT_DIR": str(facts) + "-junit",
        "ANSIBLE_STDOUT_CALLBACK": stdout,
        "ANSIBLE_CALLBACK_RESULT_FORMAT": "json",
        "ANSIBLE_HOST_KEY_CHECKING": "False",
    })
    return env


Host = namedtuple("Host", "container data")


def _start(name, image, tmp_path_factory):
    """A container to check, and the host directory mounted as its /data.

    Ansible's mount facts leave out the container's overlay root, so without a real filesystem under a checked
    path preflight has no free-disk figure to test. A bind mount stands in for the data disk of a real server;
    docker diff cannot see into it, so the tests check it stays empty.
    """
    _docker("rm", "-f", name, check=False)
    data = tmp_path_factory.mktemp(name + "-data")
    _docker("run", "-d", "--name", name, "-v", "%s:/data" % data, image, "sleep", "infinity")
    return Host(name, data)


@pytest.fixture(scope="module")
def image():
    if _docker("image", "inspect", IMAGE, check=False).returncode != 0:
        pytest.fail("image %s is missing: build it with `bash scripts/build-base-images.sh`" % IMAGE)
    return IMAGE


@pytest.fixture(scope="module")
def debian12(image, tmp_path_factory):
    try:
        yield _start(CONTAINER, image, tmp_path_factory)
    finally:
        _docker("rm", "-f", CONTAINER, check=False)


@pytest.fixture(scope="module")
def debian11(image, tmp_path_factory):
    """The same image claiming to be Debian 11 (bullseye), built locally: nothing is pulled."""
    context = tmp_path_factory.mktemp("debian11-image")
    (context / "os-release").write_text(
        'PRETTY_NAME="Debian GNU/Linux 11 (bullseye)"\nNAME="Debian GNU/Linux"\nVERSION_ID="11"\n'
        'VERSION="11 (bullseye)"\nVERSION_CODENAME=bullseye\nID=debian\nHOME_URL="https://www.debian.org/"\n')
    (context / "debian_version").write_text("11.11\n")
    (context / "Dockerfile").write_text(
        "FROM %s\n"
        "RUN rm -f /etc/os-release /usr/lib/os-release\n"
        "COPY os-release /usr/lib/os-release\n"
        "COPY os-release /etc/os-release\n"
        "COPY debian_version /etc/debian_version\n" % image)
    env = dict(os.environ, DOCKER_BUILDKIT="0")  # the legacy builder uses the local base image
    built = subprocess.run(["docker", "build", "-q", "-t", OLD_IMAGE, str(context)], env=env,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True, check=False)
    assert built.returncode == 0, built.stdout
    try:
        host = _start(OLD_CONTAINER, OLD_IMAGE, tmp_path_factory)
        assert "VERSION_CODENAME=bullseye" in _docker("exec", OLD_CONTAINER, "cat", "/etc/os-release").stdout
        yield host
    finally:
        _docker("rm", "-f", OLD_CONTAINER, check=False)


HEX64 = "0123456789abcdef" * 4
BERLIN = "Europe/Berlin"
DEFAULT_APPS = ["proxy", "authelia", "redis", "homepage", "plex", "sonarr", "radarr", "prowlarr", "bazarr", "qbittorrent",
                "overseerr", "prometheus", "alertmanager", "node-exporter", "cadvisor", "grafana"]
USER = {"username": "admin", "displayname": "Admin", "email": "admin@example.org", "groups": ["admins", "family"],
        "password": "a-long-enough-test-password"}

# (id, layer, host_vars, expected): `expected` holds one fragment per problem; each names the variable (or host
# property) and shows the bad value as written (secrets: "(value hidden)"). The run must report exactly these
# problems, each on its own line, with a fix. `host` is the container the alias connects to; `files` are
# written into the inventory (relative to it, <alias> replaced).
Case = namedtuple("Case", "id layer host_vars expected host files")


def case(id, layer, host_vars, expected, host="debian12", files=None):
    return Case(id, layer, host_vars, expected, host, files or {})


CASES = [
    # --- the household's shared settings (the 15 cases of the first table, and more) ---------------------
    case("domain-missing", "household", {"household_domain": ""}, ["household_domain = '' is not set"]),
    case("domain-with-scheme", "household", {"household_domain": "https://media.example.org"},
         ["household_domain = 'https://media.example.org' is not a fully qualified domain name"]),
    case("domain-254-characters", "household", {"household_domain": ".".join(["a" * 63] * 3) + "." + "b" * 58 + ".org"},
         ["is 254 characters long, more than the 253 a DNS name may have"]),
    case("email-without-domain", "household", {"household_acme_email": "admin@"},
         ["household_acme_email = 'admin@' is not an e-mail address"]),
    case("timezone-typo", "household", {"household_timezone": "Europe/Berlinn"},
         ["household_timezone = 'Europe/Berlinn' is not a known IANA time zone"]),
    case("locale-word", "household", {"household_locale": "english"},
         ["household_locale = 'english' is not a UTF-8 locale name"]),
    case("user-with-space", "household", {"household_user": "Media User"},
         ["household_user = 'Media User' is not a valid user name"]),
    case("puid-not-a-number", "household", {"household_puid": "abc"}, ["household_puid = 'abc' is not an integer"]),
    case("data-root-relative", "household", {"household_data_root": "data"},
         ["household_data_root = 'data' is not an absolute path below /"]),
    case("admin-cidr-prefix-33", "household", {"household_admin_cidrs": ["192.168.1.0/33"]},
         ["household_admin_cidrs = ['192.168.1.0/33'] has bad entries: '192.168.1.0/33' is not a network in CIDR notation"]),
    case("lan-cidrs-a-string", "household", {"household_lan_cidrs": "192.168.1.0/24"},
         ["household_lan_cidrs = '192.168.1.0/24' is not a list"]),
    case("lan-catch-all", "household", {"household_lan_cidrs": ["0.0.0.0/0"]},
         ["household_lan_cidrs = ['0.0.0.0/0'] has bad entries: '0.0.0.0/0' is everyone"]),
    case("admin-catch-all-ipv6", "household", {"household_admin_cidrs": ["::/0"]},
         ["household_admin_cidrs = ['::/0'] has bad entries: '::/0' is everyone"]),
    case("pgid-root", "household", {"household_pgid": 0}, ["household_pgid = 0 is outside 1..65533"]),
    case("ram-below-minimum", "host", {"preflight_min_ram_mb": 100000000}, ["below preflight_min_ram_mb = 100000000"]),
    case("cpus-below-minimum", "host", {"preflight_min_cpus": 4096}, ["below preflight_min_cpus = 4096"]),
    case("disk-below-minimum", "host", {"preflight_min_disk_gb": 1000000}, ["free disk for /data (on /data) ="]),
    case("unsupported-os", "host", {}, ["host OS = 'Debian 11.11' is not supported"], host="debian11"),
    case("three-at-once", "household",
         {"household_timezone": "Berlin", "household_appdata_root": "opt/monsterr", "household_domain": "media"},
         ["household_domain = 'media' is not a fully qualified domain name",
          "household_timezone = 'Berlin' is not a known IANA time zone (did you mean Europe/Berlin?)",
          "household_appdata_root = 'opt/monsterr' is not an absolute path below /"]),
    case("top-level-typo", "household", {"household_timezon": BERLIN},
         ["household_timezon = 'Europe/Berlin' is not a setting; did you mean household_timezone?"]),
    case("layer-variable-typo", "ufw", {"ufw_ssh_prot": 2222},
         ["ufw_ssh_prot = 2222 is not a setting; did you mean ufw_ssh_port?"]),
    case("undefined-reference", "letsencrypt",
         {"letsencrypt_dns_credentials": "dns_cloudflare_api_token = {{ vault_cloudflare_api_tokn }}"},
         ["letsencrypt_dns_credentials cannot be evaluated: 'vault_cloudflare_api_tokn' is undefined"]),
    # --- base: what would damage the host ------------------------------------------------------------------
    case("data-root-etc", "base", {"household_data_root": "/etc"},
         ["household_data_root = '/etc' is a directory of the system"]),
    case("appdata-root-var-lib", "base", {"household_appdata_root": "/var/lib"},
         ["household_appdata_root = '/var/lib' is a directory of the system"]),
    case("data-root-inside-usr", "base", {"household_data_root": "/usr/local/media"},
         ["household_data_root = '/usr/local/media' lies inside /usr"]),
    case("data-root-equals-appdata", "base", {"household_data_root": "/opt/monsterr"},
         ["household_data_root = '/opt/monsterr' is the same directory as household_appdata_root"]),
    case("data-root-inside-appdata", "base", {"household_data_root": "/opt/monsterr/media"},
         ["household_data_root = '/opt/monsterr/media' lies inside household_appdata_root"]),
    case("appdata-root-inside-data", "base", {"household_appdata_root": "/data/appdata"},
         ["household_appdata_root = '/data/appdata' lies inside household_data_root"]),
    case("user-root", "base", {"household_user": "root"}, ["household_user = 'root' is the superuser"]),
    case("user-system-account", "base", {"household_user": "daemon"},
         ["household_user = 'daemon' is a system account of the host (uid 1"]),
    case("puid-taken", "base", {"household_puid": 2}, ["household_puid = 2 is already the uid of the account bin"]),
    case("pgid-taken", "base", {"household_pgid": 100}, ["household_pgid = 100 is already the gid of the group users"]),
    case("user-name-of-a-group", "base", {"household_user": "staff"},
         ["household_user = 'staff' is also an existing group with gid 50"]),
    case("locale-the-host-cannot-make", "base", {"household_locale": "de_US.UTF-8"},
         ["household_locale = 'de_US.UTF-8' is not a locale the host can generate"]),
    case("mode-unquoted", "base", {"base_data_mode": 2775}, ["base_data_mode = 2775 is not a quoted octal mode"]),
    case("ssh-key-truncated", "base", {"base_ssh_authorized_keys": [{"user": "admin", "key": "AAAAC3NzaC1lZDI1NTE5"}]},
         ["base_ssh_authorized_keys[0].key = 'AAAAC3NzaC1lZDI1NTE5' is not an OpenSSH public key"]),
    case("reboot-time", "base", {"base_unattended_reboot_time": "4.30"},
         ["base_unattended_reboot_time = '4.30' is not a time of day"]),
    # --- ufw ----------------------------------------------------------------------------------------------------
    case("ufw-logging-unquoted-on", "ufw", {"ufw_logging": True}, ["ufw_logging = True is a boolean"]),
    case("ufw-ssh-port-0", "ufw", {"ufw_ssh_port": 0}, ["ufw_ssh_port = 0 is not a port"]),
    case("ufw-web-ports-string", "ufw", {"ufw_web_ports": "80,443"}, ["ufw_web_ports = '80,443' is a string, not a list"]),
    case("ufw-rule-proto", "ufw", {"ufw_rules": [{"port": 8080, "proto": "tcpp"}]},
         ["ufw_rules = [{'port': 8080, 'proto': 'tcpp'}] "]),
    case("ufw-lan-ports-without-lan", "ufw", {"ufw_lan_ports": [{"port": 8096}], "household_lan_cidrs": []},
         ["ufw_lan_ports = [{'port': 8096}] is set but ufw_lan_cidrs (default household_lan_cidrs) is empty"]),
    case("ufw-docker-comment-quote", "ufw", {"ufw_docker_allow": [{"port": 32400, "comment": 'say "hi"'}]},
         ["ufw_docker_allow[0].comment = 'say \"hi\"' has a double quote"]),
    # --- fail2ban -------------------------------------------------------------------------------------------------
    case("fail2ban-bantime-words", "fail2ban", {"fail2ban_bantime": "ten minutes"},
         ["fail2ban_bantime = 'ten minutes' is not a fail2ban time"]),
    case("fail2ban-jail-without-log", "fail2ban", {"fail2ban_jails": {"custom": {"enabled": True}}},
         ["fail2ban_jails.custom = {'enabled': True} has no logpath"]),
    case("fail2ban-ignore-everyone", "fail2ban", {"fail2ban_ignoreip_extra": ["0.0.0.0/0"]},
         ["fail2ban_ignoreip_extra = ['0.0.0.0/0'] has '0.0.0.0/0', which is everyone"]),
    # --- docker -------------------------------------------------------------------------------------------------
    case("docker-pool-size", "docker", {"docker_default_address_pools": [{"base": "10.222.0.0/16", "size": 8}]},
         ["docker_default_address_pools[0].size = 8 is not a prefix length from 8 to 30 longer than the base's /16"]),
    case("docker-pool-holds-the-lan", "docker", {"docker_default_address_pools": [{"base": "192.168.0.0/16", "size": 24}]},
         ["docker_default_address_pools[0].base = '192.168.0.0/16' overlaps your network 192.168.1.0/24"]),
    case("docker-users-missing", "docker", {"docker_users": ["alice"]},
         ["docker_users = ['alice'] has alice, which does not exist on the host"]),
    case("docker-log-size", "docker", {"docker_log_max_size": "10MB"}, ["docker_log_max_size = '10MB' is not a size"]),
    # --- letsencrypt -------------------------------------------------------------------------------------------------
    case("le-wildcard-over-http", "letsencrypt", {"letsencrypt_wildcard": True},
         ["letsencrypt_wildcard = True needs a wildcard certificate, which only the DNS challenge can get"]),
    case("le-dns-without-credentials", "letsencrypt", {"letsencrypt_challenge": "dns"},
         ["letsencrypt_dns_credentials = (value hidden) is empty; the cloudflare plugin needs an API token"]),
    case("le-dns-credentials-not-ini", "letsencrypt",
         {"letsencrypt_challenge": "dns", "letsencrypt_dns_credentials": "0123456789abcdef0123"},
         ["letsencrypt_dns_credentials = (value hidden) has a line that is not 'dns_<provider>_<key> = <value>'"]),
    case("le-challenge-unknown", "letsencrypt", {"letsencrypt_challenge": "http"},
         ["letsencrypt_challenge = 'http' is not one of webroot, standalone, dns"]),
    case("le-acme-server", "letsencrypt", {"letsencrypt_acme_server": "letsencrypt"},
         ["letsencrypt_acme_server = 'letsencrypt' is not production, staging or an ACME directory URL"]),
    # --- catalog -----------------------------------------------------------------------------------------------------
    case("catalog-unknown-service", "catalog", {"catalog_enabled": DEFAULT_APPS + ["sonar"]},
         ["catalog_enabled = 'sonar' is not a service of the catalog"]),
    case("catalog-enabled-string", "catalog", {"catalog_enabled": "plex,sonarr"},
         ["catalog_enabled = 'plex,sonarr' is "]),
    case("override-nested-typo", "catalog", {"catalog_overrides": {"sonarr": {"proxy": {"subdomian": "tv"}}}},
         ["catalog_overrides.sonarr.proxy.subdomian = 'tv' is not a field of proxy. Fix: did you mean subdomain?"]),
    case("override-port-0", "catalog", {"catalog_overrides": {"sonarr": {"port": 0}}},
         ["catalog_overrides.sonarr.port = 0 is outside 1..65535"]),
    case("override-port-not-a-number", "catalog", {"catalog_overrides": {"prowlarr": {"port": "78x78"}}},
         ["catalog_overrides.prowlarr.port = '78x78' is not a whole number from 1 to 65535"]),
    case("override-image-digest-truncated", "catalog",
         {"catalog_overrides": {"sonarr": {"image": "lscr.io/linuxserver/sonarr@sha256:1a2b3c"}}},
         ["catalog_overrides.sonarr.image = 'lscr.io/linuxserver/sonarr@sha256:1a2b3c' has a digest that is not sha256"]),
    case("override-image-latest", "catalog", {"catalog_overrides": {"radarr": {"image": "lscr.io/linuxserver/radarr:latest"}}},
         ["catalog_overrides.radarr.image = 'lscr.io/linuxserver/radarr:latest' uses the floating tag :latest"]),
    case("retired-watchtower", "catalog", {"catalog_enabled": DEFAULT_APPS + ["watchtower"]},
         ["catalog_enabled = 'watchtower' is retired: watchtower was removed", "add diun instead"][:1]),
    case("overseerr-without-plex", "catalog", {"catalog_enabled": [a for a in DEFAULT_APPS if a != "plex"]},
         ["catalog_enabled = 'overseerr' needs 'plex', which is not enabled"]),
    case("catalog-torrent-port", "catalog", {"catalog_torrent_port": 70000},
         ["catalog_torrent_port = 70000 is not a port"]),
    case("subdomain-clash", "catalog", {"catalog_overrides": {"sonarr": {"proxy": {"subdomain": "movies"}},
                                                               "radarr": {"proxy": {"subdomain": "movies"}}}},
         ["proxy.subdomain = 'movies' is used by radarr and sonarr"]),
    # --- proxy ----------------------------------------------------------------------------------------------------------
    case("proxy-same-ports", "proxy", {"proxy_http_port": 443}, ["proxy_https_port = 443 is the same as proxy_http_port"]),
    case("proxy-old-tls", "proxy", {"proxy_tls_protocols": ["TLSv1"]},
         ["proxy_tls_protocols = ['TLSv1'] is not TLSv1.2 and/or TLSv1.3"]),
    case("proxy-bypass-path-injection", "proxy",
         {"catalog_overrides": {"sonarr": {"proxy": {"subdomain": "tv", "bypass_paths": ["/api; evil"]}}}},
         ["catalog_overrides.sonarr.proxy.bypass_paths has '/api; evil'"]),
    # --- authelia ---------------------------------------------------------------------------------------------------------
    case("authelia-duplicate-user", "authelia", {"authelia_users": [USER, dict(USER, displayname="Again")]},
         ["authelia_users[1].username = 'admin' is listed twice"]),
    case("authelia-bad-email", "authelia", {"authelia_users": [dict(USER, email="admin@example")]},
         ["authelia_users[0].email = 'admin@example' is not an e-mail address"]),
    case("authelia-unknown-group", "authelia", {"authelia_users": [dict(USER, groups=["admins", "wizards"])]},
         ["authelia_users[0].groups = ['admins', 'wizards'] has 'wizards', not in authelia_groups"]),
    case("authelia-empty-password", "authelia", {"authelia_users": [dict(USER, password="")]},
         ["authelia_users[0].password = (value hidden) is missing or shorter than 8 characters"]),
    case("authelia-placeholder-password", "authelia", {"authelia_users": [dict(USER, password="changeme")]},
         ["authelia_users[0].password = (value hidden) is a placeholder"]),
    case("authelia-users-string", "authelia", {"authelia_users": "admin"},
         ["authelia_users = (value hidden) is a string, not a list"]),
    case("authelia-smtp-without-address", "authelia", {"authelia_notifier": "smtp", "authelia_smtp_sender": "a@example.org"},
         ["authelia_smtp_address = '' is not an SMTP URL"]),
    # --- monitoring ----------------------------------------------------------------------------------------------------------
    case("monitoring-cpu-percent", "monitoring", {"monitoring_alert_cpu_percent": 180},
         ["monitoring_alert_cpu_percent = 180 is not a percentage between 0 and 100"]),
    case("monitoring-email-to-string", "monitoring", {"monitoring_alertmanager_email_to": "admin@example.org"},
         ["monitoring_alertmanager_email_to = 'admin@example.org' is a string, not a list"]),
    case("monitoring-timeout-over-interval", "monitoring", {"monitoring_scrape_timeout": "1m"},
         ["monitoring_scrape_timeout = '1m' is longer than monitoring_scrape_interval"]),
    case("monitoring-alert-name-typo", "monitoring", {"monitoring_alerts_disabled": ["HostHighCPU"]},
         ["monitoring_alerts_disabled = ['HostHighCPU'] has 'HostHighCPU', which is not an alert"]),
    case("monitoring-email-without-relay", "monitoring", {"monitoring_alertmanager_email_to": ["admin@example.org"]},
         ["monitoring_alertmanager_smtp_smarthost = '' is not host:port"]),
    # --- stack and wiring ------------------------------------------------------------------------------------------------------
    case("stack-project-name", "stack", {"stack_project": "My Stack"}, ["stack_project = 'My Stack' is not a compose name"]),
    case("stack-umask-unquoted", "stack", {"stack_umask": 18}, ["stack_umask = 18 is not an octal umask"]),
    case("stack-env-name", "stack", {"catalog_overrides": {"sonarr": {"proxy": {"subdomain": "tv"},
                                                                      "environment": {"BAD-NAME": "x"}}}},
         ["catalog_overrides.sonarr.environment.BAD-NAME = 'x' has a name that is not an environment variable"]),
    case("wiring-library-missing", "wiring", {"wiring_arr_libraries": {"radarr": "movies"}},
         ["wiring_arr_libraries has no library for sonarr"]),
    case("wiring-timeout-zero", "wiring", {"wiring_timeout": 0}, ["wiring_timeout = 0 is not a whole number of seconds, at least 1"]),
    # --- backup -----------------------------------------------------------------------------------------------------------------
    case("backup-s3-without-credentials", "backup", {"backup_repository": "s3:https://s3.example.org/monsterr"},
         ["backup_repository_env = [] lacks AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY"]),
    case("backup-negative-retention", "backup", {"backup_keep_daily": -1},
         ["backup_keep_daily = -1 is not a whole number, 0 or more"]),
    case("backup-repository-malformed", "backup", {"backup_repository": "s3:monsterr-bucket"},
         ["backup_repository = 's3:monsterr-bucket' is not a restic repository"]),
    case("backup-calendar", "backup", {"backup_on_calendar": "every night"},
         ["backup_on_calendar = 'every night' is not a systemd calendar event"]),
    case("backup-keeps-nothing", "backup",
         {"backup_keep_daily": 0, "backup_keep_weekly": 0, "backup_keep_monthly": 0, "backup_keep_yearly": 0},
         ["backup_keep_daily = 0 is 0, and so are _weekly, _monthly and _yearly"]),
    case("backup-restic-password-short", "backup", {"vault_backup_restic_password": "short-password"},
         ["vault_backup_restic_password = (value hidden) is shorter than 32 characters"]),
    # --- the vault and the secrets ---------------------------------------------------------------------------------------------
    case("vault-copied-with-placeholders", "secrets",
         {"vault_authelia_admin_password": "replace-me: at least 8 characters; better a long passphrase",
          "vault_plex_claim_token": "replace-me: from https://plex.tv/claim, valid 4 minutes, first run only"},
         ["vault_authelia_admin_password = (value hidden) is still a placeholder",
          "vault_plex_claim_token = (value hidden) is still a placeholder"]),
    case("api-key-with-xml-characters", "secrets", {"vault_sonarr_api_key": "<&>" + HEX64[:29]},
         ["vault_sonarr_api_key = (value hidden) is not the form its consumers accept"]),
    case("api-key-placeholder", "secrets", {"vault_radarr_api_key": "changeme"},
         ["vault_radarr_api_key = (value hidden) is still a placeholder"]),
    case("api-key-vault-typo", "secrets", {"vault_sonarr_apikey": HEX64[:32]},
         ["vault_sonarr_apikey = (value hidden) is not a setting; did you mean vault_sonarr_api_key?"]),
    case("api-key-stored-64-hex", "secrets", {},
         ["sonarr/api_key = (value hidden) stored in"], files={"secrets/<alias>/sonarr/api_key.txt": HEX64 + "\n"}),
]

# Independent mistakes of one layer share an alias (each line is still asserted on its own): the table stays one
# run of a few minutes on a 2-core machine.
SHARED = [
    ("base-options", ["mode-unquoted", "reboot-time", "ssh-key-truncated"]),
    ("ufw-port-and-comment", ["ufw-ssh-port-0", "ufw-docker-comment-quote"]),
    ("fail2ban-time-and-jail", ["fail2ban-bantime-words", "fail2ban-jail-without-log"]),
    ("docker-log-and-pool", ["docker-log-size", "docker-pool-size"]),
    ("le-challenge-and-server", ["le-challenge-unknown", "le-acme-server"]),
    ("override-latest-and-port", ["override-image-latest", "override-port-not-a-number"]),
    ("proxy-ports-and-tls", ["proxy-same-ports", "proxy-old-tls"]),
    ("monitoring-alert-and-timeout", ["monitoring-alert-name-typo", "monitoring-timeout-over-interval"]),
    ("stack-name-and-umask", ["stack-project-name", "stack-umask-unquoted"]),
    ("wiring-library-and-timeout", ["wiring-library-missing", "wiring-timeout-zero"]),
    ("backup-calendar-and-password", ["backup-calendar", "backup-restic-password-short"]),
    ("vault-placeholder-and-typo", ["api-key-placeholder", "api-key-vault-typo", "api-key-stored-64-hex"]),
    ("roots-of-the-system", ["data-root-inside-usr", "appdata-root-var-lib"]),
    ("ids-taken", ["puid-taken", "pgid-taken"]),
    ("system-account-and-locale", ["user-system-account", "locale-the-host-cannot-make"]),
    ("ufw-rule-and-ports", ["ufw-rule-proto", "ufw-web-ports-string"]),
    ("fail2ban-time-jail-ignore", ["fail2ban-time-and-jail", "fail2ban-ignore-everyone"]),
    ("docker-log-pool-users", ["docker-log-and-pool", "docker-users-missing"]),
    ("torrent-port-and-clash", ["catalog-torrent-port", "subdomain-clash"]),
    ("proxy-ports-tls-paths", ["proxy-ports-and-tls", "proxy-bypass-path-injection"]),
    ("authelia-twice-and-smtp", ["authelia-duplicate-user", "authelia-smtp-without-address"]),
    ("monitoring-percent-and-relay", ["monitoring-cpu-percent", "monitoring-email-without-relay"]),
    ("monitoring-string-alert-timeout", ["monitoring-alert-and-timeout", "monitoring-email-to-string"]),
    ("stack-names-umask-env", ["stack-name-and-umask", "stack-env-name"]),
    ("backup-retention-and-repository", ["backup-negative-retention", "backup-repository-malformed"]),
    ("vault-copied-and-xml-key", ["vault-copied-with-placeholders", "api-key-with-xml-characters"]),
    ("two-typos", ["top-level-typo", "layer-variable-typo"]),
    ("catch-all-networks", ["lan-catch-all", "admin-catch-all-ipv6"]),
    ("long-domain-and-root", ["domain-254-characters", "user-root"]),
]


def _share(cases, groups):
    by_id = dict((c.id, c) for c in cases)
    merged = set(i for _, ids in groups for i in ids)
    out = [c for c in cases if c.id not in merged]
    for new, ids in groups:
        parts = [by_id.get(i) or next(c for c in out if c.id == i) for i in ids]
        out = [c for c in out if c.id not in ids]
        host_vars = {}
        for part in parts:
            for key, value in part.host_vars.items():
                if isinstance(value, dict) and isinstance(host_vars.get(key), dict):  # catalog_overrides of two apps
                    assert not set(value) & set(host_vars[key]), new
                    host_vars[key] = dict(host_vars[key], **value)
                else:
                    assert key not in host_vars, new
                    host_vars[key] = value
        files = {}
        for part in parts:
            files.update(part.files)
        out.append(case(new, parts[0].layer, host_vars, [f for part in parts for f in part.expected],
                        files=files))
    return out


CASES = _share(CASES, SHARED)


def _inventory(tmp_path, cases, hosts):
    """inventories/example with one alias per case (its host_vars the case's settings), the relaxed minimums."""
    inventory = tmp_path / "household"
    shutil.copytree(EXAMPLE, str(inventory), ignore=shutil.ignore_patterns("secrets"))
    (inventory / "group_vars" / "mediaserver" / "test.yml").write_text("---\n" + yaml.safe_dump(RELAXED))
    (inventory / "host_vars").mkdir()
    aliases = {}
    for index, item in enumerate(cases):
        alias = "c%03d-%s" % (index, item.id)
        aliases[item.id] = alias
        host_vars = dict(item.host_vars, ansible_host=hosts[item.host].container)
        (inventory / "host_vars" / ("%s.yml" % alias)).write_text("---\n" + yaml.safe_dump(host_vars, default_flow_style=False))
        for path, content in item.files.items():
            target = inventory / path.replace("<alias>", alias)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(content)
    (inventory / "hosts.yml").write_text("---\n" + yaml.safe_dump({"mediaserver": {
        "hosts": dict((alias, None) for alias in aliases.values()),
        # The test image's Python, named: no interpreter discovery per alias.
        "vars": {"ansible_connection": "community.docker.docker", "ansible_user": "root",
                 "ansible_python_interpreter": "/usr/bin/python3"}}}, default_flow_style=False))
    return inventory, aliases


def _warm_facts(inventory, aliases, cases, hosts, facts):
    """Facts are the container's, whatever the alias: gathered once per container, cached for every alias."""
    for name, host in hosts.items():
        first = next(aliases[c.id] for c in cases if c.host == name)
        result = subprocess.run([_tool("ansible"), first, "-i", str(inventory), "-b", "-m", "ansible.builtin.gather_facts"],
                                cwd=ROOT, env=_env(facts, "minimal"), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                universal_newlines=True, check=False)
        assert result.returncode == 0, result.stdout
        cached = [p for p in os.listdir(str(facts)) if p.endswith("_" + first) or p == first]
        assert len(cached) == 1, os.listdir(str(facts))
        prefix = cached[0][:-len(first)]  # the jsonfile cache's file name prefix (ansible-core 2.19: s1_)
        for item in cases:
            if item.host == name and aliases[item.id] != first:
                shutil.copy(str(facts / cached[0]), str(facts / (prefix + aliases[item.id])))


def _allowed_tasks():
    """The names of every task that may run for a host before preflight stops it (nothing that changes a host)."""
    names = {"Gathering Facts"}
    for role in ("household", "preflight", "catalog"):  # each role's argument spec check: reads only
        spec = yaml.safe_load(open(os.path.join(ROOT, "roles", role, "meta", "argument_specs.yml")))["argument_specs"]
        names.update("Validating arguments against arg spec '%s' - %s" % (entry, data.get("short_description", ""))
                     for entry, data in spec.items())
    for path in glob.glob(os.path.join(ROOT, "roles", "preflight", "tasks", "*.yml")) + \
            glob.glob(os.path.join(ROOT, "roles", "catalog", "tasks", "resolve.yml")):
        for task in yaml.safe_load(open(path)) or []:
            names.add(task["name"])
    return names


def _results(output):
    """{host: [(task name, result)]} and the stats, from the json callback's document."""
    start = output.index("{")
    data = json.loads(output[start:])
    by_host = {}
    for play in data["plays"]:
        for task in play["tasks"]:
            for host, result in task["hosts"].items():
                # "monsterr.mediaserver.preflight : Check ..." -> the task's own name
                by_host.setdefault(host, []).append((task["task"]["name"].split(" : ", 1)[-1], result))
    return by_host, data["stats"]


@pytest.fixture(scope="module")
def table(debian12, debian11, tmp_path_factory):
    """One site.yml run over every case; the containers' filesystems before and after."""
    tmp = tmp_path_factory.mktemp("table")
    facts = tmp_path_factory.mktemp("facts")
    hosts = {"debian12": debian12, "debian11": debian11}
    inventory, aliases = _inventory(tmp, CASES, hosts)
    _warm_facts(inventory, aliases, CASES, hosts, facts)
    before = dict((name, _diff(host.container)) for name, host in hosts.items())
    result, seconds, cpu_seconds = _timed_run(inventory, facts, 16)
    print("preflight table: %d cases, %.0f s wall, %.0f s CPU" % (len(CASES), seconds, cpu_seconds))
    after = dict((name, _diff(host.container)) for name, host in hosts.items())
    (tmp / "site.json").write_text(result.stdout)  # for whoever reads a failure
    by_host, stats = _results(result.stdout)
    return {"rc": result.returncode, "output": result.stdout, "by_host": by_host, "stats": stats, "aliases": aliases,
            "before": before, "after": after, "hosts": hosts, "inventory": inventory}


def _timed_run(inventory, facts, forks):
    """ansible-playbook site.yml over the inventory: (result, wall seconds, CPU seconds of it and its children).
    Printed, not asserted: the shared run saves wall time (hosts in parallel), not CPU (measured: 6.8 s per case in
    the shared run, 6.4 s for one case alone), and with fewer forks than hosts ansible-playbook's task queue waits
    for a free worker in a 0.1 ms sleep loop, so CPU seconds follow the neighbours' load as much as this code."""
    started = time.time()
    cpu = resource.getrusage(resource.RUSAGE_CHILDREN)
    result = _run(inventory, ["--forks", str(forks)], facts, stdout="json", timeout=900)
    seconds = time.time() - started
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    return result, seconds, (used.ru_utime - cpu.ru_utime) + (used.ru_stime - cpu.ru_stime)


def test_the_table_has_every_layer_and_at_least_60_cases():
    layers = set(c.layer for c in CASES)
    assert set(LAYERS) - {"preflight"} <= layers | {"household"}, set(LAYERS) - layers
    assert len(CASES) >= 60
    assert len(set(c.id for c in CASES)) == len(CASES)


@pytest.mark.parametrize("item", CASES, ids=[c.id for c in CASES])
def test_bad_inventory_or_host_stops_in_preflight(item, table):
    alias = table["aliases"][item.id]
    results = table["by_host"].get(alias)
    assert results, "no result for %s:\n%s" % (alias, table["output"][-3000:])
    failed = [(name, result) for name, result in results if result.get("failed")]
    assert [name for name, _ in failed] == [FAILED_TASK], failed
    msg = failed[0][1]["msg"]
    assert isinstance(msg, list) and re.match(r"^Preflight found %d problem\(s\); nothing was changed on the host:$"
                                              % (len(msg) - 1), msg[0]), msg
    problems = msg[1:]
    assert len(problems) == len(item.expected), problems
    for fragment in item.expected:
        lines = [line for line in problems if fragment in line]
        assert len(lines) == 1, "%r not reported once in %r" % (fragment, problems)
    for line in problems:
        # variable (or host property), value, what is wrong, fix, where: one line each
        assert "\n" not in line and "Fix: " in line, line
        assert re.match(r"^[\w.\[\]/-]+[ =]", line), line
        if line.startswith(("household_", "catalog_", "vault_")) and " is not a setting" not in line:
            assert str(table["inventory"]) in line, line
    # Nothing but preflight ran for this host, and it changed nothing.
    assert set(name for name, _ in results) <= _allowed_tasks(), set(name for name, _ in results) - _allowed_tasks()
    assert table["stats"][alias]["changed"] == 0 and table["stats"][alias]["failures"] == 1, table["stats"][alias]


def test_the_hosts_are_unchanged_after_the_whole_table(table):
    assert table["rc"] != 0
    for name, host in table["hosts"].items():
        assert table["after"][name] == table["before"][name], name
        assert os.listdir(str(host.data)) == []
    # The secrets a previous run stored are only read.
    stored = glob.glob(str(table["inventory"] / "secrets" / "*" / "sonarr" / "api_key.txt"))
    assert [open(p).read() for p in stored] == [HEX64 + "\n"], stored


def _run(inventory, extra, facts, stdout="default", timeout=300):
    return subprocess.run([_tool("ansible-playbook"), "site.yml", "-i", str(inventory)] + list(extra), cwd=ROOT,
                          env=_env(facts, stdout), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          universal_newlines=True, check=False, timeout=timeout)


def _single(tmp_path, debian12, host_vars):
    inventory, aliases = _inventory(tmp_path, [case("single", "x", host_vars, [])], {"debian12": debian12})
    return inventory, aliases["single"]


def test_example_inventory_passes_preflight_for_every_layer(debian12, tmp_path):
    inventory, alias = _single(tmp_path, debian12, {})
    before = _diff(debian12.container)
    everything = json.dumps({"preflight_layers": LAYERS})

    result = _run(inventory, ["--tags", "preflight", "-e", everything], tmp_path)

    assert result.returncode == 0, result.stdout[-5000:]
    assert re.search(r"^%s\s+: ok=\d+\s+changed=0\s+unreachable=0\s+failed=0 " % alias, result.stdout, re.MULTILINE)
    assert re.search(r"%s\] \*+\n(.*\n)?skipping: \[%s\]" % (re.escape(FAILED_TASK), alias), result.stdout), result.stdout
    assert _diff(debian12.container) == before
    assert os.listdir(str(debian12.data)) == []


def test_the_user_sees_each_problem_on_its_own_line_with_the_fix(debian12, tmp_path):
    inventory, alias = _single(tmp_path, debian12, {"household_data_root": "/etc", "household_timezon": BERLIN})
    result = _run(inventory, [], tmp_path)
    assert result.returncode != 0
    # The default callback, as a user runs it.
    assert "Preflight found 2 problem(s); nothing was changed on the host:" in result.stdout, result.stdout[-3000:]
    assert "household_data_root = '/etc' is a directory of the system" in result.stdout
    assert "household_timezon = 'Europe/Berlin' is not a setting; did you mean household_timezone? Fix: " in result.stdout
    assert "monsterr.mediaserver.base :" not in result.stdout


def test_tags_narrow_the_check_to_the_layers_that_run(debian12, tmp_path):
    """--tags ufw runs preflight and ufw: the ufw mistake stops it, the backup one is not ufw's business."""
    inventory, alias = _single(tmp_path, debian12, {"ufw_ssh_port": 0, "backup_keep_daily": -1})
    before = _diff(debian12.container)
    result = _run(inventory, ["--tags", "ufw"], tmp_path, "json")
    by_host, _ = _results(result.stdout)
    msg = [r for name, r in by_host[alias] if r.get("failed")][0]["msg"]
    assert [line.split(" = ")[0] for line in msg[1:]] == ["ufw_ssh_port"], msg
    assert _diff(debian12.container) == before


def test_an_inventory_without_a_media_server_fails(tmp_path):
    inventory = tmp_path / "outside"
    inventory.mkdir()
    (inventory / "hosts.yml").write_text("---\nall:\n  hosts:\n    media01:\n      ansible_host: 192.0.2.10\n")
    result = _run(inventory, [], tmp_path)
    assert result.returncode != 0, result.stdout
    assert "groups['mediaserver'] = [] has no host in inventory %s (hosts there: media01). Fix: " % inventory in result.stdout
    # --limit still works: the check's play matches no host and is skipped, the run goes on to its hosts.
    limited = _run(inventory, ["--limit", "media01", "--list-hosts"], tmp_path)
    assert limited.returncode == 0, limited.stdout
