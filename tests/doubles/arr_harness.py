# -*- coding: utf-8 -*-
# Copyright: monsterr.mediaserver developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Pytest helpers for the Servarr modules: a double per test, running a module in-process, counting requests."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import importlib
import json

import pytest

from ansible.module_utils.testing import patch_module_args
from ansible_collections.monsterr.mediaserver.plugins.module_utils import _arr
from ansible_collections.monsterr.mediaserver.tests.doubles.servarr import ServarrDouble

KEY = "0123456789abcdef0123456789abcdef"
WRITES = ("POST", "PUT", "DELETE")


@pytest.fixture()
def servarr(monkeypatch):
    """A factory: servarr("sonarr", url_base="/sonarr") -> a started ServarrDouble, stopped after the test."""
    monkeypatch.setattr(_arr, "_sleep", lambda seconds: None)
    started = []

    def start(app, url_base="", **kwargs):
        double = ServarrDouble(app, KEY, url_base=url_base, **kwargs).start()
        started.append(double)
        return double

    yield start
    for double in started:
        double.stop()


def run_module(capsys, module_name, check_mode=False, diff=True, **params):
    """Run plugins/modules/<name>.py main() with params; return its JSON result."""
    module = importlib.import_module("ansible_collections.monsterr.mediaserver.plugins.modules." + module_name)
    params.setdefault("_ansible_check_mode", check_mode)
    params.setdefault("_ansible_diff", diff)
    with patch_module_args(params):
        with pytest.raises(SystemExit):
            module.main()
    out = capsys.readouterr().out
    return json.loads(out)


def counted(double, capsys, module_name, **params):
    """(result, reads, writes) of one module run against ``double``."""
    double.reset()
    result = run_module(capsys, module_name, **params)
    by_method = double.stats()["by_method"]
    writes = sum(by_method.get(m, 0) for m in WRITES)
    reads = sum(n for m, n in by_method.items() if m not in WRITES)
    return result, reads, writes


def conn(double, app=None, **extra):
    """Connection params for a module against ``double``."""
    params = dict(url=double.url, api_key=KEY, app=app or double.state.app, wait_timeout=0, timeout=5)
    params.update(extra)
    return params


def api(double, method, path, body=None):
    """A direct API call behind the modules' back (drift), not through the module under test."""
    from ansible_collections.monsterr.mediaserver.plugins.module_utils._http import HttpClient
    client = HttpClient(double.state.app, double.url, headers={"X-Api-Key": KEY}, retries=0)
    response = client.request(method, double.state.api + path, json_body=body)
    return response.json() if response.raw else None


def four_steps(double, capsys, module, params, drift=None, expect_writes=1):
    """check run -> changed, no writes; run -> changed; check -> unchanged; run -> unchanged, zero writes.

    Then, if ``drift`` (a callable changing the app behind the module's back) is given: check run sees it,
    writes nothing; run repairs it; a last run is a no-op. Returns the request counts for the benchmark.
    """
    counts = {}
    result, reads, writes = counted(double, capsys, module, check_mode=True, **params)
    assert result["changed"] is True, result
    assert writes == 0, "check mode wrote %d requests" % writes
    result, reads, writes = counted(double, capsys, module, **params)
    assert result["changed"] is True, result
    assert writes == expect_writes, result
    counts["change"] = (reads, writes)
    result, reads, writes = counted(double, capsys, module, check_mode=True, **params)
    assert result["changed"] is False, result
    assert writes == 0
    result, reads, writes = counted(double, capsys, module, **params)
    assert result["changed"] is False, result
    assert writes == 0, "no-op run wrote %d requests" % writes
    counts["noop"] = (reads, writes)
    if drift is not None:
        drift()
        result, reads, writes = counted(double, capsys, module, check_mode=True, **params)
        assert result["changed"] is True and writes == 0, result
        result, reads, writes = counted(double, capsys, module, **params)
        assert result["changed"] is True and writes >= 1, result
        counts["drift"] = (reads, writes)
        result, reads, writes = counted(double, capsys, module, **params)
        assert result["changed"] is False and writes == 0, result
    return counts
