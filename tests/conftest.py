# -*- coding: utf-8 -*-
# Copyright: monsterr.mediaserver developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What every test run shares.

- ``@pytest.mark.needs(present, message)``: a test that cannot run without a tool, an image, an engine or a
  document FAILS (never skips) when ``present`` is false, with ``message``, which names what is missing and the
  command that installs it, e.g.
  ``pytest.mark.needs(shutil.which("promtool"), "promtool not found: run `make setup` (apt-get install prometheus)")``.
  In `make test` a missing prerequisite must never look like a pass.
- The report header says whether the contract documents are in place (tests/contracts.py).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.monsterr.mediaserver.tests import contracts


def pytest_configure(config):
    config.addinivalue_line("markers", "needs(present, message): fail with message (what is missing, how to install "
                                       "it) when present is false; never skip")


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item):
    for mark in item.iter_markers(name="needs"):
        present, message = mark.args
        if not present:
            pytest.fail(message, pytrace=False)


def pytest_report_header(config):
    missing = []
    entries = contracts.read_manifest()
    for entry in entries:
        try:
            contracts.document(entry.path)
        except contracts.MissingContract:
            missing.append(entry.path)
    if not missing:
        return "contracts: %d upstream documents verified in %s" % (len(entries), contracts.cache_dir())
    return ("contracts: MISSING or altered in %s: %s; the tests that use them will fail. %s"
            % (contracts.cache_dir(), ", ".join(missing), contracts.FIX))
