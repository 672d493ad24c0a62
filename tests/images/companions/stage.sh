#!/usr/bin/env bash
# Stage what the companions image runs (called by scripts/build-service-images.sh before it hashes this
# directory): the Bazarr and Overseerr doubles under the collection's package path, in stage/ (git-ignored).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
package="$here/stage/ansible_collections/monsterr/mediaserver/tests/doubles"
rm -rf "$here/stage"
mkdir -p "$package"
for name in loopback bazarr overseerr; do
  install -m 0644 "$root/tests/doubles/$name.py" "$package/$name.py"
done
install -m 0755 "$root/tests/doubles/companion_server.py" "$here/stage/companion_server.py"
