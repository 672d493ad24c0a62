"""Verify the stack layer by asking the running containers and apps (through 127.0.0.1 on the instance): the whole
default household (and NZBGet) runs from one compose project, every container running and healthy where it has a
health check, the exportarr sidecars included. The containers expected are derived from the resolved catalog
(helpers.household()), never listed here."""

import glob
import json
import os
import re

import pytest

from helpers import (
    COMPOSE_DIR, EPHEMERAL, READY, all_secrets, entry, expected_containers, exporters, http, inspect,
    project_containers, secret, servarr_apps, services, wait_ready)

CATEGORIES = ["tv", "movies", "music", "books", "audiobooks"]


def owner_service(name):
    """The catalog service a container belongs to (an exportarr sidecar belongs to its app)."""
    sidecars = dict((sidecar, app) for app, sidecar in exporters().items())
    return sidecars.get(name, name)


def public_ports():
    """{(service, 'port/proto')} a container may publish on all addresses: the catalog's `publish` entries."""
    out = set()
    for name in services():
        for published in entry(name).get("publish") or []:
            out.add((name, "%s/%s" % (published["container_port"], published.get("protocol", "tcp"))))
    return out


# ---- the converged household ---------------------------------------------------------------------------

def test_compose_project_is_clean_and_runs_exactly_the_household(host):
    result = host.run("cd %s && docker compose config -q" % COMPOSE_DIR)
    assert result.rc == 0, result.stderr
    listed = project_containers(host)
    print("compose ps: %s" % listed)
    assert listed == expected_containers()
    # Every exportarr sidecar is there (none switched off).
    assert set(exporters().values()) <= set(listed)
    assert exporters(), "the *arr apps' metrics come from exportarr sidecars"
    assert host.file(COMPOSE_DIR + "/.env").mode == 0o600
    assert host.file(COMPOSE_DIR + "/.env").user == "root"
    assert host.file(COMPOSE_DIR).user == "root"
    # compose.yml holds references, not secrets.
    compose = host.file(COMPOSE_DIR + "/compose.yml").content_string
    assert "${SONARR_API_KEY}" in compose
    assert not [s for s in all_secrets() if s in compose]


def test_every_container_is_running_and_healthy(host):
    listed = project_containers(host)
    found = wait_ready(host, listed)
    print("\n".join("%-18s %s" % item for item in sorted(found.items())))
    assert dict((n, s) for n, s in found.items() if s not in READY) == {}
    for name in listed:
        data = inspect(host, name)
        assert data["RestartCount"] == 0, (name, data["State"])
        # A container with a health check in the catalog or in its image must be healthy, not merely running.
        has_check = bool(entry(name).get("healthcheck")) if name in services() else False
        if has_check or (data["Config"].get("Healthcheck") or {}).get("Test", ["NONE"]) != ["NONE"]:
            assert found[name] == "running healthy", (name, found[name])


@pytest.mark.parametrize("name", expected_containers())
def test_container_hardening(host, name):
    data = inspect(host, name)
    config, hostcfg = data["Config"], data["HostConfig"]
    svc = entry(owner_service(name))
    sidecar = name != owner_service(name)
    assert data["Name"] == "/" + name
    assert hostcfg["RestartPolicy"]["Name"] == "unless-stopped"
    assert "no-new-privileges:true" in hostcfg["SecurityOpt"]
    assert hostcfg["LogConfig"]["Type"] == "json-file"
    assert hostcfg["LogConfig"]["Config"] == {"max-size": "10m", "max-file": "3"}
    assert list(data["NetworkSettings"]["Networks"]) == ["monsterr"]
    # The catalog's own probe, not one the scenario changed.
    if not sidecar and svc.get("healthcheck"):
        assert config["Healthcheck"]["Test"] == svc["healthcheck"]["test"], config["Healthcheck"]
    env = dict(e.split("=", 1) for e in config["Env"])
    if svc.get("user_env") and not sidecar:
        assert (env["PUID"], env["PGID"], env["TZ"], env["UMASK"]) == ("2000", "2000", "Europe/Berlin", "002")
        # The app really runs as the household's account (files it writes belong to media).
        assert host.check_output("ps -o uid= -p %d" % data["State"]["Pid"]).strip() == "2000"
    else:
        assert "PUID" not in env
    if svc.get("user") and not sidecar:
        assert config["User"] == svc["user"] == "2000:2000"
        assert host.check_output("ps -o uid= -p %d" % data["State"]["Pid"]).strip() == "2000"
    assert hostcfg["ReadonlyRootfs"] is (sidecar or bool(svc.get("read_only")))


def test_no_host_port_but_the_allowed_ones(host):
    public = public_ports()
    for name in project_containers(host):
        for port, bindings in (inspect(host, name)["HostConfig"]["PortBindings"] or {}).items():
            for binding in bindings:
                if (name, port) in public:
                    assert binding["HostIp"] in ("", "0.0.0.0"), (name, port, binding)
                else:
                    assert binding["HostIp"] == "127.0.0.1", (name, port, binding)
    # What the kernel has listening for docker-proxy on all addresses: only the catalog's published ports.
    sockets = host.check_output("ss -Hltnup | grep docker-proxy || true")
    found = set()
    for line in sockets.splitlines():
        address, port = line.split()[4].rsplit(":", 1)
        if address not in ("127.0.0.1", "[::1]"):
            found.add(port)
    print(sockets)
    assert found == set(p.split("/")[0] for _, p in public)


@pytest.mark.parametrize("app", servarr_apps())
def test_arr_answers_with_the_seeded_key_only(host, app):
    svc = entry(app)
    version, base = svc["api"]["version"], svc["host_url"]
    key = secret(app, "api_key")
    assert re.match(r"^[0-9a-f]{32}$", key), "32 lowercase hex characters, as the apps generate them"
    assert http(host, base + "/ping")[0] == 200
    status, body = http(host, "%s/api/%s/system/status" % (base, version), "-H 'X-Api-Key: %s'" % key)
    assert status == 200, body
    info = json.loads(body)
    assert info["appName"].lower() == app and info["authentication"] == "external" and info["urlBase"] == ""
    assert http(host, "%s/api/%s/system/status" % (base, version))[0] == 401
    assert http(host, "%s/api/%s/system/status" % (base, version), "-H 'X-Api-Key: %s'" % ("0" * 32))[0] == 401
    # The app rewrote its seeded config.xml (as the real apps do) and kept the key.
    assert "<ApiKey>%s</ApiKey>" % key in host.file("%s/config.xml" % svc["appdata"]).content_string


def test_qbittorrent_login_with_the_seeded_password_and_categories(host):
    password = secret("qbittorrent", "password")
    assert len(password) >= 32
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
    assert status == 200 and re.match(r"^\d+\.\d+", json.loads(body)["result"]), body
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
