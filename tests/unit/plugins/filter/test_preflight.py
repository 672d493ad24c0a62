# -*- coding: utf-8 -*-
# Copyright: monsterr.mediaserver developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests of the preflight filters: what passes, what is reported, and how it reads."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy

import pytest

from ansible.errors import AnsibleFilterError
from ansible_collections.monsterr.mediaserver.plugins.filter.preflight import (
    _CHECKS,
    FilterModule,
    host_problems,
    settings_problems,
)

WHERE = "inventories/test/group_vars/mediaserver/main.yml"


def _one(kind, value, name=None):
    """Check one setting and return the problems found for it."""
    return settings_problems([{"name": name or "household_" + kind, "kind": kind, "value": value}], WHERE)


# --- settings_problems: accepted values --------------------------------------------------------

GOOD = [
    ("domain", "media.example.org"),
    ("domain", "example.org"),
    ("domain", "a-b.c-d.example.co.uk"),
    ("domain", "xn--bcher-kva.example"),
    ("email", "admin@example.org"),
    ("email", "first.last+acme@mail.example.co.uk"),
    ("timezone", "Europe/Berlin"),
    ("timezone", "Etc/UTC"),
    ("timezone", "America/Argentina/Buenos_Aires"),
    ("locale", "en_US.UTF-8"),
    ("locale", "de_DE.UTF-8"),
    ("locale", "C.UTF-8"),
    ("locale", "ast_ES.UTF-8"),
    ("id", 2000),
    ("id", 1),
    ("id", 65533),
    ("id", "2000"),
    ("username", "media"),
    ("username", "_svc"),
    ("username", "media-user_2"),
    ("username", "a" * 32),
    ("abspath", "/data"),
    ("abspath", "/opt/monsterr"),
    ("abspath", "/srv/media/"),
    ("cidr_list", []),
    ("cidr_list", ["192.168.1.0/24"]),
    ("cidr_list", ["192.168.1.0/24", "10.8.0.0/24", "0.0.0.0/0", "203.0.113.7/32"]),
    ("cidr_list", ("172.16.0.0/12",)),
    ("cidr_list", ["fd00::/64", "2001:db8::/32"]),
    # IPv6 is case-insensitive: an upper-case network is not a host-bits mistake.
    ("cidr_list", ["FD00::/64", "2001:DB8::/32"]),
    ("lan_cidr_list", ["192.168.1.0/24", "10.0.0.0/8", "fd00::/64", "2001:db8:1::/48", "fc00::/7"]),
    ("domain", "a" * 63 + "." + "b" * 63 + "." + "c" * 63 + "." + "d" * 57 + ".org"),  # 253: the most DNS allows
]


@pytest.mark.parametrize("kind, value", GOOD, ids=["%s=%r" % case for case in GOOD])
def test_good_values_pass(kind, value):
    assert _one(kind, value) == []


# --- settings_problems: rejected values --------------------------------------------------------
# (kind, value, how the value is shown, a fragment of the reason)

BAD = [
    ("domain", "", "''", "is not set"),
    ("domain", None, "None", "is not set"),
    ("domain", "https://media.example.org", "'https://media.example.org'", "not a fully qualified domain name"),
    ("domain", "media.example.org:443", "'media.example.org:443'", "not a fully qualified domain name"),
    ("domain", "media.example.org/", "'media.example.org/'", "not a fully qualified domain name"),
    ("domain", "media.example.org.", "'media.example.org.'", "not a fully qualified domain name"),
    ("domain", "Media.Example.org", "'Media.Example.org'", "not a fully qualified domain name"),
    ("domain", "localhost", "'localhost'", "not a fully qualified domain name"),
    ("domain", "-media.example.org", "'-media.example.org'", "not a fully qualified domain name"),
    ("domain", "media..example.org", "'media..example.org'", "not a fully qualified domain name"),
    ("domain", "192.168.1.20", "'192.168.1.20'", "not a fully qualified domain name"),
    ("domain", "a" * 64 + ".example.org", "'" + "a" * 64 + ".example.org'", "not a fully qualified domain name"),
    ("email", "", "''", "is not set"),
    ("email", "admin@", "'admin@'", "is not an e-mail address"),
    ("email", "@example.org", "'@example.org'", "is not an e-mail address"),
    ("email", "admin", "'admin'", "is not an e-mail address"),
    ("email", "admin@localhost", "'admin@localhost'", "is not an e-mail address"),
    ("email", "admin@@example.org", "'admin@@example.org'", "is not an e-mail address"),
    ("email", "ad min@example.org", "'ad min@example.org'", "is not an e-mail address"),
    ("timezone", "", "''", "is not set"),
    ("timezone", "Europe/Berlinn", "'Europe/Berlinn'", "is not a known IANA time zone"),
    ("timezone", "Berlin", "'Berlin'", "did you mean Europe/Berlin?"),
    ("timezone", "europe/berlin", "'europe/berlin'", "did you mean Europe/Berlin?"),
    ("timezone", "CEST", "'CEST'", "is not a known IANA time zone"),
    ("locale", "english", "'english'", "is not a UTF-8 locale name"),
    ("locale", "en_US", "'en_US'", "is not a UTF-8 locale name"),
    ("locale", "en_US.utf8", "'en_US.utf8'", "is not a UTF-8 locale name"),
    ("locale", "en_US.ISO-8859-1", "'en_US.ISO-8859-1'", "is not a UTF-8 locale name"),
    ("locale", "", "''", "is not a UTF-8 locale name"),
    ("locale", None, "None", "is not a UTF-8 locale name"),
    ("id", "abc", "'abc'", "is not an integer"),
    ("id", "", "''", "is not an integer"),
    ("id", None, "None", "is not an integer"),
    ("id", True, "True", "is not an integer"),
    ("id", 2000.5, "2000.5", "is not an integer"),
    ("id", "-5", "'-5'", "is not an integer"),
    ("id", 0, "0", "is outside 1..65533"),
    ("id", "0", "'0'", "is outside 1..65533"),
    ("id", -1, "-1", "is outside 1..65533"),
    ("id", 65534, "65534", "is outside 1..65533"),
    ("id", 70000, "70000", "is outside 1..65533"),
    ("username", "Media User", "'Media User'", "is not a valid user name"),
    ("username", "Media", "'Media'", "is not a valid user name"),
    ("username", "1media", "'1media'", "is not a valid user name"),
    ("username", "-media", "'-media'", "is not a valid user name"),
    ("username", "a" * 33, "'" + "a" * 33 + "'", "is not a valid user name"),
    ("username", "", "''", "is not a valid user name"),
    ("username", 1000, "1000", "is not a valid user name"),
    ("abspath", "data", "'data'", "is not an absolute path below /"),
    ("abspath", "./data", "'./data'", "is not an absolute path below /"),
    ("abspath", "~/data", "'~/data'", "is not an absolute path below /"),
    ("abspath", "/", "'/'", "is not an absolute path below /"),
    ("abspath", "//", "'//'", "is not an absolute path below /"),
    ("abspath", "", "''", "is not an absolute path below /"),
    ("abspath", None, "None", "is not an absolute path below /"),
    ("cidr_list", "192.168.1.0/24", "'192.168.1.0/24'", "is not a list"),
    ("cidr_list", None, "None", "is not a list"),
    ("cidr_list", {"lan": "192.168.1.0/24"}, "{'lan': '192.168.1.0/24'}", "is not a list"),
    ("cidr_list", ["192.168.1.0/33"], "['192.168.1.0/33']", "'192.168.1.0/33' is not a network in CIDR notation"),
    ("cidr_list", ["192.168.1.0"], "['192.168.1.0']", "'192.168.1.0' is not a network in CIDR notation"),
    ("cidr_list", ["192.168.1/24"], "['192.168.1/24']", "'192.168.1/24' is not a network in CIDR notation"),
    ("cidr_list", ["300.168.1.0/24"], "['300.168.1.0/24']", "'300.168.1.0/24' is not a network in CIDR notation"),
    ("cidr_list", ["lan"], "['lan']", "'lan' is not a network in CIDR notation"),
    ("cidr_list", [None], "[None]", "'None' is not a network in CIDR notation"),
    ("cidr_list", ["192.168.1.20/24"], "['192.168.1.20/24']", "'192.168.1.20/24' has host bits set (did you mean 192.168.1.0/24?)"),
    ("cidr_list", ["fd00::1/64"], "['fd00::1/64']", "'fd00::1/64' has host bits set (did you mean fd00::/64?)"),
    ("cidr_list", ["192.168.1.0/255.255.255.0"], "['192.168.1.0/255.255.255.0']",
     "'192.168.1.0/255.255.255.0' is not in address/prefix form (did you mean 192.168.1.0/24?)"),
    ("cidr_list", ["2001:db8:0:0::/64"], "['2001:db8:0:0::/64']",
     "'2001:db8:0:0::/64' is not in address/prefix form (did you mean 2001:db8::/64?)"),
    # Catch-all networks where a LAN is meant (issue #12): 0.0.0.0/0 would open LAN-only ports to everyone.
    ("lan_cidr_list", ["0.0.0.0/0"], "['0.0.0.0/0']", "'0.0.0.0/0' is everyone, not your network"),
    ("lan_cidr_list", ["0.0.0.0/1"], "['0.0.0.0/1']", "'0.0.0.0/1' is everyone"),
    ("lan_cidr_list", ["::/0"], "['::/0']", "'::/0' is everyone"),
    ("lan_cidr_list", ["2000::/3"], "['2000::/3']", "'2000::/3' is everyone"),
    ("lan_cidr_list", "192.168.1.0/24", "'192.168.1.0/24'", "is not a list"),
    # 254 characters: one more than DNS allows (issue #12: accepted silently before)
    ("domain", "a" * 63 + "." + "b" * 63 + "." + "c" * 63 + "." + "d" * 58 + ".org",
     "'" + "a" * 63 + "." + "b" * 12 + "...", "is 254 characters long, more than the 253"),
]


@pytest.mark.parametrize("kind, value, shown, reason", BAD, ids=["%s=%r" % case[:2] for case in BAD])
def test_bad_values_are_reported(kind, value, shown, reason):
    name = "household_" + kind
    problems = _one(kind, value, name)
    assert len(problems) == 1, problems
    line = problems[0]
    # The variable and the value as written come first, then why, then the fix and where to make it.
    assert line.startswith("%s = %s " % (name, shown)), line
    assert reason in line
    assert "Fix: " in line
    assert line.index(reason) < line.index("Fix: ")
    assert line.endswith("(in %s)." % WHERE)
    assert "\n" not in line


def test_every_kind_has_good_and_bad_cases():
    assert set(_CHECKS) == {"domain", "email", "timezone", "locale", "id", "username", "abspath", "cidr_list", "lan_cidr_list"}
    assert {case[0] for case in GOOD} == set(_CHECKS)
    assert {case[0] for case in BAD} == set(_CHECKS)


def test_all_bad_cidrs_of_one_list_in_one_line():
    problems = _one("cidr_list", ["192.168.1.0/24", "192.168.1.0/33", "10.8.0.1/24"], "household_admin_cidrs")
    assert len(problems) == 1
    assert "'192.168.1.0/33' is not a network in CIDR notation; '10.8.0.1/24' has host bits set" in problems[0]
    assert "'192.168.1.0/24' is not" not in problems[0]


def test_all_problems_are_reported_in_order():
    settings = [
        {"name": "household_domain", "kind": "domain", "value": "media.example.org"},
        {"name": "household_acme_email", "kind": "email", "value": "admin@"},
        {"name": "household_timezone", "kind": "timezone", "value": "Etc/UTC"},
        {"name": "household_puid", "kind": "id", "value": "abc"},
        {"name": "household_lan_cidrs", "kind": "cidr_list", "value": "192.168.1.0/24"},
    ]
    problems = settings_problems(settings, WHERE)
    assert [line.split(" = ")[0] for line in problems] == ["household_acme_email", "household_puid", "household_lan_cidrs"]


def test_default_location_is_named():
    problems = settings_problems([{"name": "household_locale", "kind": "locale", "value": "english"}])
    assert problems[0].endswith("(in inventories/<household>/group_vars/mediaserver/main.yml).")


def test_long_values_are_shortened():
    value = "x" * 200
    line = _one("domain", value)[0]
    assert "'" + "x" * 76 + "..." in line
    assert value not in line
    assert len(line) < 300


@pytest.mark.parametrize("settings", ["household_domain", {"name": "household_domain"}, None, 3])
def test_settings_must_be_a_list(settings):
    with pytest.raises(AnsibleFilterError, match="expects a list"):
        settings_problems(settings)


def test_unknown_kind_is_an_error():
    with pytest.raises(AnsibleFilterError, match="unknown kind 'hostname' for household_host"):
        settings_problems([{"name": "household_host", "kind": "hostname", "value": "media01"}])


def test_filters_are_registered():
    filters = FilterModule().filters()
    assert filters["settings_problems"] is settings_problems
    assert filters["host_problems"] is host_problems


# --- host_problems -------------------------------------------------------------------------------

PLATFORMS = {"Debian": ["12", "13"], "Ubuntu": ["22.04", "24.04"]}
ARCHES = ["x86_64", "aarch64"]
GB = 10 ** 9

GOOD_FACTS = {
    "distribution": "Debian",
    "distribution_major_version": "12",
    "distribution_version": "12.8",
    "architecture": "x86_64",
    "processor_vcpus": 4,
    "processor_count": 1,
    "memtotal_mb": 7800,
    "mounts": [
        {"mount": "/", "size_available": 30 * GB},
        {"mount": "/data", "size_available": 900 * GB},
        {"mount": "/boot", "size_available": 1 * GB},
    ],
}


def _host(minimums=(4, 7680, 20), paths=("/opt/monsterr", "/data"), **changes):
    facts = copy.deepcopy(GOOD_FACTS)
    facts.update(changes)
    return host_problems(facts, PLATFORMS, ARCHES, minimums[0], minimums[1], minimums[2], list(paths))


@pytest.mark.parametrize("changes", [
    {},
    {"distribution_major_version": "13", "distribution_version": "13.1"},
    {"distribution": "Ubuntu", "distribution_major_version": "24", "distribution_version": "24.04"},
    {"distribution": "Ubuntu", "distribution_major_version": "22", "distribution_version": "22.04"},
    {"architecture": "aarch64"},
    {"processor_vcpus": None, "processor_count": 8},
    {"memtotal_mb": 7680},
    {"mounts": []},  # no mount facts: nothing to measure, so nothing to report
], ids=["debian12", "debian13", "ubuntu2404", "ubuntu2204", "aarch64", "processor_count", "ram_at_minimum", "no_mounts"])
def test_good_host_passes(changes):
    assert _host(**changes) == []


# (changes to the facts, minimums, fragments that must all be in the one line)
BAD_HOSTS = [
    ({"distribution_major_version": "11", "distribution_version": "11.11"}, (4, 7680, 20),
     ["host OS = 'Debian 11.11' is not supported", "preflight_supported_platforms", "Fix: install one of Debian 12/13, Ubuntu 22.04/24.04"]),
    ({"distribution": "Ubuntu", "distribution_major_version": "20", "distribution_version": "20.04"}, (4, 7680, 20),
     ["host OS = 'Ubuntu 20.04' is not supported", "Fix: install one of"]),
    ({"distribution": "Ubuntu", "distribution_major_version": "24", "distribution_version": "24.10"}, (4, 7680, 20),
     ["host OS = 'Ubuntu 24.10' is not supported", "Fix: install one of"]),
    ({"distribution": "CentOS", "distribution_major_version": "9", "distribution_version": "9"}, (4, 7680, 20),
     ["host OS = 'CentOS 9' is not supported", "Fix: install one of"]),
    ({"architecture": "armv7l"}, (4, 7680, 20),
     ["host architecture = 'armv7l' is not supported (preflight_supported_architectures)", "Fix: use a x86_64 or aarch64 host"]),
    ({"processor_vcpus": 2}, (4, 7680, 20),
     ["host CPU cores = 2, below preflight_min_cpus = 4", "Fix: use a host with at least 4 cores"]),
    ({"processor_vcpus": None, "processor_count": None}, (1, 7680, 20),
     ["host CPU cores = 0, below preflight_min_cpus = 1", "Fix:"]),
    ({"memtotal_mb": 3900}, (4, 7680, 20),
     ["host memory = 3900 MB, below preflight_min_ram_mb = 7680", "Fix: add memory, or lower preflight_min_ram_mb"]),
    ({"memtotal_mb": 3900}, (4, "4096", 20),  # minimums from -e arrive as strings
     ["host memory = 3900 MB, below preflight_min_ram_mb = 4096", "Fix:"]),
    ({"mounts": [{"mount": "/", "size_available": 5 * GB}, {"mount": "/data", "size_available": 900 * GB}]}, (4, 7680, 20),
     ["free disk for /opt/monsterr (on /) = 5.0 GB, below preflight_min_disk_gb = 20", "Fix: free space"]),
]


@pytest.mark.parametrize("changes, minimums, fragments", BAD_HOSTS,
                         ids=["debian11", "ubuntu2004", "ubuntu2410", "centos", "armv7l", "cpus", "no_cpu_facts", "ram",
                              "ram_string_minimum", "disk"])
def test_bad_host_is_reported(changes, minimums, fragments):
    problems = _host(minimums=minimums, **changes)
    # /data sits on its own large filesystem in every case, so exactly one problem is expected.
    assert len(problems) == 1, problems
    for fragment in fragments:
        assert fragment in problems[0]


def test_disk_is_measured_on_the_filesystem_holding_each_path():
    mounts = [
        {"mount": "/", "size_available": 50 * GB},
        {"mount": "/data", "size_available": 2 * GB},
        {"mount": "/data2", "size_available": 1 * GB},
        {"mount": "/opt/monsterr", "size_available": 3 * GB},
    ]
    problems = _host(mounts=mounts, paths=("/opt/monsterr", "/data/media", "/data2", "/srv"))
    assert problems == [
        "free disk for /opt/monsterr (on /opt/monsterr) = 3.0 GB, below preflight_min_disk_gb = 20. "
        "Fix: free space or point it at a larger disk, or lower preflight_min_disk_gb.",
        "free disk for /data/media (on /data) = 2.0 GB, below preflight_min_disk_gb = 20. "
        "Fix: free space or point it at a larger disk, or lower preflight_min_disk_gb.",
        "free disk for /data2 (on /data2) = 1.0 GB, below preflight_min_disk_gb = 20. "
        "Fix: free space or point it at a larger disk, or lower preflight_min_disk_gb.",
    ]


def test_every_host_problem_at_once():
    problems = _host(distribution="Ubuntu", distribution_major_version="20", distribution_version="20.04",
                     architecture="i386", processor_vcpus=1, memtotal_mb=900,
                     mounts=[{"mount": "/", "size_available": 1 * GB}])
    assert [line.split(" = ")[0] for line in problems] == [
        "host OS", "host architecture", "host CPU cores", "host memory",
        "free disk for /opt/monsterr (on /)", "free disk for /data (on /)"]
    assert all("Fix: " in line for line in problems)


def test_missing_facts_are_problems_not_errors():
    problems = host_problems({}, PLATFORMS, ARCHES, 1, 1, 1, ["/data"])
    assert [line.split(" = ")[0] for line in problems] == ["host OS", "host architecture", "host CPU cores", "host memory"]
