# -*- coding: utf-8 -*-
# Copyright: monsterr.mediaserver developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The authelia layer's configuration.yml and users_database.yml, rendered by the real catalog and authelia
roles, validated against Authelia's own JSON schemas (v4.39.20: authelia/*.json in tests/fixtures/contracts/MANIFEST.tsv,
fetched by `make setup`) plus the runtime rules the schemas do not carry (tests/fixtures/contracts/SOURCES.md):
secrets present and long enough, one notifier, the cookie's portal URL https and inside its domain. Also: argon2id
digests that verify and stay put across runs, secrets generated once, nothing secret in the output, every bad
setting reported at once.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import functools
import glob
import json
import os
import re
import shutil
import subprocess
import sys

import pytest
import yaml
from jsonschema import Draft202012Validator, FormatChecker

from ansible_collections.monsterr.mediaserver.plugins.filter.catalog import catalog_resolve
from ansible_collections.monsterr.mediaserver.tests.contracts import document

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
PLAYBOOK = os.path.join(os.path.dirname(__file__), "playbook.yml")
DOMAIN = "example.test"
ENABLED = ["proxy", "authelia", "redis", "homepage", "plex", "sonarr", "radarr", "prowlarr", "bazarr", "qbittorrent",
           "overseerr", "prometheus", "node-exporter", "cadvisor", "grafana", "calibre-web"]
USERS = [
    {"username": "alice", "displayname": "Alice Admin", "email": "alice@example.test", "groups": ["admins", "family"],
     "password": "correct-horse-battery-staple"},
    {"username": "bob", "displayname": "Bob", "email": "bob@example.test", "groups": ["family"], "password": "bob-likes-films-2"},
    {"username": "gus", "displayname": "Guest", "groups": ["guests"], "password": "visiting-for-a-week"},
]

try:
    from passlib.hash import argon2
    argon2.hash("probe")
    HAS_ARGON2 = True
except Exception:  # noqa: BLE001 - any missing backend
    HAS_ARGON2 = False

pytestmark = [
    pytest.mark.integration,
    pytest.mark.needs(HAS_ARGON2, "passlib's argon2 backend (argon2-cffi, requirements.txt) is missing: run `make setup`"),
]


def _tool(name):
    local = os.path.join(os.path.dirname(sys.executable), name)
    return local if os.path.exists(local) else shutil.which(name)


@functools.lru_cache(maxsize=None)
def _schema(name):
    """Authelia's schema (configuration.json or user-database.json); fails naming `make setup` when it is missing."""
    with open(document("authelia/" + name)) as handle:
        return Draft202012Validator(json.load(handle), format_checker=FormatChecker())


def _errors(validator, data):
    return sorted("%s: %s" % ("/".join(str(p) for p in e.absolute_path), e.message) for e in validator.iter_errors(data))


def run_role(base, extra=None, check=False, expect_ok=True):
    vars_file = base / ("vars-%d.yml" % len(list(base.glob("vars-*.yml"))))
    variables = {
        "household_domain": DOMAIN,
        "household_appdata_root": str(base / "appdata"),
        "household_puid": os.getuid(),
        "household_pgid": os.getgid(),
        "household_no_log": True,
        "catalog_enabled": ENABLED,
        "authelia_container": "monsterr-authelia-test-no-such-container",
        "authelia_secrets_dir": str(base / "secrets"),
        "authelia_users": USERS,
    }
    variables.update(extra or {})
    vars_file.write_text(yaml.safe_dump(variables))
    argv = [_tool("ansible-playbook"), "-i", "testhost,", PLAYBOOK, "-e", "@%s" % vars_file,
            "-e", "ansible_python_interpreter=%s" % sys.executable] + (["--check", "--diff"] if check else [])
    proc = subprocess.run(argv, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True,
                          env=dict(os.environ, ANSIBLE_NOCOLOR="1", ANSIBLE_CALLBACK_RESULT_FORMAT="json"))
    recap = re.search(r"testhost\s*:\s*ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)", proc.stdout)
    counts = dict(zip(("ok", "changed", "unreachable", "failed"), map(int, recap.groups()))) if recap else {}
    if expect_ok:
        assert proc.returncode == 0, proc.stdout[-6000:]
    return proc.returncode, proc.stdout, counts


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    base = tmp_path_factory.mktemp("authelia")
    runs = {"check_first": run_role(base, check=True)}
    runs["first"] = run_role(base)
    config_path = base / "appdata" / "authelia" / "configuration.yml"
    users_path = base / "appdata" / "authelia" / "users_database.yml"
    runs["files_after_first"] = (config_path.read_bytes(), users_path.read_bytes())
    runs["second"] = run_role(base)
    runs["check_after"] = run_role(base, check=True)
    return {"base": base, "runs": runs, "config_path": config_path, "users_path": users_path,
            "config": yaml.safe_load(config_path.read_text()), "users": yaml.safe_load(users_path.read_text())}


def _shipped():
    catalog = {}
    for path in sorted(glob.glob(os.path.join(ROOT, "roles", "catalog", "services", "*.yml"))):
        catalog.update(yaml.safe_load(open(path)))
    return catalog


# --- the contract --------------------------------------------------------------------------------------------

def test_configuration_validates_against_authelias_schema(rendered):
    assert _errors(_schema("configuration.json"), rendered["config"]) == []


def test_user_database_validates_against_authelias_schema(rendered):
    assert _errors(_schema("user-database.json"), rendered["users"]) == []


@pytest.mark.parametrize("breakage, where", [
    (lambda c: c["session"]["cookies"][0].update({"domains": DOMAIN}), "session/cookies/0"),
    (lambda c: c["access_control"]["rules"][0].update({"policy": "three_factor"}), "access_control/rules/0/policy"),
    (lambda c: c["access_control"].update({"default_policy": "allow"}), "access_control/default_policy"),
    (lambda c: c["access_control"]["rules"][0].update({"domain_regex": "^x$"}), "access_control/rules/0"),
    (lambda c: c.update({"jwt_secret": "x" * 64}), ""),
    (lambda c: c["telemetry"]["metrics"].update({"address": "http://authelia:9959"}), "telemetry/metrics/address"),
])
def test_a_broken_configuration_fails_the_schema(rendered, breakage, where):
    broken = json.loads(json.dumps(rendered["config"]))
    breakage(broken)
    errors = _errors(_schema("configuration.json"), broken)
    assert errors and any(e.startswith(where) for e in errors), errors


@pytest.mark.parametrize("breakage", [
    lambda u: u["users"]["alice"].update({"password": "correct-horse-battery-staple"}),   # plaintext
    lambda u: u["users"]["alice"].update({"group": ["admins"]}),                          # typo
    lambda u: u["users"]["bob"].pop("displayname"),
])
def test_a_broken_user_database_fails_the_schema(rendered, breakage):
    broken = json.loads(json.dumps(rendered["users"]))
    breakage(broken)
    assert _errors(_schema("user-database.json"), broken)


def test_runtime_rules_the_schema_does_not_check(rendered):
    config = rendered["config"]
    assert len(config["storage"]["encryption_key"]) >= 20
    assert len(config["session"]["secret"]) >= 20 and "redis" in config["session"]
    assert len(config["identity_validation"]["reset_password"]["jwt_secret"]) >= 20
    assert len([k for k in ("filesystem", "smtp") if k in config["notifier"]]) == 1
    assert list(config["storage"]) == ["encryption_key", "local"]
    assert "file" in config["authentication_backend"] and "ldap" not in config["authentication_backend"]
    cookie = config["session"]["cookies"][0]
    assert cookie["domain"] == DOMAIN and "." in cookie["domain"] and not cookie["domain"].startswith("*.")
    assert cookie["authelia_url"] == "https://auth." + DOMAIN
    assert config["server"]["endpoints"]["authz"] == {"auth-request": {"implementation": "AuthRequest"}}
    for rule in config["access_control"]["rules"]:
        assert ("domain" in rule) != ("domain_regex" in rule)
        assert not (rule["policy"] == "bypass" and "subject" in rule)
        for resource in rule.get("resources", []):
            re.compile(resource)


# --- what the catalog asks for ---------------------------------------------------------------------------------

def test_rules_come_from_the_catalog(rendered):
    resolved = catalog_resolve(_shipped(), ENABLED, {}, "/opt/monsterr", "/data", DOMAIN)
    rules = rendered["config"]["access_control"]["rules"]
    assert rendered["config"]["access_control"]["default_policy"] == "deny"
    by_host = {}
    for rule in rules:
        by_host.setdefault(rule["domain"], []).append(rule)
    for entry in resolved:
        proxy = entry.get("proxy") or {}
        if not proxy.get("host"):
            continue
        host = proxy["host"]
        if proxy["auth"] == "none":
            assert host not in by_host, "auth: none sites never reach Authelia"
            continue
        expected = []
        if proxy.get("bypass_paths"):
            expected.append({"domain": host, "policy": "bypass",
                             "resources": ["^" + re.escape(p) for p in proxy["bypass_paths"]]})
        expected.append(dict({"domain": host, "policy": proxy["auth"]},
                             **({"subject": ["group:" + g for g in proxy["groups"]]} if proxy["auth"] != "bypass" else {})))
        assert by_host[host] == expected, host
    sonarr = by_host["sonarr." + DOMAIN]
    assert sonarr[0] == {"domain": "sonarr." + DOMAIN, "policy": "bypass", "resources": ["^/api/", "^/feed/"]}
    assert sonarr[1] == {"domain": "sonarr." + DOMAIN, "policy": "two_factor", "subject": ["group:admins"]}
    assert "plex." + DOMAIN not in by_host and "auth." + DOMAIN not in by_host


def test_sessions_metrics_logs_and_notifier_come_from_the_catalog(rendered):
    config = rendered["config"]
    assert config["session"]["redis"] == {"host": "redis", "port": 6379}
    assert config["server"]["address"] == "tcp://:9091/"
    assert config["telemetry"]["metrics"] == {"enabled": True, "address": "tcp://:9959/metrics"}
    assert config["log"]["file_path"] == "/config/logs/authelia.log"
    assert (rendered["base"] / "appdata" / "authelia" / "logs").is_dir(), "where the fail2ban layer reads authelia.log"
    assert config["notifier"] == {"filesystem": {"filename": "/config/notification.txt"}}
    assert config["totp"]["issuer"] == DOMAIN
    assert oct(rendered["config_path"].stat().st_mode & 0o777) == "0o600"
    assert oct(rendered["users_path"].stat().st_mode & 0o777) == "0o600"


# --- users and secrets ---------------------------------------------------------------------------------------

def test_passwords_are_argon2id_digests_that_verify(rendered):
    users = rendered["users"]["users"]
    assert sorted(users) == ["alice", "bob", "gus"]
    for user in USERS:
        digest = users[user["username"]]["password"]
        assert digest.startswith("$argon2id$v=19$m=65536,t=3,p=4$"), digest
        assert argon2.verify(user["password"], digest)
        assert not argon2.verify(user["password"] + "x", digest)
        assert users[user["username"]]["groups"] == user["groups"]
    assert users["alice"]["email"] == "alice@example.test" and "email" not in users["gus"]


def test_rerun_and_check_mode_change_nothing(rendered):
    runs = rendered["runs"]
    assert runs["check_first"][2]["failed"] == 0
    assert runs["first"][2]["changed"] >= 2
    assert runs["second"][2]["changed"] == 0, runs["second"][1][-3000:]
    assert runs["check_after"][2]["changed"] == 0, runs["check_after"][1][-3000:]
    assert runs["files_after_first"] == (rendered["config_path"].read_bytes(), rendered["users_path"].read_bytes())


def test_secrets_are_generated_once_and_kept(rendered):
    secrets = rendered["base"] / "secrets" / "authelia"     # the stack layer's layout: <dir>/<service>/<name>.txt
    config = rendered["config"]
    stored = dict((name, (secrets / (name + ".txt")).read_text().split()[0]) for name in ("jwt_secret", "session_secret", "storage_encryption_key"))
    assert all(len(v) == 64 and v.isalnum() for v in stored.values())
    assert config["identity_validation"]["reset_password"]["jwt_secret"] == stored["jwt_secret"]
    assert config["session"]["secret"] == stored["session_secret"]
    assert config["storage"]["encryption_key"] == stored["storage_encryption_key"]
    assert len(set(stored.values())) == 3


def test_no_secret_or_password_in_the_output(rendered):
    stored = [(rendered["base"] / "secrets" / "authelia" / (n + ".txt")).read_text().split()[0] for n in ("jwt_secret", "session_secret")]
    for _, out, _ in (rendered["runs"]["first"], rendered["runs"]["check_after"]):
        for secret in [u["password"] for u in USERS] + stored:
            assert secret not in out


def test_changing_one_password_rehashes_only_that_user(rendered, tmp_path):
    base = tmp_path
    run_role(base)
    before = yaml.safe_load((base / "appdata" / "authelia" / "users_database.yml").read_text())["users"]
    changed = [dict(u, password="a-brand-new-password") if u["username"] == "bob" else u for u in USERS]
    _, _, counts = run_role(base, extra={"authelia_users": changed})
    after = yaml.safe_load((base / "appdata" / "authelia" / "users_database.yml").read_text())["users"]
    assert counts["changed"] == 1
    # A vault variable wins over the generated file (the stack layer's convention).
    run_role(base, extra={"authelia_users": changed, "vault_authelia_session_secret": "v" * 64})
    config = yaml.safe_load((base / "appdata" / "authelia" / "configuration.yml").read_text())
    assert config["session"]["secret"] == "v" * 64
    assert after["alice"]["password"] == before["alice"]["password"]
    assert after["bob"]["password"] != before["bob"]["password"]
    assert argon2.verify("a-brand-new-password", after["bob"]["password"])


def test_bad_settings_fail_with_every_problem_and_change_nothing(tmp_path):
    rc, out, _ = run_role(tmp_path, extra={
        "authelia_users": [
            {"username": "Alice Smith", "displayname": "", "groups": ["admins", "wizards"], "password": "short"},
            {"username": "bob", "displayname": "Bob", "password": "long-enough-pw", "groups": ["family"]},
        ],
        "authelia_groups": ["admins", "guests"],
        "authelia_notifier": "smtp",
        "authelia_storage_encryption_key": "too-short",
    }, expect_ok=False)
    assert rc != 0
    # The layer runs without preflight here: it checks itself with preflight's rules (plugins/filter/layer_problems.py).
    message = out[out.index("Preflight found"):]
    for expected in (
        "Preflight found 8 problem(s); nothing was changed on the host",
        "authelia_groups = ['admins', 'guests'] lacks 'family', which the catalog allows on some site",
        "authelia_users[0].username = 'Alice Smith' is not a sign-in name",
        "authelia_users[0].displayname = '' is empty",
        "authelia_users[0].password = (value hidden) is missing or shorter than 8 characters",
        "authelia_users[0].groups = ['admins', 'wizards'] has 'wizards'",
        "authelia_users[1].groups = ['family'] has 'family'",
        "authelia_storage_encryption_key = (value hidden) is shorter than 20 characters",
        "authelia_smtp_address = '' is not an SMTP URL",
    ):
        assert expected in message, (expected, message[:3000])
    assert "too-short" not in out and "\"short\"" not in out
    assert not (tmp_path / "appdata").exists()
