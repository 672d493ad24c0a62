# -*- coding: utf-8 -*-
# Copyright: monsterr.mediaserver developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    """The attributes every wiring module shares (a module may override a description)."""

    # Modules that change an app's settings.
    DOCUMENTATION = r"""
options: {}
attributes:
  check_mode:
    description: Reads the app and compares; reports what would change and writes nothing.
    support: full
  diff_mode:
    description: Shows what the module manages before and after; secrets are shown as C(<hidden>).
    support: full
  platform:
    description: Talks to the app over HTTP(S) from wherever the module runs; needs only Python's standard library.
    support: full
    platforms: posix
notes:
  - Credentials are sent only to the origin (scheme, host, port) of O(url). A redirect elsewhere, for example to a
    sign-on portal in front of the app, is not followed and fails naming where it pointed; give the app's own address.
  - Connection errors and answers 502, 503 and 504 are retried a few times with backoff; TLS certificate errors are not.
"""

    # Modules that only read.
    INFO_MODULE = r"""
options: {}
attributes:
  check_mode:
    description: Read-only; runs the same in check mode.
    support: full
  diff_mode:
    description: Nothing to show; never changes anything.
    support: none
  platform:
    description: Talks to the app over HTTP(S) from wherever the module runs; needs only Python's standard library.
    support: full
    platforms: posix
notes:
  - Credentials are sent only to the origin (scheme, host, port) of O(url). A redirect elsewhere, for example to a
    sign-on portal in front of the app, is not followed and fails naming where it pointed; give the app's own address.
"""
