#!/usr/bin/env bash
# bench/pgbench.sh — compare pgbench throughput and proxy CPU cost for
# PostgreSQL directly, through PgBouncer (session pooling) and through pgmantle.
#
# Run from the repository root:   bash bench/pgbench.sh
# Knobs (environment):            SCALE CLIENTS THREADS DURATION WARMUP ROUNDS
#                                 PROTOCOL PGBIN RESULTS_DIR TARGETS CONCURRENT
#                                 (see bench/README.md)
# Targets: direct pgbouncer pgmantle (default), and pgmantle with its audit
# log: audit-interval (file, sync: interval), audit-always (file, sync: always).
#
# Everything (cluster, PgBouncer, pgmantle, temp dir) is torn down on exit,
# including on failure and Ctrl-C. Progress goes to stderr; the result table
# goes to stdout and to bench/results/pgbench-<date>.md.
set -Eeuo pipefail
shopt -s inherit_errexit

SCALE=${SCALE:-10}
CLIENTS=${CLIENTS:-8}
THREADS=${THREADS:-2}
DURATION=${DURATION:-30}
WARMUP=${WARMUP:-3}
ROUNDS=${ROUNDS:-1}
CONCURRENT=${CONCURRENT:-0}
PROTOCOL=${PROTOCOL:-simple}
RESULTS_DIR=${RESULTS_DIR:-bench/results}
read -ra TARGETS <<<"${TARGETS:-direct pgbouncer pgmantle}"

BENCH_NAME=pgbench.sh
# shellcheck source=bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# Set by the functions below (and lib.sh's); cleanup() reads them.
mantle_port="" mantle_pid=""
declare -A audit_port=() audit_pid=()

# ------------------------------------------------------------------ setup ---

check_settings() {
	local v
	for v in SCALE CLIENTS THREADS DURATION WARMUP ROUNDS CONCURRENT; do
		[[ ${!v} =~ ^[0-9]+$ ]] || die "$v must be a whole number (got '${!v}')"
	done
	((CLIENTS > 0 && THREADS > 0 && DURATION > 0 && ROUNDS > 0 && SCALE > 0)) ||
		die "SCALE, CLIENTS, THREADS, DURATION and ROUNDS must be positive"
	case $PROTOCOL in
	simple | extended | prepared) ;;
	*) die "PROTOCOL must be simple, extended or prepared (got '$PROTOCOL')" ;;
	esac
	[[ -f go.mod && -d cmd/pgmantle ]] || die "run this from the pgmantle repository root"
}

start_pgmantle() {
	take_port mantle_port
	log "starting pgmantle on port $mantle_port"
	"$tmp/pgmantle" serve --listen "127.0.0.1:$mantle_port" \
		--upstream "127.0.0.1:$pg_port" --log-level warn \
		</dev/null >"$tmp/pgmantle.log" 2>&1 &
	mantle_pid=$!
	wait_ready "$mantle_port" "$mantle_pid" pgmantle
}

# start_audited TARGET starts a pgmantle whose audit log is a file with the
# sync mode the target names (audit-interval, audit-always).
start_audited() {
	local target=$1 mode=${1#audit-} port
	[[ $mode == interval || $mode == always ]] || die "unknown target '$target'"
	take_port port
	audit_port[$target]=$port
	cat >"$tmp/$target.yaml" <<-EOF
		audit:
		  file: $tmp/$target.log
		  sync: $mode
	EOF
	log "starting pgmantle with a file audit log (sync: $mode) on port $port"
	"$tmp/pgmantle" serve --config "$tmp/$target.yaml" --listen "127.0.0.1:$port" \
		--upstream "127.0.0.1:$pg_port" --log-level warn \
		</dev/null >"$tmp/$target-pgmantle.log" 2>&1 &
	audit_pid[$target]=$!
	wait_ready "$port" "${audit_pid[$target]}" "pgmantle ($target)"
}

# has_target NAME: is NAME among TARGETS?
has_target() { [[ " ${TARGETS[*]} " == *" $1 "* ]]; }

# ---------------------------------------------------------------- measure ---

target_port() {
	case $1 in
	direct) echo "$pg_port" ;;
	pgbouncer) echo "$bouncer_port" ;;
	pgmantle) echo "$mantle_port" ;;
	audit-*) echo "${audit_port[$1]}" ;;
	esac
}

target_pid() {
	case $1 in
	direct) echo "" ;;
	pgbouncer) echo "$bouncer_pid" ;;
	pgmantle) echo "$mantle_pid" ;;
	audit-*) echo "${audit_pid[$1]}" ;;
	esac
}

# run_pgbench TARGET PORT SECONDS OUTFILE runs the select-only workload.
run_pgbench() {
	run_logged "pgbench against $1" "$4" "$PGBIN/pgbench" -n -S -M "$PROTOCOL" -c "$CLIENTS" -j "$THREADS" \
		-T "$3" -h 127.0.0.1 -p "$2" -U postgres postgres
}

# measure ROUND TARGET appends "round target tps latency_ms cpu_us_per_tx tx"
# to $tmp/runs.tsv (cpu is "-" for direct).
measure() {
	local round=$1 target=$2 port pid out t0 t1 tps lat tx cpu failed
	port=$(target_port "$target")
	pid=$(target_pid "$target")
	out="$tmp/pgbench-$target-$round.log"
	if ((WARMUP > 0)); then
		log "round $round/$ROUNDS: $target warm-up (${WARMUP} s)"
		run_pgbench "$target" "$port" "$WARMUP" "$out.warmup"
	fi
	log "round $round/$ROUNDS: $target measuring (${DURATION} s)"
	[[ -n $pid ]] && t0=$(cpu_ticks "$pid")
	run_pgbench "$target" "$port" "$DURATION" "$out"
	[[ -n $pid ]] && t1=$(cpu_ticks "$pid")

	tps=$(awk '/^tps = /{print $3; exit}' "$out")
	lat=$(awk '/^latency average = /{print $4; exit}' "$out")
	tx=$(awk '/^number of transactions actually processed: /{print $6; exit}' "$out")
	tx=${tx%%/*}
	failed=$(awk '/^number of failed transactions: /{print $5; exit}' "$out")
	[[ -n $tps && -n $lat && -n $tx ]] || { cat "$out" >&2; die "could not parse pgbench output"; }
	((tx > 0)) || die "$target: pgbench processed no transactions"
	[[ ${failed:-0} == 0 ]] || log "WARNING: $target: $failed failed transactions"
	cpu=-
	if [[ -n $pid ]]; then
		cpu=$(awk -v d=$((t1 - t0)) -v hz="$(getconf CLK_TCK)" -v n="$tx" \
			'BEGIN{printf "%.1f", d / hz * 1e6 / n}')
	fi
	log "round $round/$ROUNDS: $target: $tps tps, $lat ms, proxy CPU $cpu µs/tx"
	printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$round" "$target" "$tps" "$lat" "$cpu" "$tx" >>"$tmp/runs.tsv"
}

# measure_all runs every target once per round, in the given order on odd
# rounds and in reverse on even ones, so that a machine whose speed drifts
# during the run does not favour the targets measured first.
#
# With CONCURRENT=1 the targets of a round run at the same time instead,
# each with its own CLIENTS clients: every target then meets the same
# machine at the same moment, and the per-round ratios between targets are
# free of the drift that separate runs suffer (a noisy shared host moves
# TPS by ±30 % from one run to the next).
measure_all() {
	local round i n=${#TARGETS[@]} pids pid
	: >"$tmp/runs.tsv"
	for round in $(seq 1 "$ROUNDS"); do
		if ((CONCURRENT)); then
			pids=()
			for ((i = 0; i < n; i++)); do
				measure "$round" "${TARGETS[i]}" &
				pids+=($!)
			done
			for pid in "${pids[@]}"; do
				wait "$pid" || die "round $round: a concurrent measurement failed"
			done
			continue
		fi
		for ((i = 0; i < n; i++)); do
			if ((round % 2)); then
				measure "$round" "${TARGETS[i]}"
			else
				measure "$round" "${TARGETS[n - 1 - i]}"
			fi
		done
	done
}

# paired_ratio A B prints the median, minimum and maximum over the rounds of
# A's TPS divided by B's in the same round ("median (min–max)"), the figure
# least moved by a machine whose speed drifts between rounds.
paired_ratio() {
	awk -F'\t' -v a="$1" -v b="$2" '
		$2 == a {x[$1] = $3} $2 == b {y[$1] = $3}
		END {for (r in x) if ((r in y) && y[r] > 0) printf "%.4f\n", x[r] / y[r]}' "$tmp/runs.tsv" |
		sort -n | awk '{v[NR] = $1} END {
			if (NR == 0) {print "-"; exit}
			m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
			printf "%.2f× (%.2f–%.2f over %d rounds)", m, v[1], v[NR], NR}'
}

# ---------------------------------------------------------------- report ----

# median TARGET COLUMN prints the median of a runs.tsv column for a target
# (columns: 3 tps, 4 latency, 5 cpu) or "-" when there is none.
median() {
	awk -F'\t' -v t="$1" -v c="$2" '$2 == t && $c != "-" {print $c}' "$tmp/runs.tsv" | median_stdin
}

summary_table() {
	local target tps lat cpu direct_tps
	direct_tps=$(median direct 3)
	echo "| target | TPS | latency ms | proxy CPU µs/tx | TPS / direct |"
	echo "|---|---:|---:|---:|---:|"
	for target in "${TARGETS[@]}"; do
		tps=$(median "$target" 3)
		lat=$(median "$target" 4)
		cpu=$(median "$target" 5)
		[[ $cpu == - ]] || cpu=$(printf '%.1f' "$cpu")
		printf '| %s | %.0f | %.3f | %s | %s |\n' "$target" "$tps" "$lat" "$cpu" "$(ratio "$tps" "$direct_tps")"
	done
	echo
	if has_target pgmantle && has_target pgbouncer; then
		printf 'pgmantle / pgbouncer: TPS %s×, latency %s×, proxy CPU per transaction %s×\n' \
			"$(ratio "$(median pgmantle 3)" "$(median pgbouncer 3)")" \
			"$(ratio "$(median pgmantle 4)" "$(median pgbouncer 4)")" \
			"$(ratio "$(median pgmantle 5)" "$(median pgbouncer 5)")"
	fi
	local a
	for a in audit-interval audit-always; do
		has_target "$a" && has_target pgmantle || continue
		printf '%s / pgmantle without audit: TPS %s×, proxy CPU per transaction %s×\n' "$a" \
			"$(ratio "$(median "$a" 3)" "$(median pgmantle 3)")" \
			"$(ratio "$(median "$a" 5)" "$(median pgmantle 5)")"
		if ((ROUNDS > 1)); then
			printf '%s / pgmantle without audit, paired by round: TPS %s\n' "$a" "$(paired_ratio "$a" pgmantle)"
		fi
	done
	return 0
}

runs_table() {
	echo "| round | target | TPS | latency ms | proxy CPU µs/tx | transactions |"
	echo "|---:|---|---:|---:|---:|---:|"
	awk -F'\t' '{printf "| %s | %s | %.0f | %.3f | %s | %s |\n", $1, $2, $3, $4, $5, $6}' "$tmp/runs.tsv"
}

rounds_note() {
	if ((CONCURRENT)); then
		echo "$ROUNDS round(s) with the targets measured at the same time, each with its own $CLIENTS clients; the summary shows per-target medians"
	elif ((ROUNDS == 1)); then
		echo "1 round"
	else
		echo "$ROUNDS rounds with the targets interleaved (reversed order on even rounds); the summary shows per-target medians"
	fi
}

results_file() {
	local cmd
	cmd="SCALE=$SCALE CLIENTS=$CLIENTS THREADS=$THREADS DURATION=$DURATION WARMUP=$WARMUP ROUNDS=$ROUNDS CONCURRENT=$CONCURRENT PROTOCOL=$PROTOCOL TARGETS=\"${TARGETS[*]}\" bash bench/pgbench.sh"
	cat <<-EOF
		# pgbench: ${TARGETS[*]}

		- Date: $(date -u '+%Y-%m-%d %H:%M:%S UTC')
		- Command: \`$cmd\`
		- Workload: \`pgbench -n -S -M $PROTOCOL -c $CLIENTS -j $THREADS -T $DURATION\`, scale $SCALE, ${WARMUP} s warm-up before each measured run, $(rounds_note)
		- Machine: $(machine_info); CPU use just before the run: ${load_at_start}%
		- PostgreSQL: $(pg_version) (fsync=off, shared_buffers=256MB, clients connect over TCP to 127.0.0.1)
		$(has_target pgbouncer && echo "- PgBouncer: $(pgbouncer --version | awk 'NR==1{print $2}') (session pooling, default_pool_size 100)")
		$(has_target audit-interval || has_target audit-always && echo "- Audit logs: a file on $(df -T "$tmp" | awk 'NR==2{print $2}') ($tmp), default settings but the sync mode (1 s sync interval for audit-interval)")
		- pgmantle: $("$tmp/pgmantle" version | sed 's/^pgmantle //')
		- Git commit: $commit

		$(summary_table)

		Proxy CPU is utime+stime of the proxy process during the measured run, divided by
		the transactions pgbench completed. TPS and latency are pgbench's (latency is the
		average over the run; TPS excludes connection time).

		## Runs

		$(runs_table)
	EOF
}

report() {
	local file
	mkdir -p "$RESULTS_DIR"
	file="$RESULTS_DIR/pgbench-$(date -u +%Y%m%d-%H%M%S).md"
	results_file >"$file"
	echo
	summary_table
	if ((ROUNDS > 1)); then
		echo
		runs_table
	fi
	log "results written to $file"
	check_pgmantle_log
}

# check_pgmantle_log points out anything pgmantle logged (it runs at warn).
check_pgmantle_log() {
	local n
	n=$(grep -c . "$tmp/pgmantle.log" || true)
	((n == 0)) && return 0
	log "NOTE: pgmantle logged $n line(s) at warn or above; the first ones:"
	head -n 5 "$tmp/pgmantle.log" >&2
}

# ---------------------------------------------------------------- cleanup ---

show_logs() {
	local f
	[[ -n $bouncer_pid ]] && ! proc_alive "$bouncer_pid" && log "PgBouncer (pid $bouncer_pid) had exited"
	[[ -n $mantle_pid ]] && ! proc_alive "$mantle_pid" && log "pgmantle (pid $mantle_pid) had exited"
	local t
	for t in "${!audit_pid[@]}"; do
		proc_alive "${audit_pid[$t]}" || log "pgmantle ($t, pid ${audit_pid[$t]}) had exited"
	done
	for f in postgres.log pgbouncer.log pgmantle.log; do
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
	[[ -n $mantle_pid ]] && { stop_pid "$mantle_pid" pgmantle; wait "$mantle_pid" 2>/dev/null; }
	local t
	for t in "${!audit_pid[@]}"; do
		stop_pid "${audit_pid[$t]}" "pgmantle ($t)"
		wait "${audit_pid[$t]}" 2>/dev/null
	done
	[[ -n $bouncer_pid ]] && stop_pid "$bouncer_pid" PgBouncer
	stop_cluster
	rm -rf -- "$tmp"
	exit "$rc"
}

# ------------------------------------------------------------------- main ---

usage() {
	sed -n '2,11s/^# \{0,1\}//p' "$0"
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
	if has_target pgbouncer; then ensure_pgbouncer; fi
	build_pgmantle
	start_cluster
	init_data
	has_target pgbouncer && start_pgbouncer
	has_target pgmantle && start_pgmantle
	local t
	for t in "${TARGETS[@]}"; do
		[[ $t == audit-* ]] && start_audited "$t"
	done
	measure_all
	report
	for t in "${!audit_pid[@]}"; do
		verify_audit "$t"
	done
}

# verify_audit TARGET stops an audited pgmantle (so that its log ends with
# a close record) and checks the log's chain.
verify_audit() {
	local t=$1
	stop_pid "${audit_pid[$t]}" "pgmantle ($t)"
	wait "${audit_pid[$t]}" 2>/dev/null || true
	unset "audit_pid[$t]"
	log "$t: $("$tmp/pgmantle" audit verify "$tmp/$t.log"* 2>&1 | head -n 1)"
}

main "$@"
