#!/bin/sh
# The image's own HEALTHCHECK (authelia/authelia healthcheck.sh): GNU wget --spider on <scheme>://<host>:<port><path>
# /api/health, the parts from /app/.healthcheck.env when Authelia wrote it, else http://localhost:9091.
# shellcheck disable=SC1091 # written by Authelia at start, in the container
[ -f /app/.healthcheck.env ] && . /app/.healthcheck.env
exec wget --quiet --no-check-certificate --tries=1 --spider \
  "${X_AUTHELIA_HEALTHCHECK_SCHEME:-http}://${X_AUTHELIA_HEALTHCHECK_HOST:-localhost}:${X_AUTHELIA_HEALTHCHECK_PORT:-9091}${X_AUTHELIA_HEALTHCHECK_PATH:-}/api/health"
