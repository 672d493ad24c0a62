#!/bin/sh
# The grafana image's entry point (grafana/grafana packaging/docker/run.sh): warns when the configuration is not
# readable or the data directory not writable, creates GF_PATHS_PLUGINS (under `set -e`: a data directory the
# user cannot write stops the container here), turns GF_*__FILE variables into their file's content, then runs
# `grafana server` with the paths as cfg:default.* arguments. Written for this image, same behaviour.
set -e

warn=0
if [ ! -r "$GF_PATHS_CONFIG" ]; then echo "GF_PATHS_CONFIG='$GF_PATHS_CONFIG' is not readable."; warn=1; fi
if [ ! -w "$GF_PATHS_DATA" ]; then echo "GF_PATHS_DATA='$GF_PATHS_DATA' is not writable."; warn=1; fi
if [ ! -r "$GF_PATHS_HOME" ]; then echo "GF_PATHS_HOME='$GF_PATHS_HOME' is not readable."; warn=1; fi
if [ "$warn" -eq 1 ]; then
  echo "You may have issues with file permissions, more information here: http://docs.grafana.org/installation/docker/#migrate-to-v51-or-later"
fi

if [ ! -d "$GF_PATHS_PLUGINS" ]; then
  mkdir "$GF_PATHS_PLUGINS"
fi

for name in $(env | sed -n 's/^\(GF_[^=]*\)__FILE=.\+/\1/p'); do
  if [ -n "$(printenv "$name" || true)" ]; then
    echo >&2 "ERROR: Both $name and ${name}__FILE are set (but are exclusive)"
    exit 1
  fi
  file=$(printenv "${name}__FILE")
  echo "Getting secret $name from $file"
  export "$name=$(cat "$file")"
  unset "${name}__FILE"
done

export HOME="$GF_PATHS_HOME"
exec grafana server --homepath="$GF_PATHS_HOME" --config="$GF_PATHS_CONFIG" --packaging=docker "$@" \
  cfg:default.log.mode="console" cfg:default.paths.data="$GF_PATHS_DATA" cfg:default.paths.logs="$GF_PATHS_LOGS" \
  cfg:default.paths.plugins="$GF_PATHS_PLUGINS" cfg:default.paths.provisioning="$GF_PATHS_PROVISIONING"
