# -*- coding: utf-8 -*-
# Copyright: monsterr.mediaserver developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every layer's settings, checked on the controller before any layer runs.

Preflight evaluates the settings of the layers that will run (the ``preflight_values`` lookup) and hands
them here with what it read from the host. For each layer this checks, in order:

1. the role's ``meta/argument_specs.yml`` (types, choices, nested options), one line per setting;
2. the layer's cross-field rules (``<layer>_settings_problems`` below), when the layer is enabled.

Every problem is one line, ``<variable> = <value> <what is wrong>. Fix: <fix> (in <file>).``; secrets are
never shown. The layers keep no copy of these rules: they rely on preflight, or run this same check through
``roles/preflight/tasks/settings.yml`` when a role runs on its own.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ipaddress
import posixpath
import re

from ansible.errors import AnsibleFilterError
from ansible.module_utils.common._collections_compat import Mapping
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible.module_utils.six import string_types, text_type

from ansible_collections.monsterr.mediaserver.plugins.plugin_utils import _roles
from ansible_collections.monsterr.mediaserver.plugins.plugin_utils._data import plain as _plain
from ansible_collections.monsterr.mediaserver.plugins.plugin_utils._problems import (
    WHERE, as_int, is_int, is_list, is_placeholder, is_port, problem, prometheus_seconds, show)

LAYERS = ("household", "preflight", "base", "ufw", "fail2ban", "docker", "letsencrypt", "catalog", "proxy", "authelia",
          "monitoring", "stack", "wiring", "backup")
_NAME_RE = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
_EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_HOST_RE = re.compile(r"^(\*\.)?([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{0,61}[a-z0-9]$")
_SIZE_RE = re.compile(r"^[0-9]+[kmg]$")
_SSH_KEY_RE = re.compile(r"^(ssh-(ed25519|rsa|dss)|ecdsa-sha2-nistp\d+|sk-\S+) [A-Za-z0-9+/=]+( .*)?$")


class _Check(object):
    """The values of one household and a problem list; p() adds one line."""

    def __init__(self, values, context, where):
        self.v = values
        self.ctx = context or {}
        self.where = where
        self.out = []
        user = self.ctx.get("user_set")
        self.user_set = None if user is None else set(user)
        self.failed = set()

    def catalog(self):
        """The resolved catalog, or None when there is none or it has problems of its own (reported once, by
        catalog_problems, rather than again as each layer's consequence)."""
        if self.ctx.get("catalog_ok", True) is False:
            return None
        return self.ctx.get("resolved")

    def get(self, name, default=None):
        return self.v.get(name, default)

    def has(self, name):
        return name in self.v

    def explicit(self, name):
        """Set by the household itself (not a role default derived from another setting, checked there)."""
        return name in self.v and (self.user_set is None or name in self.user_set)

    def p(self, name, reason, fix, value=None, hidden=False, shown=False):
        root = re.split(r"[.\[]", name)[0]
        if root in self.failed:
            return  # its argument spec already refused it: one line per mistake
        if (self.failed or self.ctx.get("broken")) and root in self.v and self.user_set is not None \
                and root not in self.user_set:
            return  # a role default derived from a setting already reported: its consequence, not a second mistake
        value = value if shown else self.v.get(name)
        self.out.append(problem(name, value, reason, fix, self.where, hidden=hidden))


# --- helpers ---------------------------------------------------------------------------------------------------

def _network(text):
    try:
        return ipaddress.ip_network(text_type(text), strict=False)
    except (ValueError, TypeError):
        return None


def _is_address_or_network(text):
    return isinstance(text, string_types) and text.strip() == text and _network(text) is not None


def catch_all(net):
    """A network so wide that it stands for 'everyone' rather than a LAN (0.0.0.0/0, ::/0, 0.0.0.0/1...)."""
    if net.version == 4:
        return net.prefixlen < 8
    ula = ipaddress.ip_network(u"fc00::/7")
    return net.prefixlen < 7 or (net.prefixlen < 32 and not net.subnet_of(ula))


def _time_ok(value, pattern):
    return re.match(pattern, "%s" % value) is not None


_F2B_TIME = r"^\s*(\d+\s*(s|m|h|d|w|mo|y)?\s*)+$"
_NGINX_TIME = r"^[0-9]+(ms|s|m|h|d)?$"
_COMPOSE_DURATION = r"^([0-9]+(ms|s|m|h))+$"
_SYSTEMD_SPAN = (r"^\s*([0-9]+(\.[0-9]+)?\s*(us|usec|ms|msec|s|sec|seconds?|m|min|minutes?|h|hr|hours?|d|days?|w|weeks?|"
                 r"M|months?|y|years?)?\s*)+$")
_PORT_OR_RANGE = re.compile(r"^([0-9]{1,5})(:([0-9]{1,5}))?$")


def _port_or_range(value):
    match = _PORT_OR_RANGE.match("%s" % value)
    if not match:
        return False
    low = int(match.group(1))
    high = int(match.group(3) or low)
    return 0 < low <= high < 65536


def _abs_path(value):
    return isinstance(value, string_types) and value.startswith("/") and "\n" not in value


def _list_of(c, name, what, example):
    """The value of a list setting, or None (and one problem) when it is not a list."""
    value = c.get(name)
    if value is None:
        return []
    if not is_list(value):
        if name not in _roles.known_variables():
            c.p(name, "is not a list of %s" % what, "write it as a YAML list, e.g. %s" % example)
        return None  # a setting of some role: its argument spec reports the type
    return list(value)


# --- argument specs -------------------------------------------------------------------------------------------

def _spec_type_hint(spec):
    kind = spec.get("type", "str")
    if kind == "list":
        return "a YAML list" + (" of %s" % spec["elements"] if spec.get("elements") else "")
    if spec.get("choices"):
        return "one of %s" % ", ".join("%s" % c for c in spec["choices"])
    return {"int": "a whole number", "bool": "true or false", "dict": "a YAML dict", "path": "a path",
            "str": "a string", "float": "a number", "raw": "a value"}.get(kind, kind)


def _strict_shape(name, spec, value):
    """Ansible converts a string to a list (split at commas) or a dict (k=v) silently: not here."""
    kind = spec.get("type", "str")
    if kind == "list" and isinstance(value, string_types):
        return "is a string, not a list"
    if kind == "dict" and isinstance(value, string_types):
        return "is a string, not a dict"
    if kind == "str" and isinstance(value, (Mapping, list, tuple)):
        return "is not a string"
    if kind in ("str", "path") and isinstance(value, bool) and spec.get("choices"):
        return "is a boolean (YAML reads yes/no/on/off unquoted as true/false)"
    return None


def argspec_problems(values, role, entry_point="main", where=WHERE, options=None):
    """One line per setting of ``role`` that its argument spec refuses (only the settings present in values)."""
    options = options if options is not None else _roles.argument_spec(role, entry_point)
    values = _plain(values or {})
    out = []
    for name in sorted(options):
        if name not in values:
            continue
        spec = dict(options[name])
        value = values[name]
        secret = _sensitive(name, spec)
        shape = _strict_shape(name, spec, value)
        hint = "give %s (ansible-doc -t role monsterr.mediaserver.%s)" % (_spec_type_hint(spec), role)
        if shape and isinstance(value, bool):
            hint = "quote it, e.g. \"%s\" (one of %s)" % ("on" if value else "off", ", ".join("%s" % x for x in spec["choices"]))
        if shape:
            out.append(problem(name, value, shape, hint, where, hidden=secret))
            continue
        if value is None:
            continue
        result = ArgumentSpecValidator({name: spec}).validate({name: value}, validate_role_argument_spec=True)
        if result.error_messages:
            reason = "; ".join(_clean_argspec(m, name) for m in result.error_messages)
            out.append(problem(name, value, reason, hint, where, hidden=secret))
    return out


def _sensitive(name, spec):
    """A setting whose value must not be shown: no_log anywhere in its spec, or a secret by its name."""
    if re.search(r"password|secret|token|credential|_key$", name):
        return True
    if not isinstance(spec, Mapping):
        return False
    if spec.get("no_log"):
        return True
    return any(_sensitive(key, sub) for key, sub in (spec.get("options") or {}).items())


def _clean_argspec(message, name):
    """Ansible's validator messages, read as the rest of a '<variable> = <value> ...' line."""
    message = ("%s" % message).rstrip(".")
    message = re.sub(r"^argument '%s' is of type (?:<class ')?(\w+)(?:'>)? and we were unable to convert to (\w+).*$"
                     % re.escape(name), r"is a \1 that cannot be read as \2", message)
    message = re.sub(r"^value of %s must be one of: (.*), got: .*$" % re.escape(name), r"is not one of \1", message)
    message = re.sub(r"^value of (\w+) must be one of: (.*), got: (.*) found in (.*)$",
                     r"has \1 \3, which is not one of \2", message)
    message = re.sub(r"^missing required arguments: (.*) found in (.*)$", r"lacks \1 in an entry", message)
    message = re.sub(r"^(?:Unsupported parameters for \(.*?\) module: )?([\w.]+)\. Supported parameters include: (.*)$",
                     r"has the unknown key \1 (known: \2)", message)
    return message


# --- household and base ---------------------------------------------------------------------------------------

# Directories of the system that must never be the data or appdata root (base chowns the root to the
# household and sets setgid 2775 on the data tree).
SYSTEM_DIRS = ("/", "/bin", "/boot", "/dev", "/etc", "/home", "/lib", "/lib32", "/lib64", "/libx32", "/media", "/mnt",
               "/opt", "/proc", "/root", "/run", "/sbin", "/srv", "/sys", "/tmp", "/usr", "/usr/local", "/var",
               "/var/lib", "/var/log", "/var/cache", "/var/tmp", "/var/spool", "/var/mail", "/var/opt", "/var/backups",
               "/var/lib/docker", "/snap")
# Trees nothing of the household may live in.
SYSTEM_TREES = ("/bin", "/boot", "/dev", "/etc", "/lib", "/lib32", "/lib64", "/libx32", "/proc", "/root", "/run", "/sbin",
                "/sys", "/usr", "/var/lib/docker", "/var/lib/dpkg", "/var/lib/apt", "/var/log", "/var/run", "/var/cache",
                "/tmp", "/var/tmp")


def _norm(path):
    return posixpath.normpath("/" + path.strip("/")) if isinstance(path, string_types) and path.startswith("/") else None


def _inside(path, tree):
    return path == tree or path.startswith(tree.rstrip("/") + "/")


def root_path_problems(appdata_root, data_root, where=WHERE, names=("household_appdata_root", "household_data_root")):
    """System directories and overlapping roots, one line each."""
    out = []
    roots = {}
    for name, value in zip(names, (appdata_root, data_root)):
        path = _norm(value)
        if path is None:
            continue  # settings_problems reports a relative path
        if path in SYSTEM_DIRS:
            out.append(problem(name, value, "is a directory of the system (base would give it to the household's "
                               "account and change its mode)", "use a directory of its own, e.g. %s"
                               % ("/opt/monsterr" if "appdata" in name else "/data or /srv/media"), where))
            continue
        tree = [t for t in SYSTEM_TREES if _inside(path, t)]
        if tree:
            out.append(problem(name, value, "lies inside %s, which belongs to the system" % tree[0],
                               "use a directory of its own, e.g. %s" % ("/opt/monsterr" if "appdata" in name else "/data"),
                               where))
            continue
        roots[name] = path
    if len(roots) == 2:
        appdata, data = roots[names[0]], roots[names[1]]
        if appdata == data:
            out.append(problem(names[1], data_root, "is the same directory as %s" % names[0],
                               "keep media and app data apart, e.g. %s: /data and %s: /opt/monsterr" % (names[1], names[0]),
                               where))
        elif _inside(data, appdata):
            out.append(problem(names[1], data_root, "lies inside %s = %s (the stack and the backup treat that tree as "
                               "app data)" % (names[0], show(appdata_root)), "put the data root beside it, e.g. /data", where))
        elif _inside(appdata, data):
            out.append(problem(names[0], appdata_root, "lies inside %s = %s (base makes that tree setgid and group-"
                               "writable for the media apps)" % (names[1], show(data_root)),
                               "put the app data beside it, e.g. /opt/monsterr", where))
    return out


def account_problems(user, puid, group, pgid, appdata_root, passwd=None, groups=None, where=WHERE,
                     names=("household_user", "household_puid", "household_pgid")):
    """The household's account against the host's (getent passwd/group as Ansible returns them).

    Taking over an existing account would change its uid, group, home and shell: refused, except the account a
    previous run created (same uid and home = the appdata root), so re-runs pass.
    """
    out = []
    if not isinstance(user, string_types):
        return out
    if user == "root":
        return [problem(names[0], user, "is the superuser (base would change root's group, home and shell)",
                        "use an account of its own, e.g. media", where)]
    passwd = passwd or {}
    groups = groups or {}
    uid, gid = as_int(puid), as_int(pgid)
    entry = passwd.get(user)
    if entry is not None:
        their_uid = as_int(entry[1]) if len(entry) > 1 else None
        home = entry[4] if len(entry) > 4 else ""
        own = their_uid == uid and _norm(home) == _norm(appdata_root)
        if not own:
            kind = "a system account" if their_uid is not None and their_uid < 1000 else "an existing account"
            out.append(problem(names[0], user, "is %s of the host (uid %s, home %s) that base would take over" % (kind, their_uid, home),
                               "pick a new name for the household's service account, e.g. media", where))
    if uid is not None:
        taken = sorted(name for name, e in passwd.items() if name != user and len(e) > 1 and as_int(e[1]) == uid)
        if taken:
            out.append(problem(names[1], puid, "is already the uid of the account %s" % taken[0],
                               "pick an unused uid, e.g. 2000 (getent passwd lists the taken ones)", where))
    group_entry = groups.get(user) if not out else None  # an account refused already: its group is the same mistake
    if group_entry is not None and gid is not None and len(group_entry) > 1 and as_int(group_entry[1]) != gid:
        out.append(problem(names[0], user, "is also an existing group with gid %s, not household_pgid = %s (base would "
                           "renumber it)" % (group_entry[1], gid), "pick a new name, or set household_pgid to %s if "
                           "that group is the household's" % group_entry[1], where))
    if gid is not None:
        taken = sorted(name for name, e in groups.items() if name != user and len(e) > 1 and as_int(e[1]) == gid)
        if taken:
            out.append(problem(names[2], pgid, "is already the gid of the group %s" % taken[0],
                               "pick an unused gid, e.g. 2000 (getent group lists the taken ones)", where))
    return out


def locale_problems(locale, supported_text=None, where=WHERE, name="household_locale"):
    """A well-formed locale the host cannot generate (community.general.locale_gen reads i18n/SUPPORTED)."""
    if not isinstance(locale, string_types) or locale in ("C.UTF-8", "C.utf8", "POSIX", "C"):
        return []
    text = supported_text
    if text is None:
        try:
            with open("/usr/share/i18n/SUPPORTED") as handle:
                text = handle.read()
        except (IOError, OSError):
            return []
    names = set(line.split()[0] for line in text.splitlines() if line.strip() and not line.startswith("#"))
    if not names or locale in names:
        return []
    lang = locale.split("_")[0]
    close = sorted(n for n in names if n.startswith(lang + "_") and n.endswith(".UTF-8"))[:4]
    return [problem(name, locale, "is not a locale the host can generate (not in /usr/share/i18n/SUPPORTED)",
                    "use one that exists%s" % (", e.g. " + " or ".join(close) if close else ", e.g. en_US.UTF-8"), where)]


def base_settings_problems(c):
    v = c.v
    user_var = "base_user" if c.explicit("base_user") and v.get("base_user") != v.get("household_user") else "household_user"
    ids = [v.get("base_puid", v.get("household_puid")), v.get("base_pgid", v.get("household_pgid"))]
    ids = [x if as_int(x) is not None and 1 <= as_int(x) <= 65533 else None for x in ids]  # else settings_problems says so
    user = v.get("base_user", v.get("household_user"))
    appdata = v.get("base_appdata_root", v.get("household_appdata_root"))
    c.out.extend(account_problems(user, ids[0], v.get("base_group"), ids[1], appdata, c.ctx.get("passwd"), c.ctx.get("group"),
                                  c.where, (user_var, "household_puid", "household_pgid")))
    names = ("base_appdata_root" if c.explicit("base_appdata_root") else "household_appdata_root",
             "base_data_root" if c.explicit("base_data_root") else "household_data_root")
    c.out.extend(root_path_problems(v.get("base_appdata_root", v.get("household_appdata_root")),
                                    v.get("base_data_root", v.get("household_data_root")), c.where, names))
    locale_var = "base_locale" if c.explicit("base_locale") else "household_locale"
    if c.ctx.get("locales", False) is not False:
        c.out.extend(locale_problems(v.get("base_locale", v.get("household_locale")), c.ctx.get("locales"), c.where, locale_var))
    for name in ("base_appdata_mode", "base_data_mode"):
        if c.has(name) and not (isinstance(v[name], string_types) and re.match(r"^0?[0-7]{3,4}$", v[name])):
            c.p(name, "is not a quoted octal mode", 'quote it, e.g. "0750" (unquoted, YAML reads 0750 as the number 488)')
    if c.has("base_unattended_reboot_time") and not re.match(r"^([01][0-9]|2[0-3]):[0-5][0-9]$", "%s" % v["base_unattended_reboot_time"]):
        c.p("base_unattended_reboot_time", "is not a time of day", 'use HH:MM in quotes, e.g. "04:30"')
    if c.has("base_unattended_mail") and v["base_unattended_mail"] and not _EMAIL_RE.match("%s" % v["base_unattended_mail"]):
        c.p("base_unattended_mail", "is not an e-mail address", "use name@example.org, or leave it empty")
    for index, item in enumerate(v.get("base_ssh_authorized_keys") or [] if is_list(v.get("base_ssh_authorized_keys")) else []):
        key = item.get("key") if isinstance(item, Mapping) else None
        if not isinstance(key, string_types) or not _SSH_KEY_RE.match(key.strip()):
            c.p("base_ssh_authorized_keys[%d].key" % index, "is not an OpenSSH public key",
                'paste the whole line of ~/.ssh/id_ed25519.pub, e.g. "ssh-ed25519 AAAAC3Nza... you@laptop"',
                value=key, shown=True)
    for index, name in enumerate(v.get("base_data_dirs") or [] if is_list(v.get("base_data_dirs")) else []):
        if not isinstance(name, string_types) or name.startswith("/") or ".." in name.split("/"):
            c.p("base_data_dirs", "has %s, not a path inside the data root" % show(name),
                "give relative paths such as media/tv")
    for index, name in enumerate(v.get("base_media_libraries") or [] if is_list(v.get("base_media_libraries")) else []):
        if not isinstance(name, string_types) or not _NAME_RE.match(name):
            c.p("base_media_libraries", "has %s, not a folder name" % show(name), "use names such as tv, movies")


# --- ufw -----------------------------------------------------------------------------------------------------

def _cidr_list(c, name, lan=False, household=False):
    items = _list_of(c, name, "networks", "['192.168.1.0/24']")
    if not items:
        return
    for item in items:
        net = _network(item) if isinstance(item, string_types) else None
        if net is None or not _is_address_or_network(item):
            c.p(name, "has %s, which is not an address or network" % show(item), "write it like 192.168.1.0/24")
        elif lan and catch_all(net):
            c.p(name, "has %s, which is everyone, not a LAN" % show(item),
                "list your home network only, e.g. 192.168.1.0/24 (ip -4 route on the server shows it)")


def ufw_settings_problems(c):
    v = c.v
    for name in ("ufw_default_incoming", "ufw_default_outgoing", "ufw_default_routed"):
        if c.has(name) and v[name] not in ("allow", "deny", "reject"):
            c.p(name, "is not a policy", "use allow, deny or reject")
    if c.has("ufw_ssh_port") and not is_port(v["ufw_ssh_port"]):
        c.p("ufw_ssh_port", "is not a port", "give the port sshd listens on, e.g. 22")
    web = _list_of(c, "ufw_web_ports", "ports", "[80, 443]")
    for port in web or []:
        if not is_port(port):
            c.p("ufw_web_ports", "has %s, which is not a port" % show(port), "give port numbers from 1 to 65535, e.g. [80, 443]")
    # Only as the household set them: ufw_torrent_port follows catalog_torrent_port, reported in the catalog's own
    # words (one line when both layers run: unique_problems), also when the run selects ufw without the catalog.
    for name in ("ufw_plex_port", "ufw_torrent_port"):
        if c.explicit(name) and not is_port(v[name], zero=True):
            c.p(name, "is not a port", "give a port number, or 0 to open none")
    if not c.explicit("ufw_torrent_port") and c.has("catalog_torrent_port") and not is_port(v["catalog_torrent_port"]):
        c.p("catalog_torrent_port", "is not a port", "a number from 1 to 65535, e.g. 6881")
    for name in ("ufw_admin_cidrs", "ufw_lan_cidrs"):
        if c.explicit(name):
            _cidr_list(c, name, lan=(name == "ufw_lan_cidrs"))
    lan_ports = _list_of(c, "ufw_lan_ports", "{port, proto}", "[{port: 8096, proto: tcp}]")
    lan = v.get("ufw_lan_cidrs")
    if lan_ports and is_list(lan) and not lan:
        c.p("ufw_lan_ports", "is set but ufw_lan_cidrs (default household_lan_cidrs) is empty, so the ports would open to nobody",
            "set household_lan_cidrs")
    for index, rule in enumerate(lan_ports or []):
        _ufw_rule(c, "ufw_lan_ports[%d]" % index, rule, actions=None)
    for index, rule in enumerate(_list_of(c, "ufw_rules", "rules", "[{port: 8080, from: 192.168.1.0/24}]") or []):
        _ufw_rule(c, "ufw_rules[%d]" % index, rule, actions=("allow", "deny", "limit", "reject"))
    # Its default is built from the settings above (checked there): only a list the household wrote is checked.
    docker_allow = _list_of(c, "ufw_docker_allow", "rules", "[{port: 32400}]") if c.explicit("ufw_docker_allow") else []
    for index, rule in enumerate(docker_allow or []):
        _ufw_rule(c, "ufw_docker_allow[%d]" % index, rule, actions=None, protos=("tcp", "udp"), quote='"')


def _ufw_rule(c, where, rule, actions, protos=("tcp", "udp", "any"), quote="'"):
    if not isinstance(rule, Mapping):
        c.p(where, "is not a rule", "give {port: 8080, proto: tcp}", value=rule, shown=True)
        return
    if not _port_or_range(rule.get("port", "")):
        c.p(where + ".port", "is not a port or range", "give port: 8080 or a range port: '6881:6889'",
            value=rule.get("port"), shown=True)
    if rule.get("proto", "tcp") not in protos:
        c.p(where + ".proto", "is not a protocol", "use " + " or ".join(protos), value=rule.get("proto"), shown=True)
    if actions and rule.get("rule", "allow") not in actions:
        c.p(where + ".rule", "is not a rule", "use " + ", ".join(actions), value=rule.get("rule"), shown=True)
    source = rule.get("from", "any")
    if source != "any" and not _is_address_or_network(source):
        c.p(where + ".from", "is not an address or network", "use any or a CIDR like 192.168.1.0/24", value=source, shown=True)
    if quote in "%s" % rule.get("comment", ""):
        c.p(where + ".comment", "has a %s" % ("single quote" if quote == "'" else "double quote"), "remove it",
            value=rule.get("comment"), shown=True)


# --- fail2ban --------------------------------------------------------------------------------------------------

def _combine(base, extra):
    out = dict(base)
    for key, value in (extra or {}).items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = _combine(out[key], value)
        else:
            out[key] = value
    return out


def fail2ban_settings_problems(c):
    v = c.v
    for name in ("fail2ban_bantime", "fail2ban_findtime", "fail2ban_bantime_maxtime", "fail2ban_dbpurgeage"):
        if c.has(name) and not _time_ok(v[name], _F2B_TIME) and not (name == "fail2ban_bantime" and "%s" % v[name] == "-1"):
            c.p(name, "is not a fail2ban time", "e.g. 600, 10m, 1h, 1d or 1w" + (" (-1 bans forever)" if name == "fail2ban_bantime" else ""))
    if c.has("fail2ban_maxretry") and not re.match(r"^[1-9][0-9]*$", "%s" % v["fail2ban_maxretry"]):
        c.p("fail2ban_maxretry", "is not a whole number of failures, 1 or more", "e.g. 5")
    factor = v.get("fail2ban_bantime_factor")
    if c.has("fail2ban_bantime_factor") and (isinstance(factor, bool) or not re.match(r"^([0-9]+\.?[0-9]*|\.[0-9]+)$", "%s" % factor)
                                             or float(factor) <= 0):
        c.p("fail2ban_bantime_factor", "is not a number above 0", "e.g. 1 or 2")
    if c.explicit("fail2ban_ignoreip"):
        _ignore_list(c, "fail2ban_ignoreip")
    if c.has("fail2ban_ignoreip_extra"):
        _ignore_list(c, "fail2ban_ignoreip_extra")
    if c.has("fail2ban_docker_user_chain") and not re.match(r"^[A-Za-z0-9_-]{1,28}$", "%s" % v["fail2ban_docker_user_chain"]):
        c.p("fail2ban_docker_user_chain", "is not an iptables chain name", "letters, digits, - and _, 28 at most; normally DOCKER-USER")
    jails = v.get("fail2ban_jails", {})
    if not isinstance(jails, Mapping):
        c.p("fail2ban_jails", "is not a mapping of jail name to settings", "e.g. {sshd: {maxretry: 3}}")
        return
    merged = _combine(v.get("fail2ban_jails_default") or {}, jails)
    for name in sorted(merged):
        jail = merged[name]
        where = "fail2ban_jails.%s" % name
        if not re.match(r"^[A-Za-z0-9_-]{1,21}$", "%s" % name):
            c.p(where, "has a name iptables cannot use in its chains", "use 1 to 21 letters, digits, - or _", value=jail, shown=True)
        if not isinstance(jail, Mapping):
            c.p(where, "is not a mapping of jail options", "e.g. {enabled: false} or {maxretry: 3}", value=jail, shown=True)
            continue
        for key in ("bantime", "findtime"):
            if key in jail and not _time_ok(jail[key], _F2B_TIME) and not (key == "bantime" and "%s" % jail[key] == "-1"):
                c.p(where + "." + key, "is not a fail2ban time", "e.g. 600, 10m, 1h, 1d or 1w", value=jail[key], shown=True)
        if "maxretry" in jail and not re.match(r"^[1-9][0-9]*$", "%s" % jail["maxretry"]):
            c.p(where + ".maxretry", "is not a whole number, 1 or more", "e.g. 3", value=jail["maxretry"], shown=True)
        enabled = jail.get("enabled", True)
        enabled = enabled if isinstance(enabled, bool) else "%s" % enabled in ("true", "True", "yes", "1", "on")
        logpath = jail.get("logpath") or []
        if enabled and jail.get("backend", "auto") != "systemd" and not logpath:
            c.p(where, "has no logpath", "give the log file(s) it reads, or backend: systemd with a journalmatch, or enabled: false",
                value=jail, shown=True)
        for path in [logpath] if isinstance(logpath, string_types) else list(logpath):
            if not isinstance(path, string_types) or not re.match(r"^/\S+$", path):
                c.p(where + ".logpath", "has %s, not an absolute path" % show(path), "use absolute paths without spaces",
                    value=logpath, shown=True)


def _ignore_list(c, name):
    for entry in _list_of(c, name, "addresses or networks", "['192.168.1.0/24']") or []:
        if not isinstance(entry, string_types) or not re.match(r"^[^\s,]+$", entry):
            c.p(name, "has %s, not one address, network or host name" % show(entry), "one entry per item, no spaces or commas")
        elif _network(entry) is not None and catch_all(_network(entry)):
            c.p(name, "has %s, which is everyone: fail2ban would ban nobody" % show(entry), "list your own networks only")


# --- docker ----------------------------------------------------------------------------------------------------

DOCKER_CE_ARCHES = ("x86_64", "aarch64", "armv7l", "ppc64le", "s390x")


def docker_settings_problems(c):
    v = c.v
    arch = (c.ctx.get("facts") or {}).get("architecture")
    if v.get("docker_install_method") == "docker_ce" and arch and arch not in DOCKER_CE_ARCHES:
        c.p("docker_install_method", "has no packages for this host's architecture %s in Docker's repository" % arch,
            "use docker_install_method: distro")
    for name in ("docker_log_max_size",):
        if c.has(name) and not _SIZE_RE.match("%s" % v[name]):
            c.p(name, "is not a size", "write a size such as 10m (k, m or g)")
    if c.has("docker_log_max_file") and not re.match(r"^[1-9][0-9]*$", "%s" % v["docker_log_max_file"]):
        c.p("docker_log_max_file", "is not a whole number of files, at least 1", "e.g. 3")
    pools = _list_of(c, "docker_default_address_pools", "{base, size}", "[{base: 10.222.0.0/16, size: 24}]")
    if pools is not None and c.has("docker_default_address_pools") and not pools:
        c.p("docker_default_address_pools", "is empty", "give at least one {base: 10.222.0.0/16, size: 24}")
    lans = [n for n in (_network(x) for name in ("household_lan_cidrs", "household_admin_cidrs")
                        for x in (v.get(name) if is_list(v.get(name)) else []) if isinstance(x, string_types)) if n is not None]
    for index, pool in enumerate(pools or []):
        where = "docker_default_address_pools[%d]" % index
        base = pool.get("base") if isinstance(pool, Mapping) else None
        net = _network(base) if isinstance(base, string_types) and "/" in base else None
        if net is None or net.version != 4:
            c.p(where + ".base", "is not an IPv4 network", "write it like 10.222.0.0/16", value=base, shown=True)
            continue
        size = pool.get("size")
        if not is_int(size) or not 8 <= int(size) <= 30 or int(size) <= net.prefixlen:
            c.p(where + ".size", "is not a prefix length from 8 to 30 longer than the base's /%d" % net.prefixlen,
                "e.g. 24 (256 addresses per network)", value=size, shown=True)
        # A LAN inside the pool (not a LAN written as all of 10.0.0.0/8 around it): Docker would route it away.
        clash = [str(lan) for lan in lans if lan.version == 4 and lan.prefixlen >= net.prefixlen and net.overlaps(lan)]
        if clash:
            c.p(where + ".base", "overlaps your network %s: the containers could not answer it" % clash[0],
                "pick a range you do not use, e.g. 10.222.0.0/16", value=base, shown=True)
    for mirror in _list_of(c, "docker_registry_mirrors", "URLs", "['https://mirror.example.org']") or []:
        if not isinstance(mirror, string_types) or not re.match(r"^https?://[^\s/]+", mirror):
            c.p("docker_registry_mirrors", "has %s, not a URL" % show(mirror), "give full URLs such as https://mirror.example.org")
    if c.has("docker_daemon_options_extra") and not isinstance(v["docker_daemon_options_extra"], Mapping):
        c.p("docker_daemon_options_extra", "is not a dict", "give daemon.json keys and values, e.g. {features: {buildkit: true}}")
    if c.has("docker_ce_version") and not re.match(r"^([0-9]+(\.[0-9]+)*)?$", "%s" % v["docker_ce_version"]):
        c.p("docker_ce_version", "is not a Docker engine version to hold", 'a major version such as "29" (quoted), or "" '
            "for whatever Docker's repository offers")
    users = _list_of(c, "docker_users", "account names", "[admin]") or []
    if users and c.ctx.get("passwd") is not None:
        missing = [u for u in users if u not in (c.ctx.get("passwd") or {})]
        if missing:
            c.p("docker_users", "has %s, which does not exist on the host" % ", ".join("%s" % m for m in missing),
                "create the account(s) first or remove them")


# --- letsencrypt -------------------------------------------------------------------------------------------------

def letsencrypt_settings_problems(c):
    v = c.v
    challenge = v.get("letsencrypt_challenge", "webroot")
    server = v.get("letsencrypt_acme_server")
    if c.has("letsencrypt_acme_server") and server not in ("production", "staging") and not re.match(r"^https?://[^/\s]+", "%s" % server):
        c.p("letsencrypt_acme_server", "is not production, staging or an ACME directory URL", "e.g. production")
    bundle = v.get("letsencrypt_acme_ca_bundle")
    if bundle and not _abs_path(bundle):
        c.p("letsencrypt_acme_ca_bundle", "is not an absolute path", 'give a path on the host, or ""')
    if c.explicit("letsencrypt_email") and v["letsencrypt_email"] and not _EMAIL_RE.match("%s" % v["letsencrypt_email"]):
        c.p("letsencrypt_email", "is not an e-mail address", 'give name@example.org, or ""')
    name = v.get("letsencrypt_cert_name")
    if c.explicit("letsencrypt_cert_name") and (not isinstance(name, string_types) or not name or re.search(r"[/\s]", name)):
        c.p("letsencrypt_cert_name", "is not a certificate name", "a name without slashes or spaces, e.g. media.example.org")
    domains = _list_of(c, "letsencrypt_domains", "DNS names", "[media.example.org]")
    if domains is not None and c.has("letsencrypt_domains"):
        if not domains and c.explicit("letsencrypt_domains"):
            c.p("letsencrypt_domains", "is empty", "set household_domain or list the names to certify")
        for domain in domains:
            text = ("%s" % domain).lower()
            if not _HOST_RE.match(text) or len(text) > 253:
                if c.explicit("letsencrypt_domains") or c.explicit("letsencrypt_subdomains"):
                    c.p("letsencrypt_domains", "has %s, which is not a DNS name" % show(domain),
                        "check letsencrypt_subdomains (labels only, e.g. tv)")
        if challenge != "dns" and any("*" in ("%s" % d) for d in domains):
            c.p("letsencrypt_domains" if c.explicit("letsencrypt_domains") else "letsencrypt_wildcard",
                "needs a wildcard certificate, which only the DNS challenge can get" if not c.explicit("letsencrypt_domains")
                else "has wildcard names", "set letsencrypt_challenge: dns (with a DNS plugin), or drop the wildcard")
    if challenge == "webroot" and c.has("letsencrypt_webroot") and not _abs_path(v["letsencrypt_webroot"]):
        c.p("letsencrypt_webroot", "is not an absolute path", "e.g. /opt/monsterr/proxy/acme")
    if c.has("letsencrypt_http01_port") and not is_port(v["letsencrypt_http01_port"]):
        c.p("letsencrypt_http01_port", "is not a port", "give a TCP port (the CA always connects to 80)")
    if challenge == "dns":
        provider = v.get("letsencrypt_dns_provider", "cloudflare")
        if not re.match(r"^[a-z0-9][a-z0-9-]*$", "%s" % provider):
            c.p("letsencrypt_dns_provider", "is not a certbot DNS plugin name", "the plugin name without dns-, e.g. cloudflare")
        credentials = v.get("letsencrypt_dns_credentials") or ""
        if not isinstance(credentials, string_types):
            c.p("letsencrypt_dns_credentials", "is not text", 'give the plugin\'s INI lines, e.g. "dns_cloudflare_api_token = <token>"',
                hidden=True)
        elif not credentials.strip():
            if provider == "cloudflare":
                c.p("letsencrypt_dns_credentials", "is empty; the cloudflare plugin needs an API token",
                    '"dns_cloudflare_api_token = {{ vault_cloudflare_api_token }}" (keep the token in the vault)', hidden=True)
        else:
            bad = [line for line in credentials.splitlines() if line.strip() and not line.strip().startswith("#")
                   and not re.match(r"^\s*dns_[a-z0-9_]+\s*=\s*\S", line)]
            if bad:
                c.p("letsencrypt_dns_credentials", "has a line that is not 'dns_<provider>_<key> = <value>'",
                    'write one key = value per line, e.g. "dns_%s_api_token = <token>"' % provider, hidden=True)
            elif is_placeholder(credentials.split("=", 1)[-1]):
                c.p("letsencrypt_dns_credentials", "holds a placeholder, not a token", "put the real token in vault.yml", hidden=True)


# --- proxy -------------------------------------------------------------------------------------------------------

def proxy_settings_problems(c):
    v = c.v
    for name in ("proxy_conf_dir", "proxy_log_dir", "proxy_nginx_acme_root", "proxy_nginx_log_dir", "proxy_nginx_letsencrypt_dir",
                 "proxy_tls_certificate", "proxy_tls_certificate_key"):
        if c.has(name) and not re.match(r"^/[^;{}\s\"']*$", "%s" % v[name]):
            c.p(name, "is not an absolute path without spaces, quotes, braces or semicolons", "e.g. /opt/monsterr/proxy/conf.d")
    for name in ("proxy_http_port", "proxy_https_port"):
        if c.has(name) and not is_port(v[name]):
            c.p(name, "is not a TCP port", "a number from 1 to 65535")
    if c.has("proxy_http_port") and "%s" % v.get("proxy_http_port") == "%s" % v.get("proxy_https_port"):
        c.p("proxy_https_port", "is the same as proxy_http_port", "give them different ports, e.g. 80 and 443")
    protocols = _list_of(c, "proxy_tls_protocols", "protocols", "[TLSv1.2, TLSv1.3]")
    if protocols is not None and c.has("proxy_tls_protocols") and (not protocols or set(protocols) - {"TLSv1.2", "TLSv1.3"}):
        c.p("proxy_tls_protocols", "is not TLSv1.2 and/or TLSv1.3", "use [TLSv1.2, TLSv1.3] (older protocols are broken)")
    if c.has("proxy_tls_ciphers") and not re.match(r"^[A-Za-z0-9:+!_-]+$", "%s" % v["proxy_tls_ciphers"]):
        c.p("proxy_tls_ciphers", "is not an OpenSSL cipher list", "colon-separated names")
    resolver = _list_of(c, "proxy_resolver", "DNS servers", "[127.0.0.11]")
    if resolver is not None and c.has("proxy_resolver") and (not resolver or any(
            not re.match(r"^[A-Za-z0-9.:\[\]-]+$", "%s" % r) for r in resolver)):
        c.p("proxy_resolver", "is not a list of DNS servers", "e.g. [127.0.0.11] (Docker) or [192.168.1.1]")
    for name in ("proxy_resolver_valid", "proxy_upstream_read_timeout", "proxy_tls_session_timeout"):
        if c.has(name) and not _time_ok(v[name], _NGINX_TIME):
            c.p(name, "is not an nginx time", "e.g. 30s, 5m or 1d")
    if c.has("proxy_client_max_body_size") and not re.match(r"^[0-9]+[kKmMgG]?$", "%s" % v["proxy_client_max_body_size"]):
        c.p("proxy_client_max_body_size", "is not an nginx size", "e.g. 100m, 2g or 0 (no limit)")
    if c.has("proxy_hsts_max_age") and not re.match(r"^[0-9]+$", "%s" % v["proxy_hsts_max_age"]):
        c.p("proxy_hsts_max_age", "is not a number of seconds", "e.g. 63072000 (2 years), or 0 to stop HSTS")
    headers = v.get("proxy_security_headers") or {}
    if isinstance(headers, Mapping):
        for name, value in sorted(headers.items()):
            if not re.match(r"^[A-Za-z0-9-]+$", "%s" % name) or '"' in "%s" % value or re.search(r"[\r\n]", "%s" % value):
                c.p("proxy_security_headers.%s" % name, "is not a header nginx can send",
                    "header names are letters, digits and -, values one line without double quotes", value=value, shown=True)
    apex = v.get("proxy_apex_redirect")
    if apex and not re.match(r'^https://[^\s";{}]+$', "%s" % apex):
        c.p("proxy_apex_redirect", "is not an https:// URL", "e.g. https://home.<household_domain>, or empty")
    resolved = c.catalog()
    if resolved is not None:
        from ansible_collections.monsterr.mediaserver.plugins.filter.proxy import proxy_problems, proxy_sites
        sites = proxy_sites(resolved, v.get("proxy_authelia_service", "authelia"), v.get("proxy_frame_ancestors") or ["'self'"],
                            v.get("proxy_client_max_body_size", "0"))
        for line in proxy_problems(sites, v.get("proxy_authelia_service", "authelia")):
            c.out.append(line[:-1] + " (in %s)." % c.where if line.endswith(".") and "(in " not in line else line)


# --- authelia ----------------------------------------------------------------------------------------------------

_AUTHELIA_DURATION = r"^[0-9]+ ?(s|m|h|d|w|M|y|ms)?$"
_AUTHELIA_USER_KEYS = ("username", "displayname", "email", "groups", "password", "disabled")


def authelia_settings_problems(c):
    v = c.v
    resolved = c.catalog()
    service = v.get("authelia_service", "authelia")
    entry = next((e for e in resolved or [] if e.get("name") == service), {})
    portal = ((entry.get("proxy") or {}) if isinstance(entry.get("proxy"), Mapping) else {}).get("url", "")
    if resolved is not None and not ("%s" % portal).startswith("https://") and "household_domain" not in (c.ctx.get("broken") or ()):
        c.p("catalog_overrides.%s.proxy.subdomain" % service, "is not set, so there is no portal URL for the session cookie",
            "give it one, e.g. auth", value=((entry.get("proxy") or {}).get("subdomain")), shown=True)
    redis = v.get("authelia_redis_service", "redis")
    if resolved is not None and redis not in [e.get("name") for e in resolved]:
        c.p("authelia_redis_service", "is not enabled; sessions live in Redis", "add %s to catalog_enabled" % redis, value=redis, shown=True)
    resolved = resolved or []
    groups = v.get("authelia_groups") or []
    groups = groups if is_list(groups) else []
    site_groups = sorted(set(g for e in resolved if isinstance(e.get("proxy"), Mapping)
                             for g in (e["proxy"].get("groups") or []) if isinstance(g, string_types)))
    for group in site_groups:
        if group not in groups:
            c.p("authelia_groups", "lacks %s, which the catalog allows on some site" % show(group),
                "add it to authelia_groups or change the site's proxy.groups")
    for group in groups:
        if not re.match(r"^[A-Za-z0-9._-]+$", "%s" % group):
            c.p("authelia_groups", "has %s" % show(group), "use letters, digits and ._-")
    users = v.get("authelia_users")
    vault_values = set("%s" % x for x in (c.ctx.get("vault") or {}).values())
    if users is not None and not is_list(users):
        c.p("authelia_users", "is not a list", "a list of {username, displayname, email, groups, password}", hidden=True)
        users = []
    users = users or []
    if c.has("authelia_users") and not users:
        c.p("authelia_users", "is empty: nobody could sign in", "list the household, e.g. [{username: alice, displayname: Alice, "
            "email: alice@example.org, groups: [admins], password: '{{ vault_authelia_alice_password }}'}]")
    names = []
    for index, user in enumerate(users):
        where = "authelia_users[%d]" % index
        if not isinstance(user, Mapping):
            c.p(where, "is not a dict", "{username, displayname, email, groups, password}", value="(hidden)", shown=True)
            continue
        for key in sorted(set(user) - set(_AUTHELIA_USER_KEYS)):
            c.p(where + "." + key, "is not a field of a user", "use " + ", ".join(_AUTHELIA_USER_KEYS), value=user[key], shown=True)
        name = user.get("username")
        if not isinstance(name, string_types) or not re.match(r"^[a-z0-9][a-z0-9._@-]{0,63}$", name):
            c.p(where + ".username", "is not a sign-in name", "lower-case letters, digits and ._@-, e.g. alice", value=name, shown=True)
        elif name in names:
            c.p(where + ".username", "is listed twice", "one entry per person", value=name, shown=True)
        names.append(name)
        if not "%s" % (user.get("displayname") or ""):
            c.p(where + ".displayname", "is empty", "the name the portal greets, e.g. Alice", value=user.get("displayname"), shown=True)
        email = user.get("email")
        if email not in (None, "") and not _EMAIL_RE.match("%s" % email):
            c.p(where + ".email", "is not an e-mail address", "e.g. alice@example.org, or leave it out", value=email, shown=True)
        password = user.get("password")
        fix = "set it from the vault, e.g. vault_authelia_%s_password" % re.sub(r"[^a-z0-9]", "_", ("%s" % (name or "user")).lower())
        if not isinstance(password, string_types) or len(password) < 8:
            c.p(where + ".password", "is missing or shorter than 8 characters", fix, hidden=True, shown=True)
        elif is_placeholder(password) and password not in vault_values:
            c.p(where + ".password", "is a placeholder, not a password", fix, hidden=True, shown=True)
        user_groups = user.get("groups") or []
        if not is_list(user_groups):
            c.p(where + ".groups", "is not a list", "e.g. [family]", value=user_groups, shown=True)
            user_groups = []
        for group in user_groups:
            if group not in groups:
                c.p(where + ".groups", "has %s, not in authelia_groups %s" % (show(group), show(groups)),
                    "add it there or use one of them", value=user_groups, shown=True)
    for name in ("authelia_jwt_secret", "authelia_session_secret", "authelia_storage_encryption_key"):
        if c.explicit(name) and len("%s" % v.get(name) or "") < 20:
            c.p(name, "is shorter than 20 characters (Authelia refuses a storage key under 20)",
                "leave the default, which generates 64, or set 64 random characters in the vault", hidden=True)
    rules = _list_of(c, "authelia_extra_rules", "rules", "[{domain: 'x.example.org', policy: bypass}]") or []
    for index, rule in enumerate(rules):
        if not isinstance(rule, Mapping) or rule.get("policy") not in ("bypass", "deny", "one_factor", "two_factor") \
                or ("domain" not in rule and "domain_regex" not in rule):
            c.p("authelia_extra_rules[%d]" % index, "is not a rule", "give policy (bypass, deny, one_factor, two_factor) and "
                "domain or domain_regex", value=rule, shown=True)
    for name in ("authelia_session_expiration", "authelia_session_inactivity", "authelia_session_remember_me",
                 "authelia_regulation_find_time", "authelia_regulation_ban_time"):
        if c.has(name) and not _time_ok(v[name], _AUTHELIA_DURATION):
            c.p(name, "is not a duration", "e.g. 90s, 5m, 1h, 1d or 1M")
    domain = v.get("household_domain") or ""
    redirect = v.get("authelia_default_redirection_url")
    if redirect and (not re.match(r"^https://([^/:]+\.)?%s(:[0-9]+)?(/.*)?$" % re.escape("%s" % domain), "%s" % redirect)
                     or ("%s" % redirect).rstrip("/") == portal):
        c.p("authelia_default_redirection_url", "is not an https URL inside %s other than the portal" % domain,
            "e.g. https://home.%s, or empty" % domain)
    if c.has("authelia_regulation_max_retries") and not re.match(r"^[0-9]+$", "%s" % v["authelia_regulation_max_retries"]):
        c.p("authelia_regulation_max_retries", "is not a number", "e.g. 3 (0 turns regulation off)")
    if v.get("authelia_notifier") == "smtp":
        if not re.match(r"^(smtp|submission|submissions)://[^\s/]+(:[0-9]+)?$", "%s" % v.get("authelia_smtp_address", "")):
            c.p("authelia_smtp_address", "is not an SMTP URL", "e.g. submission://smtp.example.org:587 (STARTTLS) or "
                "submissions://smtp.example.org:465 (TLS)")
        if not v.get("authelia_smtp_sender"):
            c.p("authelia_smtp_sender", "is empty", 'e.g. "Authelia <authelia@%s>"' % domain)
        if v.get("authelia_smtp_username") and not v.get("authelia_smtp_password"):
            c.p("authelia_smtp_password", "is empty while authelia_smtp_username is set", "set it from the vault (vault_smtp_password)",
                hidden=True)
        elif v.get("authelia_smtp_password") and is_placeholder(v["authelia_smtp_password"]) \
                and v["authelia_smtp_password"] not in vault_values:
            c.p("authelia_smtp_password", "is a placeholder", "put the mail account's password in vault.yml", hidden=True)
    hashing = v.get("authelia_password_hash") or {}
    if isinstance(hashing, Mapping):
        for key in sorted(set(hashing) - {"memory", "iterations", "parallelism", "key_length", "salt_length"}):
            c.p("authelia_password_hash.%s" % key, "is not an argon2id parameter",
                "use memory, iterations, parallelism, key_length, salt_length", value=hashing[key], shown=True)


# --- monitoring --------------------------------------------------------------------------------------------------

MONITORING_DURATIONS = (
    "monitoring_scrape_interval", "monitoring_scrape_timeout", "monitoring_evaluation_interval",
    "monitoring_exportarr_scrape_interval", "monitoring_alert_cpu_for", "monitoring_alert_memory_for",
    "monitoring_alert_disk_for", "monitoring_alert_container_down_for", "monitoring_alert_container_restarts_window",
    "monitoring_alert_container_restarting_for", "monitoring_alert_target_down_for", "monitoring_alert_arr_health_for",
    "monitoring_alert_arr_queue_stalled_for", "monitoring_alert_certificate_for", "monitoring_certificate_check_interval",
    "monitoring_alertmanager_group_wait", "monitoring_alertmanager_group_interval", "monitoring_alertmanager_repeat_interval")


def _monitoring_alerts():
    """The alerts the rules file can hold: the keys of __monitoring_alert_needs in the monitoring role's vars."""
    import os
    data = _roles.load(os.path.join(_roles.ROLES_DIR, "monitoring", "vars", "main.yml")) or {}
    needs = data.get("__monitoring_alert_needs")
    return sorted(needs) if isinstance(needs, Mapping) else None


def monitoring_settings_problems(c):
    v = c.v
    seconds = {}
    for name in MONITORING_DURATIONS:
        if not c.has(name):
            continue
        seconds[name] = prometheus_seconds(v[name])
        if not seconds[name]:
            c.p(name, "is not a Prometheus duration above zero", "e.g. 30s, 15m, 2h or 1d")
    interval, timeout = seconds.get("monitoring_scrape_interval"), seconds.get("monitoring_scrape_timeout")
    if interval and timeout and timeout > interval:
        c.p("monitoring_scrape_timeout", "is longer than monitoring_scrape_interval = %s: Prometheus refuses that"
            % show(v.get("monitoring_scrape_interval")), "make the timeout at most the interval")
    exportarr = seconds.get("monitoring_exportarr_scrape_interval")
    if exportarr and timeout and timeout > exportarr:
        c.p("monitoring_exportarr_scrape_interval", "is shorter than monitoring_scrape_timeout", "make it at least the timeout")
    for name in ("monitoring_alert_cpu_percent", "monitoring_alert_memory_percent", "monitoring_alert_disk_percent"):
        value = v.get(name)
        if c.has(name) and (isinstance(value, bool) or not re.match(r"^[0-9]+(\.[0-9]+)?$", "%s" % value) or not 0 < float(value) < 100):
            c.p(name, "is not a percentage between 0 and 100", "e.g. 80")
    for name in ("monitoring_alert_container_restarts", "monitoring_alert_arr_health_issues", "monitoring_alert_arr_queue_stalled_items"):
        if c.has(name) and not re.match(r"^[0-9]+$", "%s" % v[name]):
            c.p(name, "is not a whole number, 0 or more", "e.g. 0 (the alert fires above it)")
    days = v.get("monitoring_alert_certificate_days")
    if c.has("monitoring_alert_certificate_days") and (not re.match(r"^[0-9]+(\.[0-9]+)?$", "%s" % days) or float(days) <= 0):
        c.p("monitoring_alert_certificate_days", "is not a number of days above 0", "e.g. 14")
    for name in ("monitoring_alert_arr_health_types", "monitoring_alert_arr_queue_stalled_statuses"):
        words = _list_of(c, name, "words", "[warning, error]")
        if words is not None and c.has(name) and (not words or any(not re.match(r"^[A-Za-z]+$", "%s" % w) for w in words)):
            c.p(name, "is not a list of words", "e.g. [warning, error]")
    alerts = _monitoring_alerts()
    for name in _list_of(c, "monitoring_alerts_disabled", "alert names", "[HostHighCpu]") or []:
        if alerts is not None and name not in alerts:
            c.p("monitoring_alerts_disabled", "has %s, which is not an alert" % show(name), "use one of " + ", ".join(alerts))
    for name in _list_of(c, "monitoring_expected_containers", "container names", "[plex]") or []:
        if not re.match(r"^[a-zA-Z0-9][a-zA-Z0-9_.-]*$", "%s" % name):
            c.p("monitoring_expected_containers", "has %s, not a container name" % show(name), "letters, digits, _ . and - only")
    for group in _list_of(c, "monitoring_extra_targets", "target groups", "[{targets: ['host:9100']}]") or []:
        targets = group.get("targets") if isinstance(group, Mapping) else None
        if not is_list(targets) or not targets:
            c.p("monitoring_extra_targets", "has %s" % show(group), 'give {targets: ["host:port"], labels: {service: name}}')
    if v.get("monitoring_certificate_metrics") and c.has("monitoring_certificate_live_dir") \
            and not _abs_path(v["monitoring_certificate_live_dir"]):
        c.p("monitoring_certificate_live_dir", "is not an absolute path", "e.g. /etc/letsencrypt/live")
    # The catalog hands it to Prometheus as --storage.tsdb.retention.time: Prometheus would not start on a bad one.
    catalog_settings_problems(c)
    resolved = c.catalog()
    if resolved is not None and "alertmanager" not in [e.get("name") for e in resolved]:
        return
    to = _list_of(c, "monitoring_alertmanager_email_to", "addresses", "[admin@example.org]") or []
    for address in to:
        if not _EMAIL_RE.match("%s" % address):
            c.p("monitoring_alertmanager_email_to", "has %s, not an e-mail address" % show(address), "e.g. admin@example.org")
    if to:
        if not re.match(r"^[^\s:/]+:[0-9]{1,5}$", "%s" % v.get("monitoring_alertmanager_smtp_smarthost", "")):
            c.p("monitoring_alertmanager_smtp_smarthost", "is not host:port; e-mail alerts need the SMTP relay", "e.g. smtp.example.org:587")
        if not _EMAIL_RE.match("%s" % v.get("monitoring_alertmanager_email_from", "")):
            c.p("monitoring_alertmanager_email_from", "is not an e-mail address", "the sender, e.g. monsterr@<household_domain>")
    for url in _list_of(c, "monitoring_alertmanager_webhook_urls", "URLs", "['https://ntfy.sh/topic']") or []:
        if not re.match(r"^https?://[^\s/]+", "%s" % url):
            c.p("monitoring_alertmanager_webhook_urls", "has %s, not an http(s) URL" % show(url), "e.g. https://ntfy.example.org/topic")


# --- catalog, stack, wiring -------------------------------------------------------------------------------------

def catalog_settings_problems(c):
    v = c.v
    if c.has("catalog_torrent_port") and not is_port(v["catalog_torrent_port"]):
        c.p("catalog_torrent_port", "is not a port", "a number from 1 to 65535, e.g. 6881")
    if c.has("catalog_metrics_retention") and not prometheus_seconds(v["catalog_metrics_retention"]):
        c.p("catalog_metrics_retention", "is not a Prometheus duration above zero", "e.g. 30d or 12w")


def stack_settings_problems(c):
    v = c.v
    for name in ("stack_project", "stack_network"):
        if c.has(name) and not _NAME_RE.match("%s" % v[name]):
            c.p(name, "is not a compose name", "lowercase letters, digits, - and _, e.g. monsterr")
    for name in ("stack_dir", "stack_secrets_dir"):
        if c.has(name) and not _abs_path(v[name]):
            c.p(name, "is not an absolute path", "e.g. /opt/monsterr/compose")
    if c.has("stack_log_max_size") and not _SIZE_RE.match("%s" % v["stack_log_max_size"]):
        c.p("stack_log_max_size", "is not a size", "e.g. 10m (k, m or g)")
    for name in ("stack_log_max_file", "stack_healthcheck_retries"):
        if c.has(name) and not re.match(r"^[1-9][0-9]*$", "%s" % v[name]):
            c.p(name, "is not a whole number, at least 1", "e.g. 3")
    if c.has("stack_umask") and not re.match(r"^0?[0-7]{3}$", "%s" % v["stack_umask"]):
        c.p("stack_umask", "is not an octal umask", 'e.g. "002" (quoted)')
    for name in ("stack_healthcheck_interval", "stack_healthcheck_timeout", "stack_healthcheck_start_period"):
        if c.has(name) and not _time_ok(v[name], _COMPOSE_DURATION):
            c.p(name, "is not a duration", "e.g. 30s or 1m30s")
    start = v.get("stack_healthcheck_start_interval")
    if start and not _time_ok(start, _COMPOSE_DURATION):
        c.p("stack_healthcheck_start_interval", "is not a duration", "e.g. 3s, or '' for none")
    categories = _list_of(c, "stack_download_categories", "names", "[tv, movies]")
    if categories is not None and c.has("stack_download_categories") and (not categories or any(
            not _NAME_RE.match("%s" % x) for x in categories)):
        c.p("stack_download_categories", "is not a list of names", "lowercase letters, digits, - and _, e.g. [tv, movies]")
    _subnet_problems(c)
    resolved = c.catalog()
    if resolved is not None:
        from ansible_collections.monsterr.mediaserver.plugins.filter.stack import stack_problems
        c.out.extend(stack_problems(resolved, where=c.where))


def _subnet_problems(c):
    """stack_subnet: '' or an IPv4 network that holds every fixed catalog address and clashes with nothing the host
    routes (Docker's own pools, the household's networks)."""
    v = c.v
    if not c.has("stack_subnet") or v["stack_subnet"] in ("", None):
        return
    subnet = v["stack_subnet"]
    net = _network(subnet) if isinstance(subnet, string_types) and "/" in subnet else None
    if net is None or net.version != 4 or "%s" % net != subnet.strip():
        c.p("stack_subnet", "is not an IPv4 network address", "write it like 10.223.0.0/24, or '' to let Docker pick")
        return
    if not 16 <= net.prefixlen <= 28:
        c.p("stack_subnet", "is not a /16 to /28 network", "e.g. 10.223.0.0/24 (room for every app)")
        return
    pools = v.get("docker_default_address_pools") if is_list(v.get("docker_default_address_pools")) else []
    for pool in pools:
        base = _network(pool.get("base")) if isinstance(pool, Mapping) and isinstance(pool.get("base"), string_types) else None
        if base is not None and base.version == 4 and base.overlaps(net):
            c.p("stack_subnet", "overlaps docker_default_address_pools %s: Docker may give another network the same "
                "addresses" % base, "pick a range outside it, e.g. 10.223.0.0/24")
            break
    for name in ("household_lan_cidrs", "household_admin_cidrs"):
        for text in (v.get(name) if is_list(v.get(name)) else []):
            lan = _network(text) if isinstance(text, string_types) else None
            if lan is not None and lan.version == 4 and not catch_all(lan) and lan.prefixlen >= net.prefixlen \
                    and lan.overlaps(net):
                c.p("stack_subnet", "overlaps your network %s (%s): the containers could not answer it" % (lan, name),
                    "pick a range you do not use, e.g. 10.223.0.0/24")
                return
    # Fixed addresses in the lower half, Docker's dynamic ones in the upper half (stack_dynamic_range): room for
    # every container (each app and its exporter sidecar) there.
    resolved = c.catalog() or []
    highest = net.num_addresses // 2 - 1
    containers = len(resolved) + len([e for e in resolved if (e.get("metrics") or {}).get("exporter") == "exportarr"])
    if resolved and net.num_addresses // 2 - 1 < containers:
        c.p("stack_subnet", "leaves %d addresses to Docker (its upper half) for %d containers"
            % (net.num_addresses // 2 - 1, containers), "a larger network, e.g. 10.223.0.0/24")
    for entry in resolved:
        number = entry.get("address")
        if number in (None, ""):
            continue
        if not is_int(number) or not 2 <= int(number) <= highest:
            c.p("catalog_overrides.%s.address" % entry["name"], "is not a host number of the fixed half of stack_subnet "
                "%s (2 .. %d; 1 is the gateway, the upper half Docker's)" % (net, highest),
                "a number in that range, or a larger stack_subnet", value=number, shown=True)


def wiring_settings_problems(c):
    v = c.v
    if c.has("wiring_wait_timeout") and not re.match(r"^[0-9]+$", "%s" % v["wiring_wait_timeout"]):
        c.p("wiring_wait_timeout", "is not a whole number of seconds", "e.g. 180")
    if c.has("wiring_timeout") and not re.match(r"^[1-9][0-9]*$", "%s" % v["wiring_timeout"]):
        c.p("wiring_timeout", "is not a whole number of seconds, at least 1", "e.g. 30")
    resolved = c.catalog()
    if resolved is None:
        return
    from ansible_collections.monsterr.mediaserver.plugins.filter.stack import stack_secret_specs
    from ansible_collections.monsterr.mediaserver.plugins.filter.wiring import wiring_problems
    present = {}
    vault = c.ctx.get("vault") or {}
    for spec in stack_secret_specs(resolved):
        present.setdefault(spec["service"], {})[spec["name"]] = "generated"
    for entry in resolved:
        for name, spec in (entry.get("secrets") or {}).items():
            if isinstance(spec, Mapping) and (spec.get("value") or vault.get(spec.get("variable") or "")):
                present.setdefault(entry["name"], {})[name] = "given"
    options = {
        "data_root": v.get("household_data_root"), "libraries": v.get("wiring_arr_libraries"),
        "categories": v.get("wiring_download_categories"), "prowlarr_category": v.get("wiring_prowlarr_category"),
        "media_management": v.get("wiring_arr_media_management"), "prowlarr_sync_level": v.get("wiring_prowlarr_sync_level"),
        "qbittorrent_preferences": v.get("wiring_qbittorrent_preferences"), "nzbget_settings": v.get("wiring_nzbget_settings"),
        "bazarr": v.get("wiring_bazarr", True), "overseerr": v.get("wiring_overseerr", True),
        "overseerr_profiles": v.get("wiring_overseerr_profiles"),
    }
    c.out.extend(wiring_problems(resolved, present, options, c.where))


# --- backup ------------------------------------------------------------------------------------------------------

_REPOSITORY_RE = re.compile(
    r"^(/\S+|local:/\S+|sftp:(//[^\s/@]+@)?[^\s:/]+(:[0-9]+)?(:|/)\S*|sftp:[^\s@:]+@[^\s:]+:\S+|rest:https?://[^\s/]+\S*|"
    r"s3:(https?://)?[^\s/]+/[^\s/]\S*|b2:[^\s:/]+(:\S*)?|azure:[^\s:/]+:/\S*|gs:[^\s:/]+:/\S*|swift:[^\s:/]+:/\S*|"
    r"rclone:[^\s:]+:\S*)$")
BACKUP_REQUIRED_ENV = {"s3": ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"), "b2": ("B2_ACCOUNT_ID", "B2_ACCOUNT_KEY"),
                       "azure": ("AZURE_ACCOUNT_NAME",)}
BACKUP_RESERVED_ENV = ("RESTIC_REPOSITORY", "RESTIC_PASSWORD", "RESTIC_PASSWORD_FILE", "RESTIC_PASSWORD_COMMAND",
                       "RESTIC_CACHE_DIR")


def backup_settings_problems(c):
    v = c.v
    repository = v.get("backup_repository")
    shown = re.sub(r"//[^/@\s]+@", "//***@", "%s" % repository)
    if c.has("backup_repository") and (not isinstance(repository, string_types) or not _REPOSITORY_RE.match(repository)):
        c.p("backup_repository", "is not a restic repository", "give an absolute path (e.g. /srv/backup/restic) or a restic URL "
            "(sftp:user@host:/srv/restic, rest:https://host:8000/monsterr, s3:https://s3.example.com/bucket, b2:bucket:path, "
            "azure:container:/path, gs:bucket:/path, swift:container:/path, rclone:remote:path)", value=shown, shown=True)
    env = v.get("backup_repository_env", {})
    if not isinstance(env, Mapping):
        c.p("backup_repository_env", "is not a dict", "give variable names and values, e.g. AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY "
            "with values from your vault", hidden=True)
        env = {}
    for key in sorted(env, key=str):
        if not re.match(r"^[A-Z_][A-Z0-9_]*$", "%s" % key):
            c.p("backup_repository_env.%s" % key, "is not an environment variable name", "upper-case letters, digits and _",
                hidden=True)
        elif key in BACKUP_RESERVED_ENV:
            c.p("backup_repository_env.%s" % key, "is set by the role itself", "use backup_repository, vault_backup_restic_password "
                "or backup_cache_dir instead", hidden=True)
        elif env[key] in (None, "") or is_placeholder("%s" % env[key]):
            c.p("backup_repository_env.%s" % key, "is empty or a placeholder", "give the real value from your vault", hidden=True)
    scheme = repository.split(":", 1)[0] if isinstance(repository, string_types) and re.match(r"^[a-z0-9]+:", repository) else "local"
    missing = [k for k in BACKUP_REQUIRED_ENV.get(scheme, ()) if k not in env]
    if missing and isinstance(repository, string_types) and _REPOSITORY_RE.match(repository):
        c.p("backup_repository_env", "lacks %s, which a %s: repository needs" % (", ".join(missing), scheme),
            "add them with values from your vault (e.g. %s: '{{ vault_backup_%s }}')" % (missing[0], missing[0].lower()),
            value=sorted(env), shown=True)
    keep = {}
    for period in ("daily", "weekly", "monthly", "yearly"):
        name = "backup_keep_" + period
        if c.has(name):
            value = v[name]
            if not re.match(r"^[0-9]+$", "%s" % value) or isinstance(value, bool):
                c.p(name, "is not a whole number, 0 or more", "e.g. 7")
            else:
                keep[name] = int(value)
    if keep and len(keep) == 4 and not any(keep.values()):
        c.p("backup_keep_daily", "is 0, and so are _weekly, _monthly and _yearly: restic would keep no snapshot", "e.g. backup_keep_daily: 7")
    calendar = c.ctx.get("calendar")
    if isinstance(calendar, Mapping) and calendar.get("rc") not in (None, 0):
        c.p("backup_on_calendar", "is not a systemd calendar event (%s)" % (("%s" % calendar.get("stderr", "")).strip().splitlines() or [""])[-1],
            'e.g. daily, "*-*-* 03:30:00" or "Sun *-*-* 04:00" (man systemd.time)')
    if c.has("backup_randomized_delay") and not _time_ok(v["backup_randomized_delay"], _SYSTEMD_SPAN):
        c.p("backup_randomized_delay", "is not a time span", "e.g. 30m, 1h or 0")
    if c.has("backup_stop_timeout") and not re.match(r"^[0-9]+$", "%s" % v["backup_stop_timeout"]):
        c.p("backup_stop_timeout", "is not whole seconds", "e.g. 60")
    for path in _list_of(c, "backup_extra_paths", "paths", "[/etc/monsterr]") or []:
        if not isinstance(path, string_types) or not re.match(r"^/.", path):
            c.p("backup_extra_paths", "has %s, not an absolute path other than /" % show(path), "e.g. /etc/monsterr")
    for item in _list_of(c, "backup_exclude", "patterns", "['**/*.tmp']") or []:
        if not isinstance(item, string_types):
            c.p("backup_exclude", "has %s, not a pattern string" % show(item), "e.g. '**/*.tmp'")
    for name in ("backup_pre_commands", "backup_post_commands"):
        for item in _list_of(c, name, "commands", "['systemctl stop x']") or []:
            if not isinstance(item, string_types):
                c.p(name, "has %s, not one command string" % show(item), "give each command as one string")
    for name in ("backup_restic_host", "backup_tag"):
        if c.has(name) and not re.match(r"^[A-Za-z0-9][A-Za-z0-9._-]*$", "%s" % v[name]):
            c.p(name, "is not a name", "letters, digits, ., - and _")
    if c.has("backup_cache_dir") and not re.match(r"^/.", "%s" % v["backup_cache_dir"]):
        c.p("backup_cache_dir", "is not an absolute path", "e.g. /var/cache/restic")
    password = (c.ctx.get("vault") or {}).get("vault_backup_restic_password")
    if password not in (None, "") and len("%s" % password) < 32:
        c.p("vault_backup_restic_password", "is shorter than 32 characters", "use a long random one, or remove it to have one generated",
            hidden=True, value=None, shown=True)
    resolved = c.catalog()
    if resolved is not None:
        from ansible_collections.monsterr.mediaserver.plugins.filter.backup import backup_plan, backup_problems
        stop, skip = v.get("backup_stop_services") or [], v.get("backup_skip_services") or []
        lines = backup_problems(resolved, stop, skip)
        c.out.extend(line[:-1] + " (in %s)." % c.where if "(in " not in line and line.endswith(".") else line for line in lines)
        if not lines:
            paths = [p for item in backup_plan(resolved, stop, skip) for p in item.get("paths") or []]
            if not paths and not (v.get("backup_extra_paths") or []):
                c.p("backup_extra_paths", "is empty and no enabled service keeps app data: nothing to back up",
                    "enable services, list paths here, or set backup_enabled: false")


# --- the entry point ---------------------------------------------------------------------------------------------

CHECKS = {
    "base": base_settings_problems, "ufw": ufw_settings_problems, "fail2ban": fail2ban_settings_problems,
    "docker": docker_settings_problems, "letsencrypt": letsencrypt_settings_problems, "catalog": catalog_settings_problems,
    "proxy": proxy_settings_problems, "authelia": authelia_settings_problems, "monitoring": monitoring_settings_problems,
    "stack": stack_settings_problems, "wiring": wiring_settings_problems, "backup": backup_settings_problems,
}


def _enabled(values, layer, resolved):
    switch = values.get("%s_enabled" % layer, True)
    if isinstance(switch, string_types):
        switch = switch.lower() in ("true", "yes", "1", "on")
    if not switch:
        return False
    if layer in ("proxy", "authelia") and resolved is not None:
        service = values.get("%s_service" % layer, layer)
        return service in [e.get("name") for e in resolved]
    return True


def _as_dict(values):
    """{name: value} and [error lines] from the preflight_values lookup's list (or a plain dict)."""
    if isinstance(values, Mapping):
        return dict(values), []
    out, errors = {}, []
    for item in values or []:
        if "error" in item:
            errors.append(item)
        elif "value" in item:
            out[item["name"]] = item["value"]
    return out, errors


def layer_problems(values, layers, context=None, where=WHERE, explicit=None):
    """Every problem with the settings of the given layers: argument specs first (of the settings the household
    set, ``explicit``; all when None), then each layer's own rules."""
    if not is_list(layers):
        raise AnsibleFilterError("layer_problems: layers must be a list of layer names")
    values, errors = _as_dict(_plain(values))
    context = _plain(context or {})
    out = []
    user_set = context.get("user_set")
    for item in errors:
        if context.get("broken") and user_set is not None and item["name"] not in user_set:
            continue  # a role default that breaks on a setting already reported
        out.append("%s cannot be evaluated: %s. Fix: define what it refers to (e.g. in vault.yml beside main.yml), or "
                   "correct the reference (in %s)." % (item["name"], item["error"].rstrip("."), where))
    explicit = explicit if explicit is not None else context.get("user_set")
    checked = values if explicit is None else dict((k, v) for k, v in values.items() if k in set(explicit))
    check = _Check(values, context, where)
    for layer in layers:
        if layer in _roles.role_names():
            lines = argspec_problems(checked, layer, "main", where)
            check.failed.update(line.split(" = ", 1)[0] for line in lines)
            out.extend(lines)
    resolved = context.get("resolved")
    for layer in layers:
        if layer in CHECKS and _enabled(values, layer, resolved):
            CHECKS[layer](check)
    out.extend(check.out)
    return unique_problems(out)


def unique_problems(lines):
    """One line per setting and value: when two checks refuse the same value of the same setting, the first says it."""
    seen = set()
    out = []
    for line in lines or []:
        key = line.split(" is ", 1)[0] if " = " in line.split(" is ", 1)[0] else line
        if key in seen:
            continue
        seen.add(key)
        out.append(line)
    return out


# Settings of another role that a layer's rules read too (monitoring: Prometheus' retention, from the catalog; ufw:
# the torrent port it opens).
READS = {"monitoring": ["catalog_metrics_retention", "catalog_torrent_port"], "ufw": ["catalog_torrent_port"]}


def layer_variables(layers):
    """The names preflight evaluates for these layers: every option of their argument specs, and the household's."""
    names = set(_roles.argument_spec("household"))
    for layer in layers:
        names.update(_roles.argument_spec(layer))
        names.update(READS.get(layer, []))
    return sorted(names)


class FilterModule(object):
    def filters(self):
        return {
            "layer_problems": layer_problems,
            "layer_variables": layer_variables,
            "unique_problems": unique_problems,
        }
