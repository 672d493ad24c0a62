# -*- coding: utf-8 -*-
# Copyright: monsterr.mediaserver developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Each local test image run the way the stack runs the real one, from the production catalog entry (command,
user, environment, read_only, tmpfs, volumes on household-owned 0750 directories), on a Docker >= 26 loopback (::1
on lo): the catalog's own health check passes in it (or the image's own HEALTHCHECK where the catalog has none),
the process runs as the real image would under those settings, the server listens on the address family the real
one does, and the start-up leaves the household's appdata as the real image would.

These hold the catalog to the real images: a catalog probe on ``localhost`` against an IPv4-only server with
busybox wget, a Redis or Authelia entry without the user settings that keep their entry points from chowning the
appdata, or a Grafana entry without ``user:`` fails here as it would on a user's first run."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import uuid

import pytest

from image_kit import catalog_entry, docker, families, logs, owner, probe, process_ids, require_images, wait

pytestmark = [pytest.mark.integration, pytest.mark.docker]

AUTHELIA_KEY = "k" * 64
AUTHELIA_CONFIG = """
server:
  address: "tcp://:9091/"
  endpoints: {authz: {auth-request: {implementation: AuthRequest}}}
log: {level: info, format: text}
authentication_backend: {file: {path: /config/users_database.yml, watch: true}}
access_control: {default_policy: deny}
session:
  secret: "%(key)s"
  cookies: [{domain: example.test, authelia_url: "https://auth.example.test"}]
  redis: {host: redis, port: 6379}
storage: {encryption_key: "%(key)s", local: {path: /config/db.sqlite3}}
""" % {"key": AUTHELIA_KEY}

# What the proxy layer renders by default (roles/proxy: proxy_listen_ipv6 false, so `listen 80` only, IPv4): the
# default server and its container-only /healthz.
NGINX_SITE = """
geo $monsterr_local_client { default 0; 127.0.0.0/8 1; ::1/128 1; }
server {
    listen 80 default_server;
    server_name _;
    location = /healthz {
        if ($monsterr_local_client = 0) { return 444; }
        default_type text/plain;
        return 200 "ok\\n";
    }
    location / { return 404; }
}
"""


def write(path, text, owner_ids=(1000, 1000), mode=0o640):
    with open(path, "w") as handle:
        handle.write(text)
    os.chown(path, *owner_ids)
    os.chmod(path, mode)


def assert_probe(container, entry):
    test = entry["healthcheck"]["test"]
    result = probe(container, test)
    assert result.returncode == 0, ("the catalog's health check %r fails in the container: %s\n--- logs:\n%s"
                                    % (test, result.stdout, logs(container)))


def assert_localhost_form_fails(container, entry):
    """The same probe on `localhost` (what the catalog said before): busybox wget tries [::1] only, and this server
    listens on IPv4 only, so the real image would be unhealthy."""
    test = list(entry["healthcheck"]["test"])
    assert "127.0.0.1" in test[-1], test
    test[-1] = test[-1].replace("127.0.0.1", "localhost")
    result = probe(container, test, timeout=2)
    assert result.returncode != 0, result.stdout
    assert "can't connect to remote host" in docker("exec", container, "/bin/sh", "-c", test[-1].replace(">/dev/null", ""),
                                                    check=False).stdout


def expected_user(entry, default):
    """The uid:gid the real image runs as: the catalog's `user:` when it sets one, else the image's default."""
    return entry["user"] if entry.get("user") not in (None, "") else default


def test_proxy_nginx(containers):
    require_images("nginx")

    def prepare(sources):
        write(os.path.join(sources["config:conf.d"], "monsterr.conf"), NGINX_SITE)

    name, entry, _ = containers.run_app("proxy", "nginx", prepare)
    assert wait(lambda: docker("exec", name, "test", "-e", "/run/nginx.pid", check=False).returncode == 0), logs(name)
    # The site listens on IPv4 only, as the proxy layer renders it by default.
    assert families(name, 80) == {"127.0.0.1": True, "::1": False}
    assert_probe(name, entry)
    assert_localhost_form_fails(name, entry)
    assert process_ids(name) == "0:0"


def test_redis(containers):
    require_images("redis")
    name, entry, sources = containers.run_app("redis", "redis")
    assert_probe(name, entry)
    user = expected_user(entry, "999:1000")
    assert process_ids(name) == user
    # Authelia's sessions survive a restart only if Redis can save into its data directory.
    save = docker("exec", name, "redis-cli", "save")
    assert save.stdout.strip() == "OK", save.stdout + logs(name)
    assert families(name, 6379) == {"127.0.0.1": True, "::1": True}
    # With `user:` the entry point leaves the household's directory alone; as root it chowns it to redis (999).
    assert owner(sources["config"]) == ("1000:1000" if entry.get("user") else "999:1000")


def test_redis_entry_point_chowns_the_data_dir_only_as_root(containers):
    require_images("redis")
    as_root = containers.appdata("root")
    as_user = containers.appdata("user")
    foreign = containers.appdata("foreign")
    write(os.path.join(foreign, "notes.txt"), "not redis'")
    root_c = containers.run("redis", hint="redis-root", docker_args=["-v", "%s:/data" % as_root])
    user_c = containers.run("redis", hint="redis-user", docker_args=["--user", "1000:1000", "-v", "%s:/data" % as_user])
    foreign_c = containers.run("redis", hint="redis-foreign", docker_args=["-v", "%s:/data" % foreign])
    for c in (root_c, user_c, foreign_c):
        assert wait(lambda c=c: docker("exec", c, "redis-cli", "ping", check=False).stdout.strip() == "PONG"), logs(c)
    # As root: the data dir becomes redis' (uid 999, group kept) and redis runs as 999:1000.
    assert owner(as_root) == "999:1000" and process_ids(root_c) == "999:1000"
    assert docker("exec", root_c, "redis-cli", "save").stdout.strip() == "OK"
    # Under `user:`: nothing is chowned, redis runs as the household and can save.
    assert owner(as_user) == "1000:1000" and process_ids(user_c) == "1000:1000"
    assert docker("exec", user_c, "redis-cli", "save").stdout.strip() == "OK"
    # Anything but *.rdb/appendonlydir in the data dir: upstream changes nothing, and redis (999) cannot save.
    assert "Unknown file './notes.txt' found in data dir" in logs(foreign_c)
    assert owner(foreign) == "1000:1000"
    assert docker("exec", foreign_c, "redis-cli", "save", check=False).stdout.strip() != "OK"


def test_authelia(containers):
    require_images("authelia")

    def prepare(sources):
        write(os.path.join(sources["config"], "configuration.yml"), AUTHELIA_CONFIG)
        write(os.path.join(sources["config"], "users_database.yml"), "users: {}\n")

    name, entry, sources = containers.run_app("authelia", "authelia", prepare)
    assert_probe(name, entry)
    assert families(name, 9091) == {"127.0.0.1": True, "::1": True}
    # The household's appdata stays the household's: the entry point chowns /config to PUID:PGID (0:0 unless the
    # catalog sets them) on every start, unless the container runs with `user:`.
    env = entry.get("environment") or {}
    ids = entry["user"] if entry.get("user") else "%s:%s" % (env.get("PUID", 1000 if entry.get("user_env") else 0),
                                                             env.get("PGID", 1000 if entry.get("user_env") else 0))
    assert process_ids(name) == ids
    assert owner(sources["config"]) == "1000:1000", (
        "Authelia's entry point made /config %s: the playbook and the container fight over its ownership"
        % owner(sources["config"]))
    assert owner(os.path.join(sources["config"], "configuration.yml")) == "1000:1000"


def test_authelia_entry_point_chowns_config_to_puid_unless_user(containers):
    require_images("authelia")
    dirs = {}
    for case in ("default", "puid", "user"):
        dirs[case] = containers.appdata(case)
        write(os.path.join(dirs[case], "configuration.yml"), AUTHELIA_CONFIG)
        # Someone else's file, readable by all: whose it ends up being shows what the entry point chowned.
        write(os.path.join(dirs[case], "users_database.yml"), "users: {}\n", owner_ids=(1234, 1234), mode=0o644)
    default = containers.run("authelia", hint="authelia-default", docker_args=["-v", "%s:/config" % dirs["default"]])
    puid = containers.run("authelia", hint="authelia-puid", docker_args=["-e", "PUID=1000", "-e", "PGID=1000",
                                                                         "-v", "%s:/config" % dirs["puid"]])
    user = containers.run("authelia", hint="authelia-user", docker_args=["--user", "1000:1000", "-v", "%s:/config" % dirs["user"]])
    for c in (default, puid, user):
        assert wait(lambda c=c: docker("exec", c, "wget", "-qO-", "http://localhost:9091/api/health", check=False).returncode == 0), logs(c)
    # Image default PUID=0 PGID=0: everything under /config becomes root's, and Authelia runs as root.
    assert owner(dirs["default"]) == "0:0" and owner(os.path.join(dirs["default"], "users_database.yml")) == "0:0"
    assert process_ids(default) == "0:0"
    # PUID/PGID: recursively theirs, Authelia runs as them.
    assert owner(dirs["puid"]) == "1000:1000" and owner(os.path.join(dirs["puid"], "users_database.yml")) == "1000:1000"
    assert process_ids(puid) == "1000:1000"
    # `user:`: no chown at all.
    assert owner(dirs["user"]) == "1000:1000" and owner(os.path.join(dirs["user"], "users_database.yml")) == "1234:1234"
    assert process_ids(user) == "1000:1000"


@pytest.mark.parametrize("app,image,port,seed", [
    ("prometheus", "prometheus", 9090, ("config:config", "prometheus.yml", "global: {scrape_interval: 15s}\nscrape_configs: []\n")),
    ("alertmanager", "alertmanager", 9093, ("config:config", "alertmanager.yml", "route: {receiver: none}\nreceivers: [{name: none}]\n")),
    ("node-exporter", "node-exporter", 9100, None),
])
def test_monitoring(containers, app, image, port, seed):
    require_images(image)

    def prepare(sources):
        if seed:
            write(os.path.join(sources[seed[0]], seed[1]), seed[2])

    name, entry, _ = containers.run_app(app, image, prepare)
    assert_probe(name, entry)
    assert process_ids(name) == expected_user(entry, "65534:65534")
    assert families(name, port) == {"127.0.0.1": True, "::1": True}


GRAFANA_DATASOURCES = """apiVersion: 1
datasources:
  - {name: Prometheus, uid: prometheus, type: prometheus, access: proxy, url: "http://prometheus:9090", isDefault: true}
"""


def grafana_provisioning(sources):
    base = sources["config:provisioning"]
    for sub in ("datasources", "dashboards"):
        os.makedirs(os.path.join(base, sub), exist_ok=True)
        os.chown(os.path.join(base, sub), 1000, 1000)
    write(os.path.join(base, "datasources", "monsterr.yml"), GRAFANA_DATASOURCES)


def test_grafana(containers):
    require_images("grafana")
    name, entry, sources = containers.run_app("grafana", "grafana", grafana_provisioning)
    assert_probe(name, entry)
    assert process_ids(name) == expected_user(entry, "472:0")
    assert families(name, 3000) == {"127.0.0.1": True, "::1": True}
    assert os.path.exists(os.path.join(sources["config:data"], "grafana.db"))
    metrics = docker("exec", name, "curl", "-fsS", "http://127.0.0.1:3000/metrics").stdout
    assert "grafana_build_info{" in metrics
    # The admin password the stack generates (the catalog's secret with env GF_SECURITY_ADMIN_PASSWORD).
    env = json.loads(docker("inspect", "-f", "{{json .Config.Env}}", name).stdout)
    password = next(e.split("=", 1)[1] for e in env if e.startswith("GF_SECURITY_ADMIN_PASSWORD="))
    datasources = json.loads(docker("exec", name, "curl", "-fsS", "-u", "admin:%s" % password,
                                    "http://127.0.0.1:3000/api/datasources").stdout)
    assert [d["name"] for d in datasources] == ["Prometheus"]


def test_grafana_image_user_cannot_start_on_household_appdata(containers):
    """Without `user:` the image runs as 472 and cannot write the household's 0750 data directory: it stops."""
    require_images("grafana")
    data = containers.appdata("grafana-data")
    name = containers.run("grafana", hint="grafana-472", docker_args=["-v", "%s:/var/lib/grafana" % data])
    assert wait(lambda: docker("inspect", "-f", "{{.State.Running}}", name).stdout.strip() == "false", timeout=20), logs(name)
    assert docker("inspect", "-f", "{{.State.ExitCode}}", name).stdout.strip() != "0"
    assert "Permission denied" in logs(name) and "GF_PATHS_DATA='/var/lib/grafana' is not writable." in logs(name)


@pytest.mark.parametrize("whitelist,expected", [
    ("", 200),                      # no whitelist: anything that reaches the port may claim to be admin
    ("10.255.255.1", 401),          # the header from another address than the proxy's is refused
    ("127.0.0.1", 200),             # from the whitelisted address it is honoured
])
def test_grafana_auth_proxy_whitelist(containers, whitelist, expected):
    require_images("grafana")
    data = containers.appdata("grafana-%s" % (whitelist or "none"))
    env = ["-e", "GF_AUTH_PROXY_ENABLED=true", "-e", "GF_AUTH_PROXY_HEADER_NAME=Remote-User",
           "-e", "GF_AUTH_PROXY_WHITELIST=%s" % whitelist]
    name = containers.run("grafana", hint="grafana-proxy", docker_args=["--user", "1000:1000", "-v", "%s:/var/lib/grafana" % data] + env)
    assert wait(lambda: docker("exec", name, "curl", "-fsS", "http://127.0.0.1:3000/api/health", check=False).returncode == 0), logs(name)
    out = docker("exec", name, "curl", "-s", "-w", "\n%{http_code}", "-H", "Remote-User: admin",
                 "http://127.0.0.1:3000/api/user").stdout
    body, status = out.rsplit("\n", 1)
    assert int(status) == expected, out
    if expected == 401:
        assert json.loads(body)["messageId"] == "auth-proxy.invalid-ip", body
    else:
        assert json.loads(body)["login"] == "admin" and json.loads(body)["isGrafanaAdmin"] is True, body


def test_homepage(containers):
    require_images("homepage")
    name, entry, sources = containers.run_app("homepage", "homepage")
    assert wait(lambda: families(name, 3000)["127.0.0.1"]), logs(name)
    # Next.js with HOSTNAME=0.0.0.0 listens on IPv4 only.
    assert families(name, 3000) == {"127.0.0.1": True, "::1": False}
    assert_probe(name, entry)
    assert_localhost_form_fails(name, entry)
    assert process_ids(name) == "1000:1000"
    assert owner(sources["config"]) == "1000:1000"
    assert os.path.exists(os.path.join(sources["config"], "services.yaml"))
    allowed = (entry.get("environment") or {})["HOMEPAGE_ALLOWED_HOSTS"].split(",")[0]
    ok = docker("exec", name, "wget", "-qO-", "--header", "Host: %s" % allowed, "http://127.0.0.1:3000/api/healthcheck")
    assert ok.stdout == "up"
    refused = docker("exec", name, "wget", "-qO-", "--header", "Host: elsewhere.example", "http://127.0.0.1:3000/api/healthcheck",
                     check=False)
    assert refused.returncode != 0 and "400 Bad Request" in refused.stdout, refused.stdout
    assert "Host validation failed for: elsewhere.example" in logs(name)


def test_cadvisor(containers):
    require_images("cadvisor")
    name, entry, _ = containers.run_app("cadvisor", "cadvisor", extra_args=["--health-interval", "1s"])
    if (entry.get("healthcheck") or {}).get("test"):
        assert_probe(name, entry)
    else:
        # No catalog health check: the image's own HEALTHCHECK (busybox wget on localhost:8080) applies.
        assert wait(lambda: docker("inspect", "-f", "{{.State.Health.Status}}", name).stdout.strip() == "healthy",
                    timeout=40), docker("inspect", "-f", "{{json .State.Health}}", name).stdout + logs(name)
    assert process_ids(name) == "0:0"
    assert families(name, 8080) == {"127.0.0.1": True, "::1": True}
    metrics = docker("exec", name, "wget", "-qO-", "http://127.0.0.1:8080/metrics").stdout
    if any(v["source"] == "/var/run" for v in entry.get("volumes") or []) and os.path.exists("/var/run/docker.sock"):
        assert 'name="%s"' % name in metrics, metrics[:2000]
    assert "container_last_seen{" in metrics


def test_plex(containers):
    require_images("plex")
    name, entry, sources = containers.run_app("plex", "plex")
    assert_probe(name, entry)
    assert process_ids(name) == "1000:1000"
    assert families(name, 32400) == {"127.0.0.1": True, "::1": True}
    identity = docker("exec", name, "curl", "-fsS", "http://127.0.0.1:32400/identity").stdout
    assert "<MediaContainer" in identity and 'claimed="0"' in identity
    prefs = os.path.join(sources["config"], "Library", "Application Support", "Plex Media Server", "Preferences.xml")
    assert owner(prefs) == "1000:1000" and owner(sources["config"]) == "1000:1000"


def test_exportarr_refuses_a_64_hex_key():
    require_images("exportarr")
    out = docker("run", "--rm", "-e", "URL=http://sonarr:8989", "-e", "APIKEY=%s" % (uuid.uuid4().hex * 2),
                 "monsterr-test/exportarr:local", "sonarr", check=False)
    assert out.returncode == 1, out.stdout
    assert "api-key must be a 20-32 character alphanumeric string" in out.stdout


def test_exportarr_sidecar_reads_the_app_with_its_key(containers):
    """The sidecar as the stack derives it from the catalog entry's metrics (image, port, api.app): PORT, URL and
    APIKEY (the app's 32-hex key), read-only, next to the Servarr double with that key."""
    require_images("exportarr", "servarr")
    entry = catalog_entry("sonarr")
    metrics, api = entry["metrics"], entry["api"]
    assert metrics["exporter"] == "exportarr" and metrics["image"].startswith("ghcr.io/onedr0p/exportarr:")
    key = uuid.uuid4().hex
    net = containers.network()
    app = containers.run("servarr", hint="sonarr",
                         docker_args=["--network", net, "-v", "%s:/config" % containers.appdata("sonarr"),
                                      "-e", "SONARR__AUTH__APIKEY=%s" % key, "-e", "SONARR__SERVER__PORT=8989",
                                      "-e", "PUID=1000", "-e", "PGID=1000"])
    url = "http://%s:%s%s" % (app, entry["port"], api.get("url_base") or "")
    exporter = containers.run("exportarr", api["app"], hint="sonarr-exporter",
                              docker_args=["--network", net, "--read-only", "-e", "PORT=%s" % metrics["port"],
                                           "-e", "URL=%s" % url, "-e", "APIKEY=%s" % key])
    wrong = containers.run("exportarr", api["app"], hint="sonarr-exporter-wrong",
                           docker_args=["--network", net, "--read-only", "-e", "PORT=%s" % metrics["port"],
                                        "-e", "URL=%s" % url, "-e", "APIKEY=%s" % uuid.uuid4().hex])
    fetch = ("import urllib.request, urllib.error\ntry:\n    r = urllib.request.urlopen('http://127.0.0.1:%s/metrics', timeout=30)"
             "\n    print(r.status); print(r.read().decode())\nexcept urllib.error.HTTPError as e:\n    print(e.code); "
             "print(e.read().decode())" % metrics["port"])

    def scrape(container):
        out = docker("exec", container, "python3", "-c", fetch, check=False).stdout
        return out if out[:3].isdigit() else None

    good = wait(lambda: scrape(exporter), timeout=40)
    assert good and good.startswith("200"), (good, logs(exporter), logs(app))
    assert 'sonarr_system_status{url="%s"} 1' % url in good, good
    assert "exportarr_app_info{" in good
    assert process_ids(exporter) == "65532:65532"
    # The Servarr double listens on IPv4 only (image-facts: monsterr-test/servarr), exportarr on both families.
    assert families(app, int(entry["port"])) == {"127.0.0.1": True, "::1": False}
    assert families(exporter, int(metrics["port"]))["::1"] is True
    # A key the app refuses: exportarr's health collector fails and promhttp answers the scrape with 500.
    bad = wait(lambda: scrape(wrong), timeout=40)
    assert bad and bad.startswith("500"), bad
    assert "Received Client Error Status Code: 401" in bad
    # Distroless: no shell, so a CMD-SHELL probe cannot run in it.
    assert docker("exec", exporter, "/bin/sh", "-c", "true", check=False).returncode != 0


@pytest.mark.parametrize("image", ["servarr", "nzbget", "qbittorrent", "companions"])
def test_linuxserver_like_images_own_config_as_puid(containers, image):
    """linuxserver's init (init-<app>-config: lsiown -R abc:abc /config) chowns /config to PUID:PGID on every start,
    as root, then runs the app as PUID:PGID; without PUID/PGID abc is 911:911."""
    require_images(image)
    for case, env, ids in (("puid", ["-e", "PUID=1000", "-e", "PGID=1000"], "1000:1000"), ("default", [], "911:911")):
        config = containers.appdata("%s-%s" % (image, case))
        write(os.path.join(config, "someone-elses.conf"), "x\n", owner_ids=(1234, 1234))
        out = docker("run", "--rm", "-v", "%s:/config" % config, *env, "monsterr-test/%s:local" % image, "sh", "-c",
                     'echo "$(id -u):$(id -g)"').stdout.strip()
        assert out == ids
        assert owner(config) == ids and owner(os.path.join(config, "someone-elses.conf")) == ids
