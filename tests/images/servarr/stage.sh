#!/usr/bin/env bash
# Stage what the servarr image runs (called by scripts/build-service-images.sh before it hashes this
# directory): the Servarr double and the upstream contracts it checks requests against, in stage/
# (git-ignored; the contracts stay in ../shared, never in the repository).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
contracts=${MONSTERR_CONTRACTS:-$root/../shared/contracts}
[ -d "$contracts/openapi" ] || { echo "stage.sh: no contracts at $contracts (set MONSTERR_CONTRACTS)" >&2; exit 1; }
rm -rf "$here/stage"
mkdir -p "$here/stage/contracts"
install -m 0755 "$root/tests/doubles/servarr.py" "$here/stage/servarr.py"
cp -r "$contracts/openapi" "$contracts/fixtures" "$here/stage/contracts/"
