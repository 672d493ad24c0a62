#!/usr/bin/env bash
# One-time (and idempotent, fast on re-run) setup of everything the playbooks and tests need:
#   - .venv with the pinned tools of requirements.txt
#   - the Galaxy collections, unpacked from the pinned `ansible` wheel on PyPI (Galaxy may be unreachable)
#   - an offline stand-in for ansible-test's pip bootstrap download
#   - the Debian packages the tests use (docker.io, debootstrap, shellcheck, bc, qbittorrent-nox, nzbget, ...)
#   - the upstream contract documents the tests check against (tests/fixtures/contracts/MANIFEST.tsv), into
#     .cache/contracts: from the mirror directory $MONSTERR_CONTRACTS when set, else from their pinned URLs
set -euo pipefail
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

# The community bundle whose collections we take; the versions it carries are listed in requirements.yml.
ANSIBLE_BUNDLE=12.3.0
COLLECTIONS=(community/docker community/library_inventory_filtering_v1 community/general ansible/posix)
PY=${PYTHON:-python3}

"$PY" -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
  || die "$PY is $("$PY" --version 2>&1); Python >= 3.11 is needed (set PYTHON=/path/to/python3.11)"

mkdir -p "$CACHE"
# docker.io, debootstrap: Molecule and the demo; qbittorrent-nox, nzbget: the wiring modules run against
# the real programs in tests/integration; nginx-light: nginx -t and a real nginx in the proxy tests;
# prometheus, prometheus-alertmanager: promtool and amtool check what the monitoring role renders;
# fail2ban: fail2ban-regex and Debian's filters read the proxy's logs (the package's service is not used by
# the tests); curl, openssl: the proxy tests' client and test certificates; docker-registry: the pin
# checker's tests run a real registry of their own (the package's service is not used).
apt_install docker.io debootstrap shellcheck bc git qbittorrent-nox nzbget nginx-light prometheus prometheus-alertmanager \
  fail2ban curl openssl docker-registry

req_hash=$(sha256sum "$ROOT/requirements.txt" | cut -c1-16)
if [ "$(cat "$VENV/.req-hash" 2>/dev/null)" != "$req_hash" ]; then
  log "creating $VENV from requirements.txt"
  [ -x "$VENV/bin/python" ] || "$PY" -m venv "$VENV"
  "$VENV/bin/pip" install -q --disable-pip-version-check -r "$ROOT/requirements.txt"
  echo "$req_hash" >"$VENV/.req-hash"
else
  log "$VENV is up to date"
fi

COLL_DIR="$CACHE/collections"
if [ "$(cat "$COLL_DIR/.bundle" 2>/dev/null)" != "$ANSIBLE_BUNDLE" ]; then
  log "unpacking ${COLLECTIONS[*]} from ansible==$ANSIBLE_BUNDLE"
  rm -rf "$COLL_DIR" "$CACHE/wheels"
  "$VENV/bin/pip" download -q --disable-pip-version-check --no-deps "ansible==$ANSIBLE_BUNDLE" -d "$CACHE/wheels"
  "$VENV/bin/python" - "$CACHE/wheels/ansible-$ANSIBLE_BUNDLE"-*.whl "$COLL_DIR" "${COLLECTIONS[@]}" <<'PY'
import sys, zipfile
wheel, dest, *wanted = sys.argv[1:]
prefixes = tuple(f"ansible_collections/{w}/" for w in wanted)
with zipfile.ZipFile(wheel) as z:
    names = [n for n in z.namelist() if n.startswith(prefixes)]
    if not names:
        sys.exit(f"none of {wanted} found in {wheel}")
    z.extractall(dest, names)
PY
  rm -rf "$CACHE/wheels"
  echo "$ANSIBLE_BUNDLE" >"$COLL_DIR/.bundle"
fi

# ansible-test fetches get-pip from Ansible's CI file server, unreachable here: give it an offline stand-in
# under the cache name ansible-core 2.19 looks for. ensurepip runs in a subprocess on purpose (it would
# otherwise hide /etc/pip.conf and its CA bundle from the pip call that follows).
mkdir -p "$HOME/.ansible/test/cache"
cat >"$HOME/.ansible/test/cache/get_pip_24_2.py" <<'PY'
import subprocess, sys
argv = sys.argv[1:]
args = [a for a in argv if a not in ('--no-setuptools', '--no-wheel')]
subprocess.check_call([sys.executable, '-m', 'ensurepip', '--upgrade'])
subprocess.check_call([sys.executable, '-m', 'pip', 'install', '-q'] + args)
if '--no-setuptools' in argv:
    subprocess.call([sys.executable, '-m', 'pip', 'uninstall', '-y', '-q', 'setuptools'])
PY

# The upstream documents the tests check against (OpenAPI specs, Authelia's schemas): sha256-checked into
# .cache/contracts. A document that cannot be had fails setup (after everything else is done), listing each
# one with its URL and the reason.
if ! "$PY" "$ROOT/tests/contracts.py" fetch --cache "$CACHE/contracts"; then
  die "setup incomplete: contract documents missing (listed above); set MONSTERR_CONTRACTS=<mirror dir> or allow access to their URLs, then run 'make setup' again"
fi

log "setup done: activate with '. .venv/bin/activate' (ansible.cfg already points at the collections)"
