#!/usr/bin/env bash
# Build the local service images of tests/images/<name>/ FROM the local Debian 13 base (nothing can be
# pulled). Each is tagged monsterr-test/<name>:<hash of its directory> and :local; a built hash is skipped.
#   scripts/build-service-images.sh [name...]           build all, or the named ones
#   SAVE_DIR=dir scripts/build-service-images.sh ...     also `docker save` each to dir/<name>.tar
set -euo pipefail
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
"$ROOT/scripts/build-base-images.sh"

names=("$@")
if [ ${#names[@]} -eq 0 ]; then
  mapfile -t names < <(find "$ROOT/tests/images" -mindepth 2 -maxdepth 2 -name Dockerfile -printf '%h\n' | xargs -r -n1 basename | sort)
fi
base_id=$(docker image inspect -f '{{.Id}}' monsterr/debian13-systemd:base)
for name in "${names[@]}"; do
  dir="$ROOT/tests/images/$name"
  [ -f "$dir/Dockerfile" ] || die "no tests/images/$name/Dockerfile"
  # An image may stage files from elsewhere in the repository into its context first (stage/, git-ignored).
  if [ -x "$dir/stage.sh" ]; then "$dir/stage.sh" || die "tests/images/$name/stage.sh failed"; fi
  hash=$( (echo "$base_id"; cd "$dir" && find . -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum) | sha256sum | cut -c1-12)
  tag="monsterr-test/$name:$hash"
  if docker image inspect "$tag" >/dev/null 2>&1; then
    log "$tag already built"
  else
    log "building $tag"
    # The legacy builder uses the local base image instead of trying to pull it.
    DOCKER_BUILDKIT=0 docker build -q -t "$tag" "$dir" >/dev/null || die "docker build of $name failed"
  fi
  docker tag "$tag" "monsterr-test/$name:local"
  if [ -n "${SAVE_DIR:-}" ]; then
    mkdir -p "$SAVE_DIR"
    if [ "$(cat "$SAVE_DIR/$name.tag" 2>/dev/null)" != "$tag" ]; then
      docker save "monsterr-test/$name:local" -o "$SAVE_DIR/$name.tar"
      echo "$tag" >"$SAVE_DIR/$name.tag"
    fi
  fi
done
