# -*- coding: utf-8 -*-
# Copyright: monsterr.mediaserver developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    # Connection options of the Bazarr modules (module_utils._bazarr.argument_spec).
    DOCUMENTATION = r"""
options:
  url:
    description:
      - Base URL of Bazarr as seen from the managed host, URL base included, for example V(http://127.0.0.1:6767).
    type: str
    required: true
  api_key:
    description: Bazarr's API key (C(auth.apikey) in config.yaml), sent as C(X-API-KEY).
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
    description: Seconds to wait for a starting Bazarr to answer before anything else; V(0) does not wait.
    type: int
    default: 0
"""
