# -*- coding: utf-8 -*-
# Copyright: monsterr.mediaserver developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every layer's settings as preflight checks them (plugins/filter/layer_problems.py): what passes, what is
refused, and that each problem is one line naming the variable, the value and the fix.

Each test named after a defect of issue #12 fails on the code before it: the functions did not exist, the
roles' Jinja lists accepted the value, or only a later layer refused it after earlier ones changed the host.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.monsterr.mediaserver.plugins.filter import layer_problems as lp

WHERE = "inv/group_vars/mediaserver/main.yml"


def check(layer, values, **context):
    """The problems of one layer for these settings (all of them set by the household)."""
    context.setdefault("user_set", list(values))
    return lp.layer_problems(values, [layer], context, WHERE)


def one(lines, *fragments):
    """Exactly one line, holding every fragment, with a fix and the file."""
    assert len(lines) == 1, lines
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])
    assert " Fix: " in lines[0] and lines[0].endswith("(in %s)." % WHERE), lines[0]
    return lines[0]


# --- directories: system ones and overlapping roots (issue #12: base made /etc media:media 2775) ----------------------

@pytest.mark.parametrize("appdata, data", [
    ("/opt/monsterr", "/data"), ("/opt/monsterr/", "/srv/media"), ("/srv/appdata", "/mnt/disk1/media"),
    ("/home/media/appdata", "/home/media/data"), ("/var/lib/monsterr", "/data"),
])
def test_roots_of_their_own_pass(appdata, data):
    assert lp.root_path_problems(appdata, data, WHERE) == []


@pytest.mark.parametrize("appdata, data, expected", [
    ("/opt/monsterr", "/etc", "household_data_root = '/etc' is a directory of the system"),
    ("/opt/monsterr", "/", "household_data_root = '/' is a directory of the system"),
    ("/opt/monsterr", "/etc/", "household_data_root = '/etc/' is a directory of the system"),
    ("/opt/monsterr", "/usr/../etc", "household_data_root = '/usr/../etc' is a directory of the system"),
    ("/var/lib", "/data", "household_appdata_root = '/var/lib' is a directory of the system"),
    ("/opt", "/data", "household_appdata_root = '/opt' is a directory of the system"),
    ("/home", "/data", "household_appdata_root = '/home' is a directory of the system"),
    ("/opt/monsterr", "/usr/local/media", "household_data_root = '/usr/local/media' lies inside /usr"),
    ("/etc/monsterr", "/data", "household_appdata_root = '/etc/monsterr' lies inside /etc"),
    ("/opt/monsterr", "/opt/monsterr", "household_data_root = '/opt/monsterr' is the same directory as household_appdata_root"),
    ("/opt/monsterr", "/opt/monsterr/media", "household_data_root = '/opt/monsterr/media' lies inside household_appdata_root"),
    ("/data/appdata", "/data", "household_appdata_root = '/data/appdata' lies inside household_data_root"),
])
def test_system_directories_and_overlapping_roots_are_refused(appdata, data, expected):
    one(lp.root_path_problems(appdata, data, WHERE), expected)


def test_a_relative_root_is_left_to_the_path_check():
    assert lp.root_path_problems("opt/monsterr", "/data", WHERE) == []


# --- the household's account (issue #12: household_user: root changed root's group, then failed) -----------------------

PASSWD = {
    "root": ["x", "0", "0", "root", "/root", "/bin/bash"],
    "daemon": ["x", "1", "1", "daemon", "/usr/sbin", "/usr/sbin/nologin"],
    "admin": ["x", "1000", "1000", "Admin", "/home/admin", "/bin/bash"],
}
GROUPS = {"root": ["x", "0", ""], "daemon": ["x", "1", ""], "users": ["x", "100", ""], "admin": ["x", "1000", ""]}


def account(user="media", puid=2000, pgid=2000, appdata="/opt/monsterr", passwd=None, groups=None):
    return lp.account_problems(user, puid, user, pgid, appdata, PASSWD if passwd is None else passwd,
                               GROUPS if groups is None else groups, WHERE)


def test_a_new_account_passes():
    assert account() == []


def test_the_account_a_previous_run_made_passes_so_reruns_work():
    passwd = dict(PASSWD, media=["x", "2000", "2000", "", "/opt/monsterr", "/usr/sbin/nologin"])
    groups = dict(GROUPS, media=["x", "2000", ""])
    assert account(passwd=passwd, groups=groups) == []
    # also with ids below 1000, when the household chose them on its first run
    passwd = dict(PASSWD, media=["x", "998", "998", "", "/opt/monsterr", "/usr/sbin/nologin"])
    assert account(puid=998, pgid=998, passwd=passwd, groups=dict(GROUPS, media=["x", "998", ""])) == []


@pytest.mark.parametrize("changes, expected", [
    ({"user": "root"}, "household_user = 'root' is the superuser"),
    ({"user": "daemon"}, "household_user = 'daemon' is a system account of the host (uid 1, home /usr/sbin)"),
    ({"user": "admin"}, "household_user = 'admin' is an existing account of the host (uid 1000, home /home/admin)"),
    ({"puid": 1000}, "household_puid = 1000 is already the uid of the account admin"),
    ({"pgid": 100}, "household_pgid = 100 is already the gid of the group users"),
    ({"user": "users"}, "household_user = 'users' is also an existing group with gid 100"),
])
def test_taking_over_an_account_of_the_host_is_refused(changes, expected):
    one(account(**changes), expected)


def test_a_previous_account_with_another_home_is_not_the_households():
    passwd = dict(PASSWD, media=["x", "2000", "2000", "", "/home/media", "/bin/bash"])
    one(account(passwd=passwd), "household_user = 'media' is an existing account of the host (uid 2000, home /home/media)")


def test_base_checks_the_account_and_the_roots_from_the_host():
    values = {"household_user": "root", "household_puid": 2000, "household_pgid": 2000,
              "household_appdata_root": "/opt/monsterr", "household_data_root": "/etc", "household_locale": "en_US.UTF-8"}
    lines = check("base", values, passwd=PASSWD, group=GROUPS)
    assert [line.split(" = ")[0] for line in lines] == ["household_user", "household_data_root"], lines


# --- locale (issue #12: refused only by base's locale_gen, after packages were installed) ----------------------------

SUPPORTED = "en_US.UTF-8 UTF-8\nde_DE.UTF-8 UTF-8\nde_AT.UTF-8 UTF-8\nde_DE ISO-8859-1\n"


@pytest.mark.parametrize("locale", ["en_US.UTF-8", "de_DE.UTF-8", "C.UTF-8"])
def test_locales_the_host_has_pass(locale):
    assert lp.locale_problems(locale, SUPPORTED, WHERE) == []


def test_a_locale_the_host_cannot_generate_is_refused_with_its_neighbours():
    one(lp.locale_problems("de_US.UTF-8", SUPPORTED, WHERE),
        "household_locale = 'de_US.UTF-8' is not a locale the host can generate", "de_AT.UTF-8 or de_DE.UTF-8")


# --- argument specs ----------------------------------------------------------------------------------------------------

def test_a_string_where_a_list_is_expected_is_one_line_not_one_per_character():
    lines = lp.argspec_problems({"monitoring_alertmanager_email_to": "admin@example.org"}, "monitoring", where=WHERE)
    one(lines, "monitoring_alertmanager_email_to = 'admin@example.org' is a string, not a list")
    lines = check("monitoring", {"monitoring_alertmanager_email_to": "admin@example.org"}, resolved=[{"name": "alertmanager"}])
    one(lines, "is a string, not a list")


def test_unquoted_on_is_a_boolean_and_the_fix_says_quote_it():
    one(lp.argspec_problems({"ufw_logging": True}, "ufw", where=WHERE), "ufw_logging = True is a boolean", 'quote it, e.g. "on"')


def test_types_and_choices_of_the_argument_spec():
    lines = lp.argspec_problems({"ufw_ssh_port": "twenty-two", "ufw_default_incoming": "block", "ufw_logging": "low"}, "ufw",
                                where=WHERE)
    assert [line.split(" = ")[0] for line in lines] == ["ufw_default_incoming", "ufw_ssh_port"], lines
    assert "is not one of allow, deny, reject" in lines[0]


def test_nested_options_are_checked_and_secrets_stay_hidden():
    users = [{"username": "alice", "displayname": "A", "passwrod": "hunter2-hunter2", "groups": []}]
    line = one(lp.argspec_problems({"authelia_users": users}, "authelia", where=WHERE), "authelia_users = (value hidden)",
               "passwrod")
    assert "hunter2" not in line


def test_only_settings_the_household_set_are_held_against_the_argument_spec():
    values = {"ufw_logging": True, "ufw_enabled": True}   # a role default can only be wrong through another setting
    assert lp.layer_problems(values, ["ufw"], {"user_set": ["ufw_enabled"]}, WHERE) == []
    one(lp.layer_problems(values, ["ufw"], {"user_set": ["ufw_logging"]}, WHERE), "ufw_logging = True is a boolean")


# --- ufw, fail2ban, docker -------------------------------------------------------------------------------------------------

def test_ufw():
    one(check("ufw", {"ufw_ssh_port": 0}), "ufw_ssh_port = 0 is not a port")
    one(check("ufw", {"ufw_rules": [{"port": "80:70"}]}), "ufw_rules[0].port = '80:70' is not a port or range")
    one(check("ufw", {"ufw_docker_allow": [{"port": 32400, "comment": 'a "b"'}]}), "ufw_docker_allow[0].comment", "double quote")
    one(check("ufw", {"ufw_lan_ports": [{"port": 8096}], "ufw_lan_cidrs": []}), "so the ports would open to nobody")
    one(check("ufw", {"ufw_lan_cidrs": ["0.0.0.0/0"]}), "ufw_lan_cidrs = ['0.0.0.0/0'] has '0.0.0.0/0', which is everyone")
    assert check("ufw", {"ufw_ssh_port": 2222, "ufw_rules": [{"port": "6881:6889", "proto": "udp", "from": "10.8.0.0/24"}],
                         "ufw_lan_cidrs": ["192.168.1.0/24"], "ufw_lan_ports": [{"port": 8096}]}) == []


def test_ufw_torrent_port_is_checked_where_the_household_set_it():
    one(check("ufw", {"ufw_torrent_port": 70000}), "ufw_torrent_port = 70000 is not a port")
    # Its default follows catalog_torrent_port: a bad catalog_torrent_port is reported by the catalog's check, once.
    assert lp.layer_problems({"ufw_torrent_port": 70000}, ["ufw"], {"user_set": ["catalog_torrent_port"]}, WHERE) == []
    # ufw_docker_allow's default is built from the ports: a bad port is reported where it was set, not again there.
    derived = {"ufw_torrent_port": 70000, "ufw_docker_allow": [{"port": 80}, {"port": 70000, "proto": "udp"}]}
    assert lp.layer_problems(derived, ["ufw"], {"user_set": ["catalog_torrent_port"]}, WHERE) == []
    one(lp.layer_problems(derived, ["ufw"], {"user_set": ["ufw_docker_allow"]}, WHERE), "ufw_docker_allow[1].port = 70000")
    # With --tags ufw the catalog's check does not run: ufw reports the bad catalog_torrent_port itself, and the two
    # layers together still say it once.
    bad = {"catalog_torrent_port": 70000, "ufw_torrent_port": 70000}
    for layers in (["ufw"], ["ufw", "catalog"], ["catalog", "ufw"]):
        one(lp.layer_problems(bad, layers, {"user_set": ["catalog_torrent_port"]}, WHERE),
            "catalog_torrent_port = 70000 is not a port")
    assert lp.layer_problems(dict(bad, ufw_torrent_port=0), ["ufw"], {"user_set": ["catalog_torrent_port", "ufw_torrent_port"]},
                             WHERE) == []


def test_fail2ban():
    one(check("fail2ban", {"fail2ban_bantime": "ten minutes"}), "fail2ban_bantime = 'ten minutes' is not a fail2ban time")
    assert check("fail2ban", {"fail2ban_bantime": -1, "fail2ban_findtime": "1h 30m"}) == []
    one(check("fail2ban", {"fail2ban_jails": {"custom": {"enabled": True}}}), "fail2ban_jails.custom", "has no logpath")
    assert check("fail2ban", {"fail2ban_jails": {"custom": {"backend": "systemd"}}}) == []
    one(check("fail2ban", {"fail2ban_ignoreip_extra": ["0.0.0.0/0"]}), "which is everyone: fail2ban would ban nobody")


def test_docker():
    pool = [{"base": "10.222.0.0/16", "size": 8}]
    one(check("docker", {"docker_default_address_pools": pool}), "docker_default_address_pools[0].size = 8 is not a prefix length")
    pool = [{"base": "192.168.0.0/16", "size": 24}]
    one(check("docker", {"docker_default_address_pools": pool, "household_lan_cidrs": ["192.168.1.0/24"]}),
        "overlaps your network 192.168.1.0/24")
    # a LAN written as all of 10.0.0.0/8 around the default pool is the household's sloppiness, not a clash
    assert check("docker", {"docker_default_address_pools": [{"base": "10.222.0.0/16", "size": 24}],
                            "household_lan_cidrs": ["10.0.0.0/8"]}) == []
    one(check("docker", {"docker_users": ["alice"]}, passwd=PASSWD), "docker_users = ['alice'] has alice, which does not exist")
    assert check("docker", {"docker_users": ["admin"]}, passwd=PASSWD) == []
    one(check("docker", {"docker_install_method": "docker_ce"}, facts={"architecture": "riscv64"}), "riscv64")


# --- letsencrypt, proxy -------------------------------------------------------------------------------------------------

def test_letsencrypt():
    one(check("letsencrypt", {"letsencrypt_wildcard": True, "letsencrypt_domains": ["m.example.org", "*.m.example.org"]},
              user_set=["letsencrypt_wildcard"]), "letsencrypt_wildcard = True needs a wildcard certificate")
    one(check("letsencrypt", {"letsencrypt_challenge": "dns", "letsencrypt_dns_provider": "cloudflare",
                              "letsencrypt_dns_credentials": ""}),
        "letsencrypt_dns_credentials = (value hidden) is empty; the cloudflare plugin needs an API token")
    line = one(check("letsencrypt", {"letsencrypt_challenge": "dns", "letsencrypt_dns_credentials": "s3cr3t-t0ken"}),
               "has a line that is not 'dns_<provider>_<key> = <value>'")
    assert "s3cr3t" not in line
    one(check("letsencrypt", {"letsencrypt_challenge": "dns", "letsencrypt_dns_credentials": "dns_cloudflare_api_token = replace-me"}),
        "holds a placeholder")
    assert check("letsencrypt", {"letsencrypt_challenge": "dns", "letsencrypt_dns_credentials": "dns_cloudflare_api_token = abc123"}) == []
    one(check("letsencrypt", {"letsencrypt_acme_server": "letsencrypt"}), "is not production, staging or an ACME directory URL")


def test_proxy():
    one(check("proxy", {"proxy_http_port": 443, "proxy_https_port": 443}), "proxy_https_port = 443 is the same as proxy_http_port")
    one(check("proxy", {"proxy_tls_protocols": ["TLSv1"]}), "proxy_tls_protocols = ['TLSv1'] is not TLSv1.2 and/or TLSv1.3")
    one(check("proxy", {"proxy_security_headers": {"X-Test": 'a"b'}}), "proxy_security_headers.X-Test")


# --- authelia (issue #12: duplicate username, bad e-mail, unknown group, empty password: refused only by its layer) -----

USER = {"username": "alice", "displayname": "Alice", "email": "alice@example.org", "groups": ["admins"],
        "password": "a-long-enough-password"}
AUTHELIA = {"authelia_groups": ["admins", "family"], "household_domain": "m.example.org"}


def authelia(users, **values):
    return check("authelia", dict(AUTHELIA, authelia_users=users, **values))


def test_authelia_users():
    assert authelia([USER]) == []
    one(authelia([USER, dict(USER, displayname="Again")]), "authelia_users[1].username = 'alice' is listed twice")
    one(authelia([dict(USER, email="alice@example")]), "authelia_users[0].email = 'alice@example' is not an e-mail address")
    one(authelia([dict(USER, groups=["wizards"])]), "authelia_users[0].groups = ['wizards'] has 'wizards', not in authelia_groups")
    one(authelia([dict(USER, password="")]), "authelia_users[0].password = (value hidden) is missing or shorter than 8")
    line = one(authelia([dict(USER, password="changeme")]), "authelia_users[0].password = (value hidden) is a placeholder")
    assert "changeme" not in line
    # a placeholder that came from the vault is the vault's line, not a second one here
    placeholder = "replace-me: at least 8"
    assert check("authelia", dict(AUTHELIA, authelia_users=[dict(USER, password=placeholder)]),
                 vault={"vault_authelia_alice_password": placeholder}) == []
    line = one(authelia([dict(USER, nickname="al")]), "authelia_users = (value hidden) has the unknown key authelia_users.nickname")
    assert USER["password"] not in line


def test_authelia_catalog_and_smtp():
    resolved = [{"name": "authelia", "proxy": {"subdomain": "auth", "url": "https://auth.m.example.org", "groups": []}},
                {"name": "sonarr", "proxy": {"groups": ["admins", "media"]}}]
    lines = check("authelia", dict(AUTHELIA, authelia_users=[USER]), resolved=resolved)
    assert [line.split(" = ")[0] for line in lines] == ["authelia_redis_service", "authelia_groups"], lines
    one(check("authelia", dict(AUTHELIA, authelia_users=[USER], authelia_notifier="smtp", authelia_smtp_sender="a@b.org")),
        "authelia_smtp_address")


# --- monitoring, stack, wiring, catalog ---------------------------------------------------------------------------------

def test_monitoring():
    one(check("monitoring", {"monitoring_alert_cpu_percent": 180}), "monitoring_alert_cpu_percent = 180 is not a percentage")
    one(check("monitoring", {"monitoring_scrape_interval": "30s", "monitoring_scrape_timeout": "1m"}),
        "monitoring_scrape_timeout = '1m' is longer than monitoring_scrape_interval")
    one(check("monitoring", {"monitoring_alerts_disabled": ["HostHighCPU"]}), "'HostHighCPU', which is not an alert",
        "HostHighCpu")
    relay = {"monitoring_alertmanager_smtp_smarthost": "smtp.example.org:587", "monitoring_alertmanager_email_from": "m@example.org"}
    one(check("monitoring", dict(relay, monitoring_alertmanager_email_to=["not-an-address"]), resolved=[{"name": "alertmanager"}]),
        "monitoring_alertmanager_email_to = ['not-an-address'] has 'not-an-address'")
    one(check("monitoring", {"monitoring_alertmanager_email_to": ["a@example.org"], "monitoring_alertmanager_email_from": "m@example.org"},
              resolved=[{"name": "alertmanager"}]), "monitoring_alertmanager_smtp_smarthost = None is not host:port")
    # without Alertmanager, its receivers are not this household's business
    assert check("monitoring", {"monitoring_alertmanager_email_to": ["x"]}, resolved=[{"name": "prometheus"}]) == []


def test_docker_ce_version_holds_a_major_or_nothing():
    assert check("docker", {"docker_ce_version": "29"}) == [] and check("docker", {"docker_ce_version": ""}) == []
    one(check("docker", {"docker_ce_version": "latest"}), "docker_ce_version = 'latest' is not a Docker engine version")


def test_stack_subnet():
    pools = [{"base": "10.222.0.0/16", "size": 24}]
    assert check("stack", {"stack_subnet": "10.223.0.0/24", "docker_default_address_pools": pools}) == []
    assert check("stack", {"stack_subnet": ""}) == []
    one(check("stack", {"stack_subnet": "10.223.0.1/24"}), "stack_subnet = '10.223.0.1/24' is not an IPv4 network address")
    one(check("stack", {"stack_subnet": "fd00::/64"}), "is not an IPv4 network address")
    one(check("stack", {"stack_subnet": "10.223.0.0/30"}), "is not a /16 to /28 network")
    one(check("stack", {"stack_subnet": "10.222.5.0/24", "docker_default_address_pools": pools}),
        "overlaps docker_default_address_pools 10.222.0.0/16")
    one(check("stack", {"stack_subnet": "192.168.1.0/24", "household_lan_cidrs": ["192.168.1.0/24"]}),
        "overlaps your network 192.168.1.0/24 (household_lan_cidrs)")
    resolved = [{"name": "proxy", "address": 10}]
    assert check("stack", {"stack_subnet": "10.223.0.0/24"}, resolved=resolved) == []
    one(check("stack", {"stack_subnet": "10.223.0.0/26"}, resolved=[{"name": "proxy", "address": 40}]),
        "catalog_overrides.proxy.address = 40 is not a host number of the fixed half of stack_subnet 10.223.0.0/26 (2 .. 31")
    many = [{"name": "app%d" % n} for n in range(10)]
    one(check("stack", {"stack_subnet": "10.223.0.0/28"}, resolved=many),
        "stack_subnet = '10.223.0.0/28' leaves 7 addresses to Docker (its upper half) for 10 containers")


def test_stack_wiring_catalog():
    one(check("stack", {"stack_project": "My Stack"}), "stack_project = 'My Stack' is not a compose name")
    one(check("stack", {"stack_umask": 18}), "stack_umask = 18 is not an octal umask")
    one(check("wiring", {"wiring_timeout": 0}), "wiring_timeout = 0 is not a whole number of seconds, at least 1")
    one(check("catalog", {"catalog_torrent_port": 70000}), "catalog_torrent_port = 70000 is not a port")
    one(check("catalog", {"catalog_metrics_retention": "30 days"}), "catalog_metrics_retention = '30 days' is not a Prometheus")


# --- backup (issue #12: malformed repository, negative retention, s3 without credentials) --------------------------------

@pytest.mark.parametrize("values, expected", [
    ({"backup_repository": "s3:https://s3.example.org/b"}, "backup_repository_env = [] lacks AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY"),
    ({"backup_repository": "s3:https://s3.example.org/b", "backup_repository_env": {"AWS_ACCESS_KEY_ID": "k",
                                                                                     "AWS_SECRET_ACCESS_KEY": ""}},
     "backup_repository_env.AWS_SECRET_ACCESS_KEY = (value hidden) is empty or a placeholder"),
    ({"backup_repository": "s3:bucket"}, "backup_repository = 's3:bucket' is not a restic repository"),
    ({"backup_repository": "sftp://user:pw@host//srv x"}, "backup_repository = 'sftp://***@host//srv x' is not a restic"),
    ({"backup_keep_daily": -1}, "backup_keep_daily = -1 is not a whole number, 0 or more"),
    ({"backup_keep_daily": 0, "backup_keep_weekly": 0, "backup_keep_monthly": 0, "backup_keep_yearly": 0},
     "backup_keep_daily = 0 is 0, and so are _weekly, _monthly and _yearly"),
    ({"backup_repository_env": {"RESTIC_PASSWORD": "x"}}, "backup_repository_env.RESTIC_PASSWORD = (value hidden) is set by the role"),
])
def test_backup(values, expected):
    one(check("backup", values), expected)


def test_backup_passes_good_repositories_and_asks_systemd_for_the_calendar():
    for repository in ("/srv/backup/restic", "local:/srv/restic", "sftp:user@host:/srv/restic", "rest:https://h:8000/m",
                       "s3:s3.amazonaws.com/bucket", "b2:bucket:path", "azure:c:/p", "gs:b:/p", "swift:c:/p", "rclone:r:p"):
        env = {"AWS_ACCESS_KEY_ID": "a", "AWS_SECRET_ACCESS_KEY": "b", "B2_ACCOUNT_ID": "c", "B2_ACCOUNT_KEY": "d",
               "AZURE_ACCOUNT_NAME": "e"}
        assert check("backup", {"backup_repository": repository, "backup_repository_env": env}) == [], repository
    one(check("backup", {"backup_on_calendar": "every night"}, calendar={"rc": 1, "stderr": "Failed to parse calendar"}),
        "backup_on_calendar = 'every night' is not a systemd calendar event (Failed to parse calendar)")
    one(check("backup", {}, vault={"vault_backup_restic_password": "short"}), "vault_backup_restic_password = (value hidden)")


# --- one line per mistake ---------------------------------------------------------------------------------------------

def test_a_disabled_layer_is_not_checked_but_its_argument_spec_is():
    assert check("backup", {"backup_enabled": False, "backup_keep_daily": -1}) == []
    one(check("ufw", {"ufw_enabled": False, "ufw_logging": True}), "ufw_logging = True is a boolean")


def test_consequences_of_a_reported_setting_are_not_reported_again():
    # ufw_docker_allow is the role's default, derived from ufw_web_ports: only the setting the household wrote counts.
    values = {"ufw_web_ports": "80,443", "ufw_docker_allow": [{"port": "8"}, {"port": "0"}]}
    one(lp.layer_problems(values, ["ufw"], {"user_set": ["ufw_web_ports"]}, WHERE), "ufw_web_ports = '80,443' is a string")


def test_unique_problems_keeps_the_first_line_per_setting_and_value():
    lines = ["a = 1 is bad. Fix: x (in f).", "a = 1 is worse. Fix: y (in f).", "a = 2 is bad. Fix: x (in f)."]
    assert lp.unique_problems(lines) == [lines[0], lines[2]]


def test_layer_variables_are_every_option_of_the_layers_argument_specs():
    names = lp.layer_variables(["ufw"])
    assert "ufw_ssh_port" in names and "household_domain" in names and "docker_users" not in names


def test_filters_are_registered():
    filters = lp.FilterModule().filters()
    assert filters["layer_problems"] is lp.layer_problems and filters["unique_problems"] is lp.unique_problems
