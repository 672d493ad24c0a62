# -*- coding: utf-8 -*-
# Copyright: monsterr.mediaserver developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
name: household_secret
short_description: A household's generated secrets, created once on the controller and read back on every run
version_added: 0.1.0
description:
  - Returns one secret per term C(<service>/<name>), for example C(sonarr/api_key).
  - A value given in O(given) (the household's C(vault_<service>_<name>) variable) wins and no file is touched.
  - Otherwise the secret is read from the file C(<dir>/<service>/<name>.txt). When that file does not exist it is
    created first from the operating system's random source (at least 128 bits of entropy), with mode
    0600 in directories of mode 0700, atomically, so that parallel runs agree on one value.
  - The secret is stable across runs for as long as the file is kept, and is never written anywhere else by
    this plugin. Keep C(<dir>) out of version control (C(inventories/*/secrets/) is git-ignored) or encrypt it.
  - Runs on the controller. In check mode a missing secret is still created (on the controller only), so that
    the check run and the real run agree on it.
author:
  - monsterr.mediaserver developers (@monsterr)
options:
  _terms:
    description: One or more C(<service>/<name>) strings (lowercase letters, digits, C(-) and C(_)).
    type: list
    elements: str
    required: true
  dir:
    description: The household's secrets directory on the controller.
    type: path
    required: true
  format:
    description:
      - How a new secret is made. C(hex) is lowercase hexadecimal (API keys), C(alnum) letters and digits
        (passwords that pass through forms, URLs and config files unquoted), C(base64) standard base64.
      - A trailing number is the exact size, C(hexN) and C(alnumN) N characters, C(base64_N) N random bytes
        (4 * ceil(N / 3) characters). So C(hex32) is 32 hex characters (128 bits, the format the *arr apps generate
        and exportarr accepts), C(alnum32) 32 characters (190 bits), C(base64_32) 44 characters (256 bits).
      - Without a number, 32 random bytes' worth, C(hex) 64 characters, C(alnum) 43, C(base64) 44.
      - A format that would give fewer than 128 bits of entropy (C(hex31), C(alnum21), C(base64_15)) is refused.
      - A new secret is never all digits (YAML and form parsers would turn it into a number, Bazarr refuses it).
      - A list gives one format per term.
    type: raw
    default: hex
  pattern:
    description:
      - A regular expression every consumer of the secret accepts (the catalog's C(secrets.<name>.pattern)). A new
        secret is drawn again until it matches; a format that cannot match is an error. Existing files and given
        values are returned as they are (the preflight layer checks them against the pattern).
      - A list gives one pattern per term; an empty one means none.
    type: raw
    default: ""
  given:
    description:
      - Values that win over the files, one per term, in the order of the terms; an empty or missing one means
        that the file is used. Pass the household's C(vault_<service>_<name>) variables here.
    type: list
    elements: str
    default: []
notes:
  - The C(.txt) suffix matters when the directory lies inside an inventory directory (the default
    C(inventories/<household>/secrets/)). Ansible reads every file of an inventory directory as an inventory source,
    except hidden files and ignored extensions (C(INVENTORY_IGNORE_EXTS), which include C(.txt)); without the
    suffix, each secret would become a host name.
  - An existing file is read as it is (without a trailing newline). An empty file is an error, never silently
    replaced, because the app still holds the old value.
seealso:
  - name: The monsterr.mediaserver.stack role
    description: Uses this lookup for every C(secrets.<name>.generate) of the resolved catalog.
    link: https://github.com/monsterr/mediaserver
"""

EXAMPLES = r"""
- name: Sonarr's API key, generated on the first run
  ansible.builtin.debug:
    msg: "{{ lookup('monsterr.mediaserver.household_secret', 'sonarr/api_key', dir=inventory_dir ~ '/secrets/' ~ inventory_hostname) | length }}"

- name: Several at once; a vault variable wins over the file
  ansible.builtin.set_fact:
    __secrets: >-
      {{ query('monsterr.mediaserver.household_secret', 'sonarr/api_key', 'qbittorrent/password',
               format=['hex', 'alnum'], given=[vault_sonarr_api_key | default(''), ''], dir=stack_secrets_dir) }}
  no_log: true
"""

RETURN = r"""
_raw:
  description: The secrets, one per term, in the order of the terms.
  type: list
  elements: str
"""

import base64
import math
import os
import re
import secrets
import string

from ansible.errors import AnsibleLookupError
from ansible.module_utils.common.text.converters import to_bytes, to_text
from ansible.plugins.lookup import LookupBase

MIN_BITS = 128
# A format without a number: 32 random bytes' worth.
DEFAULT_BYTES = 32
# Attempts to draw a value that matches the caller's pattern (and is not all digits) before giving up.
ATTEMPTS = 1000
# Ansible's directory inventory skips .txt files (INVENTORY_IGNORE_EXTS): a secrets dir inside an inventory
# directory must not turn each secret into a host.
SUFFIX = ".txt"
_TERM_RE = re.compile(r"^[a-z0-9][a-z0-9_-]*/[a-z0-9][a-z0-9_-]*$")
_FORMAT_RE = re.compile(r"^(hex|alnum|base64)_?([0-9]*)$")
ALNUM = string.ascii_letters + string.digits
HEX = "0123456789abcdef"


def _format(fmt):
    """(kind, size) of a format: size in characters for hex and alnum, in random bytes for base64."""
    match = _FORMAT_RE.match(fmt or "") if isinstance(fmt, str) else None
    if not match:
        raise AnsibleLookupError("household_secret: unknown format %r: use hex, alnum or base64, optionally with the "
                                 "exact size (hex32, alnum32, base64_32)" % (fmt,))
    kind, number = match.group(1), int(match.group(2) or 0)
    if not number:
        number = {"hex": 2 * DEFAULT_BYTES, "alnum": int(math.ceil(DEFAULT_BYTES * 8 / math.log(len(ALNUM), 2))),
                  "base64": DEFAULT_BYTES}[kind]
    bits = number * {"hex": 4.0, "alnum": math.log(len(ALNUM), 2), "base64": 8.0}[kind]
    if bits < MIN_BITS:
        raise AnsibleLookupError("household_secret: format %r gives %d bits of entropy, fewer than %d. Fix: a larger "
                                 "size, e.g. hex32, alnum22 or base64_16 at the least" % (fmt, int(bits), MIN_BITS))
    return kind, number


def _draw(kind, number):
    if kind == "hex":
        return "".join(secrets.choice(HEX) for __ in range(number))
    if kind == "alnum":
        return "".join(secrets.choice(ALNUM) for __ in range(number))
    return base64.b64encode(os.urandom(number)).decode("ascii")


def make_secret(fmt, pattern=None):
    """A new secret in format fmt (see DOCUMENTATION), never all digits, matching pattern when one is given."""
    kind, number = _format(fmt)
    compiled = None
    if pattern:
        try:
            compiled = re.compile(pattern)
        except re.error as exc:
            raise AnsibleLookupError("household_secret: pattern %r is not a regular expression (%s)" % (pattern, exc))
    for __ in range(ATTEMPTS):
        value = _draw(kind, number)
        if value.isdigit() or (compiled is not None and not compiled.search(value)):
            continue
        return value
    raise AnsibleLookupError("household_secret: format %r never gives a value that matches %r. Fix: make the catalog's "
                             "generate and pattern agree" % (fmt, pattern))


def read_or_create(path, fmt, pattern=None):
    """The secret stored at path, created atomically (O_EXCL) on first use."""
    directory = os.path.dirname(path)
    try:
        if not os.path.isdir(directory):
            os.makedirs(directory, 0o700)
        if not os.path.exists(path):
            value = make_secret(fmt, pattern)
            try:
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            except OSError:
                if not os.path.exists(path):
                    raise
                fd = None  # another fork created it just now: read theirs
            if fd is not None:
                with os.fdopen(fd, "wb") as handle:
                    handle.write(to_bytes(value + "\n"))
                return value
        with open(path, "rb") as handle:
            value = to_text(handle.read()).rstrip("\r\n")
    except (IOError, OSError) as exc:
        raise AnsibleLookupError("household_secret: cannot read or create %s (%s). Fix: make the secrets directory "
                                 "writable for the user running ansible-playbook, or set the secret in the vault."
                                 % (path, exc.strerror or exc))
    if not value:
        raise AnsibleLookupError("household_secret: %s is empty. Fix: restore it from your backup, or delete it to "
                                 "generate a new secret (then the app's stored value must be reset too)." % path)
    return value


def household_secrets(terms, directory, formats="hex", given=None, patterns=None):
    """The secrets of terms (see DOCUMENTATION), in order."""
    given = given or []
    if not isinstance(formats, (list, tuple)):
        formats = [formats] * len(terms)
    if len(formats) != len(terms):
        raise AnsibleLookupError("household_secret: %d formats for %d terms" % (len(formats), len(terms)))
    if not isinstance(patterns, (list, tuple)):
        patterns = [patterns or ""] * len(terms)
    if len(patterns) != len(terms):
        raise AnsibleLookupError("household_secret: %d patterns for %d terms" % (len(patterns), len(terms)))
    values = []
    for index, term in enumerate(terms):
        if not isinstance(term, str) or not _TERM_RE.match(term):
            raise AnsibleLookupError("household_secret: %r is not <service>/<name> (lowercase letters, digits, - and _)"
                                     % (term,))
        wanted = given[index] if index < len(given) else None
        if wanted not in (None, ""):
            values.append(to_text(wanted))
            continue
        values.append(read_or_create(os.path.join(directory, term + SUFFIX), formats[index], patterns[index] or None))
    return values


class LookupModule(LookupBase):

    def run(self, terms, variables=None, **kwargs):
        self.set_options(var_options=variables, direct=kwargs)
        return household_secrets(terms, self.get_option("dir"), self.get_option("format"), self.get_option("given"),
                                 self.get_option("pattern"))
