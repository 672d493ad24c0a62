# -*- coding: utf-8 -*-
# Copyright: monsterr.mediaserver developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The request benchmark of the download-client and companion-app modules (one module object, imported by the
tests and by conftest.py, whose terminal-summary hook prints it)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import socket

BENCH = {}


def record_bench(module, phase, reads, writes, against):
    """phase: "change" (the real run of the four steps) or "noop" (the last, idempotent run)."""
    BENCH.setdefault(module, {})[phase] = (reads, writes)
    BENCH[module]["against"] = against


def lines():
    out = ["%-26s %-12s %-12s %s" % ("module", "on change", "no-op", "against")]
    for name in sorted(BENCH):
        row = BENCH[name]
        out.append("%-26s %-12s %-12s %s" % (name, "%d/%d" % row.get("change", (0, 0)),
                                             "%d/%d" % row.get("noop", (0, 0)), row.get("against", "")))
    return out


def free_port():
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    return port
