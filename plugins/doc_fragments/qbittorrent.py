# -*- coding: utf-8 -*-
# Copyright: monsterr.mediaserver developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    # Connection options of the qBittorrent modules (module_utils._qbittorrent.argument_spec).
    DOCUMENTATION = r"""
options:
  url:
    description:
      - Base URL of the qBittorrent WebUI as seen from the managed host, for example V(http://127.0.0.1:8080).
      - Use the port qBittorrent listens on; its Host-header validation refuses a remapped port with 401.
    type: str
    required: true
  username:
    description: WebUI user name (C(WebUI\\Username)).
    type: str
    default: admin
  password:
    description:
      - WebUI password. The module logs in once with it and never retries a refused login, because qBittorrent
        bans the client IP for C(WebUI\\BanDuration) seconds (default 3600) after C(WebUI\\MaxAuthenticationFailCount)
        failed logins (default 5).
      - Leave out (with O(api_key)) only when qBittorrent lets this host in without a login (O(api_key),
        C(bypass_local_auth) or the subnet whitelist).
    type: str
  api_key:
    description:
      - "qBittorrent 5.2+ API key (C(qbt_...)), sent as C(Authorization: Bearer ...); no login is made."
    type: str
  validate_certs:
    description: Verify the TLS certificate of an V(https) URL.
    type: bool
    default: true
  timeout:
    description: Seconds to wait for each answer.
    type: int
    default: 30
  wait_timeout:
    description:
      - Seconds to wait for a starting qBittorrent to answer before anything else. V(0) does not wait (connection
        errors are still retried a few times with backoff).
    type: int
    default: 0
"""
