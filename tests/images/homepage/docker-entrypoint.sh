#!/bin/sh
# Homepage's entry point as the v1.x image has it (gethomepage/homepage docker-entrypoint.sh): PUID/PGID default
# 0 (root, "so old installations won't break"); /app/config falls back to a /config mount; when /app/config is not
# owned by PUID:PGID it is chowned RECURSIVELY to them, as is /app/config/logs (created); /app/.next likewise when
# PUID is not 0; then, started as root with a PUID other than 0, the command runs as PUID:PGID (su-exec upstream,
# setpriv here), else as the current user. Written for this image, same behaviour.
set -e

export PUID="${PUID:-0}"
export PGID="${PGID:-0}"
[ ! -d /app/config ] && ln -s /config /app/config
HOMEPAGE_BUILDTIME=$(date +%s)
export HOMEPAGE_BUILDTIME

if [ -e /app/config ]; then
  if [ "$(stat -c %u /app/config)" -ne "$PUID" ] || [ "$(stat -c %g /app/config)" -ne "$PGID" ]; then
    echo "Fixing ownership of /app/config"
    chown -R "$PUID:$PGID" /app/config 2>/dev/null || echo "Warning: Could not chown /app/config; continuing anyway"
  else
    echo "/app/config already owned by correct UID/GID, skipping chown"
  fi
else
  echo "/app/config does not exist; skipping ownership check"
fi

mkdir -p /app/config/logs 2>/dev/null || true
if [ -d /app/config/logs ]; then
  if [ "$(stat -c %u /app/config/logs)" -ne "$PUID" ] || [ "$(stat -c %g /app/config/logs)" -ne "$PGID" ]; then
    echo "Fixing ownership of /app/config/logs"
    chown -R "$PUID:$PGID" /app/config/logs 2>/dev/null || echo "Warning: Could not chown /app/config/logs"
  fi
fi

if [ -d /app/.next ]; then
  if [ "$PUID" -ne 0 ] && { [ "$(stat -c %u /app/.next)" -ne "$PUID" ] || [ "$(stat -c %g /app/.next)" -ne "$PGID" ]; }; then
    echo "Fixing ownership of /app/.next"
    chown -R "$PUID:$PGID" /app/.next 2>/dev/null || echo "Warning: Could not chown /app/.next; continuing anyway"
  else
    echo "/app/.next already owned by correct UID/GID or running as root, skipping chown"
  fi
fi

if [ "$(id -u)" = 0 ] && [ "$PUID" != 0 ]; then
  exec setpriv --reuid="$PUID" --regid="$PGID" --clear-groups "$@"
fi
exec "$@"
