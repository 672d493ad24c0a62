# -*- coding: utf-8 -*-
# Copyright: monsterr.mediaserver developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Test tooling of the Molecule scenario `stack`: one JSON line per ansible-playbook run (playbook, check mode,
wall seconds, changed/ok counts per host) in $MOLECULE_EPHEMERAL_DIRECTORY/stack-bench.jsonl, for the benchmark
that the verify step prints."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: stack_bench
type: aggregate
short_description: Record each playbook run's duration and changed count (Molecule scenario stack)
description:
  - Appends one JSON line per run to C($MOLECULE_EPHEMERAL_DIRECTORY/stack-bench.jsonl).
requirements:
  - enabled in callbacks_enabled
"""

import json
import os
import time

from ansible import context
from ansible.plugins.callback import CallbackBase


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "stack_bench"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self):
        super(CallbackModule, self).__init__()
        self.start = time.time()
        self.playbook = ""

    def v2_playbook_on_start(self, playbook):
        self.start = time.time()
        self.playbook = os.path.basename(playbook._file_name)

    def v2_playbook_on_stats(self, stats):
        directory = os.environ.get("MOLECULE_EPHEMERAL_DIRECTORY")
        if not directory:
            return
        hosts = dict((host, stats.summarize(host)) for host in sorted(stats.processed))
        record = {"playbook": self.playbook, "check": bool(context.CLIARGS.get("check")),
                  "seconds": round(time.time() - self.start, 1), "hosts": hosts,
                  "label": os.environ.get("STACK_BENCH_LABEL", "")}
        with open(os.path.join(directory, "stack-bench.jsonl"), "a") as handle:
            handle.write(json.dumps(record) + "\n")
