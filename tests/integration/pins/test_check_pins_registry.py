# Copyright: monsterr.mediaserver developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""make check-pins against a real registry (Debian's docker-registry) that refuses requests without a token.

A catalog of the test's own points its apps at the test registry under the names users pull from:
lscr.io and ghcr.io (through a front door that paginates tags/list as ghcr.io does), docker.io (short
and long names), quay.io (through a front door that refuses HEAD) and gcr.io (nothing listening).
"""

import json
import os
import re
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.request

import pytest
import yaml
from ansible_collections.monsterr.mediaserver.tests.integration.pins.registry_stack import (
    CONTENT,
    ROOT,
    SERVICE,
    closed_port,
    run_checker,
)

SHIPPED_CATALOG = os.path.join(ROOT, "roles", "catalog", "services")


def _write_catalog(directory, entries):
    os.makedirs(directory, exist_ok=True)
    for app, entry in entries.items():
        with open(os.path.join(directory, app + ".yml"), "w") as handle:
            handle.write("---\n" + yaml.safe_dump({app: entry}, sort_keys=False))
    return directory


def _catalog_entries(digests):
    tool_110 = digests[("org/tool", "1.1.0")]
    return {
        "sonarr": {"image": "lscr.io/linuxserver/sonarr:4.0.19", "port": 8989,
                   "metrics": {"exporter": "exportarr", "image": "ghcr.io/onedr0p/exportarr:v2.3.0", "port": 9707}},
        # 6.0.3 was built only on the develop and nightly branches: 6.0.3-develop, 6.0.3-nightly exist.
        "radarr": {"image": "lscr.io/linuxserver/radarr:6.0.3",
                   "metrics": {"exporter": "exportarr", "image": "ghcr.io/onedr0p/exportarr:v2.3.0"}},
        # A two-part upstream version has only dated short tags (25.3.20260109) and v25.3-ls215.
        "nzbget": {"image": "lscr.io/linuxserver/nzbget:25.3"},
        "nzbget-dated": {"image": "ghcr.io/linuxserver/nzbget:25.3.20260109"},
        "proxy": {"image": "nginx:1.29.3-alpine"},
        "webserver": {"image": "docker.io/library/nginx:1.29.3"},
        "tool": {"image": "ghcr.io/org/tool:1.0.0", "sidecar_image": "ghcr.io/org/tool@" + tool_110},
        "tool-moved": {"image": "ghcr.io/org/tool:1.0.0@" + tool_110},
        "tool-gone": {"image": "ghcr.io/org/tool@sha256:" + "0" * 64},
        "absent": {"image": "ghcr.io/org/absent:1.0.0"},
        "thing": {"image": "quay.io/org/thing:3.1.0"},
        "cadvisor": {"image": "gcr.io/cadvisor/cadvisor:v0.52.1"},
    }


@pytest.fixture(scope="module")
def mapping(registry):
    return ",".join([
        "lscr.io=" + registry.paginating_url, "ghcr.io=" + registry.paginating_url, "docker.io=" + registry.url,
        "quay.io=" + registry.head_refusing_url, f"gcr.io=http://127.0.0.1:{closed_port()}"])


@pytest.fixture(scope="module")
def catalog(tmp_path_factory, registry):
    return _write_catalog(str(tmp_path_factory.mktemp("catalog")), _catalog_entries(registry.digests))


@pytest.fixture(scope="module")
def json_run(registry, catalog, mapping):
    """One checker run in JSON mode: (exit code, document, seconds, token requests, tags/list pages)."""
    del registry.tokens[:]
    del registry.pages[:]
    code, out, err, seconds = run_checker("--catalog", catalog, "--json", "--page-size", "2",
                                          env={"CHECK_PINS_REGISTRY_MAP": mapping})
    assert out, f"check-pins printed nothing (exit {code}): {err}"
    return code, json.loads(out), seconds, list(registry.tokens), list(registry.pages)


def _pin(document, app, field="image"):
    found = [p for p in document["pins"] if p["app"] == app and p["field"] == field]
    listed = [(p["app"], p["field"]) for p in document["pins"]]
    assert len(found) == 1, f"expected one {app} {field} in {listed}"
    return found[0]


def test_existing_tags_are_found_with_the_newest_stable_tag_per_scheme(json_run):
    code, document, _, _, _ = json_run
    expected = {
        # app, field: exists, newest stable, scheme
        ("sonarr", "image"): (True, "4.0.19", "linuxserver"),          # not 4.0.20-develop, 4.1.0-nightly, 4.0.9
        ("sonarr", "metrics.image"): (True, "v2.3.0", "semver"),       # not v2.10.0-rc.1, v2.4.0-beta.2, main
        ("radarr", "metrics.image"): (True, "v2.3.0", "semver"),
        ("nzbget-dated", "image"): (True, "25.3.20260109", "linuxserver"),   # not 25.4.20260301-testing
        ("proxy", "image"): (True, "1.29.10-alpine", "semver"),        # numeric, same variant: not 1.29.11-alpine3.22
        ("webserver", "image"): (True, "1.30.0", "semver"),
        ("tool", "image"): (True, "1.1.0", "semver"),                  # not 1.2.0-rc1, 2.0.0-alpha, edge
        ("tool", "sidecar_image"): (True, "1.1.0", "semver"),          # digest pin: plain versions
        ("thing", "image"): (True, "3.2.0", "semver"),                 # through a front door that refuses HEAD
    }
    for (app, field), (exists, newest, scheme) in expected.items():
        pin = _pin(document, app, field)
        assert (pin["exists"], pin["newest_stable"], pin["scheme"]) == (exists, newest, scheme), pin
        assert pin["error"] is None, pin
    assert _pin(document, "proxy")["registry"] == "docker.io"
    assert _pin(document, "proxy")["repository"] == "library/nginx"
    assert code == 1


def test_missing_and_develop_only_tags_are_reported_missing(json_run):
    code, document, _, _, _ = json_run
    radarr = _pin(document, "radarr")
    assert radarr["exists"] is False and radarr["newest_stable"] == "6.0.4", radarr
    assert any("6.0.3-develop" in note for note in radarr["notes"]), radarr
    nzbget = _pin(document, "nzbget")
    assert nzbget["exists"] is False and nzbget["newest_stable"] == "25.3.20260109", nzbget
    assert any("25.3.20260109" in note for note in nzbget["notes"]), nzbget
    gone = _pin(document, "tool-gone")
    assert gone["exists"] is False and gone["pinned_digest"] == "sha256:" + "0" * 64, gone
    absent = _pin(document, "absent")
    assert absent["exists"] is False and any("not found" in note for note in absent["notes"]), absent
    summary = document["summary"]
    assert (summary["missing"], summary["unchecked"], summary["exit"]) == (4, 1, 1), summary
    assert code == 1


def test_digest_pins_are_checked_by_digest(json_run, registry):
    _, document, _, _, _ = json_run
    moved = _pin(document, "tool-moved")
    assert moved["exists"] is True and moved["digest"] == registry.digests[("org/tool", "1.1.0")], moved
    assert any("tag 1.0.0 now points at " + registry.digests[("org/tool", "1.0.0")] in note
               for note in moved["notes"]), moved
    assert _pin(document, "tool", "sidecar_image")["digest"] == registry.digests[("org/tool", "1.1.0")]


def test_an_unreachable_registry_is_named_and_its_pins_not_checked(json_run):
    _code, document, seconds, _, _ = json_run
    cadvisor = _pin(document, "cadvisor")
    assert cadvisor["exists"] is None and cadvisor["error"].startswith("cannot reach gcr.io (GET http://127.0.0.1:")
    assert set(document["summary"]["registry_errors"]) == {"gcr.io"}
    assert seconds < 30, f"the checker took {seconds:.1f} s"


def test_the_registry_refuses_requests_without_a_token(registry):
    """The premise of the token test: no bearer token, no manifest (401 with the Bearer challenge)."""
    request = urllib.request.Request(registry.url + "/v2/linuxserver/sonarr/manifests/4.0.19", method="HEAD")
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(request, timeout=5)
    assert caught.value.code == 401
    challenge = caught.value.headers["WWW-Authenticate"]
    assert challenge.startswith("Bearer ") and f'realm="{registry.realm}"' in challenge, challenge


def test_the_checker_fetched_anonymous_pull_tokens_from_the_realm(json_run):
    _, document, _, tokens, _ = json_run
    assert tokens, "the checker asked the token endpoint for nothing"
    assert all(t["anonymous"] for t in tokens), f"the checker sent credentials: {tokens}"
    assert all(t["service"] == SERVICE for t in tokens), tokens
    scopes = {scope for t in tokens for scope in t["scopes"]}
    for repository in ("linuxserver/sonarr", "linuxserver/radarr", "linuxserver/nzbget", "library/nginx",
                       "onedr0p/exportarr", "org/tool", "org/thing"):
        assert f"repository:{repository}:pull" in scopes, scopes
    # The registry accepts only tokens signed by the test's key: found pins prove the tokens were used.
    assert _pin(document, "sonarr")["exists"] is True


def test_tag_lists_are_followed_through_link_pagination(json_run):
    _, document, _, _, pages = json_run
    sonarr_pages = [p for p in pages if p.startswith("/v2/linuxserver/sonarr/tags/list")]
    assert len(sonarr_pages) == (len(CONTENT["linuxserver/sonarr"][1]) + 1) // 2, sonarr_pages
    assert any("last=" in p for p in sonarr_pages), sonarr_pages
    # With 2 tags a page, 4.0.19 and 6.0.4 sit on later pages (tags come in lexical order).
    assert _pin(document, "sonarr")["newest_stable"] == "4.0.19"
    assert _pin(document, "radarr")["newest_stable"] == "6.0.4"


def test_an_index_is_found_only_with_the_index_accept_header(registry, json_run):
    """Premise: the registry hides an OCI index from a client that does not accept indexes."""
    query = f"service={SERVICE}&scope=repository:onedr0p/exportarr:pull"
    with urllib.request.urlopen(registry.realm + "?" + query, timeout=5) as reply:
        token = json.load(reply)["token"]
    request = urllib.request.Request(
        registry.url + "/v2/onedr0p/exportarr/manifests/v2.3.0", method="HEAD",
        headers={"Authorization": "Bearer " + token, "Accept": "application/vnd.oci.image.manifest.v1+json"})
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(request, timeout=5)
    assert caught.value.code == 404
    assert _pin(json_run[1], "sonarr", "metrics.image")["exists"] is True


def test_text_output_one_line_per_image_and_a_summary(registry, catalog, mapping):
    code, out, _err, _ = run_checker("--catalog", catalog, "--registry-map", mapping)
    print(out)
    lines = out.splitlines()
    assert lines[0].split() == ["APP", "PINNED", "EXISTS", "NEWEST", "STABLE"], lines[0]
    rows = {re.split(r"\s{2,}", line)[0]: line for line in lines[1:] if line and not line.startswith("check-pins:")}
    assert re.match(r"^radarr\s+lscr\.io/linuxserver/radarr:6\.0\.3\s+NO\s+6\.0\.4\s+\(", rows["radarr"]), rows

    assert re.match(r"^sonarr\s+lscr\.io/linuxserver/sonarr:4\.0\.19\s+yes\s+4\.0\.19$", rows["sonarr"])
    assert re.match(r"^sonarr metrics\.image\s+ghcr\.io/onedr0p/exportarr:v2\.3\.0\s+yes\s+v2\.3\.0$",
                    rows["sonarr metrics.image"])
    assert re.search(r"^cadvisor\s+gcr\.io/cadvisor/cadvisor:v0\.52\.1\s+\?\s+\?", rows["cadvisor"])
    assert "check-pins: cannot reach gcr.io (GET http://127.0.0.1:" in out
    assert "check-pins: 15 pins: 10 exist, 4 missing, 1 not checked" in out
    assert code == 1


def test_all_pins_present_exits_0(registry, tmp_path):
    catalog = _write_catalog(str(tmp_path / "catalog"), {"sonarr": {"image": "lscr.io/linuxserver/sonarr:4.0.18"}})
    code, out, err, _ = run_checker("--catalog", catalog, "--registry-map", "lscr.io=" + registry.url)
    assert code == 0, out + err
    assert re.search(r"^sonarr\s+lscr\.io/linuxserver/sonarr:4\.0\.18\s+yes\s+4\.0\.19$", out, re.MULTILINE), out
    assert "1 pins: 1 exist, 0 missing, 0 not checked; 1 have a newer stable tag" in out


# -- The shipped catalog, with no registry reachable ------------------------------------------------------


def _shipped_pins():
    """(file, image) of every image field in the shipped catalog, read without the checker's code."""
    pins = []
    for name in sorted(os.listdir(SHIPPED_CATALOG)):
        with open(os.path.join(SHIPPED_CATALOG, name)) as handle:
            for line in handle:
                line = re.sub(r"(^|\s)#.*", "", line)                 # block or flow style, no comments
                for value in re.findall(r"""(?:^|[\s{,])(?:\w+_)?image:\s*["']?([^\s"',}]+)""", line):
                    pins.append((name, value))
    return pins


def _registry_of(image):
    first = image.split("/", 1)[0]
    return first if "/" in image and ("." in first or ":" in first) else "docker.io"


def test_shipped_catalog_every_image_field_and_one_line_per_unreachable_registry():
    """No registry answers: one 'cannot reach <registry>' line per registry, every pin listed, exit 2."""
    expected = _shipped_pins()
    registries = sorted({_registry_of(image) for _, image in expected})
    assert len(expected) > len(os.listdir(SHIPPED_CATALOG)), f"metrics images are missing from {expected}"
    port = closed_port()
    code, out, _err, seconds = run_checker("--json", "--registry-map", f"*=http://127.0.0.1:{port}")
    document = json.loads(out)
    assert sorted((os.path.basename(p["file"]), p["image"]) for p in document["pins"]) == sorted(expected)
    assert any(p["field"] == "metrics.image" for p in document["pins"])
    assert sorted(document["summary"]["registry_errors"]) == registries
    for name, error in document["summary"]["registry_errors"].items():
        assert error.startswith(f"cannot reach {name} (GET http://127.0.0.1:{port}/v2/)"), error
    assert (document["summary"]["unchecked"], code) == (len(expected), 2)
    assert seconds < 15, f"{seconds:.1f} s with every registry refusing connections"


@pytest.fixture
def silent_server():
    """A TCP port that accepts connections and never answers (a registry behind a black hole)."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    held = []
    stop = threading.Event()

    def accept():
        sock.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(sock.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield sock.getsockname()[1]
    stop.set()
    thread.join()
    for conn in held:
        conn.close()
    sock.close()


def test_a_silent_registry_costs_one_timeout_not_one_per_image(silent_server):
    registries = sorted({_registry_of(image) for _, image in _shipped_pins()})
    code, out, err, seconds = run_checker("--timeout", "1", "--registry-map", f"*=http://127.0.0.1:{silent_server}")
    for name in registries:
        line = f"check-pins: cannot reach {name} (GET http://127.0.0.1:{silent_server}/v2/): no answer within 1 s"
        assert line in out.splitlines(), out
    assert code == 2, out + err
    # The probes run in parallel and an unreachable registry is never asked again: about one timeout.
    assert seconds < 6, f"{seconds:.1f} s for {len(registries)} registries with a 1 s timeout"


def test_make_check_pins_runs_the_checker(tmp_path):
    port = closed_port()
    started = time.time()
    result = subprocess.run(["make", "-s", "--no-print-directory", "check-pins",
                             f"ARGS=--registry-map *=http://127.0.0.1:{port} sonarr"],
                            check=False, cwd=ROOT, capture_output=True, text=True, timeout=120,
                            env={k: v for k, v in os.environ.items() if k != "CHECK_PINS_REGISTRY_MAP"})
    assert result.returncode != 0, result.stdout + result.stderr
    assert re.search(r"^sonarr\s+lscr\.io/linuxserver/sonarr:\S+\s+\?", result.stdout, re.MULTILINE), result.stdout
    assert f"check-pins: cannot reach lscr.io (GET http://127.0.0.1:{port}/v2/)" in result.stdout
    assert time.time() - started < 30


@pytest.fixture
def stalling_registry():
    """Answers the /v2/ probe (an open registry) and then never answers anything else within the timeout."""
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    release = threading.Event()
    asked = []

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_GET(self):
            asked.append(self.path)
            if self.path != "/v2/":
                release.wait(10)
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"{}")

        do_HEAD = do_GET

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}", asked
    release.set()
    httpd.shutdown()
    httpd.server_close()


def test_a_registry_that_stalls_after_the_probe_is_given_up_after_one_timeout(stalling_registry, tmp_path):
    url, asked = stalling_registry
    entries = {f"app{i}": {"image": f"lscr.io/linuxserver/app{i}:1.0.{i}"} for i in range(5)}
    catalog = _write_catalog(str(tmp_path / "catalog"), entries)
    code, out, _err, seconds = run_checker("--catalog", catalog, "--json", "--jobs", "1", "--timeout", "1",
                                          "--registry-map", "lscr.io=" + url)
    document = json.loads(out)
    assert [p["exists"] for p in document["pins"]] == [None] * 5, document["pins"]
    assert all("cannot reach lscr.io" in p["error"] and "no answer within 1 s" in p["error"]
               for p in document["pins"]), document["pins"]
    assert code == 2
    assert asked[0] == "/v2/" and len(asked) == 2, asked     # the probe, then one request that timed out
    assert seconds < 4.5, f"{seconds:.1f} s: each image waited for its own timeout"


def test_a_pin_that_is_no_image_reference_counts_as_missing(tmp_path):
    catalog = _write_catalog(str(tmp_path / "catalog"), {"broken": {"image": "lscr.io/LinuxServer/Sonarr:4.0.19"}})
    code, out, err, _ = run_checker("--catalog", catalog, "--registry-map", f"*=http://127.0.0.1:{closed_port()}")
    assert re.search(r"^broken\s+lscr\.io/LinuxServer/Sonarr:4\.0\.19\s+NO\s+-\s+\(not a pullable image reference: "
                     r"repository 'LinuxServer/Sonarr' is not a valid name", out, re.MULTILINE), out
    assert "1 pins: 0 exist, 1 missing, 0 not checked" in out
    assert code == 1, out + err
