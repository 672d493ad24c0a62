#!/usr/bin/env bash
# Stage what the authelia image runs (called by scripts/build-service-images.sh before it hashes this
# directory): the Authelia test double, in stage/ (git-ignored).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
rm -rf "$here/stage"
mkdir -p "$here/stage"
install -m 0755 "$root/tests/doubles/authelia.py" "$here/stage/authelia.py"
