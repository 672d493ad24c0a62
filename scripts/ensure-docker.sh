#!/usr/bin/env bash
# Make sure a Docker engine answers: install Debian's docker.io when absent, start dockerd, wait.
set -euo pipefail
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

if docker info >/dev/null 2>&1; then exit 0; fi
apt_install docker.io bc
if ! docker info >/dev/null 2>&1; then
  if command -v systemctl >/dev/null && systemctl is-system-running >/dev/null 2>&1; then
    systemctl start docker
  else
    log "starting dockerd (log: $CACHE/dockerd.log)"
    mkdir -p "$CACHE"
    nohup dockerd >"$CACHE/dockerd.log" 2>&1 &
  fi
  for _ in $(seq 1 60); do docker info >/dev/null 2>&1 && break; sleep 1; done
fi
docker info >/dev/null 2>&1 || die "dockerd did not answer within 60 s; see $CACHE/dockerd.log"
log "docker engine $(docker version -f '{{.Server.Version}}') ready"
