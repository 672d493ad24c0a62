# -*- coding: utf-8 -*-
# Copyright: monsterr.mediaserver developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Controller-side helpers shared by the collection's filter plugins."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.module_utils.common._collections_compat import Mapping, Sequence
from ansible.module_utils.six import string_types


def plain(value):
    """Plain dicts and lists, every value templated: Ansible hands filters lazy containers, which must
    be read item by item (copy.deepcopy of them fails inside ansible-core 2.19's templar)."""
    if isinstance(value, Mapping):
        return dict((k, plain(v)) for k, v in value.items())
    if isinstance(value, Sequence) and not isinstance(value, string_types):
        return [plain(v) for v in value]
    return value
