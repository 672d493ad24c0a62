#!/usr/bin/env bash
# Stage what the servarr image runs (called by scripts/build-service-images.sh before it hashes this
# directory): the Servarr double and the contracts it checks requests against, in stage/ (git-ignored):
# the apps' OpenAPI documents from the cache `make setup` fills and the project's synthesized fixtures,
# both through tests/contracts.py, which names the fix when a document is missing.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
rm -rf "$here/stage"
mkdir -p "$here/stage/contracts"
install -m 0755 "$root/tests/doubles/servarr.py" "$here/stage/servarr.py"
python3 "$root/tests/contracts.py" stage "$here/stage/contracts" openapi/ fixtures/
