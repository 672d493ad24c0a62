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
    created first from the operating system's random source (at least 32 random bytes of entropy), with mode
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
      - A trailing number is a minimum length (characters for C(hex)/C(alnum), bytes for C(base64_<n>)), never
        less entropy than 32 random bytes. So C(hex32) and C(hex) give 64 hex characters (256 bits),
        C(alnum32) 43 characters, C(alnum64) 64 characters, C(base64_32) 44 characters.
      - A list gives one format per term.
    type: raw
    default: hex
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
import binascii
import math
import os
import re
import secrets
import string

from ansible.errors import AnsibleLookupError
from ansible.module_utils.common.text.converters import to_bytes, to_text
from ansible.plugins.lookup import LookupBase

MIN_BYTES = 32
# Ansible's directory inventory skips .txt files (INVENTORY_IGNORE_EXTS): a secrets dir inside an inventory
# directory must not turn each secret into a host.
SUFFIX = ".txt"
_TERM_RE = re.compile(r"^[a-z0-9][a-z0-9_-]*/[a-z0-9][a-z0-9_-]*$")
_FORMAT_RE = re.compile(r"^(hex|alnum|base64)_?([0-9]*)$")
ALNUM = string.ascii_letters + string.digits


def make_secret(fmt):
    """A new secret in format fmt (see DOCUMENTATION), with at least MIN_BYTES bytes of entropy."""
    match = _FORMAT_RE.match(fmt or "")
    if not match:
        raise AnsibleLookupError("household_secret: unknown format %r: use hex, alnum or base64 (optionally with a "
                                 "minimum length, e.g. hex64, alnum48, base64_32)" % (fmt,))
    kind, number = match.group(1), int(match.group(2) or 0)
    if kind == "hex":
        length = max(number, 2 * MIN_BYTES)
        return binascii.hexlify(os.urandom((length + 1) // 2)).decode("ascii")[:length]
    if kind == "alnum":
        length = max(number, int(math.ceil(MIN_BYTES * 8 / math.log(len(ALNUM), 2))))
        return "".join(secrets.choice(ALNUM) for __ in range(length))
    return base64.b64encode(os.urandom(max(number, MIN_BYTES))).decode("ascii")


def read_or_create(path, fmt):
    """The secret stored at path, created atomically (O_EXCL) on first use."""
    directory = os.path.dirname(path)
    try:
        if not os.path.isdir(directory):
            os.makedirs(directory, 0o700)
        if not os.path.exists(path):
            value = make_secret(fmt)
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


def household_secrets(terms, directory, formats="hex", given=None):
    """The secrets of terms (see DOCUMENTATION), in order."""
    given = given or []
    if not isinstance(formats, (list, tuple)):
        formats = [formats] * len(terms)
    if len(formats) != len(terms):
        raise AnsibleLookupError("household_secret: %d formats for %d terms" % (len(formats), len(terms)))
    values = []
    for index, term in enumerate(terms):
        if not isinstance(term, str) or not _TERM_RE.match(term):
            raise AnsibleLookupError("household_secret: %r is not <service>/<name> (lowercase letters, digits, - and _)"
                                     % (term,))
        wanted = given[index] if index < len(given) else None
        if wanted not in (None, ""):
            values.append(to_text(wanted))
            continue
        values.append(read_or_create(os.path.join(directory, term + SUFFIX), formats[index]))
    return values


class LookupModule(LookupBase):

    def run(self, terms, variables=None, **kwargs):
        self.set_options(var_options=variables, direct=kwargs)
        return household_secrets(terms, self.get_option("dir"), self.get_option("format"), self.get_option("given"))
