# -*- coding: utf-8 -*-
# Copyright: monsterr.mediaserver developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""playbooks/new_household.yml: writes a household that passes preflight, refuses to overwrite one, and
rejects bad answers before writing anything."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib
import os
import re
import subprocess
import sys

import yaml

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
ANSWERS = ["-e", "household=smiths", "-e", "domain=media.smiths.example", "-e", "acme_email=admin@smiths.example",
           "-e", "host_address=192.168.1.20", "-e", "timezone=Europe/Berlin"]


def playbook(*args):
    env = dict(os.environ, ANSIBLE_CONFIG=os.path.join(ROOT, "ansible.cfg"), ANSIBLE_NOCOLOR="1")
    env.pop("ANSIBLE_FORCE_COLOR", None)
    tool = os.path.join(os.path.dirname(sys.executable), "ansible-playbook")
    result = subprocess.run([tool] + list(args), cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            universal_newlines=True, check=False, timeout=300)
    return result.returncode, result.stdout


def wizard(inventories, *extra):
    return playbook("playbooks/new_household.yml", "-e", "new_household_inventories=%s" % inventories, *(ANSWERS + list(extra)))


def preflight(household, *extra):
    return playbook("site.yml", "-i", str(household), "--tags", "preflight", "-e", "ansible_connection=local",
                    "-e", "ansible_python_interpreter=%s" % sys.executable, "-e", "preflight_min_cpus=1",
                    "-e", "preflight_min_ram_mb=256", "-e", "preflight_min_disk_gb=1", *extra)


def digest(tree):
    return {p: hashlib.sha256(open(os.path.join(d, p), "rb").read()).hexdigest()
            for d, _, files in os.walk(str(tree)) for p in files}


def test_writes_a_household_that_passes_preflight(tmp_path):
    rc, out = wizard(tmp_path, "-e", "services=proxy,authelia,redis,sonarr,radarr,qbittorrent")
    assert rc == 0, out
    home = tmp_path / "smiths"
    hosts = yaml.safe_load((home / "hosts.yml").read_text())
    assert hosts == {"mediaserver": {"hosts": {"smiths-media": {"ansible_host": "192.168.1.20", "ansible_user": "admin"}}}}
    settings = yaml.safe_load((home / "group_vars" / "mediaserver" / "main.yml").read_text())
    assert settings["household_domain"] == "media.smiths.example"
    assert settings["catalog_enabled"] == ["proxy", "authelia", "redis", "sonarr", "radarr", "qbittorrent"]
    vault_file = home / "group_vars" / "mediaserver" / "vault.yml"
    assert oct(vault_file.stat().st_mode & 0o777) == "0o600"
    vault = yaml.safe_load(vault_file.read_text())
    assert set(vault) == {"vault_authelia_jwt_secret", "vault_authelia_session_secret", "vault_authelia_storage_encryption_key",
                          "vault_sonarr_api_key", "vault_radarr_api_key", "vault_qbittorrent_password",
                          "vault_authelia_admin_password", "vault_backup_restic_password"}
    assert len(set(vault.values())) == len(vault), "every secret is its own"
    # >= 128 bits each (hex32 = 32 hex characters, the most exportarr takes), in the form the catalog says every
    # consumer accepts (its secrets.<name>.pattern).
    assert all(len(v) >= 32 for v in vault.values()), "each secret carries at least 128 random bits"
    for variable, value in vault.items():
        service, _, name = variable[len("vault_"):].partition("_")
        path = os.path.join(ROOT, "roles", "catalog", "services", "%s.yml" % service)
        if not os.path.exists(path):   # the wizard's own two: the admin's password, restic's password
            continue
        with open(path) as handle:
            spec = (yaml.safe_load(handle)[service].get("secrets") or {}).get(name) or {}
        if spec.get("pattern"):
            assert re.match(spec["pattern"], value), (variable, spec["pattern"])
    for value in vault.values():
        assert value not in out, "a secret was printed"
    rc, out = preflight(home)
    assert rc == 0 and "failed=0" in out, out


def test_refuses_to_overwrite_an_existing_household(tmp_path):
    assert wizard(tmp_path)[0] == 0
    before = digest(tmp_path)
    rc, out = wizard(tmp_path, "-e", "domain=other.example")
    assert rc != 0
    assert "already exists; nothing was written" in out
    assert digest(tmp_path) == before


def test_bad_answers_write_nothing(tmp_path):
    rc, out = wizard(tmp_path, "-e", "domain=https://media.smiths.example", "-e", "acme_email=admin@",
                     "-e", "services=sonarr,bogus")
    assert rc != 0
    assert "The new household has 3 problem(s); nothing was written:" in out
    assert "domain = 'https://media.smiths.example' is not a fully qualified domain name" in out
    assert "acme_email = 'admin@' is not an e-mail address" in out
    assert "catalog_enabled = 'bogus' is not a service of the catalog" in out
    assert list(tmp_path.iterdir()) == []


def test_vault_is_encrypted_when_a_password_file_is_given(tmp_path):
    secret = tmp_path / "vault-pass"
    secret.write_text("correct horse battery staple\n")
    inventories = tmp_path / "inventories"
    inventories.mkdir()
    rc, out = wizard(inventories, "-e", "vault_password_file=%s" % secret)
    assert rc == 0, out
    vault_file = inventories / "smiths" / "group_vars" / "mediaserver" / "vault.yml"
    assert vault_file.read_text().startswith("$ANSIBLE_VAULT;1.1;AES256")
    rc, out = preflight(inventories / "smiths", "--vault-password-file", str(secret))
    assert rc == 0 and "failed=0" in out, out
