# -*- coding: utf-8 -*-
# Copyright: monsterr.mediaserver developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Test tooling of the Molecule scenario `stack`: one JSON line per ansible-playbook run (playbook, check mode,
wall seconds, changed/ok counts per host, and per role its seconds and module executions on the host) in
$MOLECULE_EPHEMERAL_DIRECTORY/stack-bench.jsonl, for the benchmark that the verify step prints."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: stack_bench
type: aggregate
short_description: Record each playbook run's duration and changed count (Molecule scenario stack)
description:
  - Appends one JSON line per run to C($MOLECULE_EPHEMERAL_DIRECTORY/stack-bench.jsonl).
  - Per role, the seconds from its first task's start to the next role's first task, and how many module executions it
    sent to hosts (each loop item counts; controller-side actions such as set_fact and debug do not).
requirements:
  - enabled in callbacks_enabled
"""

import json
import os
import time

# Actions that run on the controller only: no module execution on the host.
CONTROLLER_ACTIONS = frozenset(["set_fact", "debug", "fail", "assert", "include_tasks", "import_tasks", "include_role",
                                "import_role", "meta", "validate_argument_spec", "include_vars", "add_host",
                                "group_by", "set_stats"])

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
        self.roles = {}
        self.current = None
        self.since = None

    def v2_playbook_on_start(self, playbook):
        self.start = time.time()
        self.playbook = os.path.basename(playbook._file_name)

    def _close(self):
        if self.current is not None:
            self.roles[self.current]["seconds"] += time.time() - self.since
        self.current = None

    def v2_playbook_on_task_start(self, task, is_conditional):
        self._close()
        role = task._role.get_name(include_role_fqcn=False) if task._role else ""
        if role:
            self.roles.setdefault(role, {"seconds": 0.0, "executions": 0})
            self.current, self.since = role, time.time()

    def v2_playbook_on_handler_task_start(self, task):
        self.v2_playbook_on_task_start(task, False)

    def _count(self, result, item):
        task = result._task
        role = task._role.get_name(include_role_fqcn=False) if task._role else ""
        action = task.action.rsplit(".", 1)[-1]
        if not role or action in CONTROLLER_ACTIONS or (not item and "results" in result._result):
            return
        self.roles.setdefault(role, {"seconds": 0.0, "executions": 0})["executions"] += 1

    def v2_runner_on_ok(self, result):
        self._count(result, False)

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._count(result, False)

    def v2_runner_item_on_ok(self, result):
        self._count(result, True)

    def v2_runner_item_on_failed(self, result):
        self._count(result, True)

    def v2_playbook_on_stats(self, stats):
        directory = os.environ.get("MOLECULE_EPHEMERAL_DIRECTORY")
        if not directory:
            return
        self._close()
        hosts = dict((host, stats.summarize(host)) for host in sorted(stats.processed))
        roles = dict((name, {"seconds": round(r["seconds"], 1), "executions": r["executions"]})
                     for name, r in self.roles.items())
        record = {"playbook": self.playbook, "check": bool(context.CLIARGS.get("check")),
                  "seconds": round(time.time() - self.start, 1), "hosts": hosts, "roles": roles,
                  "label": os.environ.get("STACK_BENCH_LABEL", "")}
        with open(os.path.join(directory, "stack-bench.jsonl"), "a") as handle:
            handle.write(json.dumps(record) + "\n")
