# -*- coding: utf-8 -*-
# Copyright: monsterr.mediaserver developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The probe tools of every local test image are those of the real image (upstream Dockerfiles, see each image's
Dockerfile header and roles/catalog/image-facts.yml), and busybox wget behaves in them as it does in the Alpine and
busybox images: on a Docker that gives containers ::1 on lo (Docker >= 26), ``wget http://localhost:<port>`` tries
[::1] only and fails against a server that listens on IPv4 only, while ``http://127.0.0.1:<port>`` works
(moby/moby#47062). GNU wget (Authelia's image) falls back to 127.0.0.1."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from image_kit import DOCKER26, docker, require_images

pytestmark = [pytest.mark.integration, pytest.mark.docker]

# image -> (wget: "busybox" | "gnu" | None, curl present, shell present)
TOOLS = {
    "nginx": ("busybox", True, True),             # nginx:alpine: busybox + "apk add curl ca-certificates"
    "prometheus": ("busybox", False, True),       # FROM quay.io/prometheus/busybox
    "alertmanager": ("busybox", False, True),
    "node-exporter": ("busybox", False, True),
    "redis": ("busybox", False, True),            # redis:alpine: busybox, no curl
    "homepage": ("busybox", False, True),         # node:22-alpine runner: busybox, no curl
    "grafana": ("busybox", True, True),           # grafana alpine: "apk add ca-certificates bash curl tzdata musl-utils"
    "cadvisor": ("busybox", False, True),         # alpine base, own HEALTHCHECK with wget
    "authelia": ("gnu", False, True),             # "apk add ca-certificates su-exec tzdata wget": GNU wget
    "plex": (None, True, True),                   # linuxserver (Ubuntu) base: curl
    "servarr": (None, True, True),                # linuxserver *arr images: curl
    "nzbget": (None, True, True),
    "qbittorrent": (None, True, True),
    "companions": (None, True, True),
    "exportarr": (None, False, False),            # distroless static: nothing at all
}
BUSYBOX = sorted(name for name, (wget, _, _) in TOOLS.items() if wget == "busybox")

WHICH = ("import os, shutil\nw = shutil.which('wget')\nprint('wget', os.path.realpath(w) if w else '-')\n"
         "print('curl', shutil.which('curl') or '-')\nprint('sh', 'yes' if os.path.exists('/bin/sh') else '-')")
# A server on 127.0.0.1 only (IPv4), then the probe: wget on localhost, then on 127.0.0.1.
IPV4_ONLY = ("python3 -m http.server --bind 127.0.0.1 18080 --directory / >/dev/null 2>&1 & "
             "i=0; while ! wget -q -O /dev/null http://127.0.0.1:18080/ 2>/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i+1)); done; "
             "wget -q -O /dev/null http://localhost:18080/; echo \"localhost=$?\"; "
             "wget -q -O /dev/null http://127.0.0.1:18080/; echo \"ipv4=$?\"; "
             "wget -O /dev/null http://localhost:18080/ 2>&1 | tail -1")


@pytest.mark.parametrize("image", sorted(TOOLS))
def test_probe_tools_are_the_real_images(image):
    require_images(image)
    wget, curl, shell = TOOLS[image]
    out = docker("run", "--rm", "--entrypoint", "/usr/bin/python3", "monsterr-test/%s:local" % image, "-c", WHICH).stdout
    found = dict(line.split(" ", 1) for line in out.splitlines() if " " in line)
    expected_wget = {"busybox": "/usr/bin/busybox", "gnu": "/usr/bin/wget", None: "-"}[wget]
    assert found.get("wget") == expected_wget, out
    assert (found.get("curl") != "-") is curl, out
    assert (found.get("sh") == "yes") is shell, out
    if wget == "gnu":
        version = docker("run", "--rm", "--entrypoint", "wget", "monsterr-test/%s:local" % image, "--version").stdout
        assert version.startswith("GNU Wget"), version


@pytest.mark.parametrize("image", BUSYBOX)
def test_busybox_wget_refuses_an_ipv4_only_server_on_localhost_when_lo_has_ipv6(image):
    require_images(image)
    out = docker("run", "--rm", *DOCKER26, "--entrypoint", "/bin/sh", "monsterr-test/%s:local" % image, "-c",
                 IPV4_ONLY).stdout
    assert "localhost=1" in out, out
    assert "ipv4=0" in out, out
    assert "can't connect to remote host" in out and "Connection refused" in out, out


def test_the_condition_is_ipv6_on_lo():
    """Control: the same busybox probe passes when lo has no IPv6 (Docker < 26, e.g. the host's docker.io 20.10):
    what makes it fail above is ::1 on lo, not the image."""
    require_images("prometheus")
    out = docker("run", "--rm", "--sysctl", "net.ipv6.conf.lo.disable_ipv6=1", "--entrypoint", "/bin/sh",
                 "monsterr-test/prometheus:local", "-c", IPV4_ONLY).stdout
    assert "localhost=0" in out and "ipv4=0" in out, out


def test_gnu_wget_falls_back_to_ipv4():
    """Control: Authelia's image has GNU wget, which tries [::1], then 127.0.0.1: localhost works."""
    require_images("authelia")
    out = docker("run", "--rm", *DOCKER26, "--entrypoint", "/bin/sh", "monsterr-test/authelia:local", "-c",
                 IPV4_ONLY).stdout
    assert "localhost=0" in out and "ipv4=0" in out, out


def test_exportarr_has_no_shell_so_no_cmd_shell_probe_can_run():
    require_images("exportarr")
    out = docker("run", "--rm", "--entrypoint", "/bin/sh", "monsterr-test/exportarr:local", "-c", "true", check=False)
    assert out.returncode != 0 and "no such file or directory" in out.stdout, out.stdout
