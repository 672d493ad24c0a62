# -*- coding: utf-8 -*-
# Copyright: monsterr.mediaserver developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Checks that preflight runs on the controller: every problem becomes one line naming the
variable, the value and the fix, so that a household sees all of them in one run."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

try:
    import zoneinfo
except ImportError:  # pragma: no cover - Python < 3.9 on the controller
    zoneinfo = None

try:
    import netaddr
except ImportError:  # pragma: no cover - reported as a problem instead
    netaddr = None

try:
    import dns.exception
    import dns.resolver
except ImportError:  # pragma: no cover - reported as a problem instead
    dns = None

from ansible.errors import AnsibleFilterError
from ansible.module_utils.six import integer_types, string_types

_LABEL = r"(?!-)[a-z0-9-]{1,63}(?<!-)"
_DOMAIN_RE = re.compile(r"^(?:%s\.)+[a-z][a-z0-9-]{0,62}(?<!-)$" % _LABEL)
_EMAIL_RE = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@([^@\s]+)$")
_LOCALE_RE = re.compile(r"^(?:C|[a-z]{2,3}_[A-Z]{2})\.UTF-8$")
_USER_RE = re.compile(r"^[a-z_][a-z0-9_-]{0,31}$")
_FIXED_IDS = (1, 65533)


def _show(value):
    """The value as the user wrote it, short enough for one line."""
    text = repr(value) if not isinstance(value, string_types) else "'%s'" % value
    return text if len(text) <= 80 else text[:77] + "..."


def _check_domain(value):
    if not isinstance(value, string_types) or not value:
        return "is not set", "set it to the domain your services live under, e.g. media.example.org"
    if not _DOMAIN_RE.match(value):
        return ("is not a fully qualified domain name",
                "use lowercase labels separated by dots, no scheme, port, path or trailing dot, e.g. media.example.org")
    return None


def _check_email(value):
    if not isinstance(value, string_types) or not value:
        return "is not set", "set it to an address that receives certificate expiry notices, e.g. admin@example.org"
    match = _EMAIL_RE.match(value)
    if not match or not _DOMAIN_RE.match(match.group(1).lower()):
        return "is not an e-mail address", "use the form name@example.org"
    return None


def _check_timezone(value):
    if not isinstance(value, string_types) or not value:
        return "is not set", "set an IANA time zone such as Europe/Berlin or Etc/UTC"
    zones = zoneinfo.available_timezones() if zoneinfo else set()
    if zones and value not in zones:
        close = sorted(z for z in zones if z.lower().endswith("/" + value.lower().split("/")[-1]))[:3]
        hint = " (did you mean %s?)" % " or ".join(close) if close else ""
        return ("is not a known IANA time zone%s" % hint,
                "use a name from 'timedatectl list-timezones', e.g. Europe/Berlin or Etc/UTC")
    return None


def _check_locale(value):
    if not isinstance(value, string_types) or not _LOCALE_RE.match(value):
        return "is not a UTF-8 locale name", "use the form en_US.UTF-8 (language_COUNTRY.UTF-8)"
    return None


def _check_id(value):
    if isinstance(value, bool):
        number = None
    elif isinstance(value, integer_types):
        number = value
    elif isinstance(value, string_types) and value.strip().isdigit():
        number = int(value)
    else:
        number = None
    if number is None:
        return "is not an integer", "use a whole number from %d to %d, e.g. 2000" % _FIXED_IDS
    if not _FIXED_IDS[0] <= number <= _FIXED_IDS[1]:
        return ("is outside %d..%d (0 is root, 65534 is nobody)" % _FIXED_IDS,
                "pick an unused id from %d to %d, e.g. 2000" % _FIXED_IDS)
    return None


def _check_username(value):
    if not isinstance(value, string_types) or not _USER_RE.match(value):
        return "is not a valid user name", "use lowercase letters, digits, '-' and '_', starting with a letter, e.g. media"
    return None


def _check_abspath(value):
    if not isinstance(value, string_types) or not value.startswith("/") or value.rstrip("/") == "":
        return "is not an absolute path below /", "use an absolute path such as /opt/monsterr or /data"
    return None


def _check_cidr_list(value):
    if isinstance(value, string_types) or not isinstance(value, (list, tuple)):
        return "is not a list", "write it as a YAML list, e.g. ['192.168.1.0/24']"
    if netaddr is None:
        return "cannot be checked", "install netaddr on the controller (make setup does)"
    bad = []
    for item in value:
        text = str(item)
        try:
            if "/" not in text:
                raise ValueError("no prefix length")
            net = netaddr.IPNetwork(text)
        except (ValueError, netaddr.AddrFormatError, TypeError):
            bad.append("'%s' is not a network in CIDR notation" % text)
            continue
        if net.ip != net.network:
            bad.append("'%s' has host bits set (did you mean %s?)" % (text, net.cidr))
        elif str(net.cidr) != text.lower():
            # e.g. a netmask instead of a prefix length, or IPv6 zeros not compressed; IPv6 case does not matter
            bad.append("'%s' is not in address/prefix form (did you mean %s?)" % (text, net.cidr))
    if bad:
        return "has bad entries: " + "; ".join(bad), "write networks as address/prefix with the host bits zero, e.g. 192.168.1.0/24"
    return None


_CHECKS = {
    "domain": _check_domain,
    "email": _check_email,
    "timezone": _check_timezone,
    "locale": _check_locale,
    "id": _check_id,
    "username": _check_username,
    "abspath": _check_abspath,
    "cidr_list": _check_cidr_list,
}


def settings_problems(settings, where="inventories/<household>/group_vars/mediaserver/main.yml"):
    """Check a list of {name, kind, value} and return one line per problem."""
    if not isinstance(settings, (list, tuple)):
        raise AnsibleFilterError("settings_problems expects a list of {name, kind, value}")
    problems = []
    for item in settings:
        kind = item.get("kind")
        if kind not in _CHECKS:
            raise AnsibleFilterError("settings_problems: unknown kind %r for %s" % (kind, item.get("name")))
        found = _CHECKS[kind](item.get("value"))
        if found:
            reason, fix = found
            problems.append("%s = %s %s. Fix: %s (in %s)." % (item["name"], _show(item.get("value")), reason, fix, where))
    return problems


def _mount_for(path, mounts):
    best = None
    for mount in mounts or []:
        point = mount.get("mount", "")
        prefix = point.rstrip("/") + "/"
        if (path == point or path.startswith(prefix) or point == "/") and (best is None or len(point) > len(best["mount"])):
            best = mount
    return best


def host_problems(facts, platforms, architectures, min_cpus, min_ram_mb, min_disk_gb, disk_paths):
    """Check the gathered facts against the supported platforms and the minimum resources."""
    problems = []
    distro = facts.get("distribution", "unknown")
    major = str(facts.get("distribution_major_version", ""))
    version = str(facts.get("distribution_version", ""))
    supported = platforms.get(distro)
    if supported is None or (major not in supported and version not in supported):
        wanted = ", ".join("%s %s" % (name, "/".join(str(v) for v in vers)) for name, vers in sorted(platforms.items()))
        problems.append("host OS = '%s %s' is not supported (preflight_supported_platforms). Fix: install one of %s."
                        % (distro, version or major, wanted))
    arch = facts.get("architecture", "unknown")
    if arch not in architectures:
        problems.append("host architecture = '%s' is not supported (preflight_supported_architectures). Fix: use a %s host."
                        % (arch, " or ".join(architectures)))
    cpus = int(facts.get("processor_vcpus") or facts.get("processor_count") or 0)
    if cpus < int(min_cpus):
        problems.append("host CPU cores = %d, below preflight_min_cpus = %s. Fix: use a host with at least %s cores, "
                        "or lower preflight_min_cpus for a small household." % (cpus, min_cpus, min_cpus))
    ram = int(facts.get("memtotal_mb") or 0)
    if ram < int(min_ram_mb):
        problems.append("host memory = %d MB, below preflight_min_ram_mb = %s. Fix: add memory, "
                        "or lower preflight_min_ram_mb for a small household." % (ram, min_ram_mb))
    for path in disk_paths:
        mount = _mount_for(path, facts.get("mounts"))
        if mount is None:
            continue
        free_gb = int(mount.get("size_available", 0)) / 1e9
        if free_gb < float(min_disk_gb):
            problems.append("free disk for %s (on %s) = %.1f GB, below preflight_min_disk_gb = %s. Fix: free space or "
                            "point it at a larger disk, or lower preflight_min_disk_gb." % (path, mount["mount"], free_gb, min_disk_gb))
    return problems


_IPV4_RE = re.compile(r"^(25[0-5]|2[0-4][0-9]|1?[0-9]?[0-9])(\.(25[0-5]|2[0-4][0-9]|1?[0-9]?[0-9])){3}$")


def dns_problems(names, public_ipv4, domain, server="", port=53, timeout=5.0):
    """One line per name that does not resolve (A record) to the household's public address."""
    if not isinstance(public_ipv4, string_types) or not _IPV4_RE.match(public_ipv4):
        return ["preflight_dns_public_ipv4 = %s is not an IPv4 address. Fix: set it to your router's public IPv4 "
                "address, or set preflight_dns_check: false." % _show(public_ipv4)]
    if dns is None:
        return ["preflight_dns_check = true needs dnspython on the controller. Fix: run make setup (it installs it), "
                "or set preflight_dns_check: false."]
    resolver = dns.resolver.Resolver(configure=not server)
    if server:
        resolver.nameservers = [server]
    resolver.port = int(port)
    resolver.lifetime = float(timeout)
    problems = []
    for name in names:
        reason = ""
        try:
            addresses = sorted(r.address for r in resolver.resolve(name, "A", search=False))
        except dns.resolver.NXDOMAIN:
            addresses, reason = [], "NXDOMAIN"
        except dns.resolver.NoAnswer:
            addresses, reason = [], "no A record"
        except dns.exception.DNSException as exc:
            addresses, reason = [], "lookup failed: %s" % exc.__class__.__name__
        if not addresses:
            problems.append("DNS: %s does not resolve (%s). Fix: add an A record for %s (or a wildcard *.%s) pointing "
                            "at %s." % (name, reason, name, domain, public_ipv4))
        elif public_ipv4 not in addresses:
            problems.append("DNS: %s resolves to %s, not the public address preflight_dns_public_ipv4 = %s. Fix: point "
                            "its A record at %s, or correct preflight_dns_public_ipv4." % (name, ", ".join(addresses),
                                                                                           public_ipv4, public_ipv4))
    return problems


class FilterModule(object):
    def filters(self):
        return {
            "settings_problems": settings_problems,
            "host_problems": host_problems,
            "dns_problems": dns_problems,
        }
