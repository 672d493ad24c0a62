# -*- coding: utf-8 -*-
# Copyright: monsterr.mediaserver developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""How a problem with a setting reads, shared by every validation filter.

One line per problem, in one form:  ``<variable> = <value> <what is wrong>. Fix: <fix> (in <file>).``
Secrets are never shown: pass ``hidden=True`` and the value reads ``(value hidden)``.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible.module_utils.common._collections_compat import Mapping, Sequence
from ansible.module_utils.six import integer_types, string_types

WHERE = "inventories/<household>/group_vars/mediaserver/main.yml"
HIDDEN = "(value hidden)"
_MAX = 80

# Words the example vault and common habits use where the real value belongs.
PLACEHOLDERS = ("replace-me", "replace_me", "replaceme", "changeme", "change-me", "change_me", "changeit",
                "<password>", "<token>", "<secret>", "your-password", "yourpassword", "example-password", "xxxxxxxx",
                "todo", "fixme", "secret", "password", "passw0rd", "12345678")
_PLACEHOLDER_RE = re.compile(r"replace[-_ ]?me|change[-_ ]?me|change[-_ ]?it|^<[^>]*>$|^x{6,}$|^(todo|fixme|tbd)\b",
                             re.IGNORECASE)


def show(value):
    """The value as the user wrote it, short enough for one line."""
    if isinstance(value, string_types):
        text = "'%s'" % value
    else:
        text = repr(_plainish(value))
    text = text.replace("\n", "\\n")
    return text if len(text) <= _MAX else text[:_MAX - 3] + "..."


def _plainish(value):
    if isinstance(value, Mapping):
        return dict((k, _plainish(v)) for k, v in value.items())
    if isinstance(value, Sequence) and not isinstance(value, string_types):
        return [_plainish(v) for v in value]
    if isinstance(value, string_types):
        return "%s" % value
    return value


def problem(variable, value, reason, fix, where=WHERE, hidden=False):
    """``<variable> = <value> <reason>. Fix: <fix> (in <where>).``"""
    shown = HIDDEN if hidden else show(value)
    fix = fix.rstrip(".")
    stop = "" if reason.endswith("?") else "."
    if where:
        return "%s = %s %s%s Fix: %s (in %s)." % (variable, shown, reason, stop, fix, where)
    return "%s = %s %s%s Fix: %s." % (variable, shown, reason, stop, fix)


def is_placeholder(value):
    """True for a value that only stands where the real one belongs (replace-me, changeme, <password>...)."""
    if not isinstance(value, string_types):
        return False
    text = value.strip()
    return bool(_PLACEHOLDER_RE.search(text)) or text.lower() in PLACEHOLDERS


def is_int(value):
    """A whole number as YAML or -e gives it (bools are not numbers)."""
    if isinstance(value, bool):
        return False
    if isinstance(value, integer_types):
        return True
    return isinstance(value, string_types) and bool(re.match(r"^-?[0-9]+$", value.strip()))


def as_int(value, default=None):
    return int(value) if is_int(value) else default


def is_list(value):
    """A YAML list (a string is not one, however it looks)."""
    return isinstance(value, Sequence) and not isinstance(value, string_types)


def is_port(value, zero=False):
    number = as_int(value)
    return number is not None and (0 if zero else 1) <= number <= 65535


_DURATION_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800, "y": 31536000}


def prometheus_seconds(value):
    """Seconds of a Prometheus duration (1h30m, 15s, 30d), or None when it is not one."""
    text = "%s" % value if value is not None else ""
    if not re.match(r"^([0-9]+y)?([0-9]+w)?([0-9]+d)?([0-9]+h)?([0-9]+m)?([0-9]+s)?([0-9]+ms)?$", text) or not text:
        return None
    return sum(int(n) * _DURATION_UNITS[u] for n, u in re.findall(r"([0-9]+)(ms|[ywdhms])", text))
