# Copyright: monsterr.mediaserver developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The registry fixture of the pin checker's tests (see registry_stack.py)."""

import importlib.util
import shutil

import pytest
from ansible_collections.monsterr.mediaserver.tests.integration.pins import (
    registry_stack,
)


@pytest.fixture(scope="session")
def registry(tmp_path_factory):
    """Debian's docker-registry with token auth, a token endpoint, two front doors, test images pushed."""
    if not shutil.which("docker-registry"):
        pytest.fail("docker-registry is missing: the pin checker is tested against Debian's real registry. "
                    "Install it with `make setup` (apt package docker-registry).")
    if importlib.util.find_spec("cryptography") is None:      # signs the registry's tokens
        pytest.fail("the Python package cryptography is missing from the tool environment: run `make setup`")
    with registry_stack.running(str(tmp_path_factory.mktemp("registry"))) as stack:
        yield stack
