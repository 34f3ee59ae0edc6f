# shellcheck shell=bash
# bench/lib.sh — shell functions shared by bench/pgbench.sh and
# bench/compare.sh. Source it; it starts nothing by itself.
#
# The sourcing script sets BENCH_NAME (the prefix of progress lines) and
# runs under `set -Eeuo pipefail`. The functions read and set these globals:
#   tmp             the run's temporary directory (make_tmpdir)
#   PGBIN           PostgreSQL's bin directory (find_tools)
#   commit          the git commit (build_pgmantle)
#   load_at_start   CPU use in % just before the run (check_load)
#   pg_port         the throwaway cluster's port (start_cluster)
#   bouncer_port, bouncer_pid   the PgBouncer of start_pgbouncer
#   used_ports      every port take_port handed out
# Settings read (with defaults): PG_MAX_CONNECTIONS (200),
# BOUNCER_MAX_CLIENT_CONN (200), BOUNCER_POOL_SIZE (100).

tmp=${tmp:-}
load_at_start=${load_at_start:-}
commit=${commit:-}
pg_port=${pg_port:-}
bouncer_port=${bouncer_port:-} bouncer_pid=${bouncer_pid:-}
used_ports=()

# ---------------------------------------------------------------- helpers ---

log() { printf '[%s %s] %s\n' "${BENCH_NAME:-bench}" "$(date +%T)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# as_pg runs a command as the postgres OS user when we are root (initdb and
# pgbouncer refuse to run as root), and as ourselves otherwise.
as_pg() {
	if ((EUID == 0)); then
		runuser -u postgres -- "$@"
	else
		"$@"
	fi
}

# run_logged WHAT LOGFILE CMD... runs CMD with its output in LOGFILE; if it
# fails, it shows the end of that log and stops the script.
run_logged() {
	local what=$1 logfile=$2
	shift 2
	if ! "$@" >"$logfile" 2>&1; then
		tail -n 20 "$logfile" >&2 || true
		die "$what failed: $*"
	fi
}

# take_port VAR sets VAR to a TCP port on 127.0.0.1 that no socket uses
# and that this script has not handed out yet. Ports are taken below the
# kernel's ephemeral range when there is room, so that the client side of
# an outgoing connection (there are many with IDLE sessions) cannot hold
# the port between choosing it and binding it.
take_port() {
	# (locals prefixed: VAR is assigned through dynamic scope, and must not
	# name one of them)
	local _tp_port _tp_lo=20000 _tp_hi=50000 _tp_elo _tp_ehi _tp_hex
	if { read -r _tp_elo _tp_ehi </proc/sys/net/ipv4/ip_local_port_range; } 2>/dev/null && ((_tp_elo > 11000)); then
		_tp_lo=$((_tp_elo > 25000 ? _tp_elo - 15000 : 10000)) _tp_hi=$_tp_elo
	fi
	for _ in $(seq 1 200); do
		_tp_port=$((_tp_lo + RANDOM % (_tp_hi - _tp_lo)))
		[[ " ${used_ports[*]} " == *" $_tp_port "* ]] && continue
		printf -v _tp_hex ':%04X ' "$_tp_port"
		grep -qF "$_tp_hex" /proc/net/tcp /proc/net/tcp6 2>/dev/null && continue
		if ! (exec 3<>"/dev/tcp/127.0.0.1/$_tp_port") 2>/dev/null; then
			used_ports+=("$_tp_port")
			printf -v "$1" '%s' "$_tp_port"
			return 0
		fi
	done
	die "no free TCP port found"
}

# proc_alive PID: is the process still there (and not a zombie)?
# (read, not $(<file): bash exits at once, traps and all, when the file of
# a $(<file) vanishes under set -e — and the process may end at any moment.)
proc_alive() {
	[[ -n $1 ]] || return 1
	local stat
	{ read -r stat <"/proc/$1/stat"; } 2>/dev/null || return 1
	stat=${stat##*) }
	[[ ${stat%% *} != Z ]]
}

# cpu_ticks PID prints utime+stime of the process (all threads) in clock ticks.
cpu_ticks() {
	local stat fields
	read -r stat <"/proc/$1/stat"
	read -ra fields <<<"${stat##*) }" # fields[0] is field 3 (state)
	echo $((fields[11] + fields[12]))  # fields 14 (utime) and 15 (stime)
}

# vm_rss_kb PID prints the process's resident set size (VmRSS) in kB.
vm_rss_kb() {
	awk '/^VmRSS:/{print $2; found = 1} END{exit !found}' "/proc/$1/status"
}

# wait_ready PORT PID NAME polls with psql until "SELECT 1" works through PORT;
# it gives up if PID (when given) dies or after 20 s.
wait_ready() {
	local port=$1 pid=$2 name=$3
	for _ in $(seq 1 100); do
		if "$PGBIN/psql" -X -q -h 127.0.0.1 -p "$port" -U postgres -d postgres \
			-tAc 'SELECT 1' >/dev/null 2>&1; then
			return 0
		fi
		if [[ -n $pid ]] && ! proc_alive "$pid"; then
			die "$name exited during startup"
		fi
		sleep 0.2
	done
	die "$name did not accept connections on port $port within 20 s"
}

# stop_pid PID NAME [SIGNAL]: signal a process, wait up to 10 s, then SIGKILL.
stop_pid() {
	local pid=$1 name=$2 sig=${3:-TERM}
	proc_alive "$pid" || return 0
	kill -"$sig" "$pid" 2>/dev/null || true
	for _ in $(seq 1 50); do
		proc_alive "$pid" || return 0
		sleep 0.2
	done
	log "$name (pid $pid) did not stop; killing it"
	kill -KILL "$pid" 2>/dev/null || true
}

# ratio A B prints A/B with two decimals, or "-" if either is missing.
ratio() {
	awk -v a="$1" -v b="$2" 'BEGIN{ if (a == "-" || b == "-" || a == "" || b == "" || b == 0) print "-"; else printf "%.2f", a / b }'
}

# median_stdin prints the median of the numbers on stdin (one per line;
# "-" and empty lines are skipped), or "-" when there are none.
median_stdin() {
	awk '$1 != "-" && NF {print $1}' | sort -g |
		awk '{v[NR] = $1}
		     END {
		       if (NR == 0) { print "-"; exit }
		       if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2
		     }'
}

# ------------------------------------------------------------------ setup ---

find_tools() {
	if [[ -z ${PGBIN:-} ]]; then
		PGBIN=$(printf "%s\n" /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
	fi
	local t
	for t in initdb pg_ctl postgres pgbench psql; do
		[[ -x $PGBIN/$t ]] || die "$t not found in PGBIN=${PGBIN:-?} (set PGBIN to PostgreSQL's bin directory)"
	done
	if ! command -v go >/dev/null && [[ -x /usr/local/go/bin/go ]]; then
		PATH=$PATH:/usr/local/go/bin
	fi
	command -v go >/dev/null || die "go not found on PATH"
	if ((EUID == 0)); then
		id postgres >/dev/null 2>&1 || die "running as root needs a 'postgres' OS user"
	fi
}

# ensure_pgbouncer installs the Debian package when pgbouncer is missing. The
# package may start a system pgbouncer (port 6432); if the install started
# one, stop it again — and only that one.
ensure_pgbouncer() {
	[[ -x /usr/sbin/pgbouncer ]] && PATH=$PATH:/usr/sbin
	command -v pgbouncer >/dev/null && return 0
	((EUID == 0)) || die "pgbouncer is not installed (install it, or run as root to let this script do it)"
	local before after pid cmdline
	before=" $(pgrep -x pgbouncer | tr '\n' ' ' || true) "
	log "pgbouncer not found: installing the Debian package (apt-get)"
	export DEBIAN_FRONTEND=noninteractive
	run_logged "apt-get update" "$tmp/apt-update.log" apt-get update
	run_logged "installing pgbouncer" "$tmp/apt-install.log" apt-get install -y --no-install-recommends pgbouncer
	command -v pgbouncer >/dev/null || die "pgbouncer still missing after apt-get install"
	sleep 1 # let a post-install service start settle before looking for it
	after=$(pgrep -x pgbouncer | tr '\n' ' ' || true)
	for pid in $after; do
		[[ $before == *" $pid "* ]] && continue
		# The packaged service runs with the packaged configuration.
		cmdline=$(tr '\0' ' ' 2>/dev/null <"/proc/$pid/cmdline" || true)
		[[ $cmdline == */etc/pgbouncer/* ]] || continue
		log "stopping the system pgbouncer the package started (pid $pid)"
		systemctl stop pgbouncer >/dev/null 2>&1 || service pgbouncer stop >/dev/null 2>&1 || true
		stop_pid "$pid" "system pgbouncer"
	done
}

# check_load notes how busy the machine is just before we start (CPU use over
# one second, from /proc/stat): other work on a 2-core machine skews every figure.
check_load() {
	local a b
	read -ra a < <(head -n 1 /proc/stat)
	sleep 1
	read -ra b < <(head -n 1 /proc/stat)
	# cpu user nice system idle iowait irq softirq steal ...
	load_at_start=$(awk -v t0="$((a[1] + a[2] + a[3] + a[4] + a[5] + a[6] + a[7] + a[8]))" \
		-v t1="$((b[1] + b[2] + b[3] + b[4] + b[5] + b[6] + b[7] + b[8]))" \
		-v i0="$((a[4] + a[5]))" -v i1="$((b[4] + b[5]))" \
		'BEGIN{ d = t1 - t0; busy = 0; if (d > 0) busy = 100 * (1 - (i1 - i0) / d); printf "%.0f", busy }')
	if ((load_at_start > 25)); then
		log "WARNING: the CPUs were ${load_at_start}% busy before starting; other work will skew the figures"
	fi
}

make_tmpdir() {
	tmp=$(mktemp -d "${TMPDIR:-/tmp}/pgmantle-bench.XXXXXX")
	((EUID == 0)) && chown postgres: "$tmp"
	chmod 0755 "$tmp"
}

git_commit() {
	local c
	c=$(git rev-parse --short=12 HEAD 2>/dev/null) || { echo unknown; return; }
	[[ -n $(git status --porcelain --untracked-files=no 2>/dev/null) ]] && c+=" (working tree has uncommitted changes)"
	echo "$c"
}

build_pgmantle() {
	log "building pgmantle"
	commit=$(git_commit)
	run_logged "building pgmantle" "$tmp/build.log" go build -o "$tmp/pgmantle" ./cmd/pgmantle
}

start_cluster() {
	take_port pg_port
	log "creating a PostgreSQL cluster in $tmp/data (port $pg_port)"
	run_logged initdb "$tmp/initdb.log" as_pg "$PGBIN/initdb" -D "$tmp/data" -U postgres \
		--auth=trust -E UTF8 --locale=C
	cat >>"$tmp/data/postgresql.conf" <<-EOF

		# ${BENCH_NAME:-bench}
		port = $pg_port
		listen_addresses = '127.0.0.1'
		unix_socket_directories = '$tmp'
		fsync = off
		max_connections = ${PG_MAX_CONNECTIONS:-200}
		shared_buffers = 256MB
	EOF
	run_logged "starting PostgreSQL" "$tmp/pg_ctl.log" as_pg "$PGBIN/pg_ctl" -D "$tmp/data" \
		-l "$tmp/postgres.log" -w -t 60 start
	wait_ready "$pg_port" "" PostgreSQL
}

init_data() {
	log "pgbench -i -s $SCALE"
	run_logged "pgbench -i" "$tmp/pgbench-init.log" "$PGBIN/pgbench" -i -q -s "$SCALE" \
		-h 127.0.0.1 -p "$pg_port" -U postgres postgres
}

pg_version() {
	"$PGBIN/psql" -X -h 127.0.0.1 -p "$pg_port" -U postgres -d postgres -tAc 'SHOW server_version'
}

# write_pgbouncer_ini NAME PORT MAX_CLIENT_CONN POOL_SIZE writes
# $tmp/NAME.ini: session pooling, trust auth, in front of the cluster; its
# log and pidfile are $tmp/NAME.log and $tmp/NAME.pid.
write_pgbouncer_ini() {
	local name=$1 port=$2 max_client=$3 pool=$4
	[[ -f $tmp/userlist.txt ]] || echo '"postgres" ""' >"$tmp/userlist.txt"
	cat >"$tmp/$name.ini" <<-EOF
		[databases]
		* = host=127.0.0.1 port=$pg_port

		[pgbouncer]
		listen_addr = 127.0.0.1
		listen_port = $port
		unix_socket_dir = $tmp
		auth_type = trust
		auth_file = $tmp/userlist.txt
		pool_mode = session
		max_client_conn = $max_client
		default_pool_size = $pool
		ignore_startup_parameters = extra_float_digits
		log_connections = 0
		log_disconnections = 0
		logfile = $tmp/$name.log
		pidfile = $tmp/$name.pid
	EOF
	((EUID == 0)) && chown postgres: "$tmp/userlist.txt" "$tmp/$name.ini"
	return 0
}

# start_pgbouncer starts the PgBouncer of the measured runs (daemonized,
# $tmp/pgbouncer.ini) and sets bouncer_port and bouncer_pid.
start_pgbouncer() {
	take_port bouncer_port
	log "starting PgBouncer on port $bouncer_port (session pooling)"
	write_pgbouncer_ini pgbouncer "$bouncer_port" "${BOUNCER_MAX_CLIENT_CONN:-200}" "${BOUNCER_POOL_SIZE:-100}"
	run_logged "starting PgBouncer" "$tmp/pgbouncer-start.log" as_pg pgbouncer -d "$tmp/pgbouncer.ini"
	for _ in $(seq 1 50); do
		[[ -s $tmp/pgbouncer.pid ]] && break
		sleep 0.1
	done
	[[ -s $tmp/pgbouncer.pid ]] || die "PgBouncer wrote no pidfile"
	read -r bouncer_pid <"$tmp/pgbouncer.pid"
	wait_ready "$bouncer_port" "$bouncer_pid" PgBouncer
}

# ---------------------------------------------------------------- cleanup ---

stop_cluster() {
	[[ -f $tmp/data/postmaster.pid ]] || return 0
	local pid
	pid=$(head -n 1 "$tmp/data/postmaster.pid")
	as_pg "$PGBIN/pg_ctl" -D "$tmp/data" -m fast -w -t 30 stop >/dev/null 2>&1 ||
		stop_pid "$pid" PostgreSQL KILL
}

# machine_info prints "N CPUs, MODEL, Linux RELEASE".
machine_info() {
	local cpu_model
	cpu_model=$(awk -F': ' '/^model name/{print $2; exit}' /proc/cpuinfo)
	echo "$(nproc) CPUs, ${cpu_model:-unknown CPU}, Linux $(uname -r)"
}

# setup_run installs the traps every benchmark script wants — the calling
# script's cleanup on exit, a log line on failure, interrupt and
# termination — and clears the libpq environment, with TLS off on every
# path (the scripts measure proxying only).
setup_run() {
	trap cleanup EXIT
	trap 'log "failed (exit $?) at line $LINENO: $BASH_COMMAND"' ERR
	trap 'log "interrupted"; exit 130' INT
	trap 'log "terminated"; exit 143' TERM
	export PGSSLMODE=disable
	unset PGOPTIONS PGSERVICE PGDATABASE PGUSER PGHOST PGPORT PGPASSWORD
}
