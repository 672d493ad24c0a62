#!/usr/bin/env bash
# make demo:       the whole media server in a throwaway Debian 13 systemd container on this machine: site.yml with
#                  inventories/example, every layer (apps and wiring included), overriding only what a container
#                  needs (scripts/demo-vars.yml). Run it twice: the second run reports changed=0.
# make demo-clean: remove the container, its volumes, its cached facts and the example household's secrets.
#
# Images: where the registries of the catalog's images answer, the apps run on the catalog's real images. Where
# they do not (CI, offline machines), on the local stand-ins of tests/images/ (tests/images/overrides.yml, the file
# the stack scenario uses), built and loaded into the container's Docker engine before site.yml runs.
# MONSTERR_DEMO_IMAGES=real|local forces one; MONSTERR_DEMO_NAME names the container.
#
# Steps: plan (scripts/demo-plan.yml, on this machine: the apps, their URLs and images), registry check, container,
# prepare (scripts/demo-prepare.yml: a private ACME CA for the certificate; local mode: images), site.yml, summary.
# Exit code: site.yml's; 3 when site.yml passed but an app of the household had no local image (left out).
set -euo pipefail
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
cd "$ROOT" || exit 1

NAME=${MONSTERR_DEMO_NAME:-monsterr-demo}
IMAGE=${MONSTERR_DEMO_IMAGE:-monsterr/debian13-systemd:base}
MODE_WANTED=${MONSTERR_DEMO_IMAGES:-auto}
DEMO="$CACHE/demo"
FACTS="$DEMO/facts"
HISTORY="$DEMO/runs.txt"
PLAN="$DEMO/plan.json"
IMAGES_DIR="$CACHE/service-images"
INVENTORY=inventories/example
HOST=media01
SECRETS="$INVENTORY/secrets/$HOST"
ROOT_CA="$DEMO/acme-root.pem"
CONN=(-e ansible_connection=community.docker.docker -e "ansible_host=$NAME" -e ansible_user=root)

clean() {
  # -v: the container's anonymous volumes (/var/lib/docker with the apps' images, /data) go with it.
  docker rm -f -v "$NAME" >/dev/null 2>&1 || true
  # The example household's secrets generated for the demo host go with it.
  rm -rf "$DEMO" "${ROOT:?}/$SECRETS"
  log "demo removed (container $NAME and its volumes, $DEMO, $SECRETS)"
}

# A value from the plan: plan_get '<python expression over d>' (one line per item for lists).
plan_get() {
  python3 - "$PLAN" "$1" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
v = eval(sys.argv[2], {"d": d})
print("\n".join(map(str, v)) if isinstance(v, (list, tuple)) else v)
PY
}

# Registry check: every registry of the household's real images must answer its /v2/ endpoint (200, or 401 asking
# for a token as ghcr.io, lscr.io and Docker Hub do) within 5 s. Prints "real" or "local" and why on stderr.
detect_mode() {
  local r code unreachable=()
  if [ "$MODE_WANTED" != auto ]; then echo "$MODE_WANTED"; return; fi
  local tmp
  tmp=$(mktemp -d)
  while read -r r; do
    (curl -s -o /dev/null -m 5 -w '%{http_code}' "https://$r/v2/" >"$tmp/$r" 2>/dev/null || true) &
  done < <(plan_get 'd["registries"]')
  wait
  for r in $(plan_get 'd["registries"]'); do
    code=$(cat "$tmp/$r")
    case "$code" in 200 | 401) ;; *) unreachable+=("$r (${code:-no answer})") ;; esac
  done
  rm -rf "$tmp"
  if [ ${#unreachable[@]} -eq 0 ]; then
    echo "every registry answered: $(plan_get 'd["registries"]' | xargs)" >"$DEMO/mode-reason"
    echo real
  else
    echo "the registries did not answer within 5 s: ${unreachable[*]}" >"$DEMO/mode-reason"
    echo local
  fi
}

start_container() {
  if [ -n "$(docker ps -q -f name="^${NAME}$")" ]; then return; fi
  docker rm -f -v "$NAME" >/dev/null 2>&1 || true
  rm -rf "$FACTS" "$HISTORY"
  log "starting $NAME from $IMAGE"
  mkdir -p "$IMAGES_DIR"
  # Capabilities one by one (--privileged is refused on some hosts): SYS_ADMIN for systemd and dockerd's mounts,
  # NET_ADMIN for the firewall and Docker's bridge, NET_RAW, SYS_PTRACE for `docker exec` (and so health checks)
  # into containers that run as another user, DAC_READ_SEARCH (root has it on a real server; Docker drops it) for
  # the letsencrypt layer's first-run web server, which keeps only that one to read the webroot under the
  # household's 0750 appdata. /var/lib/docker as a volume: overlay2 inside instead of vfs.
  docker run -d --name "$NAME" --hostname "$HOST" \
    --cap-add SYS_ADMIN --cap-add NET_ADMIN --cap-add NET_RAW --cap-add SYS_PTRACE --cap-add DAC_READ_SEARCH \
    --security-opt seccomp=unconfined --security-opt apparmor=unconfined --security-opt systempaths=unconfined \
    --cgroupns host -v /sys/fs/cgroup:/sys/fs/cgroup:rw \
    --tmpfs /run --tmpfs /run/lock --tmpfs /tmp \
    -v /var/lib/docker -v /data -v "$IMAGES_DIR:/srv/service-images:ro" \
    "$IMAGE" >/dev/null
  local state=""
  for _ in $(seq 1 30); do
    state=$(docker exec "$NAME" systemctl is-system-running 2>/dev/null || true)
    case "$state" in running | degraded) break ;; esac
    sleep 1
  done
  log "$NAME booted (systemd: ${state:-unknown})"
}

# Per layer of playbooks/site.yml, in its order, from the run's output: "name(N changed)" (N tasks changed),
# "name(no change)", or "name(NOT RUN)" when the run never got to it (failed before, or --tags).
layers_of() {
  awk '
    FNR == NR { if (match($0, /role: monsterr\.mediaserver\.[a-z0-9_]+/)) { l = substr($0, RSTART + 27, RLENGTH - 27); order[++n] = l } next }
    function flush() { if (role != "") { ch[role] += tchanged; did[role] += tdid } }
    /^TASK \[/ { flush(); role = ""; tchanged = 0; tdid = 0
                 if ($0 ~ /^TASK \[monsterr\.mediaserver\.[a-z0-9_]+ : / && $0 !~ /Validating arguments/) { split($2, a, "."); role = a[3] } next }
    /^PLAY RECAP/ { flush(); role = "" }
    role != "" && /^changed: \[/ { tchanged = 1; tdid = 1 }
    role != "" && /^(ok|skipping): \[/ { tdid = 1 }
    END { flush(); for (i = 1; i <= n; i++) { r = order[i]; printf "%s%s ", r, (!did[r] ? "(NOT RUN)" : ch[r] ? "(" ch[r] " changed)" : "(no change)") } }
  ' playbooks/site.yml "$1"
}

up() {
  activate
  "$ROOT/scripts/ensure-docker.sh"
  "$ROOT/scripts/build-base-images.sh"
  mkdir -p "$DEMO"

  # 1. Plan, on this machine only.
  ansible-playbook scripts/demo-plan.yml -i "$INVENTORY" -e ansible_connection=local \
    -e "ansible_python_interpreter=$(command -v python3)" -e "demo_dir=$DEMO" >"$DEMO/plan.log" 2>&1 ||
    { cat "$DEMO/plan.log"; die "planning the demo failed (log above, also in $DEMO/plan.log)"; }

  # 2. Real or local images.
  local mode names=() ids='{}' left_out
  rm -f "$DEMO/mode-reason"
  mode=$(detect_mode)
  case "$mode" in real | local) ;; *) die "MONSTERR_DEMO_IMAGES='$MODE_WANTED': use auto, real or local" ;; esac
  [ -f "$DEMO/mode-reason" ] || echo "chosen with MONSTERR_DEMO_IMAGES=$MODE_WANTED" >"$DEMO/mode-reason"
  log "images: $mode ($(cat "$DEMO/mode-reason"))"
  echo "$mode" >"$DEMO/mode"
  local extra=()
  if [ "$mode" = local ]; then
    [ -n "$(plan_get 'd["local_overrides_file"]')" ] ||
      die "local mode needs tests/images/overrides.yml (which local image each app runs on); this checkout has none"
    mapfile -t names < <(plan_get 'sorted(set(d["local_images"].values()))')
    left_out=$(plan_get '" ".join("%s (%s)" % (a, ", ".join(i)) for a, i in sorted(d["local_missing"].items()))')
    [ -z "$left_out" ] || log "WARNING: no local image (tests/images/) for: $left_out"
    log "building and saving the local images the household needs: ${names[*]}"
    SAVE_DIR="$IMAGES_DIR" "$ROOT/scripts/build-service-images.sh" "${names[@]}"
    ids=$(for n in "${names[@]}"; do printf '%s %s\n' "$n" "$(docker image inspect -f '{{.Id}}' "monsterr-test/$n:local")"; done |
      python3 -c 'import json,sys; print(json.dumps(dict(l.split() for l in sys.stdin if l.strip())))')
    extra=(-e "@$DEMO/local-vars.yml")
  fi

  # 3. The container, 4. what it needs before site.yml.
  start_container
  local start pstart psecs rc=0 secs changed out="$DEMO/last-run.log"
  pstart=$(date +%s.%N)
  log "preparing $NAME (private ACME CA$([ "$mode" = local ] && echo ", Docker engine, ${#names[@]} local images")): log in $DEMO/prepare.log"
  ANSIBLE_CACHE_PLUGIN_CONNECTION="$FACTS" ansible-playbook scripts/demo-prepare.yml -i "$INVENTORY" "${CONN[@]}" -e @scripts/demo-vars.yml \
    -e "{\"demo_images\": $ids}" >"$DEMO/prepare.log" 2>&1 ||
    { tail -40 "$DEMO/prepare.log"; die "preparing the demo container failed (log above, whole in $DEMO/prepare.log)"; }
  psecs=$(echo "$(date +%s.%N) - $pstart" | bc)

  # 5. site.yml: only what a container needs differs from the example household (scripts/demo-vars.yml), plus
  #    in local mode the images (.cache/demo/local-vars.yml).
  start=$(date +%s.%N)
  ANSIBLE_CACHE_PLUGIN_CONNECTION="$FACTS" ansible-playbook site.yml -i "$INVENTORY" "${CONN[@]}" \
    -e @scripts/demo-vars.yml "${extra[@]}" "$@" 2>&1 | tee "$out" || rc=$?
  secs=$(echo "$(date +%s.%N) - $start" | bc)
  changed=$(sed -n "s/^$HOST *: .*changed=\([0-9]*\).*/\1/p" "$out" | tail -1)
  local run=1
  [ -f "$HISTORY" ] && run=$(($(wc -l <"$HISTORY") + 1))
  printf 'run %d  %s  images %-5s  site.yml %6.1f s  changed=%-4s rc=%s   (prepare %.1f s)\n' \
    "$run" "$(date '+%Y-%m-%d %H:%M')" "$mode" "$secs" "${changed:-?}" "$rc" "$psecs" >>"$HISTORY"

  echo "${changed:-?} $rc $secs" >"$DEMO/last-result"

  summary "$mode" "$rc" "$secs" "${changed:-?}"
}

# The summary, and the demo's exit code: site.yml's; else 3 when an app of the household was left out (no local
# image), 4 when the checks from this machine (portal, redirect, sign-in) or a container's health failed.
summary() {
  local mode=$1 rc=$2 secs=$3 changed=$4 ip domain portal home user_file="$SECRETS/authelia/admin_password.txt"
  local left_out missing names problems=0
  ip=$(docker inspect -f '{{range .NetworkSettings.Networks}}{{.IPAddress}} {{end}}' "$NAME" | awk '{print $1}')
  domain=$(plan_get 'd["domain"]')
  portal="auth.$domain"
  left_out=$(if [ "$mode" = local ]; then plan_get '", ".join(d["left_out"])'; fi)
  missing=$(if [ "$mode" = local ]; then plan_get '"; ".join("%s: %s" % (a, ", ".join(i)) for a, i in sorted(d["local_missing"].items()))'; fi)
  # The apps of this run (local mode: without those left out), and their names on the proxy.
  local running="[a for a in d['enabled'] if a not in '${left_out// /}'.split(',')]"
  names=$(plan_get '" ".join(a["url"].split("//")[1] for a in d["apps"] if a["url"] and a["name"] in '"$running"')')
  home=$(plan_get 'next((a["url"].split("//")[1] for a in d["apps"] if a["name"] == "homepage" and a["name"] in '"$running"'), "")')

  # The certificate's root: Pebble makes a new one at each start; keep the one that verifies the live certificate.
  local cert_note
  if docker exec "$NAME" sh -c "curl -fsS --cacert /etc/monsterr-demo-acme/ca.pem https://127.0.0.1:15000/roots/0 >/tmp/root.pem &&
      openssl verify -CAfile /tmp/root.pem -untrusted /etc/letsencrypt/live/$domain/chain.pem /etc/letsencrypt/live/$domain/cert.pem" >/dev/null 2>&1; then
    docker exec "$NAME" cat /tmp/root.pem >"$ROOT_CA"
  fi
  if [ -s "$ROOT_CA" ]; then
    cert_note="issued by the letsencrypt layer from the demo's own ACME CA (Pebble, inside the container), NOT by
                    Let's Encrypt, so browsers warn: accept the warning, or import .cache/demo/acme-root.pem as a
                    trusted CA (curl: --cacert .cache/demo/acme-root.pem). On a real server Let's Encrypt issues it."
  else
    cert_note="NONE: the letsencrypt layer did not get one (README.md, 'The first run failed')"
  fi

  # Tested from this machine: the portal answers, an app sends a stranger to it, the admin signs in through the
  # proxy and then reaches the app.
  local tests=() code app=""
  local curl=(curl -sS -o /dev/null -m 10 --cacert "$ROOT_CA" --resolve "$portal:443:$ip")
  check() {  # check <what> <expected code regex> <curl output>
    if [[ "$3" =~ ^$2 ]]; then tests+=("ok    $1 -> $3"); else tests+=("FAIL  $1 -> $3 (expected $2)"); problems=$((problems + 1)); fi
  }
  code=$("${curl[@]}" -w '%{http_code}' "https://$portal/" 2>&1 | tr '\n' ' ') || true
  check "https://$portal/ (the portal)" 200 "$code"
  app=$(plan_get 'next((a["url"].split("//")[1] for a in d["apps"] if a["auth"] == "one_factor" and a["name"] in '"$running"'), "")')
  if [ -n "$app" ] && [ -f "$user_file" ] && [ -s "$ROOT_CA" ]; then
    local jar="$DEMO/cookies.txt"
    rm -f "$jar"
    code=$("${curl[@]}" --resolve "$app:443:$ip" -w '%{http_code} %{redirect_url}' "https://$app/" 2>&1 | tr '\n' ' ') || true
    check "https://$app/ signed out" "302 https://$portal/" "$code"
    # The password goes from its file to curl's stdin: never on a command line or the screen.
    code=$(python3 -c 'import json,sys; print(json.dumps({"username": "admin", "password": open(sys.argv[1]).read().strip(), "keepMeLoggedIn": False}))' "$user_file" |
      "${curl[@]}" -c "$jar" -H 'Content-Type: application/json' --data-binary @- -w '%{http_code}' "https://$portal/api/firstfactor" 2>&1 | tr '\n' ' ') || true
    check "sign-in of admin (password from its file) at https://$portal/api/firstfactor" 200 "$code"
    code=$("${curl[@]}" --resolve "$app:443:$ip" -b "$jar" -w '%{http_code}' "https://$app/" 2>&1 | tr '\n' ' ') || true
    check "https://$app/ signed in as admin" 200 "$code"
    rm -f "$jar"
  else
    tests+=("FAIL  no sign-in test: needs a one-factor app, $user_file and a certificate")
    problems=$((problems + 1))
  fi

  # Health of every container of the compose project (name, state, health).
  # A container still in its start period ("starting") is judged once it is through it (at most 3 minutes).
  local health unhealthy waited=0
  while :; do
    health=$(docker exec "$NAME" docker compose -p monsterr ps -a --format '{{.Service}}|{{.State}}|{{.Health}}|{{.Status}}' 2>/dev/null | sort)
    if [ "$waited" -ge 180 ] || ! awk -F'|' '$3 == "starting" {found = 1} END {exit !found}' <<<"$health"; then
      break
    fi
    sleep 5
    waited=$((waited + 5))
  done
  unhealthy=$(echo "$health" | awk -F'|' 'NF && ($2 != "running" || ($3 != "" && $3 != "healthy")) {print $1}' | xargs)
  [ -z "$unhealthy" ] || problems=$((problems + 1))

  # What the wiring reported as pending (the run does not fail on it).
  local pending
  pending=$(grep -o '[a-z0-9-]* -> [a-z0-9-]*, [A-Za-z ]*: pending' "$DEMO/last-run.log" | sort -u || true)

  echo
  echo "== make demo: $HOST, a Debian 13 container ($NAME, $ip), provisioned by site.yml with $INVENTORY"
  printf '   this run:        site.yml %.1f s, changed=%s, rc=%s\n' "$secs" "$changed" "$rc"
  if [ "$mode" = real ]; then
    echo "   images:          the catalog's real images ($(cat "$DEMO/mode-reason"))"
  else
    echo "   images:          LOCAL stand-ins of tests/images/ (tests/images/overrides.yml); why: $(cat "$DEMO/mode-reason")."
    echo "                    They answer the stack, the proxy and the wiring like the real apps, but they are test"
    echo "                    doubles: no real Plex, Sonarr or Authelia screens. With registry access, make demo runs the"
    echo "                    real images (MONSTERR_DEMO_IMAGES=real|local forces one)."
    [ -z "$missing" ] || echo "   NOT SHOWN:       no local image yet: $missing"
    [ -z "$left_out" ] || echo "                    left out (with the apps that need them): $left_out"
  fi
  echo "   layers:          $(layers_of "$DEMO/last-run.log")"
  echo "   certificate:     $cert_note"
  echo "   open it from this machine:"
  echo "     1. add to /etc/hosts:"
  echo "        $ip $names"
  echo "     2. browse https://${home:-$portal}/ : it sends you to the sign-in portal https://$portal/"
  echo "        user: admin   password: in $user_file (generated on the first run; never printed)"
  if [ "$mode" = real ]; then
    echo "        admin apps ask for a second factor: register a TOTP app when the portal asks; the one-time code"
    echo "        to do so is in /opt/monsterr/authelia/notification.txt in the container (no mail server here)."
  else
    echo "        (local mode: the portal is Authelia's test double, which signs in through its API, as checked"
    echo "        below, and has no TOTP registration: the two-factor apps stay closed to a browser here)"
  fi
  echo "     or without editing /etc/hosts:"
  echo "        curl --cacert .cache/demo/acme-root.pem --resolve $portal:443:$ip https://$portal/"
  echo "     checked just now from this machine:"
  printf '        %s\n' "${tests[@]}"
  echo "   apps (who signs in where):"
  plan_get '["%-14s %-38s %s" % (a["name"], a["url"] or "(no site)",
             "LEFT OUT" if a["name"] not in '"$running"' else
             "the portal itself" if a["url"] == "https://'"$portal"'" else
             {"": "internal only", "none": "its own sign-in (no portal)",
              "one_factor": "portal, password: " + ", ".join(a["groups"]),
              "two_factor": "portal, password + TOTP: " + ", ".join(a["groups"])}.get(a["auth"], a["auth"]))
             for a in d["apps"]]' | sed 's/^/     /'
  echo "   containers (docker compose ps in $NAME):"
  echo "$health" | awk -F'|' 'NF {printf "     %-18s %-8s %-10s %s\n", $1, $2, ($3 == "" ? "-" : $3), $4}'
  [ -z "$unhealthy" ] || echo "     NOT HEALTHY: $unhealthy   (docker exec $NAME docker logs <name>)"
  if [ -n "$pending" ]; then
    echo "   pending (the wiring does not fail on these; the next run completes them once the app lets it):"
    local line src url
    while read -r line; do
      src=${line%% *}
      url=$(plan_get 'next((a["url"] for a in d["apps"] if a["name"] == "'"$src"'"), "")')
      echo "     $line: $src refuses its API key until its admin has signed in at $url"
    done <<<"$pending"
  fi
  echo "   runs so far:"
  sed 's/^/     /' "$HISTORY"
  echo "   shell: docker exec -it $NAME bash       remove it: make demo-clean"
  if [ "$rc" -eq 0 ] && [ -n "$missing$left_out" ]; then
    echo "   FAILED: apps of the household left out (above)"; rc=3
  elif [ "$rc" -eq 0 ] && [ "$problems" -gt 0 ]; then
    echo "   FAILED: $problems check(s) above"; rc=4
  fi
  return "$rc"
}

case "${1:-up}" in
  up) shift || true; up "$@" ;;
  clean) clean ;;
  *) die "usage: $0 up|clean" ;;
esac
