#!/bin/sh
# The redis image's entry point, as docker-library's alpine image has it for Redis 8.x (redis/docker-library-redis
# alpine/docker-entrypoint.sh, since PR #451): options or a .conf as first argument mean redis-server; started as
# root (no `user:`) with the setuid/setgid capabilities, it first makes the data directory usable by the redis user
# (uid 999) - only when the directory holds nothing but *.rdb files and appendonlydir, each entry redis cannot
# read and write is chowned to redis and made u+rw(x); anything else found leaves every permission alone - then
# drops to redis:redis with setpriv (no new privileges, no capabilities). Started with `user:` it does none of
# this. SKIP_FIX_PERMS and SKIP_DROP_PRIVS as upstream. Written for this image (Debian paths), same behaviour.
set -e

as_redis="setpriv --reuid redis --regid redis --clear-groups"
skip_notice="Use SKIP_FIX_PERMS=1 to skip permission changes."

has_cap() {
	setpriv -d | grep -q "Capability bounding set:.*\b$1\b"
}

fix() {
	# fix <mode r|rw> <path>...: chown to redis and u+<mode> whatever redis cannot use
	mode=$1
	shift
	for file in "$@"; do
		if [ "$mode" = rw ] && $as_redis test -r "$file" -a -w "$file"; then continue; fi
		if [ "$mode" = r ] && $as_redis test -r "$file"; then continue; fi
		want=$mode
		[ -d "$file" ] && want=${mode}x
		err=$(chown redis "$file" 2>&1) || echo "Warning: cannot change owner to 'redis' for '$file': $err. $skip_notice"
		err=$(chmod "u+$want" "$file" 2>&1) || echo "Warning: cannot change mode to 'u+$want' for '$file': $err. $skip_notice"
	done
}

fix_data_dir() {
	unknown=$(find . -mindepth 1 -maxdepth 1 -not \( -name '*.rdb' -or \( -type d -and -name appendonlydir \) \) -print -quit)
	if [ -n "$unknown" ]; then
		echo "Notice: Unknown file '$unknown' found in data dir. Permissions will not be modified. $skip_notice"
		return 0
	fi
	find . -print | while IFS= read -r file; do fix rw "$file"; done
}

fix_config() {
	config=$1
	[ -f "$config" ] || return 0
	dir=$(dirname "$config")
	unknown=$(find "$dir" -mindepth 1 -maxdepth 1 -not -name "$(basename "$config")" -print -quit)
	if [ -n "$unknown" ]; then
		echo "Notice: Unknown file '$unknown' found in '$dir'. Permissions will not be modified. $skip_notice"
		return 0
	fi
	fix r "$dir" "$config"
}

if [ "${1#-}" != "$1" ] || [ "${1%.conf}" != "$1" ]; then
	set -- redis-server "$@"
fi
cmd=$(command -v "$1" 2>/dev/null || :)
is_server=""
[ -n "$cmd" ] && [ "$(readlink -f "$cmd")" = /usr/local/bin/redis-server ] && is_server=1
config=""
if [ -n "$is_server" ] && [ -n "${2:-}" ] && [ "${2#-}" = "$2" ]; then
	config=$2
fi

if [ -n "$is_server" ] && [ -z "${SKIP_DROP_PRIVS:-}" ] && [ "$(id -u)" = 0 ] && has_cap setuid && has_cap setgid; then
	if [ -z "${SKIP_FIX_PERMS:-}" ]; then
		fix_data_dir
		fix_config "$config"
	fi
	keep=""
	has_cap sys_resource && keep=",+sys_resource"
	exec $as_redis --nnp --inh-caps="-all$keep" --ambient-caps="-all$keep" --bounding-set="-all$keep" "$0" "$@"
fi

if [ "$(umask)" = 0022 ]; then
	umask 0077
fi
[ -n "$is_server" ] && echo "Starting Redis Server"
exec "$@"
