#!/usr/bin/env bash
# The project's one test command (make test = scripts/test.sh all). Steps:
#   lint      yamllint, ansible-lint (production), site.yml --syntax-check, shellcheck
#   sanity    ansible-test sanity on plugins/ (in a copy laid out as ansible_collections/monsterr/mediaserver)
#   pytest    unit + integration tests (integration ones start real programs and containers)
#   molecule  every scenario under molecule/, each phase timed
#   demo      make demo twice on a fresh container (run 2 must report changed=0), then make demo-clean
# Every step runs even if an earlier one failed; the exit code is non-zero if any failed.
set -uo pipefail
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
cd "$ROOT" || exit 1

what=${1:-all}
shift || true
mkdir -p "$CACHE"
: >"$TIMINGS"
passed=0
failed=0
failed_steps=()

step() {
  local name=$1
  shift
  log "=== $name"
  if timed "$name" "$@"; then passed=$((passed + 1)); else failed=$((failed + 1)); failed_steps+=("$name"); fi
}

do_lint() {
  yamllint -s . &&
    ansible-lint &&
    ansible-playbook site.yml -i inventories/example --syntax-check &&
    shellcheck -x scripts/*.sh .ci/run
}

do_sanity() {
  # Outside the repo: inside it, ansible-test would list files with git, which ignores .cache/.
  local dest="${TMPDIR:-/tmp}/monsterr-ansible-test/ansible_collections/monsterr/mediaserver"
  rm -rf "$dest" && mkdir -p "$dest" && cp -a galaxy.yml meta plugins README.md "$dest/" || return 1
  [ -d tests/sanity ] && mkdir -p "$dest/tests" && cp -a tests/sanity "$dest/tests/"
  (cd "$dest" && ansible-test sanity --python "$(python -c 'import sys; print("%d.%d" % sys.version_info[:2])')" \
    --color no --skip-test pslint plugins/)
}

do_pytest() {
  local rc=0
  python -m pytest -p no:cacheprovider "$@" || rc=$?
  [ "$rc" = 5 ] && { log "pytest collected no tests"; return 1; }
  return "$rc"
}

molecule_scenario() {
  local s=$1 rc=0 phase
  for phase in destroy create converge idempotence check verify; do
    timed "molecule $s: $phase" molecule "$phase" -s "$s" || { rc=1; break; }
  done
  timed "molecule $s: destroy" molecule destroy -s "$s" || rc=1
  return "$rc"
}

# A scenario's `variants` file (optional): one more run per line, "<label> <VARIABLE=value>".
molecule_variant() {
  local s=$1 assignment=$2
  (export "${assignment?}" && molecule_scenario "$s")
}

do_molecule() {
  local scenarios=("$@") s rc=0 label assignment
  [ ${#scenarios[@]} -gt 0 ] || mapfile -t scenarios < <(find molecule -mindepth 2 -maxdepth 2 -name molecule.yml -printf '%h\n' | xargs -n1 basename | sort)
  for s in "${scenarios[@]}"; do
    step "molecule scenario $s" molecule_scenario "$s" || rc=1
    [ -f "molecule/$s/variants" ] || continue
    while read -r -u 3 label assignment; do
      case "$label" in "" | "#"*) continue ;; esac
      step "molecule scenario $s ($label)" molecule_variant "$s" "$assignment" || rc=1
    done 3<"molecule/$s/variants"
  done
  return "$rc"
}

# make demo as a newcomer runs it: from nothing, twice. Run 1 must pass every check of scripts/demo.sh (every app
# of the example household up and healthy, portal, sign-in); run 2 must report changed=0. Local images
# (MONSTERR_DEMO_IMAGES=local unless set): the registries are unreachable on CI, and the result does not depend on
# whether a laptop can pull.
do_demo() {
  local rc=0 changed
  export MONSTERR_DEMO_IMAGES=${MONSTERR_DEMO_IMAGES:-local}
  bash scripts/demo.sh clean
  if timed "demo: run 1" bash scripts/demo.sh up && timed "demo: run 2" bash scripts/demo.sh up; then
    read -r changed _ <"$CACHE/demo/last-result"
    if [ "$changed" != 0 ]; then
      log "demo run 2 reported changed=$changed, not 0: the tasks that changed are in $CACHE/demo/last-run.log ('changed:')"
      log "the container stays for a look: make demo-clean removes it"
      rc=1
    fi
  else
    log "make demo failed (see its summary above; logs in $CACHE/demo/; the container stays for a look: make demo-clean)"
    rc=1
  fi
  [ "$rc" -eq 0 ] && bash scripts/demo.sh clean
  return "$rc"
}

# Run in the background by `all`: its own counts, handed back through a file (first line "passed failed", then
# one failed step per line).
do_lane2() {
  passed=0 failed=0 failed_steps=()
  step demo do_demo
  do_molecule stack
  { echo "$passed $failed"; printf '%s\n' "${failed_steps[@]}"; } >"$CACHE/lane2.result"
}

activate
case "$what" in
  lint) step lint do_lint ;;
  sanity) step sanity do_sanity ;;
  pytest) "$ROOT/scripts/build-service-images.sh"; step pytest do_pytest "$@" ;;
  molecule) "$ROOT/scripts/ensure-docker.sh" && "$ROOT/scripts/build-base-images.sh"; do_molecule "$@" ;;
  all)
    step "docker engine + base and service images" "$ROOT/scripts/build-service-images.sh"
    step lint do_lint
    step sanity do_sanity
    # Two lanes at once, to stay within CI's hour on two cores (most of a scenario's time is waiting for
    # containers, apt and health checks, not CPU): the two whole-household deployments (the demo, then the stack
    # scenario; one after the other, they share .cache/service-images) beside pytest and the other scenarios.
    # Nothing of one lane touches the other's containers; lane 2's output is printed when it ends.
    all_scenarios=$(find molecule -mindepth 2 -maxdepth 2 -name molecule.yml -printf '%h\n' | xargs -n1 basename | sort)
    lane2_log="$CACHE/lane2.log"
    rm -f "$CACHE/lane2.result"
    do_lane2 >"$lane2_log" 2>&1 &
    lane2=$!
    log "=== lane 2 (demo, molecule stack) runs beside this one; its output: $lane2_log"
    step pytest do_pytest
    mapfile -t lane1_scenarios < <(grep -vx stack <<<"$all_scenarios")
    do_molecule "${lane1_scenarios[@]}"
    wait "$lane2" || true
    log "=== lane 2 output"
    cat "$lane2_log"
    if [ -s "$CACHE/lane2.result" ]; then
      read -r lane2_passed lane2_failed <"$CACHE/lane2.result"
      passed=$((passed + lane2_passed))
      failed=$((failed + lane2_failed))
      while read -r name; do [ -z "$name" ] || failed_steps+=("$name"); done < <(tail -n +2 "$CACHE/lane2.result")
    else
      failed=$((failed + 1))
      failed_steps+=("lane-2")
    fi
    ;;
  demo) step demo do_demo ;;
  *) die "unknown step '$what' (lint, sanity, pytest, molecule [scenario...], demo, all)" ;;
esac

echo
echo "Timings (also in $TIMINGS):"
cat "$TIMINGS"
[ ${#failed_steps[@]} -eq 0 ] || echo "Failed steps: ${failed_steps[*]}"
echo "steps: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
