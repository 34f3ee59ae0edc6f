#!/usr/bin/env bash
# bench/compare.sh — one run, four targets: PostgreSQL directly, PgBouncer
# (session pooling), pgmantle unrestricted and pgmantle restricted (masks,
# tokens and a file audit log): pgbench -S TPS and p50/p99 latency per client
# count, the masked scan (bench/maskscan), startup time and memory per idle
# session. Writes bench/results/compare-<date>.md and a .png chart.
#
# Run from the repository root:   bash bench/compare.sh
# Knobs (environment):            SCALE CLIENTS THREADS DURATION WARMUP ROUNDS
#                                 PROTOCOL TARGETS SCAN_ROWS SCAN_ROUNDS STARTUPS
#                                 IDLE CHART PGBIN RESULTS_DIR (see bench/README.md)
# Everything (clusters, proxies, temp dir) is torn down on exit, including on
# failure and Ctrl-C. Progress goes to stderr; the summary goes to stdout.
set -Eeuo pipefail
shopt -s inherit_errexit

SCALE=${SCALE:-10}
CLIENTS=${CLIENTS:-1 8 32}
THREADS=${THREADS:-2}
DURATION=${DURATION:-20}
WARMUP=${WARMUP:-3}
ROUNDS=${ROUNDS:-1}
PROTOCOL=${PROTOCOL:-simple}
TARGETS=${TARGETS:-direct pgbouncer pgmantle restricted}
SCAN_ROWS=${SCAN_ROWS:-1000000}
SCAN_ROUNDS=${SCAN_ROUNDS:-3}
STARTUPS=${STARTUPS:-5}
IDLE=${IDLE:-1000}
CHART=${CHART:-1}
RESULTS_DIR=${RESULTS_DIR:-bench/results}

BENCH_NAME=compare.sh
# shellcheck source=bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

PYTHON=/usr/bin/python3 # Debian's, for python3-matplotlib
RESTRICTED_ROLE=bench_restricted
read -ra target_list <<<"$TARGETS"
read -ra client_list <<<"$CLIENTS"

# Set by the functions below; cleanup() reads them.
mantle_port="" mantle_pid=""         # pgmantle, unrestricted
restricted_port="" restricted_pid="" # pgmantle, restricted
fresh_pid="" fresh_port="" fresh_name="" # an instance of the startup / idle phase
idle_pid=""                          # bench/idle holding sessions
fg_pid="" fg_group=""                # pgbench or maskscan, waited for
masked_check=""                      # what verify_restricted saw
audit_check=""                       # what the audit verification said
declare -a notes=()                  # problems worth a line in the report
declare -A startup_ms=() idle_before=() idle_after=() idle_queried=() idle_kb=() idle_q_kb=()
scan_table="" scan_status=""
phase_seconds=()

# ---------------------------------------------------------------- helpers ---

# run_waited LOGFILE CMD... runs CMD in the background with its output in
# LOGFILE and waits for it, so that a signal reaches our traps at once;
# returns CMD's exit status.
run_waited() {
	local logfile=$1 rc=0
	shift
	"$@" >"$logfile" 2>&1 &
	fg_pid=$!
	wait "$fg_pid" || rc=$?
	fg_pid=""
	return "$rc"
}

phase_done() { phase_seconds+=("$1=$SECONDS"); }

# target_port / target_pid / target_user: where a target listens, the proxy
# process (none for direct) and the role pgbench logs in as.
target_port() {
	case $1 in
	direct) echo "$pg_port" ;;
	pgbouncer) echo "$bouncer_port" ;;
	pgmantle) echo "$mantle_port" ;;
	restricted) echo "$restricted_port" ;;
	esac
}
target_pid() {
	case $1 in
	direct) echo "" ;;
	pgbouncer) echo "$bouncer_pid" ;;
	pgmantle) echo "$mantle_pid" ;;
	restricted) echo "$restricted_pid" ;;
	esac
}
target_user() {
	if [[ $1 == restricted ]]; then echo "$RESTRICTED_ROLE"; else echo postgres; fi
}
has_target() { [[ " ${target_list[*]} " == *" $1 "* ]]; }

# ------------------------------------------------------------------ setup ---

check_settings() {
	local v c t
	for v in SCALE THREADS DURATION WARMUP ROUNDS SCAN_ROWS SCAN_ROUNDS STARTUPS IDLE; do
		[[ ${!v} =~ ^[0-9]+$ ]] || die "$v must be a whole number (got '${!v}')"
	done
	((THREADS > 0 && DURATION > 0 && ROUNDS > 0 && SCALE > 0 && SCAN_ROUNDS > 0)) ||
		die "SCALE, THREADS, DURATION, ROUNDS and SCAN_ROUNDS must be positive"
	((${#client_list[@]} > 0)) || die "CLIENTS is empty"
	for c in "${client_list[@]}"; do
		[[ $c =~ ^[1-9][0-9]*$ ]] || die "CLIENTS must be positive whole numbers (got '$c')"
	done
	((${#target_list[@]} > 0)) || die "TARGETS is empty"
	for t in "${target_list[@]}"; do
		case $t in
		direct | pgbouncer | pgmantle | restricted) ;;
		*) die "unknown target '$t' (want direct, pgbouncer, pgmantle, restricted)" ;;
		esac
	done
	case $PROTOCOL in
	simple | extended | prepared) ;;
	*) die "PROTOCOL must be simple, extended or prepared (got '$PROTOCOL')" ;;
	esac
	[[ $CHART == 0 || $CHART == 1 ]] || die "CHART must be 0 or 1"
	[[ -f go.mod && -d cmd/pgmantle && -f bench/chart.py ]] || die "run this from the pgmantle repository root"
	if ((CHART)) && ! "$PYTHON" bench/chart.py --check 2>/dev/null; then
		((EUID == 0)) ||
			die "the chart needs matplotlib for $PYTHON (apt-get install -y python3-matplotlib), or set CHART=0"
		log "matplotlib not found for $PYTHON: installing the Debian package python3-matplotlib (apt-get)"
		export DEBIAN_FRONTEND=noninteractive
		apt-get install -y --no-install-recommends python3-matplotlib >/dev/null 2>&1 ||
			{ apt-get update >/dev/null 2>&1 && apt-get install -y --no-install-recommends python3-matplotlib >/dev/null 2>&1; } ||
			die "installing python3-matplotlib failed; install it by hand, or set CHART=0"
		"$PYTHON" bench/chart.py --check || die "matplotlib still missing for $PYTHON after apt-get install"
	fi
	if ((EUID == 0)) && ((IDLE + STARTUPS > 0)) && ! command -v setpriv >/dev/null; then
		die "setpriv (util-linux) is needed to start PgBouncer as postgres for the startup and idle measurements"
	fi
	return 0
}

max_clients() { printf '%s\n' "${client_list[@]}" | sort -n | tail -n 1; }

build_all() {
	build_pgmantle
	log "building bench/idle and bench/maskscan"
	run_logged "building bench/idle" "$tmp/build-idle.log" go build -o "$tmp/idle" ./bench/idle
	if ((SCAN_ROWS > 0)); then
		run_logged "building bench/maskscan" "$tmp/build-maskscan.log" go build -o "$tmp/maskscan" ./bench/maskscan
	fi
}

# prepare_restricted gives pgbench_accounts a column with a personal value
# (mobile; a constant default, so the table is not rewritten and pgbench -S
# is unaffected), one row with known values, and a login role the policy
# restricts; then writes the policy, a key file and the configuration.
prepare_restricted() {
	log "preparing the restricted role, its policy, a key file and the audit configuration"
	run_logged "preparing the restricted role" "$tmp/prepare.log" "$PGBIN/psql" -X -v ON_ERROR_STOP=1 \
		-h 127.0.0.1 -p "$pg_port" -U postgres -d postgres <<-EOF
			ALTER TABLE pgbench_accounts ADD COLUMN mobile text NOT NULL DEFAULT '13800000000';
			UPDATE pgbench_accounts SET abalance = 12345, mobile = '13912345678' WHERE aid = 1;
			CREATE ROLE $RESTRICTED_ROLE LOGIN;
			GRANT SELECT ON ALL TABLES IN SCHEMA public TO $RESTRICTED_ROLE;
		EOF
	cat >"$tmp/policy.yaml" <<-EOF
		classes:
		  balance:   [public.pgbench_accounts.abalance]
		  cn_mobile: [public.pgbench_accounts.mobile]
		roles:
		  postgres: {unrestricted: true}
		  $RESTRICTED_ROLE:
		    rules:
		      balance:   {mask: round, to: 1000}
		      cn_mobile: tokenize
		default:
		  rules: {"*": deny}
	EOF
	run_logged "pgmantle keys init" "$tmp/keys-init.log" "$tmp/pgmantle" keys init "$tmp/keys.yaml"
	mkdir -p "$tmp/audit"
	cat >"$tmp/restricted.yaml" <<-EOF
		upstream:
		  address: 127.0.0.1:$pg_port
		policy:
		  file: $tmp/policy.yaml
		catalog:
		  dsn: postgres://postgres@127.0.0.1:$pg_port/postgres?sslmode=disable
		keys:
		  file: $tmp/keys.yaml
		audit:
		  file: $tmp/audit/unused.log
		  sync: interval
		log:
		  level: warn
	EOF
}

# launch_pgmantle KIND PORT NAME starts pgmantle in the background (KIND
# pgmantle: no configuration at all; restricted: the policy, keys and an audit
# log $tmp/audit/NAME.log) and sets launched_pid. The log is $tmp/NAME.log.
launch_pgmantle() {
	local kind=$1 port=$2 name=$3
	local -a args=(serve --listen "127.0.0.1:$port" --upstream "127.0.0.1:$pg_port" --log-level warn)
	[[ $kind == restricted ]] && args+=(--config "$tmp/restricted.yaml" --audit-file "$tmp/audit/$name.log")
	"$tmp/pgmantle" "${args[@]}" </dev/null >"$tmp/$name.log" 2>&1 &
	launched_pid=$!
}

start_proxies() {
	local max
	max=$(max_clients)
	if has_target pgbouncer; then
		BOUNCER_MAX_CLIENT_CONN=$((max + 100)) BOUNCER_POOL_SIZE=$((max > 100 ? max : 100)) start_pgbouncer
	fi
	if has_target pgmantle; then
		take_port mantle_port
		log "starting pgmantle (unrestricted: no policy) on port $mantle_port"
		launch_pgmantle pgmantle "$mantle_port" pgmantle
		mantle_pid=$launched_pid
		wait_ready "$mantle_port" "$mantle_pid" pgmantle
	fi
	if has_target restricted; then
		take_port restricted_port
		log "starting pgmantle (restricted: policy, key file, audit log) on port $restricted_port"
		launch_pgmantle restricted "$restricted_port" restricted
		restricted_pid=$launched_pid
		wait_ready "$restricted_port" "$restricted_pid" "pgmantle (restricted)"
		verify_restricted
	fi
}

# psql_at PORT USER SQL runs one statement, unaligned output.
psql_at() {
	"$PGBIN/psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$1" -U "$2" -d postgres -tA -F '|' -c "$3"
}

# verify_restricted makes sure the restricted target really masks: the
# known row (abalance 12345, mobile 13912345678) must come back as 12000
# and a mobile token, the token must find the row (detokenized), and the
# unrestricted pgmantle must show the clear values.
verify_restricted() {
	local got bal tok n
	got=$(psql_at "$restricted_port" "$RESTRICTED_ROLE" \
		'SELECT abalance, mobile FROM pgbench_accounts WHERE aid = 1') ||
		die "the restricted role could not read pgbench_accounts through pgmantle"
	bal=${got%%|*} tok=${got#*|}
	[[ $bal == 12000 ]] || die "restricted target: abalance came back as '$bal', not masked to 12000"
	[[ $tok != 13912345678 && $tok =~ ^1[3-9][0-9]{9}$ ]] ||
		die "restricted target: mobile came back as '$tok', not a mobile token"
	n=$(psql_at "$restricted_port" "$RESTRICTED_ROLE" \
		"SELECT count(*) FROM pgbench_accounts WHERE aid = 1 AND mobile = '$tok'")
	[[ $n == 1 ]] || die "restricted target: searching by the token found $n rows, want 1"
	got=$(psql_at "$restricted_port" postgres 'SELECT abalance, mobile FROM pgbench_accounts WHERE aid = 1')
	[[ $got == "12345|13912345678" ]] || die "restricted target: the unrestricted role saw '$got'"
	masked_check="through the restricted target, row aid = 1 (abalance 12345, mobile 13912345678) read as $RESTRICTED_ROLE: abalance $bal, mobile $tok (a token; searching by it finds the row); as postgres: the clear values"
	log "restricted target masks: abalance 12345 → $bal, mobile 13912345678 → $tok"
}

# ---------------------------------------------------------------- measure ---

# percentiles FILES... prints "p50 p99 count" of the latencies (column 3,
# µs) in pgbench per-transaction logs, in ms (nearest rank).
percentiles() {
	awk '$3 ~ /^[0-9]+$/ {print $3}' "$@" | sort -n |
		awk '{v[NR] = $1}
		     function rank(p,   i) { i = int(p * NR); if (i < p * NR) i++; if (i < 1) i = 1; return v[i] }
		     END { if (NR == 0) { print "- - 0"; exit }
		           printf "%.3f %.3f %d\n", rank(0.50) / 1000, rank(0.99) / 1000, NR }'
}

# measure ROUND CLIENTS TARGET appends "round clients target tps p50 p99
# lat_avg cpu_us_per_tx transactions" to $tmp/runs.tsv.
measure() {
	local round=$1 c=$2 target=$3 port pid user j out t0="" t1="" tps lat tx failed cpu p50 p99 nlog
	port=$(target_port "$target")
	pid=$(target_pid "$target")
	user=$(target_user "$target")
	j=$((c < THREADS ? c : THREADS))
	out="$tmp/pgbench-$target-c$c-r$round.log"
	local -a cmd=("$PGBIN/pgbench" -n -S -M "$PROTOCOL" -c "$c" -j "$j" -h 127.0.0.1 -p "$port" -U "$user")
	if ((WARMUP > 0)); then
		log "round $round/$ROUNDS, $c clients: $target warm-up (${WARMUP} s)"
		run_waited "$out.warmup" "${cmd[@]}" -T "$WARMUP" postgres ||
			{ tail -n 20 "$out.warmup" >&2; die "pgbench warm-up against $target ($c clients) failed"; }
	fi
	log "round $round/$ROUNDS, $c clients: $target measuring (${DURATION} s)"
	rm -rf "$tmp/lat" && mkdir "$tmp/lat"
	[[ -n $pid ]] && t0=$(cpu_ticks "$pid")
	run_waited "$out" "${cmd[@]}" -T "$DURATION" -l --log-prefix="$tmp/lat/tx" postgres ||
		{ tail -n 20 "$out" >&2; die "pgbench against $target ($c clients) failed"; }
	[[ -n $pid ]] && t1=$(cpu_ticks "$pid")

	tps=$(awk '/^tps = /{print $3; exit}' "$out")
	lat=$(awk '/^latency average = /{print $4; exit}' "$out")
	tx=$(awk '/^number of transactions actually processed: /{print $6; exit}' "$out")
	tx=${tx%%/*}
	failed=$(awk '/^number of failed transactions: /{print $5; exit}' "$out")
	[[ -n $tps && -n $lat && -n $tx ]] || { cat "$out" >&2; die "could not parse pgbench output"; }
	((tx > 0)) || die "$target: pgbench processed no transactions"
	if [[ ${failed:-0} != 0 ]]; then
		log "WARNING: $target, $c clients: $failed failed transactions"
		notes+=("$target, $c clients, round $round: pgbench reported $failed failed transactions")
	fi
	read -r p50 p99 nlog < <(percentiles "$tmp/lat"/tx.*)
	((nlog == tx)) || log "NOTE: $target: $nlog logged transactions, pgbench counted $tx"
	rm -rf "$tmp/lat"
	cpu=-
	if [[ -n $pid ]]; then
		cpu=$(awk -v d=$((t1 - t0)) -v hz="$(getconf CLK_TCK)" -v n="$tx" 'BEGIN{printf "%.1f", d / hz * 1e6 / n}')
	fi
	log "round $round/$ROUNDS, $c clients: $target: $tps tps, p50 $p50 ms, p99 $p99 ms, proxy CPU $cpu µs/tx"
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$round" "$c" "$target" "$tps" "$p50" "$p99" "$lat" "$cpu" "$tx" >>"$tmp/runs.tsv"
}

measure_all() {
	local round c target
	: >"$tmp/runs.tsv"
	for round in $(seq 1 "$ROUNDS"); do
		for c in "${client_list[@]}"; do
			for target in "${target_list[@]}"; do
				measure "$round" "$c" "$target"
			done
		done
	done
}

# stop_bench_proxies stops the proxies of the pgbench runs (so the startup
# and idle measurements have the machine to themselves) and checks the
# restricted target's audit log: it has records of the restricted role and
# its chain verifies.
stop_bench_proxies() {
	if [[ -n $mantle_pid ]]; then
		stop_pid "$mantle_pid" pgmantle
		wait "$mantle_pid" 2>/dev/null || true
		mantle_pid=""
	fi
	if [[ -n $restricted_pid ]]; then
		stop_pid "$restricted_pid" "pgmantle (restricted)"
		wait "$restricted_pid" 2>/dev/null || true
		restricted_pid=""
		local records verify
		records=$(cat "$tmp/audit/restricted.log"* | grep -c "\"role\":\"$RESTRICTED_ROLE\"" || true)
		verify=$("$tmp/pgmantle" audit verify "$tmp/audit/restricted.log"* 2>&1 | head -n 1) || true
		audit_check="$records records of $RESTRICTED_ROLE; \`pgmantle audit verify\`: $verify"
		log "restricted audit log: $audit_check"
		((records > 0)) || die "the restricted target's audit log has no record of $RESTRICTED_ROLE"
		[[ $verify == OK* ]] || notes+=("the restricted target's audit log did not verify: $verify")
	fi
	if [[ -n $bouncer_pid ]]; then
		stop_pid "$bouncer_pid" PgBouncer
		bouncer_pid=""
	fi
	return 0
}

# ------------------------------------------------------------ masked scan ---

# run_maskscan runs bench/maskscan (its own cluster and pgmantle; see its
# doc comment) in a process group of its own, so that cleanup can stop it
# with everything it started.
run_maskscan() {
	((SCAN_ROWS > 0)) || return 0
	log "masked scan: bench/maskscan -rows $SCAN_ROWS -rounds $SCAN_ROUNDS (its own cluster)"
	local rc=0
	# Its temporary directories (policy, cluster) in ours, so that they go
	# away with it even when it is interrupted.
	# (The watchdog removes the cluster as postgres: the directory is theirs.)
	mkdir -p "$tmp/maskscan-tmp"
	((EUID == 0)) && chown postgres: "$tmp/maskscan-tmp"
	TMPDIR=$tmp/maskscan-tmp setsid "$tmp/maskscan" -rows "$SCAN_ROWS" -rounds "$SCAN_ROUNDS" -pgmantle "$tmp/pgmantle" \
		>"$tmp/maskscan.out" 2>"$tmp/maskscan.log" </dev/null &
	fg_pid=$! fg_group=$!
	wait "$fg_pid" || rc=$?
	fg_pid="" fg_group=""
	if ((rc != 0)); then
		tail -n 20 "$tmp/maskscan.log" >&2
		die "bench/maskscan failed (exit $rc)"
	fi
	scan_table=$(grep -E '^\|' "$tmp/maskscan.out")
	scan_status=$(grep -E '^(pgmantle peak|[0-9]+ rows)' "$tmp/maskscan.out" || true)
	log "masked scan done"
	printf '%s\n' "$scan_table" >&2
}

# stop_maskscan stops an interrupted bench/maskscan and the pgmantle it
# started (its process group), then waits for its cluster's watchdog to stop
# that cluster and remove it; cleanup removes the rest of $tmp/maskscan-tmp.
stop_maskscan() {
	kill -TERM -- "-$fg_group" 2>/dev/null
	wait "$fg_pid" 2>/dev/null
	local d
	for _ in $(seq 1 150); do
		d=$(find "$tmp/maskscan-tmp" -maxdepth 1 -name 'pgmantle-pg-*' -print -quit 2>/dev/null)
		[[ -z $d ]] && return 0
		sleep 0.2
	done
	log "bench/maskscan's cluster ($d) was not removed within 30 s"
}

# ---------------------------------------------------- startup and idle ---

# launch_fresh KIND NAME starts a new pgbouncer, pgmantle or restricted
# instance in the foreground of its own (not daemonized) on a new port and
# sets fresh_pid and fresh_port; launched_at is $EPOCHREALTIME just before.
launch_fresh() {
	local kind=$1 name=$2
	take_port fresh_port
	fresh_name=$name
	case $kind in
	pgbouncer)
		write_pgbouncer_ini "$name" "$fresh_port" $((IDLE + 100)) $((IDLE + 10))
		launched_at=$EPOCHREALTIME
		if ((EUID == 0)); then
			# setpriv execs, without runuser's PAM session, so its cost is ~1 exec.
			setpriv --reuid=postgres --regid=postgres --init-groups pgbouncer "$tmp/$name.ini" \
				</dev/null >"$tmp/$name.out" 2>&1 &
		else
			pgbouncer "$tmp/$name.ini" </dev/null >"$tmp/$name.out" 2>&1 &
		fi
		fresh_pid=$!
		;;
	*)
		launched_at=$EPOCHREALTIME
		launch_pgmantle "$kind" "$fresh_port" "$name"
		fresh_pid=$launched_pid
		;;
	esac
}

stop_fresh() {
	[[ -n $fresh_pid ]] || return 0
	stop_pid "$fresh_pid" "$fresh_name"
	wait "$fresh_pid" 2>/dev/null || true
	fresh_pid=""
}

# probe KIND prints the ms from launched_at until the fresh instance answered
# SELECT 1 (as the target's role).
probe() {
	local ms
	if ! ms=$("$tmp/idle" -probe -addr "127.0.0.1:$fresh_port" -user "$(target_user "$1")" \
		-since "$launched_at" -timeout 30s 2>"$tmp/probe.err"); then
		cat "$tmp/probe.err" >&2
		tail -n 15 "$tmp/$fresh_name.log" "$tmp/$fresh_name.out" 2>/dev/null >&2 || true
		die "$fresh_name did not answer SELECT 1 within 30 s"
	fi
	echo "$ms"
}

measure_startup() {
	local kind=$1 i ms all=()
	((STARTUPS > 0)) || return 0
	for i in $(seq 1 "$STARTUPS"); do
		launch_fresh "$kind" "startup-$kind-$i"
		ms=$(probe "$kind")
		stop_fresh
		all+=("$ms")
	done
	startup_ms[$kind]="${all[*]}"
	log "startup of $kind: ${all[*]} ms"
}

# wait_for_line FILE PATTERN PID WHAT waits (up to 300 s) until FILE has a
# line matching PATTERN; dies if PID exits first.
wait_for_line() {
	local file=$1 pattern=$2 pid=$3 what=$4
	for _ in $(seq 1 1500); do
		grep -q "$pattern" "$file" 2>/dev/null && return 0
		if ! proc_alive "$pid"; then
			wait "$pid" 2>/dev/null || true
			idle_pid=""
			cat "${file%.out}.err" >&2
			tail -n 15 "$tmp/$fresh_name.log" "$tmp/$fresh_name.out" 2>/dev/null >&2 || true
			die "$what failed"
		fi
		sleep 0.2
	done
	die "$what: not done within 300 s"
}

# wait_backends_gone waits (up to 30 s) until the cluster has at most a few
# client backends left: a stopped proxy's server connections end
# asynchronously, and the next instance needs their slots.
wait_backends_gone() {
	local n
	for _ in $(seq 1 150); do
		n=$(psql_at "$pg_port" postgres "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend'")
		((n <= 5)) && return 0
		sleep 0.2
	done
	log "WARNING: $n client backends still connected"
}

# measure_idle KIND: a fresh instance, one session and SELECT 1 (the probe),
# VmRSS; IDLE sessions opened (startup and authentication, then nothing
# sent), VmRSS again; then SELECT 1 once on each session, VmRSS again.
measure_idle() {
	local kind=$1 before opened queried rc=0 out
	((IDLE > 0)) || return 0
	launch_fresh "$kind" "idle-$kind"
	probe "$kind" >/dev/null
	sleep 1
	before=$(vm_rss_kb "$fresh_pid")
	log "$kind: VmRSS $before kB; opening $IDLE idle sessions"
	out="$tmp/idle-$kind.out"
	"$tmp/idle" -addr "127.0.0.1:$fresh_port" -user "$(target_user "$kind")" -n "$IDLE" \
		</dev/null >"$out" 2>"$tmp/idle-$kind.err" &
	idle_pid=$!
	wait_for_line "$out" '^ready' "$idle_pid" "$kind: opening $IDLE sessions"
	sleep 2
	proc_alive "$fresh_pid" || die "$kind exited with $IDLE idle sessions open"
	opened=$(vm_rss_kb "$fresh_pid")
	kill -USR1 "$idle_pid"
	wait_for_line "$out" '^queried' "$idle_pid" "$kind: SELECT 1 on $IDLE sessions"
	sleep 2
	proc_alive "$fresh_pid" || die "$kind exited with $IDLE idle sessions open"
	queried=$(vm_rss_kb "$fresh_pid")
	kill -TERM "$idle_pid"
	wait "$idle_pid" || rc=$?
	idle_pid=""
	if ((rc != 0)); then
		log "WARNING: $kind: $(tail -n 1 "$tmp/idle-$kind.err")"
		notes+=("$kind with $IDLE idle sessions: $(tail -n 1 "$tmp/idle-$kind.err")")
	fi
	stop_fresh
	wait_backends_gone
	idle_before[$kind]=$before idle_after[$kind]=$opened idle_queried[$kind]=$queried
	idle_kb[$kind]=$(per_session "$opened" "$before")
	idle_q_kb[$kind]=$(per_session "$queried" "$before")
	log "$kind: VmRSS $before kB, $opened kB with $IDLE sessions open (${idle_kb[$kind]} kB each), $queried kB after SELECT 1 on each (${idle_q_kb[$kind]} kB each)"
}

per_session() { awk -v a="$1" -v b="$2" -v n="$IDLE" 'BEGIN{printf "%.1f", (a - b) / n}'; }

# raise_fd_limit: IDLE sessions take two descriptors each in a proxy (one
# for the client, one for PostgreSQL); PgBouncer inherits our soft limit.
raise_fd_limit() {
	local need=$((2 * IDLE + 256)) soft hard
	soft=$(ulimit -S -n) hard=$(ulimit -H -n)
	[[ $soft == unlimited ]] || ((soft >= need)) && return 0
	[[ $hard == unlimited ]] || ((hard >= need)) ||
		die "IDLE=$IDLE needs $need open files, but the hard limit is $hard (ulimit -n)"
	ulimit -S -n "$need"
}

measure_fresh() {
	((STARTUPS + IDLE > 0)) || return 0
	raise_fd_limit
	local kind
	for kind in pgbouncer pgmantle restricted; do
		measure_startup "$kind"
		measure_idle "$kind"
	done
}

# ---------------------------------------------------------------- report ----

# cell CLIENTS TARGET COLUMN: median over the rounds (columns: 4 tps, 5 p50,
# 6 p99, 7 average latency, 8 cpu).
cell() {
	awk -F'\t' -v c="$1" -v t="$2" -v k="$3" '$2 == c && $3 == t {print $k}' "$tmp/runs.tsv" | median_stdin
}

fmt() { awk -v v="$1" -v f="$2" 'BEGIN{ if (v == "-" || v == "") print "-"; else printf f, v }'; }

# verdict RATIO TARGET: "met" or "not met" for a ratio against a target.
verdict() { awk -v r="$1" -v t="$2" 'BEGIN{ if (r == "-") print "-"; else if (r + 0 >= t) print "met"; else print "**not met**" }'; }

pgbench_table() {
	local c t tps bouncer
	echo "| clients | target | TPS | p50 ms | p99 ms | proxy CPU µs/tx | TPS / PgBouncer | TPS / direct |"
	echo "|---:|---|---:|---:|---:|---:|---:|---:|"
	for c in "${client_list[@]}"; do
		bouncer=$(has_target pgbouncer && cell "$c" pgbouncer 4 || echo -)
		for t in "${target_list[@]}"; do
			tps=$(cell "$c" "$t" 4)
			printf '| %s | %s | %s | %s | %s | %s | %s | %s |\n' "$c" "$t" "$(fmt "$tps" %.0f)" \
				"$(fmt "$(cell "$c" "$t" 5)" %.3f)" "$(fmt "$(cell "$c" "$t" 6)" %.3f)" \
				"$(fmt "$(cell "$c" "$t" 8)" %.1f)" "$(ratio "$tps" "$bouncer")" \
				"$(ratio "$tps" "$(has_target direct && cell "$c" direct 4 || echo -)")"
		done
	done
}

targets_table() {
	has_target pgbouncer || { echo "(no PgBouncer target in this run: no ratios)"; return 0; }
	local c b m r rm rr applies
	echo "| clients | pgmantle / PgBouncer TPS | target ≥ 1.20× | restricted / PgBouncer TPS | target ≥ 1.00× | restricted / pgmantle TPS |"
	echo "|---:|---:|---|---:|---|---:|"
	for c in "${client_list[@]}"; do
		b=$(cell "$c" pgbouncer 4)
		m=$(has_target pgmantle && cell "$c" pgmantle 4 || echo -)
		r=$(has_target restricted && cell "$c" restricted 4 || echo -)
		rm=$(ratio "$m" "$b") rr=$(ratio "$r" "$b")
		applies=0
		((c == 8 || c == 32)) && applies=1
		printf '| %s | %s | %s | %s | %s | %s |\n' "$c" "$rm" \
			"$( ((applies)) && verdict "$rm" 1.2 || echo "(set for 8 and 32)")" "$rr" \
			"$( ((applies)) && verdict "$rr" 1.0 || echo "(set for 8 and 32)")" "$(ratio "$r" "$m")"
	done
}

startup_table() {
	local k label v
	echo "| target | median ms | min ms | max ms | runs (ms) |"
	echo "|---|---:|---:|---:|---|"
	for k in pgbouncer pgmantle restricted; do
		v=${startup_ms[$k]:-}
		[[ -n $v ]] || continue
		label=$(kind_label "$k")
		printf '| %s | %s | %s | %s | %s |\n' "$label" \
			"$(fmt "$(tr ' ' '\n' <<<"$v" | median_stdin)" %.1f)" \
			"$(tr ' ' '\n' <<<"$v" | sort -g | head -n 1)" "$(tr ' ' '\n' <<<"$v" | sort -g | tail -n 1)" "$v"
	done
}

idle_table() {
	local k
	echo "| target | VmRSS, 1 session run and closed | with $IDLE sessions open | per session | after SELECT 1 on each | per session | target < 64 KB |"
	echo "|---|---:|---:|---:|---:|---:|---|"
	for k in pgbouncer pgmantle restricted; do
		[[ -n ${idle_kb[$k]:-} ]] || continue
		printf '| %s | %s | %s | %s KB | %s | %s KB | %s |\n' "$(kind_label "$k")" \
			"$(mb "${idle_before[$k]}")" "$(mb "${idle_after[$k]}")" "${idle_kb[$k]}" \
			"$(mb "${idle_queried[$k]}")" "${idle_q_kb[$k]}" "$(idle_verdict "$k")"
	done
}

mb() { awk -v v="$1" 'BEGIN{printf "%.1f MB", v / 1024}'; }

idle_verdict() {
	if [[ $1 == pgbouncer ]]; then
		echo "-"
	else
		awk -v a="${idle_kb[$1]}" -v b="${idle_q_kb[$1]}" 'BEGIN{ print (a < 64 && b < 64 ? "met" : "**not met**") }'
	fi
}

kind_label() {
	case $1 in
	pgbouncer) echo PgBouncer ;;
	pgmantle) echo "pgmantle, unrestricted (no policy)" ;;
	restricted) echo "pgmantle, restricted (policy, keys, audit; $RESTRICTED_ROLE)" ;;
	esac
}

runs_table() {
	echo "| round | clients | target | TPS | p50 ms | p99 ms | avg ms | proxy CPU µs/tx | transactions |"
	echo "|---:|---:|---|---:|---:|---:|---:|---:|---:|"
	awk -F'\t' '{printf "| %s | %s | %s | %.0f | %.3f | %.3f | %.3f | %s | %s |\n", $1, $2, $3, $4, $5, $6, $7, $8, $9}' "$tmp/runs.tsv"
}

command_line() {
	echo "SCALE=$SCALE CLIENTS=\"$CLIENTS\" THREADS=$THREADS DURATION=$DURATION WARMUP=$WARMUP ROUNDS=$ROUNDS PROTOCOL=$PROTOCOL TARGETS=\"$TARGETS\" SCAN_ROWS=$SCAN_ROWS SCAN_ROUNDS=$SCAN_ROUNDS STARTUPS=$STARTUPS IDLE=$IDLE bash bench/compare.sh"
}

phases() {
	local p prev=0 out=()
	for p in "${phase_seconds[@]}"; do
		out+=("${p%%=*} $((${p#*=} - prev)) s")
		prev=${p#*=}
	done
	local joined
	joined=$(printf '%s, ' "${out[@]}")
	echo "${joined%, }"
}

results_file() {
	local png=$1 n
	cat <<-EOF
		# pgmantle vs PgBouncer vs PostgreSQL, one run

		- Date: $(date -u '+%Y-%m-%d %H:%M:%S UTC'); the whole run took $((SECONDS / 60)) min $((SECONDS % 60)) s ($(phases))
		- Command: \`$(command_line)\`
		- Machine: $(machine_info); CPU use just before the run: ${load_at_start}%
		- PostgreSQL: $PG_SERVER_VERSION (fsync=off, shared_buffers=256MB, max_connections=$PG_MAX_CONNECTIONS, scale $SCALE; every client connects over TCP to 127.0.0.1, no TLS)
		- PgBouncer: $(pgbouncer --version | awk 'NR==1{print $2}') (session pooling, trust auth)
		- pgmantle: $("$tmp/pgmantle" version | sed 's/^pgmantle //')
		- Git commit: $commit

		Targets:

		- **direct**: PostgreSQL itself.
		- **pgbouncer**: PgBouncer, session pooling.
		- **pgmantle**: \`pgmantle serve\` with no configuration: no policy, no audit; everything relayed untouched.
		- **restricted**: \`pgmantle serve\` with a policy, a key file (\`pgmantle keys init\`) and a file audit log (\`sync: interval\`), pgbench logged in as \`$RESTRICTED_ROLE\`, a role the policy restricts: \`pgbench_accounts.abalance\` masked (\`round\` to 1000) — the one value of every \`pgbench -S\` answer —, \`pgbench_accounts.mobile\` (a column added for this run) tokenized; every statement is analysed and audited. Checked before the runs: $masked_check. After them: $audit_check.

		## pgbench -S

		\`pgbench -n -S -M $PROTOCOL -c N -j min(N, $THREADS) -T $DURATION -l\`, a ${WARMUP} s warm-up (without -l) before each measured run, $(rounds_note). p50 and p99 are over every transaction of the run (pgbench's per-transaction log, nearest rank); TPS excludes connection time; proxy CPU is the proxy process's utime+stime during the run divided by the transactions.

		$(pgbench_table)

		Against the targets (TPS ratios of the medians):

		$(targets_table)

		![TPS and p99 latency per target]($png)

	EOF
	if ((SCAN_ROWS > 0)); then
		cat <<-EOF
			## Masked scan

			\`bench/maskscan -rows $SCAN_ROWS -rounds $SCAN_ROUNDS\`: its own throwaway cluster and one pgmantle with a policy (no audit log, no tokens) in which \`app\` is unrestricted and \`analyst\` sees 4 of the 8 columns masked; \`SELECT *\` of the whole table over the extended protocol, best of $SCAN_ROUNDS scans per target. PgBouncer is not one of its targets.

			$(grep -E '^[0-9]+ rows' <<<"$scan_status" || true)

			$scan_table

			$(grep -E '^pgmantle peak' <<<"$scan_status" || true)

		EOF
	fi
	if ((STARTUPS > 0)); then
		cat <<-EOF
			## Startup

			From launching the process (PgBouncer in the foreground, not daemonized$( ((EUID == 0)) && echo ", through setpriv to run as postgres")) until a new connection answers \`SELECT 1\` (\`bench/idle -probe\`, polling every millisecond; pgmantle's own configuration, catalog and policy load included for the restricted instance, and the probe logs in as $RESTRICTED_ROLE there), $STARTUPS starts each.

			$(startup_table)

		EOF
	fi
	if ((IDLE > 0)); then
		cat <<-EOF
			## Memory per idle session

			A fresh instance of each proxy; VmRSS (/proc/PID/status) after one session has run \`SELECT 1\` and closed; again 2 s after \`bench/idle\` has opened $IDLE sessions as postgres ($RESTRICTED_ROLE for the restricted instance) — startup and authentication complete, then nothing sent; and again 2 s after each of those sessions has run one \`SELECT 1\` and gone idle. Per session = difference from the first reading / $IDLE. pgmantle connects to PostgreSQL when the session starts; PgBouncer (max_client_conn $((IDLE + 100)), default_pool_size $((IDLE + 10))) only at a session's first statement, so its server-side connections appear only in the last column. PostgreSQL's own memory per backend is not counted for either. pgmantle's figures move with the Go garbage collector's pacing (a larger heap to begin with leaves more room before it grows), so read them to within a few KB.

			$(idle_table)

		EOF
	fi
	if ((${#notes[@]} > 0)); then
		echo "## Problems seen"
		echo
		for n in "${notes[@]}"; do echo "- $n"; done
		echo
	fi
	cat <<-EOF
		## Runs

		$(runs_table)
	EOF
}

rounds_note() {
	if ((ROUNDS == 1)); then
		echo "1 round"
	else
		echo "$ROUNDS rounds with the targets interleaved (for each round, each client count, each target in turn); the tables show per-cell medians"
	fi
}

# chart_data writes the medians for bench/chart.py: target clients tps p50 p99.
chart_data() {
	local c t
	printf 'target\tclients\ttps\tp50_ms\tp99_ms\n'
	for c in "${client_list[@]}"; do
		for t in "${target_list[@]}"; do
			printf '%s\t%s\t%s\t%s\t%s\n' "$t" "$c" "$(cell "$c" "$t" 4)" "$(cell "$c" "$t" 5)" "$(cell "$c" "$t" 6)"
		done
	done
}

report() {
	local stamp base
	mkdir -p "$RESULTS_DIR"
	stamp=$(date -u +%Y%m%d-%H%M%S)
	base="$RESULTS_DIR/compare-$stamp"
	if ((CHART)); then
		chart_data >"$tmp/chart.tsv"
		if ! "$PYTHON" bench/chart.py "$tmp/chart.tsv" "$base.png" \
			"pgbench -S, $(nproc) CPUs, ${DURATION} s per run, $(rounds_note | sed 's/ with.*//'), commit ${commit%% *}" 2>"$tmp/chart.err"; then
			cat "$tmp/chart.err" >&2
			notes+=("the chart could not be drawn: $(tail -n 1 "$tmp/chart.err")")
		fi
	fi
	check_pgmantle_logs
	results_file "compare-$stamp.png" >"$base.md"
	if ! ((CHART)) || [[ ! -f $base.png ]]; then
		sed -i '/^!\[TPS and p99 latency/d' "$base.md"
	fi
	echo
	pgbench_table
	echo
	targets_table
	if ((SCAN_ROWS > 0)); then echo; printf '%s\n' "$scan_table"; fi
	if ((STARTUPS > 0)); then echo; startup_table; fi
	if ((IDLE > 0)); then echo; idle_table; fi
	if [[ -f $base.png ]]; then
		log "results written to $base.md and $base.png"
	else
		log "results written to $base.md"
	fi
}

# check_pgmantle_logs points out anything pgmantle logged at warn or above
# but the warnings these configurations always give (no policy, no audit
# log, keys from a local file).
check_pgmantle_logs() {
	local f n expected='msg="(no policy configured|no audit log configured|INSECURE: keys come from a local file)'
	for f in "$tmp"/pgmantle.log "$tmp"/restricted.log "$tmp"/startup-pgmantle-*.log "$tmp"/startup-restricted-*.log "$tmp"/idle-pgmantle.log "$tmp"/idle-restricted.log; do
		[[ -f $f ]] || continue
		n=$(grep -Evc "$expected" "$f" || true)
		((n == 0)) && continue
		log "NOTE: $(basename "$f"): pgmantle logged $n unexpected line(s) at warn or above; the first ones:"
		grep -Ev "$expected" "$f" | head -n 5 >&2
		notes+=("$(basename "$f" .log): pgmantle logged $n unexpected line(s) at warn or above, the first: \`$(grep -Ev "$expected" "$f" | head -n 1 | cut -c1-300)\`")
	done
}

# ---------------------------------------------------------------- cleanup ---

show_logs() {
	local f
	for f in postgres.log pgbouncer.log pgmantle.log restricted.log; do
		[[ -s $tmp/$f ]] || continue
		log "last lines of $f:"
		tail -n 15 "$tmp/$f" >&2
	done
}

cleanup() {
	local rc=$?
	trap '' INT TERM
	trap - ERR
	set +e
	[[ -n $tmp && -d $tmp ]] || exit "$rc"
	((rc != 0 && rc != 130 && rc != 143)) && show_logs
	log "cleaning up"
	if [[ -n $fg_group ]]; then
		stop_maskscan
	elif [[ -n $fg_pid ]]; then
		stop_pid "$fg_pid" pgbench
		wait "$fg_pid" 2>/dev/null
	fi
	[[ -n $idle_pid ]] && { stop_pid "$idle_pid" bench/idle; wait "$idle_pid" 2>/dev/null; }
	stop_fresh
	[[ -n $mantle_pid ]] && { stop_pid "$mantle_pid" pgmantle; wait "$mantle_pid" 2>/dev/null; }
	[[ -n $restricted_pid ]] && { stop_pid "$restricted_pid" "pgmantle (restricted)"; wait "$restricted_pid" 2>/dev/null; }
	[[ -n $bouncer_pid ]] && stop_pid "$bouncer_pid" PgBouncer
	stop_cluster
	rm -rf -- "$tmp"
	exit "$rc"
}

# ------------------------------------------------------------------- main ---

usage() {
	sed -n '2,13s/^# \{0,1\}//p' "$0"
}

main() {
	case ${1:-} in
	"") ;;
	-h | --help) usage; return 0 ;;
	*) usage >&2; die "unexpected argument '$1' (settings are environment variables)" ;;
	esac
	setup_run # traps (cleanup on exit) and a clean libpq environment (bench/lib.sh)

	check_settings
	find_tools
	check_load
	make_tmpdir
	ensure_pgbouncer
	build_all
	phase_done build
	run_maskscan
	phase_done "masked scan"
	PG_MAX_CONNECTIONS=$((IDLE + 100 > 200 ? IDLE + 100 : 200))
	local max
	max=$(max_clients)
	((PG_MAX_CONNECTIONS >= max + 50)) || PG_MAX_CONNECTIONS=$((max + 50))
	start_cluster
	init_data
	PG_SERVER_VERSION=$(pg_version)
	prepare_restricted
	start_proxies
	phase_done setup
	measure_all
	phase_done pgbench
	stop_bench_proxies
	measure_fresh
	phase_done "startup and idle"
	report
}

main "$@"
