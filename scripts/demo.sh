#!/usr/bin/env bash
# make demo:       start (or reuse) a throwaway Debian 13 systemd container on this machine and run
#                  site.yml against it with the example inventory, overriding only what a container needs.
# make demo-clean: remove the container and its cached facts.
# Run `make demo` twice: the second run must report changed=0.
set -euo pipefail
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
cd "$ROOT" || exit 1

NAME=${MONSTERR_DEMO_NAME:-monsterr-demo}
IMAGE=${MONSTERR_DEMO_IMAGE:-monsterr/debian13-systemd:base}
FACTS="$CACHE/demo-facts"
HISTORY="$CACHE/demo-runs.txt"

clean() {
  docker rm -f "$NAME" >/dev/null 2>&1 || true
  # The example household's secrets generated for the demo host go with it.
  rm -rf "$FACTS" "$HISTORY" "$ROOT/inventories/example/secrets/media01"
  log "demo removed"
}

up() {
  activate
  "$ROOT/scripts/ensure-docker.sh"
  "$ROOT/scripts/build-base-images.sh"
  if [ -z "$(docker ps -q -f name="^${NAME}$")" ]; then
    docker rm -f "$NAME" >/dev/null 2>&1 || true
    rm -rf "$FACTS" "$HISTORY"
    log "starting $NAME from $IMAGE"
    # The capabilities systemd and the firewall need, one by one (--privileged is refused here).
    docker run -d --name "$NAME" --hostname media01 \
      --cap-add SYS_ADMIN --cap-add NET_ADMIN --cap-add NET_RAW \
      --security-opt seccomp=unconfined --security-opt apparmor=unconfined --security-opt systempaths=unconfined \
      --cgroupns host -v /sys/fs/cgroup:/sys/fs/cgroup:rw \
      --tmpfs /run --tmpfs /run/lock --tmpfs /tmp \
      -v /var/lib/docker -v /data \
      "$IMAGE" >/dev/null
    for _ in $(seq 1 30); do
      state=$(docker exec "$NAME" systemctl is-system-running 2>/dev/null || true)
      case "$state" in running | degraded) break ;; esac
      sleep 1
    done
    log "$NAME booted (systemd: ${state:-unknown})"
  fi
  local out="$CACHE/demo-last.log" start rc=0 secs changed
  start=$(date +%s.%N)
  # Only what a container needs differs from the example household: how to reach it, and
  # scripts/demo-vars.yml (smaller minimums; what needs the internet).
  ANSIBLE_CACHE_PLUGIN_CONNECTION="$FACTS" ansible-playbook site.yml -i inventories/example \
    -e ansible_connection=community.docker.docker -e ansible_host="$NAME" -e ansible_user=root \
    -e @scripts/demo-vars.yml "$@" 2>&1 | tee "$out" || rc=$?
  secs=$(echo "$(date +%s.%N) - $start" | bc)
  changed=$(sed -n 's/.*media01 *: .*changed=\([0-9]*\).*/\1/p' "$out" | tail -1)
  run=1
  [ -f "$HISTORY" ] && run=$(($(wc -l <"$HISTORY") + 1))
  printf 'run %d: %6.1f s  changed=%s  rc=%s\n' "$run" "$secs" "${changed:-?}" "$rc" >>"$HISTORY"
  cat <<SUMMARY

== Demo: $NAME (Debian 13, systemd) provisioned by site.yml with inventories/example
   shell:            docker exec -it $NAME bash
   appdata:          /opt/monsterr/<service>       (owner media, uid/gid 2000): proxy/conf.d, authelia,
                     prometheus, alertmanager and grafana configuration rendered from the catalog
   media + downloads: /data/media/{tv,movies,music,books,audiobooks}, /data/downloads/{torrents,usenet}
   system:           time zone Europe/Berlin, locale en_US.UTF-8, unattended upgrades on,
                     /etc/sysctl.d/60-monsterr.conf (inotify), /etc/ssh/sshd_config.d/50-monsterr.conf
   security:         ufw active (docker exec $NAME ufw status), fail2ban jails (fail2ban-client status),
                     Docker $(docker exec "$NAME" docker version -f '{{.Server.Version}}' 2>/dev/null || echo '-') with /etc/docker/daemon.json
   secrets:          inventories/example/secrets/media01/ (generated once, git-ignored)
   not here:         certificate (letsencrypt_enabled=false) and app containers (stack_enabled=false):
                     see scripts/demo-vars.yml for why
   layers that did work: $(awk '/^TASK / {role = ""} /^TASK \[monsterr\.mediaserver\./ && !/Validating arguments/ {split($2, a, "."); role = a[3]} /^(ok|changed): \[/ && role {seen[role]++; if (seen[role] == 1) order[++n] = role} END {for (i = 1; i <= n; i++) printf "%s ", order[i]}' "$out")
   runs so far:
$(sed 's/^/     /' "$HISTORY")
   remove it with:   make demo-clean
SUMMARY
  return "$rc"
}

case "${1:-up}" in
  up) shift || true; up "$@" ;;
  clean) clean ;;
  *) die "usage: $0 up|clean" ;;
esac
