# -*- coding: utf-8 -*-
# Copyright: monsterr.mediaserver developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The monitoring images (tests/images/{prometheus,node-exporter,alertmanager}) run Debian's real programs laid
out as the official images the catalog pins: the entry point is the program, so the catalog's `command` is its
argument list; the image's own default arguments start it with the default configuration; it runs as nobody."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import subprocess
import time

import pytest

pytestmark = [pytest.mark.integration, pytest.mark.docker]

# image -> (port, path answering 200 once the program runs)
IMAGES = {"prometheus": (9090, "/-/healthy"), "alertmanager": (9093, "/-/healthy"), "node-exporter": (9100, "/metrics")}


def docker(*args, check=True):
    return subprocess.run(("docker",) + args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          universal_newlines=True, check=check)


@pytest.fixture(scope="module", autouse=True)
def built():
    missing = [n for n in IMAGES if docker("image", "inspect", "monsterr-test/%s:local" % n, check=False).returncode]
    if missing:
        pytest.fail("images %s are not built: run scripts/build-service-images.sh %s" % (missing, " ".join(missing)))


@pytest.mark.parametrize("name", sorted(IMAGES))
def test_image_runs_the_program_as_nobody_with_its_default_arguments(name):
    port, path = IMAGES[name]
    config = docker("image", "inspect", "-f", "{{json .Config.Entrypoint}} {{.Config.User}}", "monsterr-test/%s:local" % name)
    assert config.stdout.split()[1] == "nobody"
    container = "monsterr-image-test-%s" % name
    docker("rm", "-f", container, check=False)
    docker("run", "-d", "--read-only", "--name", container, "monsterr-test/%s:local" % name)
    try:
        probe = None
        for _ in range(100):
            # python3 of the Debian base image (the images' own wget is busybox's: tests/integration/images/).
            probe = docker("exec", container, "python3", "-c",
                           "import urllib.request; print(urllib.request.urlopen('http://localhost:%d%s').status)" % (port, path),
                           check=False)
            if probe.stdout.strip() == "200":
                break
            time.sleep(0.2)
        assert probe.stdout.strip() == "200", docker("logs", container, check=False).stdout[-3000:]
        assert docker("exec", container, "id", "-un").stdout.strip() == "nobody"
        process = docker("exec", container, "cat", "/proc/1/cmdline").stdout.split("\0")
        assert process[0] == {"prometheus": "/usr/bin/prometheus", "alertmanager": "/usr/bin/prometheus-alertmanager",
                              "node-exporter": "/usr/bin/prometheus-node-exporter"}[name]
    finally:
        docker("rm", "-f", container, check=False)


def test_the_catalog_command_is_taken_as_arguments():
    """As with prom/prometheus: `docker run image --flag...` passes the flags to the program."""
    out = docker("run", "--rm", "monsterr-test/prometheus:local", "--version", check=False)
    assert out.returncode == 0 and out.stdout.startswith("prometheus, version "), out.stdout
