# -*- coding: utf-8 -*-
# Copyright: monsterr.mediaserver developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The household_secret lookup: created once with enough entropy, read back, vault values win."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import re
import stat

import pytest

from ansible.errors import AnsibleLookupError
from ansible_collections.monsterr.mediaserver.plugins.lookup.household_secret import household_secrets, make_secret


class Lookup(object):
    """The lookup's logic without Ansible's plugin loader (the plugin's run() only gathers its options)."""

    @staticmethod
    def run(terms, variables, dir, format="hex", given=None):  # pylint: disable=redefined-builtin
        return household_secrets(terms, dir, format, given)


@pytest.fixture()
def lookup():
    return Lookup()


@pytest.mark.parametrize("fmt, pattern", [
    ("hex", r"^[0-9a-f]{64}$"), ("hex32", r"^[0-9a-f]{32}$"), ("hex80", r"^[0-9a-f]{80}$"),
    ("alnum", r"^[A-Za-z0-9]{43}$"), ("alnum32", r"^[A-Za-z0-9]{32}$"), ("alnum22", r"^[A-Za-z0-9]{22}$"),
    ("alnum64", r"^[A-Za-z0-9]{64}$"), ("base64_32", r"^[A-Za-z0-9+/]{43}=$"), ("base64", r"^[A-Za-z0-9+/]{43}=$"),
    ("base64_16", r"^[A-Za-z0-9+/]{22}==$"),
])
def test_the_number_is_the_exact_size(fmt, pattern):
    values = set(make_secret(fmt) for _ in range(20))
    assert len(values) == 20
    assert all(re.match(pattern, v) for v in values), values


@pytest.mark.parametrize("fmt", ["hex31", "hex8", "alnum21", "base64_15", "base64_1"])
def test_formats_under_128_bits_are_refused(fmt):
    with pytest.raises(AnsibleLookupError, match="fewer than 128"):
        make_secret(fmt)


def test_hex32_is_what_exportarr_and_the_arr_apps_take():
    """exportarr v2.3.0 refuses an API key outside ^[a-zA-Z0-9]{20,32}$ (internal/arr/config/arr.go); the old hex32
    gave 64 characters."""
    assert all(re.match(r"^[a-zA-Z0-9]{20,32}$", make_secret("hex32")) for _ in range(50))


def test_never_all_digits_and_the_pattern_is_honoured(monkeypatch):
    from ansible_collections.monsterr.mediaserver.plugins.lookup import household_secret
    draws = iter(["0" * 32, "1" * 31 + "a", "ab" * 16])
    monkeypatch.setattr(household_secret, "_draw", lambda kind, number: next(draws))
    assert make_secret("hex32") == "1" * 31 + "a"
    draws = iter(["1" * 31 + "a", "ab" * 16])
    assert make_secret("hex32", r"^[0-9a-f]*b") == "ab" * 16


def test_a_pattern_the_format_cannot_meet_is_an_error():
    with pytest.raises(AnsibleLookupError, match="never gives a value"):
        make_secret("hex32", r"^[A-Z]{32}$")
    with pytest.raises(AnsibleLookupError, match="not a regular expression"):
        make_secret("hex32", r"([")


def test_unknown_format_is_refused():
    with pytest.raises(AnsibleLookupError, match="unknown format"):
        make_secret("rot13")


def test_patterns_reach_new_files_only(lookup, tmp_path):
    (tmp_path / "radarr").mkdir()
    (tmp_path / "radarr" / "api_key.txt").write_text("0123456789" * 6 + "abcd\n")
    values = household_secrets(["sonarr/api_key", "radarr/api_key"], str(tmp_path), "hex32",
                               patterns=[r"^(?=.*[a-f])[0-9a-f]{32}$", r"^[0-9a-f]{32}$"])
    assert re.match(r"^[0-9a-f]{32}$", values[0])
    # An old 64-character key is read back as it is: preflight reports it against the catalog's pattern.
    assert values[1] == "0123456789" * 6 + "abcd"
    with pytest.raises(AnsibleLookupError, match="2 patterns for 1 terms"):
        household_secrets(["sonarr/api_key"], str(tmp_path), "hex32", patterns=["a", "b"])


def test_created_once_private_and_stable(lookup, tmp_path):
    first = lookup.run(["sonarr/api_key", "qbittorrent/password"], {}, dir=str(tmp_path), format=["hex", "alnum"])
    again = lookup.run(["sonarr/api_key", "qbittorrent/password"], {}, dir=str(tmp_path), format=["hex", "alnum"])
    assert first == again and first[0] != first[1]
    path = tmp_path / "sonarr" / "api_key.txt"
    assert path.read_text() == first[0] + "\n"
    assert stat.S_IMODE(os.stat(str(path)).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(str(tmp_path / "sonarr")).st_mode) == 0o700


def test_a_given_value_wins_and_touches_no_file(lookup, tmp_path):
    values = lookup.run(["sonarr/api_key", "radarr/api_key"], {}, dir=str(tmp_path), given=["from-the-vault-123", ""])
    assert values[0] == "from-the-vault-123"
    assert not (tmp_path / "sonarr").exists() and (tmp_path / "radarr" / "api_key.txt").exists()


def test_empty_file_and_bad_terms_fail_clearly(lookup, tmp_path):
    (tmp_path / "sonarr").mkdir()
    (tmp_path / "sonarr" / "api_key.txt").write_text("")
    with pytest.raises(AnsibleLookupError, match="is empty"):
        lookup.run(["sonarr/api_key"], {}, dir=str(tmp_path))
    with pytest.raises(AnsibleLookupError, match="is not <service>/<name>"):
        lookup.run(["../etc/passwd"], {}, dir=str(tmp_path))


def test_documentation_is_valid_yaml():
    import yaml
    from ansible_collections.monsterr.mediaserver.plugins.lookup import household_secret
    for text in (household_secret.DOCUMENTATION, household_secret.EXAMPLES, household_secret.RETURN):
        assert yaml.safe_load(text)
