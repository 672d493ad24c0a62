"""Verify the proxy and sign-on layers by asking the running nginx (tests/images/nginx: Debian's nginx) and the
Authelia 4.39 test double (tests/images/authelia) over HTTPS from the instance, the way a browser and an API client
would: curl with the test CA (prepare made it and the certbot-style lineage in /etc/letsencrypt) and
--resolve <name>:443:127.0.0.1 to the published ports. Read-only for the household: it signs in and reads,
nothing else; the apps are the Servarr doubles behind the proxy."""

import json
import re
from urllib.parse import parse_qs, urlsplit

from helpers import CA, DOMAIN, curl, entry, second_factor, secret, sign_in, wait_ready

ACCESS_LOG = "/opt/monsterr/proxy/logs/access.log"
AUTHELIA_LOG = "/opt/monsterr/authelia/logs/authelia.log"
SONARR = "sonarr." + DOMAIN
PORTAL = "auth." + DOMAIN


def app_stats(host):
    """The Servarr double's own request counts (asked directly on its host-private port, not through the proxy)."""
    return json.loads(host.check_output("curl -s http://127.0.0.1:8989/__double__/stats"))["requests"]


def authz_count(host):
    """How many auth_request subrequests the Authelia double answered (its metrics, inside its container)."""
    text = host.check_output("docker exec authelia wget -qO- http://127.0.0.1:9959/metrics")
    return sum(int(n) for n in re.findall(r'authelia_request\{key="authz \d+"\} (\d+)', text))


# ---- the containers -------------------------------------------------------------------------------------

def test_proxy_and_portal_are_running_and_healthy(host):
    states = wait_ready(host, ["proxy", "authelia"])
    print(states)
    assert states == {"proxy": "running healthy", "authelia": "running healthy"}
    # The catalog's own health checks, not overridden by the scenario.
    for name in ("proxy", "authelia"):
        health = json.loads(host.check_output("docker inspect -f '{{json .Config.Healthcheck.Test}}' %s" % name))
        assert health == entry(name)["healthcheck"]["test"]


def test_nginx_accepts_the_rendered_configuration_in_its_container(host):
    result = host.run("docker exec proxy nginx -t")
    print(result.stderr)
    assert result.rc == 0
    assert "syntax is ok" in result.stderr and "test is successful" in result.stderr
    assert "[warn]" not in result.stderr and "[emerg]" not in result.stderr


def test_compose_project_with_proxy_and_portal_is_clean(host):
    result = host.run("cd /opt/monsterr/compose && docker compose config -q")
    assert result.rc == 0, result.stderr
    services = host.check_output("cd /opt/monsterr/compose && docker compose config --services").split()
    assert {"proxy", "authelia", "redis"} <= set(services)


def test_the_certificate_is_the_lineages_and_verifies_for_every_name(host):
    """What nginx presents is /etc/letsencrypt/live/<domain>/cert.pem, and it verifies against the test CA."""
    lineage = host.file("/etc/letsencrypt/live/%s/cert.pem" % DOMAIN).content_string.strip()
    for name in (SONARR, PORTAL, "radarr." + DOMAIN):
        presented = host.check_output(
            "python3 -c \"import socket, ssl; c = ssl.create_default_context(cafile='%s'); "
            "s = c.wrap_socket(socket.create_connection(('127.0.0.1', 443)), server_hostname='%s'); "
            "print(ssl.DER_cert_to_PEM_cert(s.getpeercert(True)))\"" % (CA, name)).strip()
        assert presented == lineage, name


# ---- sign-on -------------------------------------------------------------------------------------------

def test_unauthenticated_request_to_an_admin_app_goes_to_the_portal(host):
    before = app_stats(host).get("GET /ping", 0)
    rc, status, headers, _ = curl(host, SONARR, "/ping?from=proxy-test")
    print(status, headers.get("location"))
    assert rc == 0 and status == 302
    location = urlsplit(headers["location"][0])
    assert (location.scheme, location.netloc, location.path) == ("https", PORTAL, "/")
    query = parse_qs(location.query)
    assert query["rd"] == ["https://%s/ping?from=proxy-test" % SONARR]
    assert query["rm"] == ["GET"]
    assert app_stats(host).get("GET /ping", 0) == before, "the app must not be reached"
    # The redirect carries the security headers too.
    assert headers["strict-transport-security"] == ["max-age=63072000"]


def test_wrong_password_is_refused_without_a_session(host):
    status, body, sid, _ = sign_in(host, "alice", "not-her-password")
    assert status == 401 and sid is None
    assert json.loads(body) == {"status": "KO", "message": "Authentication failed. Check your credentials."}
    assert "Unsuccessful 1FA authentication attempt by user 'alice'" in host.file(AUTHELIA_LOG).content_string


def test_one_factor_is_not_enough_for_a_two_factor_app(host):
    status, body, sid, raw = sign_in(host, "alice")
    print(raw)
    assert status == 200 and json.loads(body) == {"status": "OK"}
    assert sid and "domain=%s" % DOMAIN in raw and "HttpOnly" in raw and "secure" in raw
    rc, status, headers, _ = curl(host, SONARR, "/ping", cookie=sid)
    assert status == 302 and headers["location"][0].startswith("https://%s/?rd=" % PORTAL)


def test_signed_in_admin_reaches_the_app_itself(host, admin_session):
    before = app_stats(host).get("GET /ping", 0)
    rc, status, headers, body = curl(host, SONARR, "/ping", cookie=admin_session)
    print(status, headers, body)
    assert rc == 0 and status == 200
    # The Servarr double's answer: its body and its version header, and its own count went up.
    assert json.loads(body) == {"status": "OK"}
    assert headers.get("x-application-version")
    assert app_stats(host).get("GET /ping", 0) == before + 1


def test_security_headers_on_a_protected_app(host, admin_session):
    _, status, headers, _ = curl(host, SONARR, "/ping", cookie=admin_session)
    assert status == 200
    assert headers["strict-transport-security"] == ["max-age=63072000"]
    assert headers["x-content-type-options"] == ["nosniff"]
    assert headers["x-frame-options"] == ["SAMEORIGIN"]
    assert headers["referrer-policy"] == ["strict-origin-when-cross-origin"]
    assert headers["permissions-policy"] == ["camera=(), microphone=(), geolocation=()"]
    assert headers["content-security-policy"] == ["frame-ancestors 'self'"]
    assert headers["server"] == ["nginx"], "no version"


def test_user_outside_the_allowed_groups_is_forbidden(host):
    status, body, sid, _ = sign_in(host, "bob")
    assert status == 200, body
    two_factor = second_factor(host, "bob", sid)
    rc, status, headers, _ = curl(host, SONARR, "/ping", cookie=two_factor)
    assert rc == 0 and status == 403 and "location" not in headers


def test_unknown_session_cookie_is_anonymous(host):
    _, status, headers, _ = curl(host, SONARR, "/ping", cookie="x" * 32)
    assert status == 302 and headers["location"][0].startswith("https://%s/" % PORTAL)


def test_the_portal_itself_needs_no_sign_on(host):
    rc, status, headers, body = curl(host, PORTAL, "/")
    assert rc == 0 and status == 200 and "Authelia" in body
    assert headers["strict-transport-security"] == ["max-age=63072000"]
    _, status, _, body = curl(host, PORTAL, "/api/health")
    assert status == 200 and json.loads(body) == {"status": "OK"}


# ---- API paths: the app's own key, no sign-on ------------------------------------------------------------

def test_api_path_answers_with_the_apps_key_and_never_asks_the_portal(host):
    key = secret("sonarr", "api_key")
    asked = authz_count(host)
    rc, status, headers, body = curl(host, SONARR, "/api/v3/system/status", headers={"X-Api-Key": key})
    assert rc == 0 and status == 200, body
    assert json.loads(body)["appName"] == "Sonarr"
    for wrong in ({"X-Api-Key": "0" * 64}, {}):
        rc, status, headers, _ = curl(host, SONARR, "/api/v3/system/status", headers=wrong)
        assert status == 401 and "location" not in headers, "the app's 401, no redirect to the portal"
        assert headers.get("x-application-version"), "answered by the app"
    assert authz_count(host) == asked, "bypass paths must not go through auth_request"


# ---- names, HTTP, websocket ------------------------------------------------------------------------------

def test_undefined_subdomain_gets_no_certificate_and_no_app(host):
    rc, status, _, _ = curl(host, "nobody." + DOMAIN, "/")
    assert status is None and rc == 35, "ssl_reject_handshake: the TLS handshake is refused (curl: SSL connect error)"
    rc, status, _, _ = curl(host, "nobody." + DOMAIN, "/", scheme="http")
    assert status is None and rc == 52, "port 80 default server: 444 closes without a reply (curl: empty reply)"


def test_http_redirects_to_https(host):
    rc, status, headers, _ = curl(host, SONARR, "/ping?x=1", scheme="http")
    assert rc == 0 and status == 301
    assert headers["location"] == ["https://%s/ping?x=1" % SONARR]


def test_websocket_upgrade_is_passed_where_the_catalog_says_so(host):
    """The Servarr double cannot answer an upgrade, so this reads the configuration nginx has LOADED (nginx -T);
    tests/integration/proxy proves the upgrade end to end against an echoing upstream."""
    conf = host.check_output("docker exec proxy nginx -T 2>/dev/null")
    block = conf.split("server_name %s;" % SONARR, 1)[1].split("\nserver {", 1)[0]
    assert "proxy_set_header Upgrade $http_upgrade;" in block
    assert "proxy_set_header Connection $monsterr_connection_upgrade;" in block


def test_requests_are_logged_where_fail2ban_reads_them(host):
    """nginx's combined format plus host and request time, in the log directory the fail2ban layer watches."""
    curl(host, SONARR, "/ping?from=log-test")
    log = host.file(ACCESS_LOG).content_string
    assert re.search(r'"GET /ping\?from=log-test HTTP/[0-9.]+" 302 \d+ "[^"]*" "[^"]*" "%s" [0-9.]+$' % re.escape(SONARR),
                     log, flags=re.M), log[-2000:]


def test_acme_challenge_is_served_through_the_proxy(host):
    token_dir = "/opt/monsterr/proxy/acme/.well-known/acme-challenge"
    created = not host.file("/opt/monsterr/proxy/acme/.well-known").exists
    host.run("mkdir -p %s && echo proxy-test.thumbprint > %s/proxy-test-token" % (token_dir, token_dir))
    try:
        rc, status, _, body = curl(host, SONARR, "/.well-known/acme-challenge/proxy-test-token", scheme="http")
    finally:
        host.run("rm -f %s/proxy-test-token" % token_dir)
        if created:
            host.run("rm -rf /opt/monsterr/proxy/acme/.well-known")
    assert status == 200 and body.strip() == "proxy-test.thumbprint", (status, body)
