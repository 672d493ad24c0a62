# -*- coding: utf-8 -*-
# Copyright: monsterr.mediaserver developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What preflight adds to the layers' checks (plugins/filter/preflight.py): which layers a run checks, variables
no layer reads, vault placeholders, secrets in the form their consumers accept, and the catalog's typed schema.
Each test named after a defect of issue #12 fails on the code before it."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import glob
import os

import pytest
import yaml

from ansible_collections.monsterr.mediaserver.plugins.filter import preflight as pf
from ansible_collections.monsterr.mediaserver.plugins.filter.catalog import catalog_problems, catalog_resolve, catalog_warnings
from ansible_collections.monsterr.mediaserver.plugins.plugin_utils import _catalog_schema as schema
from ansible_collections.monsterr.mediaserver.plugins.plugin_utils import _roles
from ansible_collections.monsterr.mediaserver.plugins.plugin_utils._problems import is_placeholder

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", "..", ".."))
WHERE = "inv/group_vars/mediaserver/main.yml"
VAULT = "inv/group_vars/mediaserver/vault.yml"
HEX32 = "0123456789abcdef0123456789abcdef"


def shipped():
    catalog = {}
    for path in sorted(glob.glob(os.path.join(ROOT, "roles", "catalog", "services", "*.yml"))):
        catalog.update(yaml.safe_load(open(path)))
    return catalog


# --- which layers a run checks ------------------------------------------------------------------------------------

PLAY = ["monsterr.mediaserver.household", "monsterr.mediaserver.preflight", "monsterr.mediaserver.base",
        "monsterr.mediaserver.ufw", "monsterr.mediaserver.docker", "monsterr.mediaserver.backup"]


@pytest.mark.parametrize("run, skip, expected", [
    (["all"], [], ["household", "preflight", "base", "ufw", "docker", "backup"]),
    (["ufw"], [], ["ufw"]),
    (["ufw:rules"], [], ["ufw"]),
    (["docker", "backup"], [], ["docker", "backup"]),
    (["all"], ["backup", "base"], ["household", "preflight", "ufw", "docker"]),
    (["tagged"], [], ["household", "preflight", "base", "ufw", "docker", "backup"]),
    (["untagged"], [], []),
])
def test_the_layers_the_tags_select(run, skip, expected):
    assert pf.preflight_layers(PLAY, run, skip) == expected


def test_roles_of_other_collections_are_not_layers():
    assert pf.preflight_layers(["geerlingguy.docker", "monsterr.mediaserver.ufw"], ["all"], []) == ["ufw"]


# --- variables no layer reads (issue #12: household_timezon silently ignored) -------------------------------------------

KNOWN = _roles.known_variables()
PREFIXES = _roles.prefixes()


def test_known_variables_and_prefixes_are_derived_from_the_roles():
    assert {"household_timezone", "ufw_ssh_port", "catalog_overrides", "preflight_min_cpus"} <= set(KNOWN)
    # facts a role sets for later layers are known too, so a run that set them is not a typo
    assert {"catalog_resolved", "catalog_problems", "stack_secrets"} <= set(KNOWN)
    assert PREFIXES == sorted(name + "_" for name in os.listdir(os.path.join(ROOT, "roles"))
                              if os.path.exists(os.path.join(ROOT, "roles", name, "meta", "argument_specs.yml")))


@pytest.mark.parametrize("name, value, expected", [
    ("household_timezon", "Europe/Berlin", "household_timezon = 'Europe/Berlin' is not a setting; did you mean household_timezone? "
                                           "Fix: rename it to household_timezone"),
    ("ufw_ssh_prot", 2222, "ufw_ssh_prot = 2222 is not a setting; did you mean ufw_ssh_port?"),
    ("catalog_overide", {}, "catalog_overide = {} is not a setting; did you mean catalog_overrides?"),
    ("backup_zzz", 1, "backup_zzz = 1 is not a setting; no layer reads it. Fix: remove it"),
])
def test_a_misspelled_setting_is_named_with_the_nearest_known_one(name, value, expected):
    lines = pf.unknown_variable_problems({name: value}, KNOWN, PREFIXES, [], [], WHERE)
    assert lines == [expected + lines[0][len(expected):]] and lines[0].endswith("(in %s)." % WHERE), lines


def test_variables_of_the_household_that_are_not_ours_are_left_alone():
    names = {"ansible_host": "x", "my_own_var": 1, "household_timezone": "Etc/UTC", "vault_cloudflare_api_token": "t",
             "scenario_overrides": {}}
    assert pf.unknown_variable_problems(names, KNOWN, PREFIXES, [], ["sonarr"], WHERE) == []


def test_a_misspelled_vault_secret_is_named_and_its_value_hidden():
    cat = shipped()
    vault_known = pf.known_vault_variables(cat, [{"username": "alice"}])
    assert {"vault_sonarr_api_key", "vault_authelia_alice_password", "vault_plex_claim_token",
            "vault_node_exporter_x" if "node-exporter" in cat and "x" in (cat["node-exporter"].get("secrets") or {})
            else "vault_sonarr_api_key"} <= set(vault_known)
    lines = pf.unknown_variable_problems({"vault_sonarr_apikey": HEX32, "vault_authelia_alcie_password": "pw-pw-pw-pw"}, KNOWN,
                                         PREFIXES, vault_known, sorted(cat), WHERE)
    assert lines == [
        "vault_authelia_alcie_password = (value hidden) is not a setting; did you mean vault_authelia_alice_password? Fix: "
        "rename it to vault_authelia_alice_password (in %s)." % WHERE,
        "vault_sonarr_apikey = (value hidden) is not a setting; did you mean vault_sonarr_api_key? Fix: rename it to "
        "vault_sonarr_api_key (in %s)." % WHERE]


# --- the vault (issue #12: the example vault's replace-me placeholders accepted) ----------------------------------------

def test_every_placeholder_of_the_example_vault_is_refused():
    example = yaml.safe_load(open(os.path.join(ROOT, "inventories", "example", "group_vars", "mediaserver", "vault.yml.example")))
    lines = pf.vault_problems(example, WHERE)
    assert [line.split(" = ")[0] for line in lines] == sorted(example)
    for line in lines:
        assert "(value hidden) is still a placeholder. Fix: " in line and line.endswith("(in %s)." % VAULT), line
        assert "replace-me" not in line


@pytest.mark.parametrize("value", ["replace-me", "changeme", "CHANGE_ME", "<password>", "xxxxxxxx", "TODO: later", "password"])
def test_placeholders(value):
    assert is_placeholder(value)


@pytest.mark.parametrize("value", ["correct-horse-battery-staple", HEX32, "s3cr3t-Tok3n", "", None, 12345])
def test_real_values_are_not_placeholders(value):
    assert not is_placeholder(value)


# --- secrets (issue #12: API keys the stack rejects; <&> written into config.xml) ------------------------------------------

def resolved(names, overrides=None):
    return catalog_resolve(shipped(), names, overrides or {}, "/opt/monsterr", "/data", "m.example.org")


def test_a_vault_key_in_the_form_its_consumers_accept_passes():
    assert pf.secret_problems(resolved(["sonarr"]), {"vault_sonarr_api_key": HEX32}, None, WHERE) == []


@pytest.mark.parametrize("value, reason", [
    ("<&>" + HEX32[3:], "is not the form its consumers accept"),
    ("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", "is not the form its consumers accept"),
    ("changeme", "is a placeholder"),
    ("01234567890123456789012345678901", "is not the form its consumers accept"),   # all digits: Bazarr refuses it
])
def test_a_vault_key_its_consumers_would_refuse_is_reported_hidden(value, reason):
    cat = resolved(["sonarr"])
    assert cat[0]["secrets"]["api_key"].get("pattern"), "the catalog gives sonarr's key a pattern"
    lines = pf.secret_problems(cat, {"vault_sonarr_api_key": value}, None, WHERE)
    assert len(lines) == 1 and lines[0].startswith("vault_sonarr_api_key = (value hidden) %s" % reason), lines
    assert value not in lines[0] and lines[0].endswith("(in %s)." % VAULT)


def test_without_a_pattern_the_generators_characters_are_the_rule():
    entry = {"name": "x", "secrets": {"password": {"generate": "alnum32"}}}
    lines = pf.secret_problems([entry], {"vault_x_password": "it's<&>\"quoted\" 123"}, None, WHERE)
    assert len(lines) == 1 and "is not letters and digits only" in lines[0]
    lines = pf.secret_problems([entry], {"vault_x_password": "short1"}, None, WHERE)
    assert len(lines) == 1 and "is shorter than 16 characters" in lines[0]
    assert pf.secret_problems([entry], {"vault_x_password": "Abcdefgh12345678"}, None, WHERE) == []


def test_a_stored_key_of_an_earlier_run_in_an_old_form_is_reported_with_the_fix(tmp_path):
    (tmp_path / "sonarr").mkdir()
    (tmp_path / "sonarr" / "api_key.txt").write_text("0123456789abcdef" * 4 + "\n")
    lines = pf.secret_problems(resolved(["sonarr"]), {}, str(tmp_path), WHERE)
    assert len(lines) == 1 and lines[0].startswith("sonarr/api_key = (value hidden) stored in %s/sonarr/api_key.txt" % tmp_path)
    assert "Fix: delete the file" in lines[0] and "0123456789abcdef" not in lines[0]
    (tmp_path / "sonarr" / "api_key.txt").write_text(HEX32 + "\n")
    assert pf.secret_problems(resolved(["sonarr"]), {}, str(tmp_path), WHERE) == []
    # a vault value wins over the file: the file is not read then
    (tmp_path / "sonarr" / "api_key.txt").write_text("x" * 64 + "\n")
    assert pf.secret_problems(resolved(["sonarr"]), {"vault_sonarr_api_key": HEX32}, str(tmp_path), WHERE) == []


# --- everything at once -----------------------------------------------------------------------------------------------

def test_preflight_problems_reports_each_mistake_once():
    values = {"household_domain": "media.example.org", "household_acme_email": "a@example.org", "household_timezone": "Etc/UTC",
              "household_locale": "en_US.UTF-8", "household_user": "media", "household_puid": 2000, "household_pgid": 2000,
              "household_appdata_root": "/opt/monsterr", "household_data_root": "/etc", "household_lan_cidrs": ["0.0.0.0/0"],
              "household_admin_cidrs": [], "household_timezon": "x", "vault_smtp_password": "replace-me: later",
              "ufw_lan_cidrs": ["0.0.0.0/0"]}
    context = {"user_set": sorted(set(values) - {"ufw_lan_cidrs"}), "passwd": {}, "group": {}}
    lines = pf.preflight_problems(values, ["household", "base", "ufw"], context, WHERE)
    assert [line.split(" = ")[0] for line in lines] == [
        "household_lan_cidrs", "household_data_root", "household_timezon", "vault_smtp_password"], lines


def test_an_inventory_value_that_cannot_be_evaluated_is_one_line():
    values = [{"name": "letsencrypt_dns_credentials", "defined": True, "error": "'vault_x' is undefined"}]
    lines = pf.preflight_problems(values, ["letsencrypt"], {"user_set": ["letsencrypt_dns_credentials"]}, WHERE, full=False)
    assert lines == ["letsencrypt_dns_credentials cannot be evaluated: 'vault_x' is undefined. Fix: define what it refers to "
                     "(e.g. in vault.yml beside main.yml), or correct the reference (in %s)." % WHERE]


# --- the catalog's typed schema (issue #12: nested typos, port 0, truncated digests, overseerr without plex) -----------------

@pytest.mark.parametrize("name", sorted(shipped()))
def test_every_shipped_entry_conforms_to_the_schema(name):
    assert schema.entry_problems(name, shipped()[name], raw=True) == []


def test_the_test_images_overrides_conform_to_the_schema():
    overrides = yaml.safe_load(open(os.path.join(ROOT, "tests", "images", "overrides.yml")))["catalog_overrides"]
    for name, override in overrides.items():
        assert schema.entry_problems(name, override, partial=True) == [], name


def problems(enabled, overrides=None, **kw):
    cat = shipped()
    return catalog_problems(catalog_resolve(cat, enabled, overrides or {}, "/opt/monsterr", "/data", kw.get("domain", "m.org")),
                            cat, enabled, overrides or {}, WHERE, **kw)


@pytest.mark.parametrize("override, expected", [
    ({"sonarr": {"proxy": {"subdomian": "tv"}}},
     "catalog_overrides.sonarr.proxy.subdomian = 'tv' is not a field of proxy. Fix: did you mean subdomain?"),
    ({"sonarr": {"port": 0}}, "catalog_overrides.sonarr.port = 0 is outside 1..65535"),
    ({"sonarr": {"port": "8989a"}}, "catalog_overrides.sonarr.port = '8989a' is not a whole number from 1 to 65535"),
    ({"sonarr": {"image": "lscr.io/linuxserver/sonarr@sha256:abc123"}},
     "catalog_overrides.sonarr.image = 'lscr.io/linuxserver/sonarr@sha256:abc123' has a digest that is not sha256 with 64"),
    ({"sonarr": {"image": 4}}, "catalog_overrides.sonarr.image = 4 is not a string"),
    ({"sonarr": {"volumes": [{"source": "config", "taget": "/config"}]}}, "catalog_overrides.sonarr.volumes[0].taget = '/config' is not a field"),
    ({"sonarr": {"publish": [{"host_port": 0, "container_port": 8989}]}}, "catalog_overrides.sonarr.publish[0].host_port = 0 is outside"),
    ({"sonarr": {"secrets": {"api_key": {"generat": "hex32"}}}}, "catalog_overrides.sonarr.secrets.api_key.generat = 'hex32' is not a field"),
    ({"sonarr": {"healthcheck": {"interval": "often"}}}, "catalog_overrides.sonarr.healthcheck.interval = 'often' is not"),
    ({"sonarr": {"proxy": {"auth": "2fa"}}}, "catalog_overrides.sonarr.proxy.auth = '2fa' is not one of two_factor"),
])
def test_overrides_are_checked_at_every_depth(override, expected):
    lines = problems(["sonarr"], override)
    assert len(lines) == 1 and lines[0].startswith(expected), lines


def test_a_full_digest_is_a_pin():
    assert problems(["sonarr"], {"sonarr": {"image": "lscr.io/linuxserver/sonarr@sha256:" + "a" * 64}}) == []


def test_overseerr_without_plex_is_refused():
    lines = problems(["overseerr", "sonarr", "radarr"])
    assert lines == ["catalog_enabled = 'overseerr' needs 'plex', which is not enabled. Fix: add plex to catalog_enabled, or "
                     "remove overseerr (in %s)." % WHERE]
    assert problems(["overseerr", "sonarr", "radarr", "plex"]) == []


def test_a_retired_app_names_its_replacement():
    retired = yaml.safe_load(open(os.path.join(ROOT, "roles", "catalog", "retired.yml")))
    lines = problems(["sonarr", "watchtower"], {"watchtower": {"environment": {}}}, retired=retired)
    assert len(lines) == 2, lines
    assert lines[0].startswith("catalog_enabled = 'watchtower' is retired: watchtower was removed") and \
        "Fix: remove watchtower from catalog_enabled; add diun instead" in lines[0], lines[0]
    assert lines[1].startswith("catalog_overrides.watchtower = {'environment': {}} is retired:"), lines[1]
    # without the map it is just an unknown name
    assert "is not a service of the catalog" in problems(["watchtower"])[0]


def test_a_name_longer_than_dns_allows_is_refused():
    domain = ".".join(["a" * 63] * 3) + ".org"   # 195 characters: fine alone
    lines = problems(["sonarr"], {"sonarr": {"proxy": {"subdomain": "s" * 60}}}, domain=domain)
    assert len(lines) == 1 and "longer than the 253 characters a DNS name may have" in lines[0], lines


def test_catalog_enabled_as_a_string_is_one_line():
    cat = shipped()
    assert catalog_problems([], cat, "plex,sonarr", {}, WHERE) == [
        "catalog_enabled = 'plex,sonarr' is not a list. Fix: list service names, e.g. [plex, sonarr] (in %s)." % WHERE]


def test_deprecated_services_are_warnings_not_problems():
    entries = [{"name": "readarr", "deprecated": "retired upstream"}, {"name": "sonarr"}]
    assert catalog_warnings(entries) == ["readarr is deprecated: retired upstream"]


def test_the_schema_generates_the_field_reference():
    lines = schema.reference()
    assert lines[:2] == ["| field | type | meaning |", "| --- | --- | --- |"]
    assert any(line.startswith("| `proxy.subdomain` | a string |") for line in lines)
    assert not any("`host_loopback`" in line for line in lines)   # derived by catalog_resolve, never written
