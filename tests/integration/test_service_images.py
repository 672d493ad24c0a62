# -*- coding: utf-8 -*-
# Copyright: monsterr.mediaserver developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The locally built service images run their real program (scripts/build-service-images.sh). How each one behaves
like the real image (probe tools, user, address family, start-up ownership changes) is tested in
tests/integration/images/."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import subprocess
import time

import pytest

pytestmark = [pytest.mark.integration, pytest.mark.docker]


def docker(*args, check=True):
    return subprocess.run(("docker",) + args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          universal_newlines=True, check=check)


@pytest.fixture(scope="module", autouse=True)
def built():
    missing = [n for n in ("nginx", "redis") if docker("image", "inspect", "monsterr-test/%s:local" % n, check=False).returncode]
    if missing:
        pytest.fail("images %s are not built: run bash scripts/build-service-images.sh %s" % (missing, " ".join(missing)))


def test_nginx_image_validates_and_serves(tmp_path):
    assert "test is successful" in docker("run", "--rm", "monsterr-test/nginx:local", "nginx", "-t").stdout
    # The image ships no site (the proxy layer renders them): mount one, as the proxy does.
    site = tmp_path / "probe.conf"
    site.write_text('server { listen 80; location / { return 200 "probe ok\\n"; } }\n')
    name = "monsterr-image-test-nginx"
    docker("rm", "-f", name, check=False)
    docker("run", "-d", "--name", name, "-v", "%s:/etc/nginx/conf.d/probe.conf:ro" % site, "monsterr-test/nginx:local")
    try:
        for _ in range(50):
            probe = docker("exec", name, "bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/80 && printf 'GET / HTTP/1.0\\r\\n\\r\\n' >&3 && cat <&3",
                           check=False)
            if probe.returncode == 0:
                break
            time.sleep(0.1)
        assert probe.stdout.startswith("HTTP/1.1 "), probe.stdout
        assert probe.stdout.startswith("HTTP/1.1 200 "), probe.stdout
        assert "Server: nginx" in probe.stdout and probe.stdout.endswith("probe ok\n")
    finally:
        docker("rm", "-f", name, check=False)


def test_redis_image_answers_ping():
    name = "monsterr-image-test-redis"
    docker("rm", "-f", name, check=False)
    docker("run", "-d", "--name", name, "monsterr-test/redis:local")
    try:
        for _ in range(50):
            pong = docker("exec", name, "redis-cli", "ping", check=False)
            if pong.stdout.strip() == "PONG":
                break
            time.sleep(0.1)
        assert pong.stdout.strip() == "PONG"
        # Started as root, the entry point drops to the image's redis user (uid 999, gid 1000), as redis:alpine.
        status = docker("exec", name, "cat", "/proc/1/status").stdout
        assert [line.split()[1] for line in status.splitlines() if line.startswith(("Uid:", "Gid:"))] == ["999", "1000"]
        assert docker("exec", name, "getent", "passwd", "999").stdout.startswith("redis:")
    finally:
        docker("rm", "-f", name, check=False)
