# -*- coding: utf-8 -*-
# Copyright: monsterr.mediaserver developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The proxy layer's nginx configuration, rendered by the real catalog and proxy roles, checked by the real
nginx: `nginx -t` under the main nginx.conf of the catalog's image and of Debian's package, then a real nginx
on loopback ports in front of small upstream stubs and an Authelia stand-in that answers like
/api/authz/auth-request (401 + Location to the portal, 200 + Remote-* headers, 403).

Needs the `nginx` binary (Debian: apt-get install nginx-light), openssl and curl. Runs as any user that may
bind loopback ports; the role's directories are created in a temporary directory.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import hashlib
import json
import os
import re
import shutil
import socket
import ssl
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, quote, urlsplit

import pytest
import yaml

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
PLAYBOOK = os.path.join(os.path.dirname(__file__), "playbook.yml")
DOMAIN = "example.test"
NGINX = shutil.which("nginx") or ("/usr/sbin/nginx" if os.path.exists("/usr/sbin/nginx") else None)

pytestmark = [
    pytest.mark.integration,
    pytest.mark.needs(NGINX, "nginx not found: run `make setup` (apt-get install nginx-light)"),
    pytest.mark.needs(shutil.which("openssl") and shutil.which("curl"),
                      "openssl or curl not found: run `make setup` (apt-get install openssl curl)"),
]

# The stock /etc/nginx/nginx.conf of the catalog's image (docker.io/library/nginx), paths moved under the prefix.
OFFICIAL_MAIN = """
worker_processes  1;
error_log  {logs}/error.log notice;
pid        {prefix}/nginx.pid;
events {{ worker_connections  1024; }}
http {{
    include       {mime};
    default_type  application/octet-stream;
    log_format  main  '$remote_addr - $remote_user [$time_local] "$request" '
                      '$status $body_bytes_sent "$http_referer" '
                      '"$http_user_agent" "$http_x_forwarded_for"';
    access_log  {logs}/access.log  main;
    sendfile        on;
    keepalive_timeout  65;
{temp}
    include {conf_d}/*.conf;
}}
"""
TEMP_PATHS = "\n".join("    %s_temp_path {prefix}/tmp/%s;" % (k, k) for k in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))


def _tool(name):
    local = os.path.join(os.path.dirname(sys.executable), name)
    return local if os.path.exists(local) else shutil.which(name)


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --- upstream stubs ---------------------------------------------------------------------------------------

class Stub(object):
    """An HTTP server on a loopback port that records each request it gets."""

    def __init__(self, name, handler):
        self.name = name
        self.calls = []
        stub = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_GET(self):
                stub.calls.append({"path": self.path, "headers": dict((k.lower(), v) for k, v in self.headers.items())})
                handler(self, stub)

            do_HEAD = do_GET
            do_POST = do_GET

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.url = "http://127.0.0.1:%d" % self.port
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


def _send(req, status, body=b"", headers=None):
    req.send_response(status)
    for key, value in (headers or {}).items():
        req.send_header(key, value)
    req.send_header("Content-Length", str(len(body)))
    req.end_headers()
    if req.command != "HEAD":
        req.wfile.write(body)


def app_handler(req, stub):
    """Echoes what arrived as JSON; /wp-login.php is 404 (a bot probe); a websocket upgrade is accepted and echoed."""
    if req.headers.get("Upgrade", "").lower() == "websocket":
        accept = base64.b64encode(hashlib.sha1((req.headers["Sec-WebSocket-Key"] + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11")
                                               .encode()).digest()).decode()
        req.send_response(101)
        req.send_header("Upgrade", "websocket")
        req.send_header("Connection", "Upgrade")
        req.send_header("Sec-WebSocket-Accept", accept)
        req.end_headers()
        req.wfile.flush()
        data = req.connection.recv(1024)
        if data:
            req.connection.sendall(b"echo:" + data)
        req.close_connection = True
        return
    if req.path.startswith("/wp-login.php"):
        return _send(req, 404, b"not found\n")
    body = json.dumps({"app": stub.name, "path": req.path,
                       "headers": dict((k.lower(), v) for k, v in req.headers.items())}).encode()
    _send(req, 200, body, {"Content-Type": "application/json", "X-Frame-Options": "DENY", "X-Powered-By": "stub"})


SESSIONS = {
    "admin-session": {"Remote-User": "alice", "Remote-Groups": "admins,family", "Remote-Name": "Alice Admin",
                      "Remote-Email": "alice@example.test"},
    "guest-session": None,     # signed in, but not in a group the rule allows
}


def authelia_handler(req, stub):
    """Authelia's /api/authz/auth-request (implementation AuthRequest): the session cookie decides."""
    if not req.path.startswith("/api/authz/auth-request"):
        return _send(req, 404)
    cookies = dict(c.strip().split("=", 1) for c in req.headers.get("Cookie", "").split(";") if "=" in c)
    session = cookies.get("authelia_session")
    if session in SESSIONS and SESSIONS[session]:
        return _send(req, 200, b"", SESSIONS[session])
    if session in SESSIONS:
        return _send(req, 403, b"403 Forbidden")
    target = req.headers.get("X-Original-URL", "")
    location = "https://auth.%s/?rd=%s&rm=%s" % (DOMAIN, quote(target, safe=""), req.headers.get("X-Original-Method", ""))
    return _send(req, 401, b"401 Unauthorized", {"Location": location})


# --- the rendered configuration and a running nginx ---------------------------------------------------------

def _openssl(*args):
    subprocess.run(["openssl"] + list(args), check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _certs(base):
    """A test CA and a certificate for the domain and *.domain, laid out like /etc/letsencrypt/live/<name>/."""
    ca = base / "ca"
    ca.mkdir()
    _openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "2",
             "-subj", "/CN=monsterr proxy test CA", "-keyout", str(ca / "ca.key"), "-out", str(ca / "ca.pem"))
    live = base / "letsencrypt" / "live" / DOMAIN
    live.mkdir(parents=True)
    _openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-subj", "/CN=" + DOMAIN,
             "-keyout", str(live / "privkey.pem"), "-out", str(ca / "site.csr"))
    (ca / "ext.cnf").write_text("subjectAltName=DNS:%s,DNS:*.%s\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n"
                                % (DOMAIN, DOMAIN))
    _openssl("x509", "-req", "-in", str(ca / "site.csr"), "-CA", str(ca / "ca.pem"), "-CAkey", str(ca / "ca.key"),
             "-CAcreateserial", "-days", "2", "-extfile", str(ca / "ext.cnf"), "-out", str(live / "cert.pem"))
    (live / "fullchain.pem").write_text((live / "cert.pem").read_text() + (ca / "ca.pem").read_text())
    return ca / "ca.pem"


def _nginx_version():
    out = subprocess.run([NGINX, "-v"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True).stdout
    return tuple(int(x) for x in re.search(r"nginx/(\d+)\.(\d+)\.(\d+)", out).groups())


def run_role(env, extra=None, check=False, expect_ok=True):
    """ansible-playbook with the proxy layer; returns (rc, output, recap counts)."""
    vars_file = env["base"] / ("vars-%d.yml" % len(list(env["base"].glob("vars-*.yml"))))
    vars_file.write_text(yaml.safe_dump(dict(env["vars"], **(extra or {}))))
    argv = [_tool("ansible-playbook"), "-i", "testhost,", PLAYBOOK, "-e", "@%s" % vars_file,
            "-e", "ansible_python_interpreter=%s" % sys.executable]
    if check:
        argv += ["--check", "--diff"]
    proc = subprocess.run(argv, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True,
                          env=dict(os.environ, ANSIBLE_FORCE_COLOR="0", ANSIBLE_NOCOLOR="1", ANSIBLE_CALLBACK_RESULT_FORMAT="json"))
    recap = re.search(r"testhost\s*:\s*ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)", proc.stdout)
    counts = dict(zip(("ok", "changed", "unreachable", "failed"), map(int, recap.groups()))) if recap else {}
    if expect_ok:
        assert proc.returncode == 0, proc.stdout[-6000:]
    return proc.returncode, proc.stdout, counts


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    base = tmp_path_factory.mktemp("proxy")
    ca = _certs(base)
    stubs = dict((name, Stub(name, app_handler)) for name in ("sonarr", "plex", "homepage", "qbittorrent", "grafana"))
    authelia = Stub("authelia", authelia_handler)
    for sub in ("acme", "tmp"):
        (base / sub).mkdir()
    http_port, https_port = _free_port(), _free_port()
    overrides = dict((name, {"internal_url": stub.url}) for name, stub in stubs.items())
    overrides["authelia"] = {"internal_url": authelia.url}
    env = {
        "base": base, "ca": ca, "stubs": stubs, "authelia": authelia, "http": http_port, "https": https_port,
        "conf_d": base / "appdata" / "proxy" / "conf.d", "logs": base / "appdata" / "proxy" / "logs",
        "acme": base / "acme",
        "vars": {
            "household_domain": DOMAIN,
            "household_appdata_root": str(base / "appdata"),
            "household_puid": os.getuid(),
            "household_pgid": os.getgid(),
            "household_no_log": False,
            # The shipped default list plus an app with a bypass path without a trailing slash.
            "catalog_enabled": ["proxy", "authelia", "redis", "homepage", "plex", "sonarr", "radarr", "prowlarr",
                                "bazarr", "qbittorrent", "overseerr", "prometheus", "node-exporter", "cadvisor",
                                "grafana", "calibre-web"],
            "catalog_overrides": overrides,
            "proxy_container": "monsterr-proxy-test-no-such-container",
            "proxy_nginx_acme_root": str(base / "acme"),
            "proxy_nginx_log_dir": str(base / "appdata" / "proxy" / "logs"),
            "proxy_nginx_letsencrypt_dir": str(base / "letsencrypt"),
            "proxy_listen_address": "127.0.0.1",
            "proxy_http_port": http_port,
            "proxy_https_port": https_port,
            "proxy_resolver": ["127.0.0.1"],
            # Debian 12's nginx 1.22 predates `http2 on;` (1.25.1); the catalog's image has it.
            "proxy_http2_syntax": "directive" if _nginx_version() >= (1, 25, 1) else "listen",
        },
    }
    # First run in check mode on a host without any of it: must not fail (nothing exists yet).
    env["check_first"] = run_role(env, check=True)
    env["first"] = run_role(env)
    env["second"] = run_role(env)
    env["check_after"] = run_role(env, check=True)
    main = base / "nginx.conf"
    main.write_text(OFFICIAL_MAIN.format(logs=env["logs"], prefix=base, mime="/etc/nginx/mime.types", conf_d=env["conf_d"],
                                         temp=TEMP_PATHS.format(prefix=base)).replace("worker_processes", "user root;\nworker_processes"))
    env["main"] = main
    started = subprocess.run([NGINX, "-e", "stderr", "-p", str(base), "-c", str(main)], stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, universal_newlines=True)
    assert started.returncode == 0, started.stdout
    deadline = time.time() + 10
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", https_port), timeout=1).close()
            break
        except OSError:
            time.sleep(0.1)
    yield env
    subprocess.run([NGINX, "-e", "stderr", "-p", str(base), "-c", str(main), "-s", "quit"], check=False)
    for stub in list(stubs.values()) + [authelia]:
        stub.stop()


def curl(env, host, path="/", scheme="https", headers=None, cookie=None, extra=None):
    """curl through the real nginx, SNI and Host set to host; returns (curl exit code, status, headers, body)."""
    port = env["https"] if scheme == "https" else env["http"]
    argv = ["curl", "-sS", "--max-time", "10", "--cacert", str(env["ca"]), "--resolve", "%s:%d:127.0.0.1" % (host, port),
            "-D", "-", "-o", str(env["base"] / "body"), "%s://%s:%d%s" % (scheme, host, port, path)]
    for key, value in (headers or {}).items():
        argv += ["-H", "%s: %s" % (key, value)]
    if cookie:
        argv += ["--cookie", "authelia_session=%s" % cookie]
    argv += extra or []
    if os.path.exists(str(env["base"] / "body")):
        os.unlink(str(env["base"] / "body"))
    proc = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True)
    status, hdrs = None, {}
    # universal_newlines turned curl's CRLFs into LFs; the last block is the final response (after 100, 101...).
    blocks = [b for b in proc.stdout.split("\n\n") if b.strip()]
    if blocks:
        lines = blocks[-1].strip().split("\n")
        status = int(lines[0].split()[1])
        for line in lines[1:]:
            key, _, value = line.partition(":")
            hdrs.setdefault(key.strip().lower(), []).append(value.strip())
    body = open(str(env["base"] / "body")).read() if os.path.exists(str(env["base"] / "body")) else ""
    return proc.returncode, status, hdrs, body


def _echo(body):
    return json.loads(body)


# --- the role ------------------------------------------------------------------------------------------------

def test_role_is_idempotent_and_check_mode_clean(env):
    assert env["check_first"][2]["failed"] == 0
    assert env["first"][2]["changed"] >= 1
    assert env["second"][2]["changed"] == 0, env["second"][1][-3000:]
    assert env["check_after"][2]["changed"] == 0, env["check_after"][1][-3000:]


def test_one_server_per_exposed_service_and_no_other(env):
    conf = (env["conf_d"] / "monsterr.conf").read_text()
    assert conf.startswith("#"), "managed header first"
    names = re.findall(r"^\s*server_name (\S+);$", conf, flags=re.M)
    expected = sorted("%s.%s" % (sub, DOMAIN) for sub in
                      ("auth", "home", "plex", "sonarr", "radarr", "prowlarr", "bazarr", "torrent", "requests",
                       "prometheus", "grafana", "books"))
    assert sorted(n for n in names if n != "_") == expected
    assert "redis" not in conf and "cadvisor" not in conf.replace("# ---", "")


def test_bad_settings_fail_with_every_problem_at_once(env):
    rc, out, counts = run_role(env, extra={
        "proxy_http_port": 70000,
        "proxy_tls_protocols": ["TLSv1"],
        "catalog_overrides": dict(env["vars"]["catalog_overrides"], sonarr={"proxy": {"bypass_paths": ["/api; evil"]}}),
    }, expect_ok=False)
    assert rc != 0
    # The layer runs without preflight here: it checks itself with preflight's rules (plugins/filter/layer_problems.py).
    assert "Preflight found 3 problem(s); nothing was changed on the host" in out, out[-3000:]
    assert "proxy_http_port = 70000 is not a TCP port" in out
    assert "proxy_tls_protocols = ['TLSv1'] is not TLSv1.2 and/or TLSv1.3" in out
    assert "catalog_overrides.sonarr.proxy.bypass_paths has '/api; evil'" in out


# --- nginx -t ------------------------------------------------------------------------------------------------

def _nginx_t(env, main):
    return subprocess.run([NGINX, "-t", "-q", "-e", "stderr", "-p", str(env["base"]), "-c", str(main)],
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True)


def test_nginx_t_accepts_it_under_the_images_nginx_conf(env):
    proc = _nginx_t(env, env["main"])
    assert proc.returncode == 0 and "[emerg]" not in proc.stdout, proc.stdout


def test_nginx_t_accepts_it_under_debians_nginx_conf(env):
    """Debian's nginx.conf sets ssl_protocols and ssl_prefer_server_ciphers at http level: no duplicates."""
    stock = "/etc/nginx/nginx.conf"
    if not os.path.exists(stock):
        pytest.fail("%s not found (Debian's nginx.conf, package nginx-common): run `make setup` "
                    "(apt-get install nginx-light)" % stock, pytrace=False)
    text = open(stock).read()
    text = re.sub(r"^\s*user\s+[^;]+;", "user root;", text, flags=re.M)
    text = re.sub(r"^\s*pid\s+[^;]+;", "pid %s/debian.pid;" % env["base"], text, flags=re.M)
    text = re.sub(r"include /etc/nginx/modules-enabled/\*\.conf;", "", text)
    text = re.sub(r"(access|error)_log\s+/var/log/nginx/", r"\1_log %s/" % env["logs"], text)
    text = text.replace("include /etc/nginx/conf.d/*.conf;", "include %s/*.conf;\n%s" % (env["conf_d"], TEMP_PATHS.format(prefix=env["base"])))
    text = re.sub(r"include /etc/nginx/sites-enabled/\*;", "", text)
    main = env["base"] / "debian-nginx.conf"
    main.write_text(text)
    proc = _nginx_t(env, main)
    assert proc.returncode == 0 and "[emerg]" not in proc.stdout, proc.stdout


def test_nginx_t_can_fail(env):
    broken = env["base"] / "broken.d"
    broken.mkdir(exist_ok=True)
    conf = (env["conf_d"] / "monsterr.conf").read_text().replace("proxy_http_version 1.1;", "proxy_http_version 1.1 x;", 1)
    (broken / "monsterr.conf").write_text(conf)
    main = env["base"] / "broken.conf"
    main.write_text(env["main"].read_text().replace(str(env["conf_d"]), str(broken)))
    proc = _nginx_t(env, main)
    assert proc.returncode != 0 and "[emerg]" in proc.stdout


# --- behaviour of the running nginx ------------------------------------------------------------------------

def test_unauthenticated_request_to_an_admin_app_is_sent_to_the_portal(env):
    before_app = len(env["stubs"]["sonarr"].calls)
    rc, status, headers, _ = curl(env, "sonarr." + DOMAIN, "/calendar?week=1")
    assert rc == 0 and status == 302, headers
    assert "location" in headers, (headers, env["authelia"].calls[-1:])
    location = urlsplit(headers["location"][0])
    assert (location.scheme, location.netloc, location.path) == ("https", "auth." + DOMAIN, "/")
    assert parse_qs(location.query)["rd"] == ["https://sonarr.%s:%d/calendar?week=1" % (DOMAIN, env["https"])]
    asked = env["authelia"].calls[-1]["headers"]
    assert asked["x-original-url"] == "https://sonarr.%s:%d/calendar?week=1" % (DOMAIN, env["https"])
    assert asked["x-original-method"] == "GET" and asked["x-forwarded-for"] == "127.0.0.1"
    assert len(env["stubs"]["sonarr"].calls) == before_app, "the app must not be reached"
    # The redirect carries the security headers too.
    assert headers["strict-transport-security"] == ["max-age=63072000"]


def test_signed_in_admin_reaches_the_app_with_the_identity_headers(env):
    rc, status, headers, body = curl(env, "sonarr." + DOMAIN, "/", cookie="admin-session",
                                     headers={"Remote-User": "mallory", "X-Forwarded-For": "203.0.113.9"})
    assert rc == 0 and status == 200
    seen = _echo(body)
    assert seen["app"] == "sonarr"
    assert seen["headers"]["remote-user"] == "alice"
    assert seen["headers"]["remote-groups"] == "admins,family"
    assert seen["headers"]["remote-name"] == "Alice Admin"
    assert seen["headers"]["remote-email"] == "alice@example.test"
    assert seen["headers"]["host"] == "sonarr." + DOMAIN
    assert seen["headers"]["x-forwarded-proto"] == "https"
    assert seen["headers"]["x-forwarded-for"] == "127.0.0.1", "overwritten, not appended"
    assert headers["x-frame-options"] == ["SAMEORIGIN"], "the app's own DENY is replaced"
    assert headers["x-content-type-options"] == ["nosniff"]
    assert headers["content-security-policy"] == ["frame-ancestors 'self'"]
    assert headers["referrer-policy"] == ["strict-origin-when-cross-origin"]
    assert "x-powered-by" not in headers and "server" in headers and headers["server"] == ["nginx"]


def test_signed_in_user_outside_the_allowed_groups_is_refused(env):
    rc, status, _, _ = curl(env, "sonarr." + DOMAIN, "/", cookie="guest-session")
    assert rc == 0 and status == 403


def test_bypass_path_reaches_the_app_without_asking_authelia(env):
    asked = len(env["authelia"].calls)
    rc, status, _, body = curl(env, "sonarr." + DOMAIN, "/api/v3/system/status",
                               headers={"X-Api-Key": "k" * 32, "Remote-User": "mallory"})
    assert rc == 0 and status == 200
    seen = _echo(body)
    assert seen["path"] == "/api/v3/system/status" and seen["headers"]["x-api-key"] == "k" * 32
    assert "remote-user" not in seen["headers"], "a client's own Remote-User never reaches the app"
    assert len(env["authelia"].calls) == asked, "bypass paths must not call auth_request"


def test_site_without_sign_on_is_served_directly(env):
    asked = len(env["authelia"].calls)
    rc, status, _, body = curl(env, "plex." + DOMAIN, "/web/index.html", headers={"Remote-User": "mallory"})
    assert rc == 0 and status == 200 and _echo(body)["app"] == "plex"
    assert "remote-user" not in _echo(body)["headers"]
    assert len(env["authelia"].calls) == asked


def test_http2_is_offered(env):
    rc, status, _, _ = curl(env, "plex." + DOMAIN, "/", extra=["--http2", "-w", ""])
    proc = subprocess.run(["curl", "-sS", "-o", "/dev/null", "-w", "%{http_version}", "--http2", "--cacert", str(env["ca"]),
                           "--resolve", "plex.%s:%d:127.0.0.1" % (DOMAIN, env["https"]),
                           "https://plex.%s:%d/" % (DOMAIN, env["https"])], stdout=subprocess.PIPE, universal_newlines=True)
    assert status == 200 and proc.stdout == "2"


def _raw_upgrade(env, host):
    ctx = ssl.create_default_context(cafile=str(env["ca"]))
    with socket.create_connection(("127.0.0.1", env["https"]), timeout=5) as raw:
        with ctx.wrap_socket(raw, server_hostname=host) as tls:
            tls.sendall(("GET /socket HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                         "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n" % host).encode())
            head = b""
            while b"\r\n\r\n" not in head:
                chunk = tls.recv(4096)
                if not chunk:
                    break
                head += chunk
            status = int(head.split(b" ", 2)[1])
            echoed = b""
            if status == 101:
                tls.sendall(b"ping")
                echoed = tls.recv(64)
            return status, head, echoed


def test_websocket_upgrade_where_the_catalog_says_so(env):
    status, head, echoed = _raw_upgrade(env, "plex." + DOMAIN)
    assert status == 101 and b"s3pPLMBiTxaQ9kYGzzhZRbK+xOo=" in head
    assert echoed == b"echo:ping"


def test_no_upgrade_where_the_catalog_does_not_say_so(env):
    # qBittorrent's catalog entry has no websocket: nginx does not forward the upgrade.
    env["stubs"]["qbittorrent"].calls[:] = []
    status, _, _ = _raw_upgrade(env, "torrent." + DOMAIN)
    assert status == 302   # and it is behind the sign-on anyway
    rc, status, _, body = curl(env, "torrent." + DOMAIN, "/", cookie="admin-session",
                               headers={"Upgrade": "websocket", "Connection": "Upgrade"})
    assert status == 200 and "upgrade" not in _echo(body)["headers"]


def test_undefined_host_gets_no_certificate_and_no_app(env):
    rc, status, _, _ = curl(env, "nobody." + DOMAIN, "/")
    assert status is None and rc == 35, "TLS handshake refused (curl: SSL connect error)"


def test_undefined_host_header_behind_a_known_name_gets_no_app(env):
    """SNI of a real site, Host of nobody: the default server closes (444) or nginx says 421."""
    for version, closed in (("--http1.1", 52), ("--http2", 92)):   # 52 empty reply, 92 HTTP/2 stream reset
        rc, status, _, _ = curl(env, "sonarr." + DOMAIN, "/", headers={"Host": "nobody." + DOMAIN}, extra=[version])
        assert (status is None and rc == closed) or status == 421, (version, rc, status)


def test_undefined_host_on_http_is_closed(env):
    rc, status, _, _ = curl(env, "nobody." + DOMAIN, "/", scheme="http")
    assert status is None and rc == 52, "444: empty reply"
    rc, status, _, _ = curl(env, "nobody." + DOMAIN, "/.well-known/acme-challenge/x", scheme="http")
    assert status is None and rc == 52, "no such token: closed like any other request for an unknown name"


def test_acme_challenge_of_a_name_being_added_is_served(env):
    """An app enabled on a converged host: the letsencrypt layer asks for the new name's certificate before the proxy
    layer renders its site, so the default server must answer HTTP-01 for it (else every re-run fails at certbot)."""
    challenge = env["acme"] / ".well-known" / "acme-challenge"
    challenge.mkdir(parents=True, exist_ok=True)
    (challenge / "n3wapp").write_text("n3wapp.thumbprint")
    rc, status, _, body = curl(env, "newapp." + DOMAIN, "/.well-known/acme-challenge/n3wapp", scheme="http")
    assert status == 200 and body == "n3wapp.thumbprint", (rc, status)
    rc, status, _, _ = curl(env, "newapp." + DOMAIN, "/.well-known/acme-challenge/../../etc/passwd", scheme="http")
    assert status in (None, 400, 404) and status != 200


def test_http_redirects_to_https(env):
    rc, status, headers, _ = curl(env, "sonarr." + DOMAIN, "/calendar?week=1", scheme="http")
    assert status == 301
    assert headers["location"] == ["https://sonarr.%s:%d/calendar?week=1" % (DOMAIN, env["https"])]


def test_acme_challenge_is_served_on_http_for_every_name_of_the_certificate(env):
    challenge = env["acme"] / ".well-known" / "acme-challenge"
    challenge.mkdir(parents=True, exist_ok=True)
    (challenge / "tok3n").write_text("tok3n.thumbprint")
    for host in ("sonarr." + DOMAIN, DOMAIN, "auth." + DOMAIN):
        rc, status, _, body = curl(env, host, "/.well-known/acme-challenge/tok3n", scheme="http")
        assert status == 200 and body == "tok3n.thumbprint", host
    rc, status, _, _ = curl(env, DOMAIN, "/.well-known/acme-challenge/missing", scheme="http")
    assert status == 404


def test_healthz_answers_the_container_itself(env):
    for host in ("localhost", "127.0.0.1"):
        rc, status, _, body = curl(env, host, "/healthz", scheme="http")
        assert status == 200 and body == "ok\n"


def test_logs_are_where_fail2ban_reads_them_in_combined_format(env):
    curl(env, "plex." + DOMAIN, "/wp-login.php")
    access = env["logs"] / "access.log"
    assert access.exists() and (env["logs"] / "error.log").exists()
    time.sleep(0.2)
    lines = access.read_text().splitlines()
    combined = re.compile(r'^127\.0\.0\.1 - \S+ \[[^\]]+\] "GET /wp-login\.php HTTP/[0-9.]+" 404 \d+ "[^"]*" "[^"]*" "plex\.')
    assert any(combined.match(line) for line in lines), lines[-5:]
    fail2ban_regex = os.environ.get("FAIL2BAN_REGEX") or shutil.which("fail2ban-regex")
    filter_file = os.environ.get("FAIL2BAN_FILTER_D", "/etc/fail2ban/filter.d") + "/nginx-botsearch.conf"
    if not (fail2ban_regex and os.path.exists(filter_file)):
        pytest.fail("fail2ban-regex or %s not found: run `make setup` (apt-get install fail2ban)" % filter_file,
                    pytrace=False)
    proc = subprocess.run([fail2ban_regex, str(access), filter_file], stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, universal_newlines=True)
    assert re.search(r"Lines: \d+ lines, \d+ ignored, [1-9]\d* matched", proc.stdout), proc.stdout


def _image_present(image):
    try:
        return subprocess.run(["docker", "image", "inspect", image], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              timeout=30).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


NGINX_IMAGE = os.environ.get("MONSTERR_NGINX_IMAGE", "monsterr-test/nginx:local")


@pytest.mark.docker
@pytest.mark.needs(_image_present(NGINX_IMAGE), "image %s not found: run `bash scripts/build-service-images.sh nginx` "
                                                "(after `make setup`)" % NGINX_IMAGE)
def test_production_rendering_passes_nginx_t_in_the_nginx_image(env, tmp_path):
    """The role's defaults (container paths, ports 80/443, Docker's resolver, `http2 on;`, upstream names), in the
    stack's nginx image (Debian 13's nginx, its own nginx.conf) with the test certificate at /etc/letsencrypt."""
    production = dict(env["vars"], household_appdata_root=str(tmp_path / "appdata"), catalog_overrides={},
                      proxy_nginx_acme_root="/var/www/acme", proxy_nginx_log_dir="/var/log/nginx",
                      proxy_nginx_letsencrypt_dir="/etc/letsencrypt", proxy_listen_address="", proxy_http_port=80,
                      proxy_https_port=443, proxy_resolver=["127.0.0.11"], proxy_http2_syntax="directive")
    saved = env["vars"]
    env["vars"] = production
    try:
        run_role(env)
    finally:
        env["vars"] = saved
    conf_d = tmp_path / "appdata" / "proxy" / "conf.d"
    assert "http2 on;" in (conf_d / "monsterr.conf").read_text()
    proc = subprocess.run(["docker", "run", "--rm", "--network", "none",
                           "-v", "%s:/etc/nginx/conf.d:ro" % conf_d, "-v", "%s:/etc/letsencrypt:ro" % (env["base"] / "letsencrypt"),
                           NGINX_IMAGE, "nginx", "-t"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True)
    assert proc.returncode == 0 and "test is successful" in proc.stdout, proc.stdout
