"""Verify the docker layer on Debian 12 and 13 by asking the running engine, not by reading files back."""

import ipaddress
import json

import pytest

IMAGE = "local/probe:1"
POOL = ipaddress.ip_network("10.222.0.0/16")


@pytest.fixture(scope="module")
def image(host):
    """A tiny image made from busybox-static in prepare (no registry can be reached here)."""
    if host.run(f"docker image inspect {IMAGE}").rc != 0:
        host.check_output(f"docker import -c 'CMD [\"/bin/sh\"]' /opt/probe-rootfs.tar {IMAGE}")
    return IMAGE


def is_trixie(host):
    return host.system_info.codename == "trixie"


@pytest.mark.parametrize("unit", ["docker", "containerd"])
def test_engine_enabled_and_running(host, unit):
    assert host.run(f"systemctl is-active {unit}").stdout.strip() == "active"
    assert host.run(f"systemctl is-enabled {unit}").stdout.strip() == "enabled"


def test_daemon_reports_configured_settings(host):
    info = json.loads(host.check_output("docker info --format '{{json .}}'"))
    print({k: info.get(k) for k in ("ServerVersion", "LoggingDriver", "LiveRestoreEnabled", "Driver",
                                    "CgroupDriver", "DefaultAddressPools")})
    assert info["LoggingDriver"] == "json-file"
    assert info["LiveRestoreEnabled"] is True
    assert info["Driver"] == "overlay2"
    assert info["DefaultAddressPools"] == [{"Base": "10.222.0.0/16", "Size": 24}]


def test_networks_come_from_the_pool(host):
    bridge = host.check_output("docker network inspect bridge --format '{{(index .IPAM.Config 0).Subnet}}'")
    assert ipaddress.ip_network(bridge).subnet_of(POOL), bridge
    host.run("docker network rm probe-net")
    host.check_output("docker network create probe-net")
    try:
        subnet = host.check_output("docker network inspect probe-net --format '{{(index .IPAM.Config 0).Subnet}}'")
    finally:
        host.run("docker network rm probe-net")
    assert ipaddress.ip_network(subnet).subnet_of(POOL) and subnet.endswith("/24"), subnet


def test_container_runs(host, image):
    assert host.check_output(f"docker run --rm {image} echo hello-from-nested") == "hello-from-nested"


def test_containers_get_log_rotation(host, image):
    cid = host.check_output(f"docker run -d {image} sleep 60")
    try:
        log = json.loads(host.check_output(f"docker inspect --format '{{{{json .HostConfig.LogConfig}}}}' {cid}"))
    finally:
        host.run(f"docker rm -f {cid}")
    assert log == {"Type": "json-file", "Config": {"max-file": "2", "max-size": "5m"}}


def test_live_restore_keeps_containers_through_a_restart(host, image):
    cid = host.check_output(f"docker run -d {image} sleep 300")
    try:
        pid = host.check_output(f"docker inspect --format '{{{{.State.Pid}}}}' {cid}")
        host.check_output("systemctl restart docker")
        assert host.check_output(f"docker inspect --format '{{{{.State.Running}}}} {{{{.State.Pid}}}}' {cid}") == f"true {pid}"
    finally:
        host.run(f"docker rm -f {cid}")


def test_docker_users_can_use_the_engine(host):
    assert "docker" in host.user("probe").groups
    cmd = host.run("runuser -u probe -- docker ps --format '{{.ID}}'")
    assert cmd.rc == 0, cmd.stderr


def test_compose_v2(host):
    cmd = host.run("docker compose version")
    if is_trixie(host):
        assert cmd.rc == 0, cmd.stderr
        assert "version 2." in cmd.stdout.lower() or "version v2." in cmd.stdout.lower(), cmd.stdout
    else:
        # Debian 12 ships only compose v1: the role must not pass it off as v2, and says so instead.
        assert cmd.rc != 0
        assert not host.package("docker-compose").is_installed
