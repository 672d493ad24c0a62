"""Verify the stack layer by asking the running containers and apps (through 127.0.0.1 on the instance). The
re-converging tests that change the instance (tag bump, service removal) are in test_zz_changes.py, which runs
last. The helpers are in conftest.py (imported here by name, so other test files may import them from either)."""

import glob
import json
import os
import re

import pytest

from conftest import (  # noqa: F401  pylint: disable=unused-import
    ARRS, CATEGORIES, EPHEMERAL, PUBLIC, READ_ONLY, SERVICES, USER_ENV, all_secrets, containers, converge, http, inspect,
    scenario_vars, secret, wait_healthy)


# ---- the converged household ---------------------------------------------------------------------------

def test_compose_project_is_clean(host):
    result = host.run("cd /opt/monsterr/compose && docker compose config -q")
    assert result.rc == 0, result.stderr
    listed = host.check_output("cd /opt/monsterr/compose && docker compose ps --all --format '{{.Name}}'").split()
    assert sorted(listed) == SERVICES
    assert host.file("/opt/monsterr/compose/.env").mode == 0o600
    assert host.file("/opt/monsterr/compose/.env").user == "root"
    assert host.file("/opt/monsterr/compose").user == "root"
    # compose.yml holds references, not secrets.
    compose = host.file("/opt/monsterr/compose/compose.yml").content_string
    assert "${SONARR_API_KEY}" in compose
    assert not [s for s in all_secrets() if s in compose]


def test_every_container_is_running_and_healthy(host):
    states = wait_healthy(host, SERVICES)
    print(states)
    assert states == dict((n, "running healthy") for n in SERVICES)


@pytest.mark.parametrize("name", SERVICES)
def test_container_hardening(host, name):
    data = inspect(host, name)
    config, hostcfg = data["Config"], data["HostConfig"]
    assert data["Name"] == "/" + name
    assert hostcfg["RestartPolicy"]["Name"] == "unless-stopped"
    assert "no-new-privileges:true" in hostcfg["SecurityOpt"]
    assert hostcfg["LogConfig"]["Type"] == "json-file"
    assert hostcfg["LogConfig"]["Config"] == {"max-size": "10m", "max-file": "3"}
    assert config["Healthcheck"]["Test"][0] in ("CMD", "CMD-SHELL")
    assert list(data["NetworkSettings"]["Networks"]) == ["monsterr"]
    env = dict(e.split("=", 1) for e in config["Env"])
    if name in USER_ENV:
        assert (env["PUID"], env["PGID"], env["TZ"], env["UMASK"]) == ("2000", "2000", "Europe/Berlin", "002")
        # The app really runs as the household's account (files it writes belong to media).
        pid = data["State"]["Pid"]
        assert host.check_output("ps -o uid= -p %d" % pid).strip() == "2000"
    else:
        assert "PUID" not in env
    assert hostcfg["ReadonlyRootfs"] is (name in READ_ONLY)


def test_no_host_port_but_the_allowed_ones(host):
    for name in SERVICES:
        for port, bindings in (inspect(host, name)["HostConfig"]["PortBindings"] or {}).items():
            for binding in bindings:
                if (name, port) in PUBLIC:
                    assert binding["HostIp"] in ("", "0.0.0.0"), (name, port, binding)
                else:
                    assert binding["HostIp"] == "127.0.0.1", (name, port, binding)
    # What the kernel has listening for docker-proxy: only the peer port on all addresses.
    sockets = host.check_output("ss -Hltnup | grep docker-proxy || true")
    public = set()
    for line in sockets.splitlines():
        local = line.split()[4]
        address, port = local.rsplit(":", 1)
        if address not in ("127.0.0.1", "[::1]"):
            public.add(port)
    print(sockets)
    assert public == {"6881", "80", "443"}


@pytest.mark.parametrize("app", sorted(ARRS))
def test_arr_answers_with_the_seeded_key_only(host, app):
    version, port, title = ARRS[app]
    key = secret(app, "api_key")
    assert re.match(r"^[0-9a-f]{64}$", key), "32 random bytes as lowercase hex"
    base = "http://127.0.0.1:%d" % port
    assert http(host, base + "/ping")[0] == 200
    status, body = http(host, "%s/api/%s/system/status" % (base, version), "-H 'X-Api-Key: %s'" % key)
    assert status == 200, body
    info = json.loads(body)
    assert info["appName"] == title and info["authentication"] == "external" and info["urlBase"] == ""
    assert http(host, "%s/api/%s/system/status" % (base, version))[0] == 401
    assert http(host, "%s/api/%s/system/status" % (base, version), "-H 'X-Api-Key: %s'" % ("0" * 64))[0] == 401
    # The app rewrote its seeded config.xml (as the real apps do) and kept the key.
    assert "<ApiKey>%s</ApiKey>" % key in host.file("/opt/monsterr/%s/config.xml" % app).content_string


def test_qbittorrent_login_with_the_seeded_password_and_categories(host):
    password = secret("qbittorrent", "password")
    assert len(password) >= 43
    base = "http://127.0.0.1:8080/api/v2"
    wrong = http(host, base + "/auth/login", "--data-urlencode username=admin", "--data-urlencode password=wrong-one")
    assert wrong[1].strip() in ("Fails.", "") and wrong[0] in (200, 401), wrong
    status, body = http(host, base + "/auth/login", "-c /tmp/qbt.cookies", "--data-urlencode username=admin",
                        "--data-urlencode 'password=%s'" % password)
    assert (status, body.strip()) == (200, "Ok.")
    status, body = http(host, base + "/torrents/categories", "-b /tmp/qbt.cookies")
    assert status == 200
    categories = json.loads(body)
    # The seeded ones (the wiring layer adds its own, e.g. prowlarr: test_wiring.py).
    assert set(CATEGORIES) <= set(categories)
    for name in CATEGORIES:
        assert categories[name]["savePath"] == "/data/downloads/torrents/" + name
    prefs = json.loads(http(host, base + "/app/preferences", "-b /tmp/qbt.cookies")[1])
    assert (prefs["save_path"], prefs["temp_path"], prefs["listen_port"], prefs["web_ui_username"]) == \
        ("/data/downloads/torrents", "/data/downloads/torrents/incomplete", 6881, "admin")


def test_nzbget_answers_json_rpc_with_the_seeded_credentials(host):
    password = secret("nzbget", "password")
    url = "http://127.0.0.1:6789/jsonrpc"
    call = "-d '{\"method\": \"%s\", \"params\": [], \"id\": 1}'"
    status, body = http(host, url, "-u 'nzbget:%s'" % password, call % "version")
    assert status == 200 and json.loads(body)["result"] == "21.0", body
    assert http(host, url, "-u nzbget:tegbzn6789", call % "version")[0] == 401
    assert http(host, url, call % "version")[0] == 401
    options = dict((o["Name"], o["Value"]) for o in json.loads(http(host, url, "-u 'nzbget:%s'" % password,
                                                                      call % "config")[1])["result"])
    assert options["MainDir"] == "/data/downloads/usenet"
    assert [options["Category%d.Name" % i] for i in range(1, 6)] == CATEGORIES
    assert options["Category1.DestDir"] == "/data/downloads/usenet/completed/tv"


def test_secrets_are_kept_on_the_controller_only(host):
    for service, name in (("sonarr", "api_key"), ("qbittorrent", "password"), ("nzbget", "password")):
        path = glob.glob(os.path.join(EPHEMERAL, "inventory", "secrets", "*", service, name + ".txt"))[0]
        assert oct(os.stat(path).st_mode & 0o777) == "0o600"


# ---- re-converging in check mode with diff -------------------------------------------------------------------

def test_check_diff_on_the_converged_host_reports_nothing_and_shows_no_secret(host):
    # Molecule's own check step runs --check without --diff.
    assert host.run("docker inspect prowlarr").rc == 0
    changed, output = converge("check --diff", {}, "--check", "--diff")
    assert changed == 0, output[-3000:]
    assert not [s for s in all_secrets() if s in output]


