"""Verify the letsencrypt layer against the real Pebble ACME server in each instance.

Every check asks the live system: openssl on the issued files, Pebble's own root, certbot renewing
against Pebble with real HTTP-01 validation, systemd and the journal. The tests run in file order:
the ones that renew (and so change the certificate) come last.
"""

import re

import pytest

NAME = "media.example.test"
WANTED = {"media.example.test", "tv.media.example.test"}
LIVE = f"/etc/letsencrypt/live/{NAME}"
RENEWAL_CONF = f"/etc/letsencrypt/renewal/{NAME}.conf"
TEST_CA = "/etc/pebble-test/ca.pem"          # signs Pebble's listener only (made in prepare.yml)
PEBBLE_DIR = "https://127.0.0.1:14000/dir"
HOOK = "/etc/letsencrypt/renewal-hooks/deploy/50-monsterr-reload-proxy"
MARKER = "/var/tmp/le-deploy-hook.marker"    # written by the deb12 host's custom deploy hook command
BOOTSTRAP_UNIT = "monsterr-acme-bootstrap"


@pytest.fixture(scope="module")
def challenge(host):
    return host.ansible.get_variables()["letsencrypt_challenge"]


def sans(host, path=f"{LIVE}/cert.pem"):
    out = host.check_output(f"openssl x509 -noout -ext subjectAltName -in {path}")
    return set(re.findall(r"DNS:([^,\s]+)", out))


def serial(host):
    return host.check_output(f"openssl x509 -noout -serial -in {LIVE}/cert.pem")


def timer_env(host):
    """The environment certbot.service (run by certbot.timer) gives certbot, e.g. REQUESTS_CA_BUNDLE=..."""
    return host.check_output("systemctl show -p Environment --value certbot.service")


def certbot(host, args):
    """Run certbot the way the renewal timer does: with certbot.service's environment."""
    return host.run(f"env {timer_env(host)} certbot {args} 2>&1")


def hook_journal(host):
    return host.run("journalctl -t monsterr-letsencrypt -o cat --no-pager").stdout.splitlines()


def pebble_va_hits(host):
    """Requests of Pebble's validation authority in the stand-in proxy's (nginx) access log."""
    return int(host.run("grep -c Pebble-VA /var/log/nginx/acme.log").stdout.strip() or 0)


def chains_to_pebble_root(host):
    # Pebble makes a new root at each start; fetch the one that issued, over TLS checked with the test CA.
    host.check_output(f"curl -fsS --cacert {TEST_CA} https://127.0.0.1:15000/roots/0 -o /tmp/pebble-root.pem")
    return host.run(f"openssl verify -CAfile /tmp/pebble-root.pem -untrusted {LIVE}/chain.pem {LIVE}/cert.pem")


def test_renewal_timer_enabled_and_waiting(host):
    timer = host.service("certbot.timer")
    assert timer.is_enabled
    assert timer.is_running
    assert "certbot.service" in host.check_output("systemctl list-timers --all --no-pager certbot.timer")


def test_certificate_holds_exactly_the_wanted_names(host):
    assert sans(host) == WANTED
    assert host.run(f"openssl x509 -noout -checkend 86400 -in {LIVE}/cert.pem").rc == 0   # valid, not expiring


def test_certificate_chains_to_pebbles_root(host):
    ok = chains_to_pebble_root(host)
    assert ok.rc == 0, ok.stdout + ok.stderr
    assert ok.stdout.strip() == f"{LIVE}/cert.pem: OK"
    # The control: the same certificate does not verify against an unrelated CA (the test CA).
    bad = host.run(f"openssl verify -CAfile {TEST_CA} -untrusted {LIVE}/chain.pem {LIVE}/cert.pem")
    assert bad.rc != 0


def test_private_key_is_ecdsa_matches_and_is_private(host):
    cert_pub = host.check_output(f"openssl x509 -noout -pubkey -in {LIVE}/cert.pem")
    key_pub = host.check_output(f"openssl pkey -pubout -in {LIVE}/privkey.pem")
    assert cert_pub == key_pub
    assert "id-ecPublicKey" in host.check_output(f"openssl x509 -noout -text -in {LIVE}/cert.pem")
    key = host.file(f"{LIVE}/privkey.pem")
    assert (key.user, key.mode) == ("root", 0o600)


def test_reconverge_did_not_reissue(host):
    # converge.yml logs "serial=... <mtime>" after each converge; converge + idempotence (+ check) ran.
    lines = host.file("/var/tmp/le-converges.log").content_string.splitlines()
    assert len(lines) >= 2, lines
    assert len(set(lines)) == 1, lines
    # ...and it is the first certificate of the lineage (later versions come from the renewal tests below).
    assert lines[0].split()[0] == host.check_output(f"openssl x509 -noout -serial -in /etc/letsencrypt/archive/{NAME}/cert1.pem")


def test_renewal_config_carries_server_and_challenge(host, challenge):
    conf = host.file(RENEWAL_CONF).content_string
    params = dict(re.findall(r"(?m)^(\w+) = (.*)$", conf))
    assert params["server"] == PEBBLE_DIR
    assert params["authenticator"] == challenge
    assert params["key_type"] == "ecdsa"
    if challenge == "webroot":
        assert params["webroot_path"] == "/opt/monsterr/proxy/acme,"
    else:
        assert params["http01_port"] == "80"
    # The renewal timer trusts the private ACME server's CA, through the role's drop-in.
    assert timer_env(host) == f"REQUESTS_CA_BUNDLE={TEST_CA}"


def test_first_issue_used_the_bootstrap_webroot_server(host, challenge):
    log = host.run(f"journalctl -u {BOOTSTRAP_UNIT} -o cat --no-pager").stdout
    if challenge != "webroot":  # standalone: certbot served the challenge itself, the role started nothing
        assert "acme-challenge" not in log, log
        return
    assert re.search(r'"GET /\.well-known/acme-challenge/\S+ HTTP/1\.1" 200', log), log
    assert host.run(f"systemctl is-active {BOOTSTRAP_UNIT}").stdout.strip() != "active"
    # Port 80 now belongs to the stand-in proxy (nginx), as it will to the proxy layer.
    assert "nginx" in host.check_output("ss -Hltnp 'sport = :80'")


def test_timer_service_runs_clean(host):
    host.check_output("systemctl start certbot.service")    # oneshot: returns when certbot exits
    assert host.check_output("systemctl show -p Result --value certbot.service") == "success"


def test_renew_dry_run_against_pebble(host, challenge):
    before = len(hook_journal(host))
    va_before = pebble_va_hits(host) if challenge == "webroot" else 0
    supports_hooks = "--run-deploy-hooks" in host.check_output("certbot --help renew")
    # certbot's --dry-run always asks Let's Encrypt's staging CA unless --server is given (it ignores the
    # server of the renewal config); a real renewal uses the stored server (next test).
    out = certbot(host, f"renew --dry-run --server {PEBBLE_DIR} --cert-name {NAME} --no-random-sleep-on-renew"
                        + (" --run-deploy-hooks" if supports_hooks else ""))
    assert out.rc == 0, out.stdout
    assert "all simulated renewals succeeded" in out.stdout.lower(), out.stdout
    if supports_hooks:          # certbot >= 2.7 (Debian 13)
        assert len(hook_journal(host)) > before, hook_journal(host)
    else:                       # certbot 2.1 (Debian 12) never runs deploy hooks on a dry run
        assert "Dry run: skipping deploy hook command" in host.run(
            "tail -n 200 /var/log/letsencrypt/letsencrypt.log").stdout
    if challenge == "webroot":  # the validation went through the stand-in proxy serving the webroot
        assert pebble_va_hits(host) > va_before
    else:                       # standalone released port 80
        assert host.check_output("ss -Hltn 'sport = :80'") == ""


def test_real_renewal_runs_the_deploy_hook(host, challenge):
    old_serial = serial(host)
    before = len(hook_journal(host))
    out = certbot(host, f"renew --force-renewal --cert-name {NAME} --no-random-sleep-on-renew")
    assert out.rc == 0, out.stdout
    assert f"Running deploy-hook command: {HOOK}" in host.run(
        "tail -n 300 /var/log/letsencrypt/letsencrypt.log").stdout
    # A new certificate, same names, still chained to Pebble's root.
    assert serial(host) != old_serial
    assert sans(host) == WANTED
    assert chains_to_pebble_root(host).rc == 0
    journal = hook_journal(host)[before:]
    assert f"deploy hook: certificate {LIVE} renewed for media.example.test tv.media.example.test" in journal, journal
    if challenge == "webroot":  # the custom command ran
        last = host.file(MARKER).content_string.splitlines()[-1].split()
        assert last[1:] == [LIVE, "media.example.test", "tv.media.example.test"]
    else:                       # the default command is guarded: no proxy container, nothing to reload, no failure
        assert "deploy hook: proxy container proxy is not running, nothing to reload" in journal, journal
        assert "Error output from" not in out.stdout
