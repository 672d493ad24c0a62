#!/bin/sh
# Authelia's entry point as the official image has it (authelia/authelia entrypoint.sh, 4.38/4.39): UMASK when
# set; a first argument other than --config is run as a command; started as a non-root uid or gid (compose
# `user:`) it runs authelia as that; started as root (the default) it chowns /config RECURSIVELY to PUID:PGID
# (image default 0:0) on every start and runs authelia as PUID:PGID (su-exec upstream, setpriv here). Written for
# this image, same behaviour.
[ -n "${UMASK:-}" ] && umask "$UMASK"

if [ -n "${1:-}" ] && [ "$1" != "--config" ]; then
  exec "$@"
elif [ "$(id -u)" != 0 ] || [ "$(id -g)" != 0 ]; then
  exec authelia "$@"
else
  chown -R "$PUID:$PGID" /config
  exec setpriv --reuid="$PUID" --regid="$PGID" --clear-groups authelia "$@"
fi
