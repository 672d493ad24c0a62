# -*- coding: utf-8 -*-
# Copyright: monsterr.mediaserver developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""tests/contracts.py: `make setup`'s fetch of the upstream contract documents (against an HTTP server of this test's
own on loopback: no network needed), the lookup every test and double goes through, and the project's manifest."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib
import json
import os
import re
import socket
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from ansible_collections.monsterr.mediaserver.tests import contracts

SCRIPT = contracts.__file__
DOCS = {"openapi/sonarr-v3.json": b'{"openapi": "3.0.1", "paths": {}}\n', "authelia/configuration.json": b'{"$defs": {}}\n'}


def sha(data):
    return hashlib.sha256(data).hexdigest()


class Upstream(object):
    """Serves DOCS (or what a test puts in `files`) at /<path>; counts the requests; 404 for anything else."""

    def __init__(self):
        self.files = dict(DOCS)
        self.requests = []
        upstream = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                upstream.requests.append(self.path)
                body = upstream.files.get(self.path.lstrip("/"))
                if body is None:
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = "http://127.0.0.1:%d/" % self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture()
def upstream():
    server = Upstream()
    yield server
    server.stop()


def write_manifest(tmp_path, rows):
    """rows: (path, body the manifest pins, url)."""
    lines = ["# test manifest", "\t".join(contracts.COLUMNS)]
    lines += ["\t".join([path, sha(body), str(len(body)), url]) for path, body, url in rows]
    manifest = tmp_path / "MANIFEST.tsv"
    manifest.write_text("\n".join(lines) + "\n")
    return str(manifest)


def fetch(tmp_path, manifest, mirror=None, timeout=5):
    env = dict((k, v) for k, v in os.environ.items() if k not in ("MONSTERR_CONTRACTS", "MONSTERR_CACHE"))
    env.update(NO_PROXY="127.0.0.1,localhost", no_proxy="127.0.0.1,localhost")
    argv = [sys.executable, SCRIPT, "fetch", "--manifest", manifest, "--cache", str(tmp_path / "cache"),
            "--timeout", str(timeout)]
    if mirror:
        env["MONSTERR_CONTRACTS"] = str(mirror)  # the variable make setup documents, not --mirror
    return subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True, env=env,
                          timeout=120)


def rows_for(upstream, paths=None):
    return [(p, DOCS[p], upstream.url + p) for p in (paths or sorted(DOCS))]


def cached(tmp_path, path):
    full = tmp_path / "cache" / path
    return full.read_bytes() if full.exists() else None


# --- fetch -----------------------------------------------------------------------------------------------------

def test_downloads_and_verifies_each_document_then_fetches_nothing_again(tmp_path, upstream):
    manifest = write_manifest(tmp_path, rows_for(upstream))
    first = fetch(tmp_path, manifest)
    assert first.returncode == 0, first.stdout
    assert "2 of 2 documents" in first.stdout and "2 downloaded" in first.stdout, first.stdout
    assert all(cached(tmp_path, p) == DOCS[p] for p in DOCS)
    assert sorted(upstream.requests) == ["/authelia/configuration.json", "/openapi/sonarr-v3.json"]
    again = fetch(tmp_path, manifest)
    assert again.returncode == 0 and "2 already there" in again.stdout, again.stdout
    assert len(upstream.requests) == 2  # verified files are not fetched again


def test_a_wrong_hash_is_an_error_naming_file_expected_and_actual(tmp_path, upstream):
    upstream.files["openapi/sonarr-v3.json"] = b'{"tampered": true}\n'
    manifest = write_manifest(tmp_path, rows_for(upstream))
    proc = fetch(tmp_path, manifest)
    assert proc.returncode == 1, proc.stdout
    expected, actual = sha(DOCS["openapi/sonarr-v3.json"]), sha(b'{"tampered": true}\n')
    assert "sha256 mismatch for openapi/sonarr-v3.json: expected %s, got %s" % (expected, actual) in proc.stdout
    assert "1 document(s) could not be fetched" in proc.stdout
    assert cached(tmp_path, "openapi/sonarr-v3.json") is None  # nothing unverified lands in the cache
    assert cached(tmp_path, "authelia/configuration.json") == DOCS["authelia/configuration.json"]


def test_not_found_and_unreachable_are_each_listed_with_url_and_reason_and_the_fix(tmp_path, upstream):
    dead = socket.socket()
    dead.bind(("127.0.0.1", 0))
    dead_port = dead.getsockname()[1]
    dead.close()  # nothing listens there any more: connection refused
    missing_url = upstream.url + "no/such/file.json"
    unreachable_url = "http://127.0.0.1:%d/openapi/sonarr-v3.json" % dead_port
    manifest = write_manifest(tmp_path, [("authelia/configuration.json", DOCS["authelia/configuration.json"], missing_url),
                                         ("openapi/sonarr-v3.json", DOCS["openapi/sonarr-v3.json"], unreachable_url)])
    proc = fetch(tmp_path, manifest)
    assert proc.returncode == 1, proc.stdout
    assert "2 document(s) could not be fetched" in proc.stdout
    assert re.search(r"authelia/configuration\.json .*\n +%s: HTTP 404" % re.escape(missing_url), proc.stdout), proc.stdout
    assert re.search(r"openapi/sonarr-v3\.json .*\n +%s: cannot connect: .*[Cc]onnection refused" % re.escape(unreachable_url),
                     proc.stdout), proc.stdout
    assert "set MONSTERR_CONTRACTS to a mirror directory" in proc.stdout and "127.0.0.1:" in proc.stdout
    assert "make setup" in proc.stdout


def test_a_server_that_never_answers_times_out(tmp_path):
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(1)  # accepts the connection, never answers
    try:
        url = "http://127.0.0.1:%d/openapi/sonarr-v3.json" % silent.getsockname()[1]
        manifest = write_manifest(tmp_path, [("openapi/sonarr-v3.json", DOCS["openapi/sonarr-v3.json"], url)])
        proc = fetch(tmp_path, manifest, timeout=1)
    finally:
        silent.close()
    assert proc.returncode == 1 and "%s: no answer within 1.0s" % url in proc.stdout, proc.stdout


def test_a_body_larger_than_the_manifest_says_is_refused(tmp_path, upstream):
    upstream.files["openapi/sonarr-v3.json"] = DOCS["openapi/sonarr-v3.json"] + b" " * 100
    manifest = write_manifest(tmp_path, rows_for(upstream, ["openapi/sonarr-v3.json"]))
    proc = fetch(tmp_path, manifest)
    assert proc.returncode == 1 and "more than the %d bytes the manifest lists" % len(DOCS["openapi/sonarr-v3.json"]) \
        in proc.stdout, proc.stdout


def test_the_mirror_is_used_without_any_download(tmp_path, upstream):
    mirror = tmp_path / "mirror"
    for path, body in DOCS.items():
        (mirror / path).parent.mkdir(parents=True, exist_ok=True)
        (mirror / path).write_bytes(body)
    proc = fetch(tmp_path, write_manifest(tmp_path, rows_for(upstream)), mirror=mirror)
    assert proc.returncode == 0 and "2 from the mirror %s" % mirror in proc.stdout, proc.stdout
    assert upstream.requests == []
    assert all(cached(tmp_path, p) == DOCS[p] for p in DOCS)


def test_a_partial_or_wrong_mirror_falls_back_to_the_pinned_url(tmp_path, upstream):
    mirror = tmp_path / "mirror"
    (mirror / "openapi").mkdir(parents=True)
    (mirror / "openapi" / "sonarr-v3.json").write_bytes(b"not the pinned one\n")  # authelia/ absent from the mirror
    proc = fetch(tmp_path, write_manifest(tmp_path, rows_for(upstream)), mirror=mirror)
    assert proc.returncode == 0, proc.stdout
    assert "2 downloaded" in proc.stdout
    assert "mirror %s: sha256 mismatch for openapi/sonarr-v3.json" % (mirror / "openapi" / "sonarr-v3.json") in proc.stdout
    assert all(cached(tmp_path, p) == DOCS[p] for p in DOCS)


def test_without_mirror_or_network_every_document_is_listed(tmp_path, upstream):
    """What `make setup` says offline: each document, where it was looked for, and why it failed."""
    mirror = tmp_path / "empty-mirror"
    mirror.mkdir()
    upstream.files.clear()
    manifest = write_manifest(tmp_path, rows_for(upstream))
    proc = fetch(tmp_path, manifest, mirror=mirror)
    assert proc.returncode == 1, proc.stdout
    for path in DOCS:
        assert "mirror %s: not there" % (mirror / path) in proc.stdout
        assert "%s%s: HTTP 404" % (upstream.url, path) in proc.stdout


def test_an_altered_cached_copy_is_replaced(tmp_path, upstream):
    manifest = write_manifest(tmp_path, rows_for(upstream, ["openapi/sonarr-v3.json"]))
    target = tmp_path / "cache" / "openapi" / "sonarr-v3.json"
    target.parent.mkdir(parents=True)
    target.write_bytes(b"edited by hand\n")
    proc = fetch(tmp_path, manifest)
    assert proc.returncode == 0 and "sha256 mismatch" in proc.stdout and "(replaced)" in proc.stdout, proc.stdout
    assert target.read_bytes() == DOCS["openapi/sonarr-v3.json"]


# --- the lookup tests and doubles use --------------------------------------------------------------------------

def test_document_names_the_missing_file_and_the_fix(tmp_path, upstream):
    manifest = write_manifest(tmp_path, rows_for(upstream))
    with pytest.raises(contracts.MissingContract) as missing:
        contracts.document("openapi/sonarr-v3.json", cache=str(tmp_path / "cache"), manifest=manifest)
    message = str(missing.value)
    assert "openapi/sonarr-v3.json is missing" in message and str(tmp_path / "cache") in message
    assert "make setup" in message and "MONSTERR_CONTRACTS" in message


def test_document_refuses_an_altered_copy_and_one_not_in_the_manifest(tmp_path, upstream):
    manifest = write_manifest(tmp_path, rows_for(upstream))
    target = tmp_path / "cache" / "openapi" / "sonarr-v3.json"
    target.parent.mkdir(parents=True)
    target.write_bytes(b"edited\n")
    with pytest.raises(contracts.MissingContract, match="not the pinned one: .* has sha256 %s, the manifest expects %s"
                       % (sha(b"edited\n"), sha(DOCS["openapi/sonarr-v3.json"]))):
        contracts.document("openapi/sonarr-v3.json", cache=str(tmp_path / "cache"), manifest=manifest)
    target.write_bytes(DOCS["openapi/sonarr-v3.json"])
    assert contracts.document("openapi/sonarr-v3.json", cache=str(tmp_path / "cache"), manifest=manifest) == str(target)
    with pytest.raises(contracts.MissingContract, match="is not in .*add it"):
        contracts.document("openapi/plex.yaml", cache=str(tmp_path / "cache"), manifest=manifest)


def test_path_command_fails_naming_make_setup_when_the_cache_is_empty(tmp_path):
    env = dict(os.environ, MONSTERR_CACHE=str(tmp_path))
    proc = subprocess.run([sys.executable, SCRIPT, "path", "openapi/sonarr-v3.json"], stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, universal_newlines=True, env=env)
    assert proc.returncode == 1
    assert "contract document openapi/sonarr-v3.json is missing: %s" % (tmp_path / "contracts" / "openapi" / "sonarr-v3.json") \
        in proc.stdout and "make setup" in proc.stdout, proc.stdout


def test_stage_lays_out_documents_and_fixtures_like_a_mirror(tmp_path):
    contracts.stage(str(tmp_path / "stage"), ["openapi/", "fixtures/"])
    staged = sorted(str(p.relative_to(tmp_path / "stage")) for p in (tmp_path / "stage").rglob("*") if p.is_file())
    documents = sorted(e.path for e in contracts.read_manifest() if e.path.startswith("openapi/"))
    fixtures = ["fixtures/" + n for n in contracts.fixture_names()]
    assert staged == sorted(documents + fixtures)
    assert all(sha((tmp_path / "stage" / e.path).read_bytes()) == e.sha256
               for e in contracts.read_manifest() if e.path.startswith("openapi/"))


# --- the project's manifest and fixtures -----------------------------------------------------------------------

def test_the_manifest_pins_every_document_by_commit():
    entries = contracts.read_manifest()
    assert len(set(e.path for e in entries)) == len(entries) > 0
    for entry in entries:
        assert re.match(r"^https://raw\.githubusercontent\.com/[^/]+/[^/]+/[0-9a-f]{40}/\S+$", entry.url), entry.url
        assert re.match(r"^[0-9a-f]{64}$", entry.sha256) and entry.size > 0


def test_the_documents_the_servarr_double_and_authelia_tests_open_are_in_the_manifest():
    from ansible_collections.monsterr.mediaserver.tests.doubles.servarr import SPEC_FILES
    paths = set(e.path for e in contracts.read_manifest())
    wanted = set("openapi/" + name for name in SPEC_FILES.values())
    wanted |= {"authelia/configuration.json", "authelia/user-database.json"}
    assert wanted <= paths, wanted - paths


def test_the_synthesized_fixtures_are_the_ones_their_provenance_names():
    """SOURCES.md beside them records each file's sha256: a fixture edited without its provenance fails here."""
    sources = open(os.path.join(contracts.FIXTURES, "SOURCES.md")).read()
    recorded = dict((name, digest) for name, digest in re.findall(r"^- (\S+\.synth\.json)\s+([0-9a-f]{64})$", sources, re.M))
    assert sorted(recorded) == contracts.fixture_names()
    for name, digest in recorded.items():
        with open(contracts.fixture(name), "rb") as handle:
            data = handle.read()
        assert sha(data) == digest, name
        assert json.loads(data.decode("utf-8")), name


# --- pytest.mark.needs (tests/conftest.py) ---------------------------------------------------------------------

def test_a_missing_prerequisite_fails_the_test_with_its_message_and_never_skips(tmp_path):
    (tmp_path / "test_prerequisites.py").write_text(
        "import pytest\n"
        "pytestmark = pytest.mark.needs(True, 'never shown')\n\n"
        "@pytest.mark.needs(None, 'frobnicate not found: run `make setup` (apt-get install frobnicate)')\n"
        "def test_missing():\n"
        "    raise AssertionError('the body must not run')\n\n"
        "def test_present():\n"
        "    pass\n")
    collections = os.path.join(contracts.ROOT, "collections")
    env = dict(os.environ, PYTHONPATH=collections + os.pathsep + os.environ.get("PYTHONPATH", ""))
    proc = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-c", os.devnull, "-rA",
                           "-p", "ansible_collections.monsterr.mediaserver.tests.conftest", str(tmp_path)],
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True, env=env,
                          cwd=str(tmp_path), timeout=120)
    assert proc.returncode == 1, proc.stdout
    assert re.search(r"1 passed, 1 error", proc.stdout) and "skipped" not in proc.stdout, proc.stdout
    assert "frobnicate not found: run `make setup` (apt-get install frobnicate)" in proc.stdout
    assert "the body must not run" not in proc.stdout and "never shown" not in proc.stdout.split("short test summary")[-1]
