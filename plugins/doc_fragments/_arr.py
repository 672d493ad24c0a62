# -*- coding: utf-8 -*-
# Copyright: monsterr.mediaserver developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    """Options every Servarr module shares (arr_argument_spec() in module_utils/_arr.py)."""

    DOCUMENTATION = r"""
options:
  url:
    description:
      - Base URL of the app as the managed host reaches it, with scheme, host, port and the app's URL base,
        for example V(http://127.0.0.1:8989) or V(http://127.0.0.1:8989/sonarr).
      - The API path (C(/api/v3) or C(/api/v1)) is added from O(app).
    type: str
    required: true
  api_key:
    description:
      - The app's API key (C(ApiKey) in its C(config.xml)), sent as the C(X-Api-Key) header. Never logged or returned.
    type: str
    required: true
  app:
    description:
      - Which Servarr app O(url) points at. Decides the API generation (Sonarr and Radarr C(/api/v3), the others C(/api/v1))
        and the field names the app uses.
    type: str
    required: true
    choices: [lidarr, prowlarr, radarr, readarr, sonarr]
  timeout:
    description:
      - Seconds to wait for each HTTP answer.
    type: int
    default: 30
  validate_certs:
    description:
      - Whether to check the app's TLS certificate when O(url) uses C(https).
    type: bool
    default: true
  wait_timeout:
    description:
      - Seconds to wait for an app that is not up yet or still starting (connection refused, 502, 503, 504) on the first
        request. The module then polls C(/ping) and C(system/status) (with the key) until both answer, and goes on.
      - V(0) fails at once.
    type: int
    default: 120
notes:
  - All Servarr modules belong to the action group C(monsterr.mediaserver.arr), so O(url), O(api_key) and O(app) can be
    set once with C(module_defaults).
"""
