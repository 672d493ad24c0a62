"""Verify the fail2ban layer by asking the running daemon, the kernel's firewall and real connections.

The two instances share one Docker network. Each test that attacks runs with `host` as the target and
the other instance as the attacker. monsterr-f2b-deb12 stands in for a Docker host (prepare.yml: a
DOCKER-USER chain and TCP 8080 DNATed to a web server in a network namespace); deb13 has no DOCKER-USER.
"""

import base64
import datetime
import pathlib
import re
import time

import pytest
import testinfra

HOSTS = ["monsterr-f2b-deb12", "monsterr-f2b-deb13"]
DOCKER_STAND_IN = "monsterr-f2b-deb12"
PASSWORD = "Correct-Horse-Battery-9"
JAILS = ["authelia", "nginx-botsearch", "nginx-http-auth", "recidive", "sshd"]
AUTHELIA_LOG = "/opt/monsterr/authelia/logs/authelia.log"
SAMPLES = pathlib.Path(__file__).parent / "logs"


def peer_of(host):
    """The other instance (the attacker), as a testinfra host, and its address as the target sees it."""
    name = next(h for h in HOSTS if h != host.backend.host)
    peer = testinfra.get_host(f"ansible://{name}", ansible_inventory=host.backend.ansible_inventory)
    addr = host.check_output(f"getent ahostsv4 {name} | awk 'NR==1{{print $1}}'")
    assert re.fullmatch(r"\d+\.\d+\.\d+\.\d+", addr), addr
    return peer, addr


def banned(host, jail):
    out = host.check_output(f"fail2ban-client status {jail}")
    line = next(l for l in out.splitlines() if "Banned IP list:" in l)
    return line.split(":", 1)[1].split()


def wait_for(predicate, timeout=30.0, step=0.5):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(step)
    return predicate()


def tcp_connects(src, dst, port):
    """A real TCP connection from src to dst:port (5 s timeout); the reason when it fails."""
    cmd = src.run(
        "timeout 10 python3 -c 'import socket,sys; socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=5)' %s %s",
        dst, str(port))
    return cmd.rc == 0, cmd.stderr.strip().splitlines()[-1:] if cmd.stderr else []


def ssh_login(src, dst, password):
    """One SSH password login from src to dst; sshpass exits 0 on success and 5 on a wrong password."""
    return src.run(
        "SSHPASS=%s sshpass -e ssh -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null "
        "-o PreferredAuthentications=password -o PubkeyAuthentication=no -o NumberOfPasswordPrompts=1 "
        "-o ConnectTimeout=5 f2btest@%s true", password, dst).rc


def rules(host, chain):
    cmd = host.run(f"iptables -w -S {chain}")
    return cmd.stdout.splitlines() if cmd.rc == 0 else None


def upload(host, path, text):
    host.check_output("echo %s | base64 -d > %s", base64.b64encode(text.encode()).decode(), path)


def test_packages_and_service(host):
    for pkg in ["fail2ban", "python3-systemd", "iptables"]:
        assert host.package(pkg).is_installed, pkg
    service = host.service("fail2ban")
    assert service.is_running and service.is_enabled
    assert host.check_output("fail2ban-client ping") == "Server replied: pong"


def test_configuration_passes_fail2ban_own_test(host):
    cmd = host.run("fail2ban-client --test")
    assert cmd.rc == 0, cmd.stderr
    assert "ERROR" not in cmd.stderr and "WARNING" not in cmd.stderr, cmd.stderr


def test_all_jails_run(host):
    out = host.check_output("fail2ban-client status")
    jails = re.search(r"Jail list:\s*(.*)", out).group(1)
    assert sorted(j.strip() for j in jails.split(",")) == JAILS


def test_settings_reach_the_daemon(host):
    def get(jail, what):
        return host.check_output(f"fail2ban-client get {jail} {what}")

    assert get("sshd", "maxretry") == "3"              # per-jail override
    assert get("authelia", "maxretry") == "5"          # global default
    assert get("sshd", "bantime") == "600"
    assert get("sshd", "findtime") == "600"
    assert get("recidive", "bantime") == "604800"      # the jail's own 1w wins over the global 10m
    assert get("sshd", "bantime.increment") == "True"
    assert get("sshd", "bantime.maxtime") == "604800"
    ignored = get("sshd", "ignoreip")
    for net in ["127.0.0.0/8", "::1", "192.168.77.0/24", "10.77.0.0/24", "192.0.2.200"]:
        assert net in ignored, ignored
    assert "ssh.service" in get("sshd", "journalmatch")
    assert AUTHELIA_LOG in get("authelia", "logpath")
    for jail in JAILS:
        actions = get(jail, "actions")
        assert "monsterr-docker-user" in actions, (jail, actions)
        assert ("iptables-allports" if jail == "recidive" else "iptables-multiport") in actions, (jail, actions)


@pytest.mark.parametrize("path", ["/opt/monsterr/proxy/logs/access.log", "/opt/monsterr/proxy/logs/error.log",
                                  AUTHELIA_LOG])
def test_missing_service_logs_were_created(host, path):
    f = host.file(path)
    assert f.is_file
    assert (f.uid, f.gid, f.mode) == (2000, 2000, 0o640)
    d = host.file(str(pathlib.PurePosixPath(path).parent))
    assert (d.uid, d.gid, d.mode) == (2000, 2000, 0o750)


# (sample file, filter, matched, missed, addresses found in order). The filters are the installed files:
# the role's monsterr-authelia and Debian's nginx filters, fed the log formats the proxy will write.
REGEX_CASES = [
    ("authelia.log", "/etc/fail2ban/filter.d/monsterr-authelia.conf", 11, 8,
     ["203.0.113.10", "203.0.113.11", "203.0.113.12", "203.0.113.13", "2001:db8::13", "203.0.113.10",
      "203.0.113.14", "203.0.113.15", "203.0.113.16", "203.0.113.17", "203.0.113.18"]),
    ("nginx-error.log", "/etc/fail2ban/filter.d/nginx-http-auth.conf", 2, 4, ["203.0.113.30", "203.0.113.31"]),
    ("nginx-error.log", "/etc/fail2ban/filter.d/nginx-botsearch.conf", 1, 5, ["203.0.113.32"]),
    ("nginx-access.log", "/etc/fail2ban/filter.d/nginx-botsearch.conf", 2, 5, ["203.0.113.40", "203.0.113.42"]),
]


@pytest.mark.parametrize("sample,filt,matched,missed,addrs", REGEX_CASES,
                         ids=[f"{c[1].rsplit('/', 1)[-1]}<-{c[0]}" for c in REGEX_CASES])
def test_filter_with_fail2ban_regex(host, sample, filt, matched, missed, addrs):
    path = f"/tmp/f2b-sample-{sample}"
    upload(host, path, (SAMPLES / sample).read_text())
    summary = host.check_output("fail2ban-regex %s %s", path, filt)
    counts = re.search(r"Lines: (\d+) lines, (\d+) ignored, (\d+) matched, (\d+) missed", summary)
    assert counts, summary
    total = len((SAMPLES / sample).read_text().splitlines())
    assert tuple(int(n) for n in counts.groups()) == (total, 0, matched, missed), summary
    # The address of each match: the real client's, never one injected through a user name.
    assert host.check_output("fail2ban-regex -o ip %s %s", path, filt).split() == addrs


def test_ssh_brute_force_is_banned(host):
    attacker, addr = peer_of(host)
    target = host.backend.host
    stand_in = target == DOCKER_STAND_IN
    host.run("fail2ban-client unban --all")
    try:
        ok, why = tcp_connects(attacker, target, 22)
        assert ok, why
        if stand_in:
            ok, why = tcp_connects(attacker, target, 8080)
            assert ok, why                                  # the "container" answers before the ban
        # Password logins are on: the failures below are real wrong passwords.
        assert ssh_login(attacker, target, PASSWORD) == 0
        for _ in range(3):                                  # sshd maxretry is 3 in this scenario
            assert ssh_login(attacker, target, "wrong-password") != 0
        assert wait_for(lambda: addr in banned(host, "sshd")), host.check_output("fail2ban-client status sshd")
        print(host.check_output("fail2ban-client status sshd"))

        ok, why = tcp_connects(attacker, target, 22)
        assert not ok, "SSH still reachable after the ban"
        print(f"{attacker.backend.host} -> {target}:22 after the ban: {why}")
        assert f"-A f2b-sshd -s {addr}/32 -j REJECT --reject-with icmp-port-unreachable" in rules(host, "f2b-sshd")

        if stand_in:
            assert "-A DOCKER-USER -j f2b-sshd-du" in rules(host, "DOCKER-USER")
            du = rules(host, "f2b-sshd-du")
            assert f"-A f2b-sshd-du -s {addr}/32 -j REJECT --reject-with icmp-port-unreachable" in du, du
            print("\n".join(rules(host, "DOCKER-USER") + du))
            ok, why = tcp_connects(attacker, target, 8080)
            assert not ok, "forwarded container port still reachable after the ban"
            print(f"{attacker.backend.host} -> {target}:8080 (DNAT to the container) after the ban: {why}")
        else:
            assert rules(host, "DOCKER-USER") is None        # no Docker here: the chain does not exist
            assert rules(host, "f2b-sshd-du") is None
            log = host.file("/var/log/fail2ban.log").content_string
            assert " ERROR " not in log, [l for l in log.splitlines() if " ERROR " in l]
    finally:
        host.run("fail2ban-client unban --all")
    assert addr not in banned(host, "sshd")
    ok, why = tcp_connects(attacker, target, 22)
    assert ok, why
    if stand_in:
        assert not any(addr in r for r in rules(host, "f2b-sshd-du"))
        ok, why = tcp_connects(attacker, target, 8080)
        assert ok, why


@pytest.fixture(scope="module")
def stand_in(request):
    """The Docker stand-in instance alone (the only one with a DOCKER-USER chain), for tests about that chain."""
    return testinfra.get_host(f"ansible://{DOCKER_STAND_IN}", ansible_inventory=request.config.option.ansible_inventory)


def test_docker_user_hook_comes_back_after_a_flush(stand_in):
    """`ufw reload` flushes DOCKER-USER; the next ban hooks the jail's chain in again, keeping earlier bans.
    Runs once, on the stand-in: the other instance has no DOCKER-USER chain (test_ssh_brute_force_is_banned
    checks that nothing creates one there)."""
    host = stand_in
    try:
        host.check_output("fail2ban-client set sshd banip 198.51.100.61")
        assert "-A DOCKER-USER -j f2b-sshd-du" in rules(host, "DOCKER-USER")
        host.check_output("iptables -w -F DOCKER-USER && iptables -w -A DOCKER-USER -j RETURN")
        assert "-A DOCKER-USER -j f2b-sshd-du" not in rules(host, "DOCKER-USER")
        host.check_output("fail2ban-client set sshd banip 198.51.100.62")
        assert rules(host, "DOCKER-USER")[1] == "-A DOCKER-USER -j f2b-sshd-du"
        du = rules(host, "f2b-sshd-du")
        for ip in ["198.51.100.61", "198.51.100.62"]:
            assert f"-A f2b-sshd-du -s {ip}/32 -j REJECT --reject-with icmp-port-unreachable" in du, du
    finally:
        host.run("fail2ban-client unban --all")


def test_authelia_failed_logins_are_banned(host):
    """Lines in Authelia's real format, appended to the file this role created, ban after maxretry (5)."""
    ip = "198.51.100.77"
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    kinds = [("1FA", "/api/firstfactor"), ("1FA", "/api/firstfactor"), ("TOTP", "/api/secondfactor/totp"),
             ("1FA", "/api/firstfactor"), ("TOTP", "/api/secondfactor/totp")]
    lines = [f'time="{now}" level=error msg="Unsuccessful {k} authentication attempt by user \'john\'" '
             f"method=POST path={p} remote_ip={ip}\n" for k, p in kinds]
    found = f"grep -c '\\[authelia\\] Found {ip}' /var/log/fail2ban.log || true"
    before = int(host.check_output(found))
    host.run("fail2ban-client unban --all")
    try:
        host.check_output("echo %s | base64 -d >> %s", base64.b64encode("".join(lines[:4]).encode()).decode(),
                          AUTHELIA_LOG)
        assert wait_for(lambda: int(host.check_output(found)) == before + 4, 15), host.check_output(found)
        assert ip not in banned(host, "authelia")            # 4 < maxretry
        host.check_output("echo %s | base64 -d >> %s", base64.b64encode(lines[4].encode()).decode(), AUTHELIA_LOG)
        assert wait_for(lambda: ip in banned(host, "authelia")), host.check_output("fail2ban-client status authelia")
        print(host.check_output("fail2ban-client status authelia"))
        assert f"-A f2b-authelia -s {ip}/32 -j REJECT --reject-with icmp-port-unreachable" in rules(host, "f2b-authelia")
        if host.backend.host == DOCKER_STAND_IN:
            assert f"-A f2b-authelia-du -s {ip}/32 -j REJECT --reject-with icmp-port-unreachable" in \
                rules(host, "f2b-authelia-du")
    finally:
        host.run("fail2ban-client unban --all")
