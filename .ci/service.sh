# Shared by the scripts that run a throwaway server for the tests
# (influxd.sh, clickhouse.sh). The sourcing script sets $script (its name,
# for messages), $what (the server, for messages) and $state (the file
# remembering the server's pid and temp dir), and defines start.

die() { echo "$script: $*" >&2; exit 1; }

port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# http_answers succeeds when GET $2 on 127.0.0.1:$1 answers status $3,
# with bash's /dev/tcp where curl is missing.
http_answers() {
	(
		exec 3<>"/dev/tcp/127.0.0.1/$1" || exit 1
		printf 'GET %s HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n' "$2" >&3
		read -r -t 2 _ code _ <&3 && [[ "$code" == "$3" ]]
	) 2>/dev/null
}

# clear_stale refuses to start over a running server and forgets one that
# is gone.
clear_stale() {
	[[ -f "$state" ]] || return 0
	# shellcheck disable=SC1090
	source "$state"
	if kill -0 "$pid" 2>/dev/null; then
		die "$what already running (pid $pid, $dir); run '$0 stop' first"
	fi
	rm -rf -- "$dir"
	rm -f "$state"
}

# launch runs the server command in the background (no systemd in CI
# containers), output to the file $1, and records its pid and $dir.
launch() {
	local out=$1
	shift
	nohup "$@" >"$out" 2>&1 </dev/null &
	pid=$!
	printf 'pid=%q\ndir=%q\n' "$pid" "$dir" >"$state"
}

# await polls the function $2 every 0.25 s, $1 times, and prints $3 once
# it succeeds; the rest are the logs to show when the server dies or
# never answers.
await() {
	local tries=$1 ready=$2 line=$3
	shift 3
	for _ in $(seq 1 "$tries"); do
		if "$ready"; then
			echo "$line"
			return 0
		fi
		if ! kill -0 "$pid" 2>/dev/null; then
			tail -n 20 "$@" >&2 2>/dev/null || true
			rm -rf -- "$dir"
			rm -f "$state"
			die "$what exited during start"
		fi
		sleep 0.25
	done
	tail -n 20 "$@" >&2 2>/dev/null || true
	stop
	die "$what did not answer within $((tries / 4))s"
}

stop() {
	[[ -f "$state" ]] || { echo "$script: not running (no $state)" >&2; return 0; }
	# shellcheck disable=SC1090
	source "$state"
	if kill -0 "$pid" 2>/dev/null; then
		kill "$pid"
		for _ in $(seq 1 60); do # up to 15 s
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.25
		done
		kill -0 "$pid" 2>/dev/null && kill -9 "$pid"
	fi
	rm -rf -- "$dir"
	rm -f "$state"
}

# main runs start or stop as the first argument says.
main() {
	case "${1:-}" in
	start) start ;;
	stop) stop ;;
	*) die "usage: $0 start|stop" ;;
	esac
}
