# -*- coding: utf-8 -*-
# Copyright: monsterr.mediaserver developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Checks that preflight runs on the controller: every problem becomes one line naming the
variable, the value and the fix, so that a household sees all of them in one run."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ipaddress
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

from ansible_collections.monsterr.mediaserver.plugins.filter.layer_problems import account_problems, catch_all, root_path_problems
from ansible_collections.monsterr.mediaserver.plugins.plugin_utils import _roles
from ansible_collections.monsterr.mediaserver.plugins.plugin_utils._problems import is_placeholder
from ansible_collections.monsterr.mediaserver.plugins.plugin_utils._problems import problem as _problem

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
    if len(value) > 253:
        return ("is %d characters long, more than the 253 a DNS name may have" % len(value), "use a shorter domain")
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


def _check_cidr_list(value, lan=False):
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
        elif lan and _catch_all(text):
            bad.append("'%s' is everyone, not your network" % text)
    if bad:
        fix = "write networks as address/prefix with the host bits zero, e.g. 192.168.1.0/24"
        if lan and any("is everyone" in b for b in bad):
            fix = ("list only your own networks, e.g. 192.168.1.0/24 (a catch-all would open LAN-only services to the "
                   "internet and keep fail2ban from banning anyone; an empty admin list already allows SSH from anywhere)")
        return "has bad entries: " + "; ".join(bad), fix
    return None


def _check_lan_cidr_list(value):
    return _check_cidr_list(value, lan=True)


def _catch_all(text):
    return catch_all(ipaddress.ip_network(u"%s" % text, strict=False))


_CHECKS = {
    "domain": _check_domain,
    "email": _check_email,
    "timezone": _check_timezone,
    "locale": _check_locale,
    "id": _check_id,
    "username": _check_username,
    "abspath": _check_abspath,
    "cidr_list": _check_cidr_list,
    "lan_cidr_list": _check_lan_cidr_list,
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


# --- which layers run ---------------------------------------------------------------------------------------

def preflight_layers(play_roles, run_tags=None, skip_tags=None, collection="monsterr.mediaserver"):
    """The layers (roles of this collection in the play) that the selected tags will run, in play order.

    site.yml tags each role with its own name; ``--tags ufw`` runs preflight and ufw, ``--tags ufw:rules`` the
    ufw tasks tagged so. Untagged plays (Molecule's) run every role unless tags are given.
    """
    run = set(run_tags or ["all"])
    skip = set(skip_tags or [])
    out = []
    for role in play_roles or []:
        name = role.split(".")[-1] if role.startswith(collection + ".") or "." not in role else None
        if name is None or name in out:
            continue
        selected = bool(run & {"all", "tagged", name}) or any(t.startswith(name + ":") for t in run)
        if selected and name not in skip:
            out.append(name)
    return out


# --- variables nobody reads -----------------------------------------------------------------------------------

def known_vault_variables(shipped, authelia_users=None):
    """vault_<service>_<name> of every catalog secret (generated or given), and each sign-on user's password."""
    known = set()
    for service, entry in (shipped or {}).items():
        for name, spec in ((entry or {}).get("secrets") or {}).items():
            known.add("vault_%s_%s" % (re.sub(r"[^a-z0-9]", "_", service), name))
            if isinstance(spec, dict) and isinstance(spec.get("variable"), string_types):
                known.add(spec["variable"])
    for user in authelia_users if isinstance(authelia_users, (list, tuple)) else []:
        if isinstance(user, dict) and isinstance(user.get("username"), string_types):
            known.add("vault_authelia_%s_password" % re.sub(r"[^a-z0-9]", "_", user["username"]))
    return sorted(known)


def unknown_variable_problems(names, known, prefixes, vault_known=None, services=None,
                              where="inventories/<household>/group_vars/mediaserver/main.yml"):
    """One line per variable the household set that looks like one of ours but that no role reads.

    names: the variables the household set (inventory, extra vars), a list of names or {name: value} or the
    preflight_values lookup's list; known: every variable some role defines (plugins/plugin_utils/_roles.py);
    prefixes: the collection's (<role>_). vault_<service>_<name> variables are checked against vault_known
    when <service> is a catalog service.
    """
    import difflib
    values = {}
    if isinstance(names, dict):
        values = dict(names)
    else:
        for item in names or []:
            if isinstance(item, dict) and "name" in item:
                values[item["name"]] = item.get("value")
            else:
                values[item] = None
    known = set(known or [])
    vault_known = sorted(vault_known or [])
    service_prefixes = sorted(("vault_%s_" % re.sub(r"[^a-z0-9]", "_", s) for s in services or []), key=len, reverse=True)
    problems = []
    for name in sorted(values):
        if not isinstance(name, string_types) or name.startswith("_") or name in known:
            continue
        candidates = None
        if any(name.startswith(p) for p in prefixes or []):
            candidates = sorted(k for k in known if not k.startswith("_"))
        elif name.startswith("vault_") and name not in vault_known:
            prefix = next((p for p in service_prefixes if name.startswith(p)), None)
            if prefix:
                candidates = [k for k in vault_known if k.startswith(prefix)] or vault_known
        if candidates is None:
            continue
        close = difflib.get_close_matches(name, candidates, n=1, cutoff=0.75)
        reason = "is not a setting; " + ("did you mean %s?" % close[0] if close else "no layer reads it")
        fix = ("rename it to %s" % close[0]) if close else "remove it, or see ansible-doc -t role monsterr.mediaserver.<layer>"
        problems.append(_problem(name, values[name], reason, fix, where, hidden=name.startswith("vault_")))
    return problems


# --- secrets ------------------------------------------------------------------------------------------------------

_FORMAT_CLASS = {"hex": ("^[0-9a-f]+$", "lowercase hex digits"), "alnum": ("^[A-Za-z0-9]+$", "letters and digits"),
                 "base64": ("^[A-Za-z0-9+/]+={0,2}$", "base64 characters")}
MIN_SECRET = 16


def _secret_rule(spec):
    """(regex, what it means) a value of this catalog secret must match: the entry's pattern, else its format's
    characters (what the project generates is what every consumer takes: no quotes, <, & or line breaks)."""
    if isinstance(spec.get("pattern"), string_types) and spec["pattern"]:
        return spec["pattern"], "the form its consumers accept (%s)" % spec["pattern"]
    kind = re.match(r"^(hex|alnum|base64)", "%s" % (spec.get("generate") or "alnum"))
    pattern, words = _FORMAT_CLASS[kind.group(1) if kind else "alnum"]
    return pattern, words + " only"


def secret_problems(resolved, vault=None, secrets_dir=None, where="inventories/<household>/group_vars/mediaserver/main.yml"):
    """Every generated secret of the enabled services: the household's vault value, or else the file a previous
    run stored (<secrets_dir>/<service>/<name>.txt, read on the controller), in the form its consumers accept.
    Values are never shown."""
    import os
    vault = vault or {}
    vault_file = where.rsplit("/", 1)[0] + "/vault.yml" if "/" in where else where
    problems = []
    for entry in resolved or []:
        for name, spec in sorted((entry.get("secrets") or {}).items()):
            if not isinstance(spec, dict) or not spec.get("generate"):
                continue
            service = entry["name"]
            variable = "vault_%s_%s" % (re.sub(r"[^a-z0-9]", "_", service), name)
            pattern, words = _secret_rule(spec)
            given = vault.get(variable)
            if given not in (None, ""):
                reason = None
                if not isinstance(given, string_types):
                    reason = "is not a string"
                elif is_placeholder(given):
                    reason = "is a placeholder, not a secret"
                elif not re.search(pattern, given):
                    reason = "is not %s (%s's %s)" % (words, service, name)
                elif not spec.get("pattern") and len(given) < MIN_SECRET:
                    reason = "is shorter than %d characters" % MIN_SECRET
                if reason:
                    problems.append(_problem(variable, given, reason, "change it in your vault, or remove it to have one "
                                             "generated", vault_file, hidden=True))
                continue
            if not secrets_dir:
                continue
            path = os.path.join(secrets_dir, service, name + ".txt")
            try:
                with open(path, "rb") as handle:
                    stored = handle.read().decode("utf-8", "replace").rstrip("\r\n")
            except (IOError, OSError):
                continue
            if stored and not re.search(pattern, stored):
                problems.append(_problem("%s/%s" % (service, name), None,
                                         "stored in %s (an earlier run) is not %s" % (path, words),
                                         "delete the file to have a new one generated on this run, and follow the other steps "
                                         "of README 'Secret formats, and households with 64-character API keys'; or set "
                                         "%s in the vault" % variable, vault_file, hidden=True))
    return problems


def vault_problems(vault, where="inventories/<household>/group_vars/mediaserver/main.yml"):
    """vault_* variables the household left at a placeholder (the example vault's 'replace-me: ...')."""
    vault_file = where.rsplit("/", 1)[0] + "/vault.yml" if "/" in where else where
    return [_problem(name, value, "is still a placeholder", "put the real value in, or delete the line if you do not use it",
                     vault_file, hidden=True)
            for name, value in sorted((vault or {}).items()) if is_placeholder(value)]


def known_variables(layers=None):
    """Every variable some role of the collection defines, and the collection's prefixes (derived, see _roles)."""
    return {"names": _roles.known_variables(), "prefixes": _roles.prefixes()}


# --- everything the controller can check, at once --------------------------------------------------------------

# The household's shared settings and how each is checked (settings_problems).
HOUSEHOLD_KINDS = (
    ("household_domain", "domain"), ("household_acme_email", "email"), ("household_timezone", "timezone"),
    ("household_locale", "locale"), ("household_user", "username"), ("household_puid", "id"), ("household_pgid", "id"),
    ("household_appdata_root", "abspath"), ("household_data_root", "abspath"),
    ("household_lan_cidrs", "lan_cidr_list"), ("household_admin_cidrs", "lan_cidr_list"),
)


def preflight_problems(values, layers, context=None, where="inventories/<household>/group_vars/mediaserver/main.yml",
                       full=True):
    """Every problem with the household's settings for the layers that will run, one line each.

    values: the preflight_values lookup's list for the layers' variables, the variables the household set and
    its vault_* variables; context: resolved (catalog_resolved), shipped (the catalog), user_set (names the
    household set), passwd/group (getent), locales, calendar, facts, secrets_dir. full: also report variables
    no role reads, vault placeholders (preflight's own run; a role checking itself skips them).
    """
    from ansible_collections.monsterr.mediaserver.plugins.filter.layer_problems import (
        _as_dict, argspec_problems, layer_problems, unique_problems)
    context = dict(context or {})
    vals, errors = _as_dict(values)
    user_set = context.get("user_set")
    vault = dict((k, v) for k, v in vals.items() if k.startswith("vault_"))
    context.setdefault("vault", vault)
    kinds = dict(HOUSEHOLD_KINDS)
    broken = set(item["name"] for item in errors)
    # The household's shared settings: in preflight's own run (a layer checking itself leaves them to preflight).
    out = settings_problems([{"name": n, "kind": k, "value": vals.get(n)} for n, k in HOUSEHOLD_KINDS
                             if n not in broken], where) if full else []
    explicit = vals if user_set is None else dict((k, v) for k, v in vals.items() if k in set(user_set))
    out += argspec_problems(dict((k, v) for k, v in explicit.items() if k not in kinds), "household", "main", where)
    context["broken"] = sorted(set(line.split(" = ", 1)[0] for line in out) | set(context.get("broken") or []))
    layers = [layer for layer in layers if layer != "household"]
    out += layer_problems(values, layers, context, where, explicit=set(explicit))
    if full:
        known = _roles.known_variables()
        shipped = context.get("shipped") or {}
        users = vals.get("authelia_users")
        out += unknown_variable_problems(explicit, known, _roles.prefixes(), known_vault_variables(shipped, users),
                                         sorted(shipped), where)
        out += vault_problems(vault, where)
    if context.get("resolved") is not None and set(layers) & {"stack", "wiring", "authelia"}:
        out += secret_problems(context["resolved"], vault, vals.get("stack_secrets_dir"), where)
    return unique_problems(out)


class FilterModule(object):
    def filters(self):
        return {
            "settings_problems": settings_problems,
            "host_problems": host_problems,
            "dns_problems": dns_problems,
            "preflight_layers": preflight_layers,
            "known_vault_variables": known_vault_variables,
            "unknown_variable_problems": unknown_variable_problems,
            "secret_problems": secret_problems,
            "vault_problems": vault_problems,
            "account_problems": account_problems,
            "root_path_problems": root_path_problems,
            "known_variables": known_variables,
            "preflight_problems": preflight_problems,
        }
