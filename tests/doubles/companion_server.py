#!/usr/bin/env python3
# -*- coding: utf-8 -*-
# Copyright: monsterr.mediaserver developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Container mode of the Bazarr and Overseerr doubles (tests/doubles/bazarr.py, overseerr.py): the `companions`
test image (tests/images/companions) that stands in for Bazarr and Overseerr in the stack scenario.

Like the real images, each takes what the stack layer seeded before its first start:

- Bazarr: ``/config/config/config.yaml`` (``auth.apikey``, ``general.port``, ``general.base_url``).
- Overseerr: ``/config/settings.json`` (``main.apiKey``, ``public.initialized``); port 5055. Its API key works only
  once the admin has signed in (tests/doubles/overseerr.py); ``OVERSEERR_DOUBLE_ADMIN`` true (the test household
  says so) stands for "the household signed in and finished the setup wizard", which on the real Overseerr
  creates user 1 and writes ``public.initialized: true``. Otherwise every key-authenticated call gets 403 and
  ``/api/v1/settings/public`` says what the seeded settings.json says (false), as on a fresh Overseerr.

On top of the in-process doubles:

- Overseerr's connection test (``POST /api/v1/settings/<kind>/test``) really connects to the app, as Overseerr
  does: ``GET <app>/api/v3/qualityprofile`` and ``rootfolder`` with the given key, and answers with what it got
  (500 when the app cannot be reached or refuses the key).
- What the app holds (Bazarr's settings, Overseerr's servers) is kept in ``/config/<app>-double.json``, written
  after every change, so a recreated container keeps it.
- ``GET /__double__/stats`` (requests since the last ``POST /__double__/reset``: ``by_method``, ``writes``,
  ``requests`` as [method, path]) for the tests' request counts; these routes need no key and are not counted.

Run: ``python3 companion_server.py --app bazarr --config-dir /config``. Standard library only.
"""

from __future__ import absolute_import, division, print_function

import argparse
import json
import os
import re
import signal
import sys
import time
import urllib.error
import urllib.request

from ansible_collections.monsterr.mediaserver.tests.doubles.bazarr import BazarrDouble
from ansible_collections.monsterr.mediaserver.tests.doubles.overseerr import OverseerrDouble

TRUE = ("1", "true", "yes", "on")


def simple_yaml(text):
    """{section: {key: value}} of a two-level YAML mapping such as the seeded Bazarr config.yaml (no PyYAML here)."""
    out, section = {}, None
    for line in text.splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        top = re.match(r"^([A-Za-z_][\w-]*):\s*$", line)
        if top:
            section = out.setdefault(top.group(1), {})
            continue
        nested = re.match(r"^\s+([A-Za-z_][\w-]*):\s*(.*?)\s*$", line)
        if nested and section is not None:
            value = nested.group(2)
            if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
                value = value[1:-1]
            section[nested.group(1)] = value
    return out


class Persistent(object):
    """Counters at /__double__/ and the state kept in a JSON file (mixed into a LoopbackDouble)."""

    state_file = None
    counted_since = 0

    def load_state(self):
        if self.state_file and os.path.exists(self.state_file):
            with open(self.state_file) as handle:
                self.restore(json.load(handle))

    def save_state(self):
        if not self.state_file:
            return
        temporary = self.state_file + ".new"
        with os.fdopen(os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as handle:
            json.dump(self.snapshot(), handle)
        os.rename(temporary, self.state_file)

    def control(self, method, path):
        """The /__double__ routes, or None for an app route."""
        if not path.startswith("/__double__/"):
            return None
        self.log.pop()    # not counted
        if path == "/__double__/stats" and method == "GET":
            log = [entry for entry in self.log if not entry[1].startswith("/__double__/")]
            by_method = {}
            for entry in log:
                by_method[entry[0]] = by_method.get(entry[0], 0) + 1
            return 200, {"by_method": by_method, "writes": sum(1 for m, p in log if self.is_write(m, p)),
                         "requests": [list(entry) for entry in log]}
        if path == "/__double__/reset" and method == "POST":
            del self.log[:]
            return 200, {}
        return 404, {"message": "Not Found"}


class ContainerBazarr(Persistent, BazarrDouble):
    def snapshot(self):
        return {"settings": self.settings}

    def restore(self, saved):
        self.settings = saved.get("settings", self.settings)

    def handle(self, method, path, query, headers, raw):
        answer = self.control(method, path)
        if answer is not None:
            return answer
        status, payload = BazarrDouble.handle(self, method, path, query, headers, raw)
        if method == "POST" and status == 204:
            self.save_state()
        return status, payload


class ContainerOverseerr(Persistent, OverseerrDouble):
    def snapshot(self):
        return {"servers": self.servers}

    def restore(self, saved):
        self.servers = saved.get("servers", self.servers)

    def handle(self, method, path, query, headers, raw):
        answer = self.control(method, path)
        if answer is not None:
            return answer
        status, payload = OverseerrDouble.handle(self, method, path, query, headers, raw)
        if self.is_write(method, path) and 200 <= status < 300:
            self.save_state()
        return status, payload

    def _test(self, kind, body):
        """Connect to the app as Overseerr does and list its quality profiles and root folders."""
        scheme = "https" if body.get("useSsl") else "http"
        base = "%s://%s:%s%s/api/v3" % (scheme, body.get("hostname"), body.get("port"), (body.get("baseUrl") or "").rstrip("/"))

        def get(resource):
            request = urllib.request.Request("%s/%s" % (base, resource), headers={"X-Api-Key": body.get("apiKey") or ""})
            with urllib.request.urlopen(request, timeout=10) as response:
                return json.loads(response.read().decode("utf-8"))

        try:
            profiles = get("qualityprofile")
            folders = get("rootfolder")
        except (urllib.error.URLError, OSError, ValueError) as exc:
            return 500, {"message": "Failed to connect to %s (%s)" % (kind.capitalize(), exc)}
        answer = {"profiles": [{"id": p["id"], "name": p["name"]} for p in profiles],
                  "rootFolders": [{"id": f["id"], "path": f["path"]} for f in folders], "tags": [],
                  "urlBase": body.get("baseUrl") or ""}
        if kind == "sonarr":
            answer["languageProfiles"] = [{"id": 1, "name": "English"}]
        return 200, answer


def make(app, config_dir, environ, listen_port=None):
    """(double, port) from what the stack seeded into ``config_dir`` (``listen_port`` overrides the app's)."""
    if app == "bazarr":
        with open(os.path.join(config_dir, "config", "config.yaml")) as handle:
            config = simple_yaml(handle.read())
        general = config.get("general", {})
        double = ContainerBazarr(config.get("auth", {}).get("apikey", ""), general.get("base_url", ""))
        port = int(general.get("port") or 6767)
    else:
        with open(os.path.join(config_dir, "settings.json")) as handle:
            settings = json.load(handle)
        admin = str(environ.get("OVERSEERR_DOUBLE_ADMIN", "false")).lower() in TRUE
        seeded = (settings.get("public") or {}).get("initialized") is True
        double = ContainerOverseerr(settings.get("main", {}).get("apiKey", ""), admin_exists=admin,
                                    initialized=admin or seeded)
        port = 5055
    double.state_file = os.path.join(config_dir, "%s-double.json" % app)
    double.load_state()
    return double, listen_port or port


def main(argv=None):
    parser = argparse.ArgumentParser(description="Bazarr / Overseerr test double, container mode")
    parser.add_argument("--app", choices=["bazarr", "overseerr"], required=True)
    parser.add_argument("--config-dir", default="/config")
    parser.add_argument("--bind", default="0.0.0.0")
    args = parser.parse_args(argv)
    try:
        double, port = make(args.app, args.config_dir, os.environ)
    except (OSError, ValueError) as exc:
        sys.stderr.write("%s double: %s\n" % (args.app, exc))
        return 1
    double.start(args.bind, port)
    sys.stdout.write("%s double on %s:%d\n" % (args.app, args.bind, port))
    sys.stdout.flush()
    # As PID 1 in a container, SIGTERM (docker stop) must end the process as it ends the real apps.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        while True:
            time.sleep(3600)
    except (KeyboardInterrupt, SystemExit):
        double.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
