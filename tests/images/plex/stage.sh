#!/usr/bin/env bash
# Stage what the plex image runs (called by scripts/build-service-images.sh before it hashes this
# directory): the Plex stand-in, in stage/ (git-ignored).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
rm -rf "$here/stage"
mkdir -p "$here/stage"
install -m 0755 "$root/tests/doubles/plex.py" "$here/stage/plex-double.py"
