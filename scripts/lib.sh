# shellcheck shell=bash
# Shared helpers for the project's scripts. Sourced, never run.
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CACHE="${MONSTERR_CACHE:-$ROOT/.cache}"
VENV="$ROOT/.venv"
export ANSIBLE_CONFIG="$ROOT/ansible.cfg"
export MOLECULE_GLOB="molecule/*/molecule.yml"

log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# Time a command and append "label seconds" to the timings file.
TIMINGS="${TIMINGS:-$CACHE/timings.txt}"
timed() {
  local label=$1 start rc=0
  shift
  start=$(date +%s.%N)
  "$@" || rc=$?
  printf '%-48s %8.1f s  rc=%s\n' "$label" "$(echo "$(date +%s.%N) - $start" | bc)" "$rc" | tee -a "$TIMINGS" >&2
  return "$rc"
}

need_root() { [ "$(id -u)" = 0 ] || die "this step installs Debian packages and runs dockerd: run it as root"; }

apt_install() {
  local missing=()
  for p in "$@"; do dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  need_root
  log "apt-get install ${missing[*]}"
  if [ ! -f "$CACHE/.apt-updated" ] || [ -n "$(find "$CACHE/.apt-updated" -mmin +360)" ]; then
    apt-get update -qq && mkdir -p "$CACHE" && touch "$CACHE/.apt-updated"
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

activate() {
  [ -x "$VENV/bin/ansible-playbook" ] || die "no tool environment: run 'make setup' first"
  # shellcheck disable=SC1091
  . "$VENV/bin/activate"
}
