# -*- coding: utf-8 -*-
# Copyright: monsterr.mediaserver developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Servarr module integration tests: the double, and the request benchmark printed at the end of the run."""

from ansible_collections.monsterr.mediaserver.tests.doubles.arr_harness import servarr  # noqa: F401  pylint: disable=unused-import

BENCHMARK = []  # (module, app, noop reads, noop writes, change reads, change writes), filled by test_arr_benchmark.py


def format_benchmark(rows):
    lines = ["Servarr modules: requests per run against the double (reads = GET, writes = POST/PUT/DELETE)",
             "%-24s %-9s %12s %12s" % ("module", "app", "no-op r/w", "change r/w")]
    for module, app, nr, nw, cr, cw in rows:
        lines.append("%-24s %-9s %12s %12s" % (module, app, "%d/%d" % (nr, nw), "%d/%d" % (cr, cw)))
    return lines


def pytest_terminal_summary(terminalreporter):
    if BENCHMARK:
        terminalreporter.section("servarr benchmark")
        for line in format_benchmark(BENCHMARK):
            terminalreporter.write_line(line)
