"""Verify the ufw layer (with the docker layer) with real connections from a second instance.

`server` runs ufw + Docker (distro); `client` sits on the same Docker network and connects to `server`.
A port reached by the client is "open"; "refused" means the firewall let the SYN through and nothing
listens (RST); "timeout" means the firewall dropped it. The tests run in file order and share state:
the published test container, the re-converges through the role.
"""

import json
import os
import subprocess
import time

import pytest
import testinfra

INVENTORY = os.environ["MOLECULE_INVENTORY_FILE"]
CONVERGE = os.path.join(os.environ["MOLECULE_SCENARIO_DIRECTORY"], "converge.yml")
SERVER = "monsterr-ufw-server"
IMAGE = "local/probe:1"

PROBE = r"""
import json, socket, sys, threading
host, ports, out = sys.argv[1], sys.argv[2:], {}
def probe(p):
    s = socket.socket(); s.settimeout(3)
    try:
        s.connect((host, int(p))); out[p] = "open"
    except ConnectionRefusedError:
        out[p] = "refused"
    except socket.timeout:
        out[p] = "timeout"
    except OSError as e:
        out[p] = "error: %s" % e
    finally:
        s.close()
threads = [threading.Thread(target=probe, args=(p,)) for p in ports]
[t.start() for t in threads]; [t.join() for t in threads]
print(json.dumps(out))
"""


@pytest.fixture(scope="module")
def server():
    return testinfra.get_host(f"ansible://{SERVER}?ansible_inventory={INVENTORY}")


@pytest.fixture(scope="module")
def client():
    return testinfra.get_host(f"ansible://monsterr-ufw-client?ansible_inventory={INVENTORY}")


def reach(client, *ports):
    """Connect from client to server on each port at once; {port: open|refused|timeout}."""
    cmd = client.run("python3 -c" + " %s" * (len(ports) + 2), PROBE, SERVER, *[str(p) for p in ports])
    assert cmd.rc == 0, cmd.stderr
    result = {int(k): v for k, v in json.loads(cmd.stdout).items()}
    print("client ->", SERVER, result)
    return result


def http_get(client, port):
    cmd = client.run(f"python3 -c \"import urllib.request; print(urllib.request.urlopen('http://{SERVER}:{port}/', timeout=3).read().decode())\"")
    return cmd.stdout.strip() if cmd.rc == 0 else f"failed: {cmd.stderr.strip().splitlines()[-1:]}"


def wait_for(check, expected, tries=10):
    for _ in range(tries):
        got = check()
        if got == expected:
            return got
        time.sleep(1)
    return got


def converge(**extra_vars):
    """Run the scenario's converge again (through the role), with extra vars when given."""
    cmd = ["ansible-playbook", "-i", INVENTORY, CONVERGE]
    if extra_vars:
        cmd += ["-e", json.dumps(extra_vars)]
    run = subprocess.run(cmd, env=dict(os.environ, ANSIBLE_NOCOLOR="1"), capture_output=True, text=True, check=False)
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
    recap = [line for line in run.stdout.splitlines() if SERVER in line and "changed=" in line]
    print("re-converge", extra_vars, recap[-1:] if recap else "")


def restart_docker(server):
    server.check_output("systemctl restart docker")
    assert wait_for(lambda: server.run("docker info --format '{{.ServerVersion}}'").rc, 0) == 0


@pytest.fixture(scope="module")
def web(server):
    """A container publishing -p 8080:80 (busybox httpd), serving from the server itself."""
    if server.run(f"docker image inspect {IMAGE}").rc != 0:
        server.check_output(f"docker import -c 'CMD [\"/bin/sh\"]' /opt/probe-rootfs.tar {IMAGE}")
    server.run("docker rm -f probe-web")
    server.check_output(f"docker run -d --name probe-web -p 8080:80 {IMAGE} httpd -f -p 80 -h /www")
    assert wait_for(lambda: server.run("python3 -c \"import urllib.request; "
                                       "print(urllib.request.urlopen('http://127.0.0.1:8080/').read().decode())\"")
                    .stdout.strip(), "hello-from-container") == "hello-from-container"
    yield "probe-web"
    server.run("docker rm -f probe-web")


def test_ufw_is_active_and_enabled_as_a_unit(server):
    assert server.run("systemctl is-active ufw").stdout.strip() == "active"
    assert server.run("systemctl is-enabled ufw").stdout.strip() == "enabled"
    status = server.check_output("ufw status verbose")
    print(status)
    assert "Status: active" in status
    assert "Default: deny (incoming), allow (outgoing), deny (routed)" in status
    assert "Logging: on (low)" in status


def test_host_ports_from_the_client(client):
    # 22 (sshd), 80/443 (listeners), 9002 (LAN-only port, client is in the LAN): allowed and listening.
    # 32400 (Plex) and 6881 (torrent): allowed, nothing listens -> RST, so the firewall let them through.
    # 9001 (allowed only from 192.0.2.0/24) and 9003 (no rule): a listener runs, the firewall drops.
    assert reach(client, 22, 80, 443, 9002, 32400, 6881, 9001, 9003) == {
        22: "open", 80: "open", 443: "open", 9002: "open",
        32400: "refused", 6881: "refused",
        9001: "timeout", 9003: "timeout"}


def test_published_port_is_blocked_by_default(client, web):
    # The container answers on the server itself, so a timeout from the client is the firewall.
    assert reach(client, 8080) == {8080: "timeout"}


def test_still_blocked_after_docker_restart(server, client, web):
    restart_docker(server)
    assert server.run(f"docker inspect -f '{{{{.State.Running}}}}' {web}").stdout.strip() == "true"
    assert server.run("iptables -S FORWARD").stdout.splitlines()[1:].count("-A FORWARD -j DOCKER-USER") == 1
    assert reach(client, 8080) == {8080: "timeout"}


def test_still_blocked_after_ufw_reload(server, client, web):
    server.check_output("ufw reload")
    assert reach(client, 8080) == {8080: "timeout"}


def test_role_opens_a_published_port_and_a_host_port(client, web):
    converge(ufw_docker_allow="{{ __ufw_public_rules + [{'port': 8080, 'comment': 'probe'}] }}",
             ufw_rules=[{"port": 9001, "from": "192.0.2.0/24", "comment": "not the client"},
                        {"port": 9003, "comment": "added by verify"}])
    assert wait_for(lambda: reach(client, 8080, 9003), {8080: "open", 9003: "open"}) == {8080: "open", 9003: "open"}
    assert http_get(client, 8080) == "hello-from-container"


def test_opened_port_survives_docker_restart_and_ufw_reload(server, client, web):
    restart_docker(server)
    assert wait_for(lambda: reach(client, 8080), {8080: "open"}) == {8080: "open"}
    server.check_output("ufw reload")
    assert reach(client, 8080, 9003) == {8080: "open", 9003: "open"}


def test_role_closes_what_was_removed_from_the_settings(server, client, web):
    converge()
    assert reach(client, 8080, 9003) == {8080: "timeout", 9003: "timeout"}
    assert "9003" not in server.check_output("ufw status")


def test_ufw_route_rule_opens_the_container_port(server, client, web):
    # The ufw-docker way: `ufw route allow` matches the container-side port (80), after Docker's DNAT.
    server.check_output("ufw route allow proto tcp from any to any port 80")
    try:
        assert reach(client, 8080) == {8080: "open"}
    finally:
        server.check_output("ufw route delete allow proto tcp from any to any port 80")
    assert reach(client, 8080) == {8080: "timeout"}
