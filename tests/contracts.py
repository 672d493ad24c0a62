#!/usr/bin/env python3
# -*- coding: utf-8 -*-
# Copyright: monsterr.mediaserver developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The contract documents the tests check against, and the one place that knows where they are.

Two kinds, two places:

- Upstream documents (the apps' OpenAPI specs, Authelia's JSON schemas) are NOT in the repository. The manifest
  tests/fixtures/contracts/MANIFEST.tsv lists each one the tests use: its path, sha256, size and the upstream URL
  pinned by commit. ``make setup`` runs ``fetch`` (below), which puts them in the git-ignored cache
  ``.cache/contracts/<path>`` (``$MONSTERR_CACHE/contracts`` when MONSTERR_CACHE is set): from a local mirror
  directory when MONSTERR_CONTRACTS names one that holds the file under the same path, else from the pinned URL.
  Every file is checked against its sha256; a verified cached file is not fetched again.
- Fixtures the project synthesized itself (``*.synth.json``) are the project's own and live in the repository,
  tests/fixtures/contracts/synthesized/, with their provenance (SOURCES.md there).

Tests, doubles and image staging ask this module for a path: ``document("openapi/sonarr-v3.json")``,
``fixture("sonarr-v3-downloadclient-schema.synth.json")``. A missing or altered document raises MissingContract,
whose message names the file and the fix (``make setup``, MONSTERR_CONTRACTS). Standard library only: it also runs
as a script, from scripts/setup.sh and tests/images/servarr/stage.sh:

    python3 tests/contracts.py fetch [--mirror DIR] [--cache DIR] [--manifest FILE] [--timeout S]
    python3 tests/contracts.py path DOCUMENT...        # the verified cached path of each document
    python3 tests/contracts.py stage DEST [PREFIX...]  # DEST/<path> for each document, DEST/fixtures/<name>
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import argparse
import concurrent.futures
import hashlib
import os
import shutil
import socket
import sys
import tempfile
import urllib.error
import urllib.request

HERE = os.path.dirname(os.path.realpath(__file__))
ROOT = os.path.dirname(HERE)
CONTRACTS = os.path.join(HERE, "fixtures", "contracts")
MANIFEST = os.path.join(CONTRACTS, "MANIFEST.tsv")
FIXTURES = os.path.join(CONTRACTS, "synthesized")
COLUMNS = ["path", "sha256", "bytes", "url"]
FIX = ("Fix: run `make setup`, which fetches the documents of %s from their pinned upstream URLs; "
       "offline, first point MONSTERR_CONTRACTS at a mirror directory holding them under the same paths."
       % os.path.relpath(MANIFEST, ROOT))


class MissingContract(Exception):
    """A contract document the tests need is absent or not the pinned one."""


class Entry(object):
    def __init__(self, path, sha256, size, url):
        self.path, self.sha256, self.size, self.url = path, sha256, size, url


def read_manifest(manifest=MANIFEST):
    """The manifest's entries: tab-separated path, sha256, bytes, url; `#` lines and the header are skipped."""
    entries = []
    with open(manifest) as handle:
        for number, line in enumerate(handle, 1):
            line = line.rstrip("\n")
            if not line.strip() or line.startswith("#"):
                continue
            cells = line.split("\t")
            if cells == COLUMNS:
                continue
            if len(cells) != 4 or len(cells[1]) != 64 or not cells[2].isdigit() or os.path.isabs(cells[0]) \
                    or ".." in cells[0].split("/"):
                raise ValueError("%s line %d: expected <relative path> TAB <sha256> TAB <bytes> TAB <url>, got %r"
                                 % (manifest, number, line))
            entries.append(Entry(cells[0], cells[1].lower(), int(cells[2]), cells[3]))
    return entries


def cache_dir():
    """Where `make setup` puts the upstream documents (scripts/lib.sh's CACHE, plus contracts/)."""
    return os.path.join(os.environ.get("MONSTERR_CACHE") or os.path.join(ROOT, ".cache"), "contracts")


def sha256_of(path):
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


_VERIFIED = {}


def document(path, cache=None, manifest=MANIFEST):
    """The absolute path of an upstream document, after checking it is the pinned one (once per process)."""
    entries = dict((e.path, e) for e in read_manifest(manifest))
    if path not in entries:
        raise MissingContract("%s is not in %s: add it (path, sha256, bytes, upstream URL pinned by commit) before a "
                              "test uses it" % (path, os.path.relpath(manifest, ROOT)))
    entry = entries[path]
    full = os.path.join(cache or cache_dir(), path)
    if _VERIFIED.get(full) == entry.sha256:
        return full
    if not os.path.isfile(full):
        raise MissingContract("contract document %s is missing: %s does not exist (upstream: %s). %s"
                              % (path, full, entry.url, FIX))
    actual = sha256_of(full)
    if actual != entry.sha256:
        raise MissingContract("contract document %s is not the pinned one: %s has sha256 %s, the manifest expects %s. "
                              "%s" % (path, full, actual, entry.sha256, FIX))
    _VERIFIED[full] = entry.sha256
    return full


def fixture(name):
    """The absolute path of a fixture the project synthesized (in the repository)."""
    full = os.path.join(FIXTURES, name)
    if not os.path.isfile(full):
        raise MissingContract("synthesized fixture %s is missing from %s: it is part of the repository (git checkout "
                              "-- %s)" % (name, FIXTURES, os.path.relpath(full, ROOT)))
    return full


def fixture_names():
    return sorted(n for n in os.listdir(FIXTURES) if n.endswith(".json"))


def stage(dest, prefixes=None):
    """Copy the documents (those under `prefixes`, default all) to DEST/<path> and the fixtures to DEST/fixtures/:
    the layout of a contracts mirror, which the Servarr double reads with --contracts DEST."""
    wanted = [e for e in read_manifest() if not prefixes or any(e.path.startswith(p) for p in prefixes)]
    missing = []
    for entry in wanted:
        try:
            source = document(entry.path)
        except MissingContract as exc:
            missing.append(str(exc))
            continue
        target = os.path.join(dest, entry.path)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        shutil.copyfile(source, target)
    if missing:
        raise MissingContract("\n".join(missing))
    if not prefixes or "fixtures/" in prefixes:
        os.makedirs(os.path.join(dest, "fixtures"), exist_ok=True)
        for name in fixture_names():
            shutil.copyfile(fixture(name), os.path.join(dest, "fixtures", name))


# ------------------------------------------------------------------------------------------------
# fetch: what `make setup` runs

def _download(url, size, timeout):
    """The body at url (the environment's http(s)_proxy and no_proxy apply); never more than size + 1 bytes read."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            data = response.read(size + 1)
    except urllib.error.HTTPError as exc:
        raise IOError("HTTP %s %s" % (exc.code, exc.reason))
    except urllib.error.URLError as exc:
        reason = exc.reason
        if isinstance(reason, socket.timeout):
            reason = "no answer within %ss" % timeout
        raise IOError("cannot connect: %s" % reason)
    except (socket.timeout, TimeoutError):
        raise IOError("no answer within %ss" % timeout)
    if len(data) > size:
        raise IOError("more than the %d bytes the manifest lists" % size)
    return data


def _install(data, target):
    os.makedirs(os.path.dirname(target), exist_ok=True)
    handle, tmp = tempfile.mkstemp(dir=os.path.dirname(target), prefix=".part-")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        os.chmod(tmp, 0o644)
        os.replace(tmp, target)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def _mismatch(entry, data):
    actual = hashlib.sha256(data).hexdigest()
    if actual != entry.sha256:
        return "sha256 mismatch for %s: expected %s, got %s (%d bytes)" % (entry.path, entry.sha256, actual, len(data))
    return None


def fetch_one(entry, cache, mirror, timeout):
    """(how, problems): how is 'present', 'mirror' or 'download', or None with the reason of every source tried."""
    target = os.path.join(cache, entry.path)
    problems = []
    if os.path.isfile(target):
        actual = sha256_of(target)
        if actual == entry.sha256:
            return "present", []
        problems.append("cached %s: sha256 mismatch for %s: expected %s, got %s (replaced)"
                        % (target, entry.path, entry.sha256, actual))
    if mirror:
        source = os.path.join(mirror, entry.path)
        if os.path.isfile(source):
            with open(source, "rb") as handle:
                data = handle.read()
            wrong = _mismatch(entry, data)
            if not wrong:
                _install(data, target)
                return "mirror", problems
            problems.append("mirror %s: %s" % (source, wrong))
        else:
            problems.append("mirror %s: not there" % source)
    if entry.url in ("", "-"):
        problems.append("no upstream URL in the manifest")
        return None, problems
    try:
        data = _download(entry.url, entry.size, timeout)
    except IOError as exc:
        problems.append("%s: %s" % (entry.url, exc))
        return None, problems
    wrong = _mismatch(entry, data)
    if wrong:
        problems.append("%s: %s" % (entry.url, wrong))
        return None, problems
    _install(data, target)
    return "download", problems


def fetch(manifest=MANIFEST, cache=None, mirror=None, timeout=20.0, out=sys.stderr):
    """Fill the cache; print what happened; return the number of documents that could not be had."""
    cache = cache or cache_dir()
    entries = read_manifest(manifest)
    if mirror and not os.path.isdir(mirror):
        print("contracts: MONSTERR_CONTRACTS=%s is not a directory; downloading instead" % mirror, file=out)
        mirror = None
    with concurrent.futures.ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(lambda e: fetch_one(e, cache, mirror, timeout), entries))
    counts = dict((how, sum(1 for h, _ in results if h == how)) for how in ("present", "mirror", "download"))
    failed = [(e, problems) for e, (how, problems) in zip(entries, results) if how is None]
    for entry, (how, problems) in zip(entries, results):
        if how is not None and problems:  # a replaced cached copy, or a mirror copy that was wrong
            print("contracts: %s: %s; got it from the %s" % (entry.path, "; ".join(problems),
                                                             "upstream URL" if how == "download" else how), file=out)
    print("contracts: %d of %d documents of %s in %s (%d already there, %d from the mirror %s, %d downloaded)"
          % (len(entries) - len(failed), len(entries), os.path.relpath(manifest, ROOT) if manifest == MANIFEST
             else manifest, cache, counts["present"], counts["mirror"], mirror or "(MONSTERR_CONTRACTS unset)",
             counts["download"]), file=out)
    if failed:
        print("contracts: ERROR: %d document(s) could not be fetched:" % len(failed), file=out)
        for entry, problems in failed:
            print("  %s  (sha256 %s, %d bytes)" % (entry.path, entry.sha256, entry.size), file=out)
            for problem in problems:
                print("      %s" % problem, file=out)
        print("contracts: the tests that use them will fail until they are there. Fix: set MONSTERR_CONTRACTS to a "
              "mirror directory that holds these files under the same paths, or allow HTTPS access to %s, then run "
              "`make setup` again." % ", ".join(sorted(set(host_of(e.url) for e, _ in failed))), file=out)
    return len(failed)


def host_of(url):
    return url.split("://", 1)[-1].split("/", 1)[0] if "://" in url else url


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    fetch_cmd = commands.add_parser("fetch", help="put every document of the manifest in the cache, verified")
    fetch_cmd.add_argument("--manifest", default=MANIFEST)
    fetch_cmd.add_argument("--cache", default=None, help="default: $MONSTERR_CACHE/contracts or .cache/contracts")
    fetch_cmd.add_argument("--mirror", default=os.environ.get("MONSTERR_CONTRACTS") or None,
                           help="a directory holding the documents under their manifest paths (default: "
                                "$MONSTERR_CONTRACTS)")
    fetch_cmd.add_argument("--timeout", type=float, default=20.0, help="seconds per download (default 20)")
    path_cmd = commands.add_parser("path", help="print the verified cached path of each document")
    path_cmd.add_argument("documents", nargs="+")
    stage_cmd = commands.add_parser("stage", help="copy documents and fixtures into DEST in the mirror layout")
    stage_cmd.add_argument("dest")
    stage_cmd.add_argument("prefixes", nargs="*", help="only documents whose path starts with one of these, and the "
                           "fixtures only if one is fixtures/ (default: everything)")
    args = parser.parse_args(argv)
    try:
        if args.command == "fetch":
            return 1 if fetch(args.manifest, args.cache, args.mirror, args.timeout) else 0
        if args.command == "path":
            for name in args.documents:
                print(document(name))
            return 0
        stage(args.dest, args.prefixes)
        return 0
    except (MissingContract, ValueError) as exc:
        print("contracts: ERROR: %s" % exc, file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
