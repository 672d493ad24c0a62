# -*- coding: utf-8 -*-
# Copyright: monsterr.mediaserver developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    # Connection options of the NZBGet modules (module_utils._nzbget.argument_spec).
    DOCUMENTATION = r"""
options:
  url:
    description:
      - Base URL of NZBGet as seen from the managed host, for example V(http://127.0.0.1:6789); C(/jsonrpc) is added.
    type: str
    required: true
  username:
    description: C(ControlUsername) (full access; the restricted user cannot save the config).
    type: str
    default: nzbget
  password:
    description: C(ControlPassword).
    type: str
    required: true
  validate_certs:
    description: Verify the TLS certificate of an V(https) URL.
    type: bool
    default: true
  timeout:
    description: Seconds to wait for each answer.
    type: int
    default: 30
  wait_timeout:
    description: Seconds to wait for a starting NZBGet to answer before anything else; V(0) does not wait.
    type: int
    default: 0
"""
