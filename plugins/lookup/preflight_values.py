# -*- coding: utf-8 -*-
# Copyright: monsterr.mediaserver developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
name: preflight_values
short_description: The values of many settings at once, each evaluated on its own
version_added: 0.2.0
description:
  - Returns one dict per term (a variable name) with C(name), C(defined) and either C(value) (the variable as the
    task would see it, templated) or C(error) (why it could not be evaluated, for example an undefined variable
    it refers to).
  - Unlike C(ansible.builtin.vars), one variable that cannot be evaluated does not stop the others, so that
    C(monsterr.mediaserver.preflight) can report every problem at once, one line each.
  - A variable that is not in O(set_by_household) and whose definition generates a secret (it calls the
    C(monsterr.mediaserver.household_secret) lookup or reads a role's generated secrets) is returned with
    C(defined) true and no value, so that merely checking the settings creates nothing.
author:
  - monsterr.mediaserver developers (@monsterr)
options:
  _terms:
    description: Variable names.
    type: list
    elements: str
    required: true
  set_by_household:
    description: Names the household set itself (inventory, extra vars); those are always evaluated.
    type: list
    elements: str
    default: []
"""

EXAMPLES = r"""
- name: Evaluate the settings of the ufw layer
  ansible.builtin.debug:
    msg: "{{ query('monsterr.mediaserver.preflight_values', 'ufw_ssh_port', 'ufw_rules') }}"
"""

RETURN = r"""
_raw:
  description: One dict per term, in order.
  type: list
  elements: dict
  contains:
    name:
      description: The variable name.
      type: str
    defined:
      description: Whether the variable is defined at all.
      type: bool
    value:
      description: The templated value (absent when undefined, failed or not evaluated).
      type: raw
    error:
      description: Why the variable could not be evaluated.
      type: str
"""

import re

from ansible.errors import AnsibleError
from ansible.module_utils.common.text.converters import to_text
from ansible.module_utils.six import string_types
from ansible.plugins.lookup import LookupBase

# A definition that makes secrets when evaluated (the household_secret lookup, a role's generated secrets).
_GENERATES = re.compile(r"household_secret|__[a-z0-9]+_secrets\b")


def _generates(value):
    if isinstance(value, string_types):
        return bool(_GENERATES.search(value))
    if isinstance(value, dict):
        return any(_generates(v) for v in value.values())
    if isinstance(value, (list, tuple)):
        return any(_generates(v) for v in value)
    return False


def _reason(exc):
    """The first line of Ansible's message, without the origin it appends."""
    text = to_text(getattr(exc, "message", None) or exc)
    return text.strip().splitlines()[0] if text.strip() else exc.__class__.__name__


class LookupModule(LookupBase):
    def run(self, terms, variables=None, **kwargs):
        self.set_options(var_options=variables, direct=kwargs)
        user = set(self.get_option("set_by_household") or [])
        variables = variables or {}
        out = []
        for term in terms:
            name = to_text(term)
            if name not in variables:
                out.append({"name": name, "defined": False})
                continue
            raw = variables[name]
            if name not in user and _generates(raw):
                out.append({"name": name, "defined": True})
                continue
            try:
                value = self._templar.template(raw)
            except AnsibleError as exc:
                out.append({"name": name, "defined": True, "error": _reason(exc)})
                continue
            out.append({"name": name, "defined": True, "value": value})
        return out
