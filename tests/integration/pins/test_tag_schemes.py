# Copyright: monsterr.mediaserver developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The pin checker's pure functions: tag schemes, image references, challenges, pagination links, catalog walk.

linuxserver's tag rules come from its Jenkinsfile template (e.g. linuxserver/docker-wireguard Jenkinsfile,
stage "Sanitize tag" and the push stages): SEMVER is the first X.Y.Z of the upstream version, or X.Y plus
the build date (YYYYMMDD) for a two-part version, with "-<branch>" appended off the default branch; every
build also pushes <full>-ls<N>, version-<full> and latest.
"""

import pytest
from ansible_collections.monsterr.mediaserver.tests.integration.pins.registry_stack import (
    load_checker,
)

pins = load_checker()


# -- linuxserver ------------------------------------------------------------------------------------------

SONARR = ["4.0.9", "4.0.9.2244-ls240", "4.0.18", "4.0.19", "4.0.19.2979-ls300", "version-4.0.19.2979", "latest",
          "4.0.20-develop", "develop-4.0.20.3001-ls12", "develop", "4.1.0-nightly", "nightly-4.1.0.100-ls5",
          "amd64-4.0.19.2979-ls300", "arm64v8-4.0.19.2979-ls300"]


def test_linuxserver_newest_is_the_highest_short_stable_tag_numerically():
    assert pins.newest_linuxserver(SONARR) == "4.0.19"          # 4.0.9 sorts last lexically, not here


def test_linuxserver_develop_and_nightly_builds_never_count():
    develop_only = ["6.0.3-develop", "develop-6.0.3.10250-ls283", "6.0.3-nightly", "nightly-6.0.3.10260-ls290",
                    "develop", "nightly", "latest"]
    assert pins.newest_linuxserver(develop_only) is None
    assert pins.newest_linuxserver(develop_only + ["5.28.0", "5.28.0.10274-ls286"]) == "5.28.0"
    assert pins.newest_linuxserver(develop_only + ["6.0.4", "6.0.4.10291-ls287"]) == "6.0.4"


def test_linuxserver_two_part_versions_have_dated_short_tags():
    tags = ["25.2.20251101", "v25.2-ls205", "25.3.20260109", "v25.3-ls215", "version-v25.3", "latest",
            "25.4.20260301-testing", "testing-v25.4-ls3"]
    assert pins.newest_linuxserver(tags) == "25.3.20260109"
    assert pins.newest_linuxserver(tags + ["25.3.20260120"]) == "25.3.20260120"     # a rebuild of 25.3


def test_linuxserver_build_tags_are_not_versions():
    # <full>-lsN tags have four parts and a build suffix; only the short tag is the pin users want.
    assert pins.newest_linuxserver(["1.42.2.10156-f737b826c-ls280", "1.42.2", "1.41.9"]) == "1.42.2"
    assert pins.newest_linuxserver(["4.0.19.2979", "4.0.19"]) == "4.0.19"


@pytest.mark.parametrize("image,linuxserver", [
    ("lscr.io/linuxserver/sonarr:4.0.19", True),
    ("ghcr.io/linuxserver/sonarr:4.0.19", True),
    ("linuxserver/sonarr:4.0.19", True),
    ("ghcr.io/onedr0p/exportarr:v2.3.0", False),
    ("quay.io/linuxserver/sonarr:4.0.19", False),
    ("docker.io/library/nginx:1.29.3-alpine", False),
])
def test_scheme_by_publisher(image, linuxserver):
    ref = pins.parse_reference(image)
    assert pins.newest_stable(ref, ["4.0.19"])[1] == ("linuxserver" if linuxserver else "semver")


# -- semver-ish -------------------------------------------------------------------------------------------

def test_semver_keeps_the_pins_variant_and_sorts_numerically():
    nginx = ["1.29.2-alpine", "1.29.3-alpine", "1.29.10-alpine", "1.29.3", "1.30.0", "1.29-alpine", "1-alpine",
             "mainline-alpine", "alpine", "latest", "1.29.11-alpine-slim", "1.29.11-alpine3.22", "1.31.0-rc1-alpine"]
    assert pins.newest_semver(nginx, "1.29.3-alpine") == "1.29.10-alpine"
    assert pins.newest_semver(nginx, "1.29.3") == "1.30.0"
    assert pins.newest_semver(nginx, "1.29.11-alpine-slim") == "1.29.11-alpine-slim"


def test_semver_skips_prereleases_and_moving_tags():
    exportarr = ["v2.2.0", "v2.3.0", "v2.10.0-rc.1", "v2.4.0-beta.2", "v2.5.0-alpha", "main", "master", "latest",
                 "sha-1a2b3c4", "edge", "nightly", "develop", "v2.6.0-dev", "v2.7.0-preview1"]
    assert pins.newest_semver(exportarr, "v2.3.0") == "v2.3.0"
    # grafana-style build tags (version-buildnumber) and security re-releases are other shapes
    grafana = ["12.2.1", "12.3.0-17936170488", "12.2.1-ubuntu", "12.2.2-security-01", "main", "nightly"]
    assert pins.newest_semver(grafana, "12.2.1") == "12.2.1"
    redis = ["8.2.2-alpine", "8.2.3-alpine", "8.4-rc1-alpine", "8.4.0-rc1-alpine", "8.2.3-alpine3.22"]
    assert pins.newest_semver(redis, "8.2.2-alpine") == "8.2.3-alpine"


def test_semver_keeps_the_v_prefix_and_the_number_of_parts():
    tags = ["v0.52.1", "v0.53.0", "0.60.0", "v1", "v0.53"]
    assert pins.newest_semver(tags, "v0.52.1") == "v0.53.0"
    assert pins.newest_semver(tags, "0.52.1") == "0.60.0"


def test_semver_pinned_prerelease_or_no_tag_compares_with_plain_releases():
    tags = ["1.0.0", "1.1.0", "1.2.0-rc1", "2.0.0-alpha", "edge", "1.1", "20260101"]
    assert pins.newest_semver(tags, "1.2.0-rc1") == "1.1.0"
    assert pins.newest_semver(tags, None) == "1.1.0"        # digest pins; 20260101 is a date, not a version
    assert pins.newest_semver(["latest", "main"], "1.0.0") is None


@pytest.mark.parametrize("rest,prerelease", [
    ("-rc1", True), ("-rc.1", True), ("-beta.2", True), ("-alpha", True), ("-develop", True), ("-nightly", True),
    ("-testing", True), ("-dev", True), ("-preview1", True), ("-rc1-alpine", True),
    ("", False), ("-alpine", False), ("-alpine3.22", False), ("-alpine-slim", False), ("-ubuntu", False),
    ("-ls300", False),
])
def test_prerelease_markers(rest, prerelease):
    assert pins.is_prerelease(rest) is prerelease


def test_similar_tags_explain_a_missing_pin():
    radarr = ["6.0.3-develop", "6.0.3-nightly", "develop-6.0.3.10250-ls283", "6.0.4", "6.0.30"]
    assert pins.similar_tags("6.0.3", radarr) == ["6.0.3-develop", "6.0.3-nightly"]
    assert pins.similar_tags("25.3", ["25.3.20260109", "v25.3-ls215", "25.30.1"]) == ["25.3.20260109", "v25.3-ls215"]


# -- references ---------------------------------------------------------------------------------------

DIGEST = "sha256:" + "ab" * 32


@pytest.mark.parametrize("image,expected", [
    ("nginx:1.29.3-alpine", ("docker.io", "library/nginx", "1.29.3-alpine", None)),
    ("docker.io/library/nginx:1.29.3", ("docker.io", "library/nginx", "1.29.3", None)),
    ("index.docker.io/prom/alertmanager:v0.29.0", ("docker.io", "prom/alertmanager", "v0.29.0", None)),
    ("prom/prometheus:v3.7.3", ("docker.io", "prom/prometheus", "v3.7.3", None)),
    ("lscr.io/linuxserver/sonarr:4.0.19", ("lscr.io", "linuxserver/sonarr", "4.0.19", None)),
    ("gcr.io/cadvisor/cadvisor:v0.52.1", ("gcr.io", "cadvisor/cadvisor", "v0.52.1", None)),
    ("localhost:5000/team/app:1.0", ("localhost:5000", "team/app", "1.0", None)),
    ("ghcr.io/org/tool@" + DIGEST, ("ghcr.io", "org/tool", None, DIGEST)),
    ("ghcr.io/org/tool:1.0.0@" + DIGEST, ("ghcr.io", "org/tool", "1.0.0", DIGEST)),
    ("redis", ("docker.io", "library/redis", "latest", None)),
])
def test_parse_reference(image, expected):
    ref = pins.parse_reference(image)
    assert ref.key == expected
    assert ref.reference == (expected[3] or expected[2])


@pytest.mark.parametrize("image,reason", [
    ("lscr.io/LinuxServer/Sonarr:4.0.19", "not a valid name"),
    ("{{ sonarr_image }}", "template"),
    ("ghcr.io/org/tool@sha256:xyz", "digest"),
    ("ghcr.io/org/tool:bad tag", "not a valid tag"),
    ("", "not an image reference"),
])
def test_parse_reference_rejects(image, reason):
    with pytest.raises(ValueError, match=reason):
        pins.parse_reference(image)


def test_endpoints_default_and_mapped():
    assert pins.endpoint_for("docker.io", {}) == "https://registry-1.docker.io"
    assert pins.endpoint_for("lscr.io", {}) == "https://lscr.io"
    mapping = pins.parse_registry_map(["lscr.io=http://127.0.0.1:5000, index.docker.io=http://127.0.0.1:5001/",
                                       "*=http://127.0.0.1:5002"])
    assert pins.endpoint_for("lscr.io", mapping) == "http://127.0.0.1:5000"
    assert pins.endpoint_for("docker.io", mapping) == "http://127.0.0.1:5001"
    assert pins.endpoint_for("quay.io", mapping) == "http://127.0.0.1:5002"


@pytest.mark.parametrize("item", ["lscr.io", "lscr.io=127.0.0.1:5000", "=http://127.0.0.1:1", "lscr.io=ftp://x"])
def test_registry_map_errors_name_the_entry_and_the_format(item):
    with pytest.raises(SystemExit, match="registry map entry .* is not <registry>=<http"):
        pins.parse_registry_map([item])


# -- protocol helpers --------------------------------------------------------------------------------------

def test_parse_challenge_docker_hub_and_ghcr():
    scheme, params = pins.parse_challenge('Bearer realm="https://auth.docker.io/token",service="registry.docker.io"')
    assert (scheme, params) == ("bearer", {"realm": "https://auth.docker.io/token", "service": "registry.docker.io"})
    scheme, params = pins.parse_challenge(
        'Bearer realm="https://ghcr.io/token",service="ghcr.io",scope="repository:linuxserver/radarr:pull"')
    assert params["scope"] == "repository:linuxserver/radarr:pull" and params["realm"] == "https://ghcr.io/token"
    assert pins.parse_challenge('Basic realm="Registry Realm"')[0] == "basic"
    assert pins.parse_challenge(None) == (None, {})


def test_next_link_relative_absolute_and_none():
    base = "https://ghcr.io/v2/linuxserver/sonarr/tags/list?n=1000"
    assert (pins.next_link('</v2/linuxserver/sonarr/tags/list?last=4.0.19&n=1000>; rel="next"', base)
            == "https://ghcr.io/v2/linuxserver/sonarr/tags/list?last=4.0.19&n=1000")
    assert pins.next_link('<https://other.example/v2/x/tags/list?last=a>; rel=next', base) == \
        "https://other.example/v2/x/tags/list?last=a"
    assert pins.next_link('</v2/x/tags/list?last=a>; rel="prev"', base) is None
    assert pins.next_link(None, base) is None


def test_image_fields_are_derived_at_any_depth():
    entry = {
        "image": "lscr.io/linuxserver/sonarr:4.0.19",
        "metrics": {"exporter": "exportarr", "image": "ghcr.io/onedr0p/exportarr:v2.3.0", "port": 9707},
        "init_image": "docker.io/library/busybox:1.37.0",
        "sidecars": [{"name": "a", "image": "ghcr.io/org/a:1.0.0"}],
        "environment": {"IMAGE": "not-a-pin", "images": "neither"},
        "dashboard": {"icon": "sonarr.png"},
        "healthcheck": {"image": None},
    }
    assert list(pins.image_fields(entry)) == [
        ("image", "lscr.io/linuxserver/sonarr:4.0.19"),
        ("metrics.image", "ghcr.io/onedr0p/exportarr:v2.3.0"),
        ("init_image", "docker.io/library/busybox:1.37.0"),
        ("sidecars[0].image", "ghcr.io/org/a:1.0.0"),
    ]


@pytest.mark.parametrize("newest,pinned,newer", [
    ("6.0.4", "6.0.3", True), ("4.0.19", "4.0.19", False), ("4.0.19", "4.0.19.2979-ls300", False),
    ("4.0.20", "4.0.19.2979-ls300", True), ("25.3.20260109", "v25.3-ls215", False),
    ("25.4.20260301", "v25.3-ls215", True), ("1.29.10-alpine", "1.29.3-alpine", True), ("v2.3.0", "v2.3.0", False),
    ("1.1.0", None, False), (None, "1.0.0", False), ("1.1.0", "latest", False),
])
def test_is_newer_compares_the_version_parts_both_tags_have(newest, pinned, newer):
    assert pins.is_newer(newest, pinned) is newer
