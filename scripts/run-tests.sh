#!/usr/bin/env bash
# Run every scenario under tests/scenarios (or only the named ones), several
# guests at a time, print a summary table and end with "N passed, N failed".
#
# Usage: run-tests.sh <kernel-objdir> [scenario-name...]
#
# PMTEST_JOBS=N runs up to N guests at once (make test J=N).  The default is
# one per host CPU, as far as free memory allows (4 GiB per debug guest).
# A scenario whose conf sets ALONE=1 runs with no other guest beside it: one
# whose verdict depends on timing (QEMU's virtual clock follows host time
# under TCG, so a loaded host moves when an edu DMA lands).
#
# Two-boot scenarios listed in a chain (tests/chains/<name>) run as one guest
# of n+1 boots (scripts/run-chain.sh) when two or more of them are selected;
# each keeps its own log, result row and verdict.
#
# Scenarios start longest first (their last times on this machine, kept in
# $HOME/.cache/pmpool/scenario-times; their TIMEOUT when never run), so that
# a long one does not start last.  Each writes its own log, output and result
# rows; the summary lists them in name order, as a serial run does, and then
# every scenario's time, longest first.
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
obj=$(cd "$1" && pwd); shift
logs=$top/build/logs
results=$logs/results.txt
parts=$logs/results.d
mkdir -p "$logs"; : > "$results"; rm -rf "$parts"; mkdir -p "$parts"

# runner-detects-chain-failure is the runner's own test of chains
# (scripts/selftest-chain.sh); it runs with the full set or by its name.
selftest_chain=runner-detects-chain-failure
chain_test=0
if [ $# -gt 0 ]; then
	scen=()
	for n in "$@"; do
		if [ "$n" = "$selftest_chain" ]; then chain_test=1; continue; fi
		[ -d "$top/tests/scenarios/$n" ] || { echo "no scenario named $n" >&2; exit 2; }
		scen+=("$top/tests/scenarios/$n")
	done
else
	mapfile -t scen < <(find "$top/tests/scenarios" -mindepth 1 -maxdepth 1 -type d | sort)
	chain_test=1
fi

ncpu=$(nproc)
if grep -q '^CONFIG_KASAN=y' "$obj/.config"; then per_guest=4096; kind=debug; else per_guest=1536; kind=plain; fi
memfree=$(awk '$1 == "MemAvailable:" { print int($2 / 1024) }' /proc/meminfo)
jobs=${PMTEST_JOBS:-$(( memfree / per_guest < ncpu ? memfree / per_guest : ncpu ))}
[ "$jobs" -ge 1 ] 2>/dev/null || jobs=1
export PMTEST_JOBS=$jobs

accel=$("$top/scripts/probe-accel.sh" "$obj/arch/x86/boot/bzImage")
export PMTEST_ACCEL=$accel
echo "accelerator: $accel$([ "$accel" = tcg ] && echo ' (KVM absent or its probe boot failed)'), $jobs guest(s) at a time"

# Per scenario: the slots it takes (all of them when ALONE=1), whether it
# needs the stock kernel, and its expected duration.
timesdb=$HOME/.cache/pmpool/scenario-times/$kind-$accel
mkdir -p "$(dirname "$timesdb")"; touch "$timesdb"
declare -A cpus=() est=()
need_stock=0
declare -A old_kernels=()
for s in "${scen[@]}"; do
	n=$(basename "$s")
	read -r al st to ok mem < <(ALONE=0 STOCK_KERNEL=0 TIMEOUT=120 BOOTS=1 OLD_KERNEL=- MEM=1G
		# shellcheck disable=SC1091
		. "$s/conf" >/dev/null 2>&1; echo "$ALONE $STOCK_KERNEL $TIMEOUT $OLD_KERNEL $MEM")
	if [ "$al" = 1 ]; then cpus[$n]=$jobs; else cpus[$n]=1; fi
	# A guest bigger than a slot's memory runs beside the others only if
	# there is room for it and for them; else alone.
	case $mem in *G) mem=$(( ${mem%G} * 1024 )) ;; *M) mem=${mem%M} ;; esac
	if [ "$mem" -gt "$per_guest" ] && [ $(( mem + 1024 + (jobs - 1) * per_guest )) -gt "$memfree" ]; then
		cpus[$n]=$jobs
	fi
	[ "$st" = 1 ] && need_stock=1
	[ "$ok" != - ] && old_kernels[$ok]=1
	e=$(awk -v n="$n" '$1 == n { t = $2 } END { print t }' "$timesdb")
	est[$n]=${e:-$to}
done
# Fetched once, before any guest starts (run-scenario.sh builds kexec-next
# under a lock, so that parallel runs build it once).
if [ "$need_stock" = 1 ]; then
	"$top/scripts/fetch-stock-kernel.sh" "$top/build/stock" >/dev/null || exit 1
fi
# Earlier releases' kernels (OLD_KERNEL=<commit>), built once and cached
# under $HOME/.cache/pmpool: before any guest starts, as a kernel build
# takes every CPU.
for ok in "${!old_kernels[@]}"; do
	t0=$(date +%s)
	"$top/scripts/build-old-kernel.sh" "$ok" "$top/build/src/linux-7.2.13" >/dev/null || exit 1
	echo "old kernel ${ok:0:12}: ready in $(( $(date +%s) - t0 )) s"
done

# Chains (tests/chains/<name>, scripts/run-chain.sh): the selected members
# of a chain, when there are two or more, run as one job of n+1 boots
# instead of n jobs of two; each keeps its own result row and log.
declare -A chained=() chain_file=() chain_members=()
units=()
for c in "$top"/tests/chains/*; do
	[ -f "$c" ] || continue
	sel=()
	for m in $(sed -e 's/#.*//' "$c"); do
		for s in "${scen[@]}"; do [ "$(basename "$s")" = "$m" ] && sel+=("$m"); done
	done
	[ ${#sel[@]} -ge 2 ] || continue
	u=chain:$(basename "$c")
	chain_file[$u]=$c chain_members[$u]="${sel[*]}"
	e=0
	for m in "${sel[@]}"; do chained[$m]=$u; e=$((e + est[$m])); done
	cpus[$u]=1 est[$u]=$e
	units+=("$u")
done
for s in "${scen[@]}"; do
	[ -n "${chained[$(basename "$s")]:-}" ] || units+=("$s")
done
if [ "$chain_test" = 1 ]; then
	e=$(awk -v n="$selftest_chain" '$1 == n { t = $2 } END { print t }' "$timesdb")
	cpus[$selftest_chain]=1 est[$selftest_chain]=${e:-150}
	units+=("$selftest_chain")
fi

# Queue: the jobs that take every slot first (they would otherwise wait
# for a moment when nothing runs), then the rest, each group longest first.
unit_name() { case $1 in chain:*) echo "$1" ;; *) basename "$1" ;; esac; }
mapfile -t queue < <(for s in "${units[@]}"; do
	n=$(unit_name "$s")
	printf '%d %d %s\n' "$(( cpus[$n] >= jobs ))" "${est[$n]}" "$s"
done | sort -k1,1nr -k2,2nr | cut -d' ' -f3-)

# The static checks are a test too (zero findings from make check); they
# run as one more job, on one slot.
static=0
if [ $# -eq 0 ] && [ -n "${PMPOOL_SPARSE:-}" ]; then static=1; fi

run_static() {
	if "$top/scripts/check.sh" "$top/build/linux" "$obj" "$PMPOOL_SPARSE" > "$logs/check.log" 2>&1; then
		echo "PASS static:check (checkpatch, kernel-doc, sparse)" | tee "$parts/~static"
	else
		echo "FAIL static:check (see build/logs/check.log)" | tee "$parts/~static"
		tail -20 "$logs/check.log"
	fi
}

start=$(date +%s)
free=$jobs
declare -A running=()	# pid -> scenario name
declare -A slots=()	# pid -> slots it holds
finish() {	# pid: release its slots and show what it printed
	local pid=$1 n=${running[$1]}
	free=$((free + slots[$1]))
	unset "running[$pid]" "slots[$pid]"
	cat "$logs/$n.out"
}
qi=0
while [ $qi -lt ${#queue[@]} ] || [ ${#running[@]} -gt 0 ] || [ $static = 1 ]; do
	# Start the first queued scenarios that fit in the free slots.
	while [ $qi -lt ${#queue[@]} ]; do
		s=${queue[$qi]}; n=$(unit_name "$s")
		[ "${cpus[$n]}" -le "$free" ] || break
		case $s in
		"$selftest_chain")
			"$top/scripts/selftest-chain.sh" "$obj" "$parts/$n" > "$logs/$n.out" 2>&1 & ;;
		chain:*)
			# shellcheck disable=SC2086
			"$top/scripts/run-chain.sh" "${chain_file[$n]}" "$obj" "$parts" ${chain_members[$n]} \
				> "$logs/$n.out" 2>&1 & ;;
		*)
			"$top/scripts/run-scenario.sh" "$s" "$obj" "$parts/$n" > "$logs/$n.out" 2>&1 & ;;
		esac
		running[$!]=$n; slots[$!]=${cpus[$n]}; free=$((free - cpus[$n]))
		qi=$((qi + 1))
	done
	if [ $static = 1 ] && [ "$free" -ge 1 ] && { [ $qi -ge ${#queue[@]} ] || [ "$jobs" -gt 1 ]; }; then
		run_static > "$logs/~static.out" 2>&1 &
		running[$!]=~static; slots[$!]=1; free=$((free - 1)); static=0
		continue
	fi
	[ ${#running[@]} -gt 0 ] || break
	wait -n -p done_pid "${!running[@]}"
	finish "$done_pid"
done
wall=$(( $(date +%s) - start ))

# Results in name order (KUnit rows stay after the scenario that ran them).
rows=("${scen[@]}")
[ "$chain_test" = 1 ] && rows+=("$selftest_chain")
mapfile -t rows < <(printf '%s\n' "${rows[@]}" | awk -F/ '{ print $NF, $0 }' | sort | cut -d' ' -f2-)
for s in "${rows[@]}"; do
	n=$(basename "$s")
	if [ -s "$parts/$n" ]; then
		cat "$parts/$n"
	else
		echo "FAIL scenario:$n 0s runner lost its result"
	fi
done > "$results"
[ -f "$parts/~static" ] && cat "$parts/~static" >> "$results"

# Remember each scenario's time for the next run's order.
tmp=$(mktemp)
{ grep -h '^\(PASS\|FAIL\) scenario:' "$results" | sed -E 's/^[A-Z]+ scenario:([^ ]+) ([0-9]+)s.*/\1 \2/'
  cat "$timesdb"; } | awk '!seen[$1]++' > "$tmp" && mv "$tmp" "$timesdb"

echo
echo "=================== summary (${wall}s, $accel) ==================="
awk '{ t = ($2 ~ /^scenario:/ && $3 ~ /^[0-9]+s$/) ? $3 : ""; printf "%-5s %-60s %s\n", $1, $2, t }' "$results"
echo
echo "time per scenario, longest first ($jobs guest(s) at a time):"
grep -h '^[A-Z]* scenario:' "$results" | sed -E 's/^[A-Z]+ scenario:([^ ]+) ([0-9]+)s.*/\2 \1/' |
	sort -k1,1nr | awk '{ sum += $1; n++; printf "  %5ss  %s\n", $1, $2 }
		END { if (n) printf "  %5ss  in all, %d scenarios, %.0fs on average; %ds of wall clock\n", sum, n, sum / n, '"$wall"' }'
pass=$(grep -c '^PASS ' "$results")
fail=$(grep -c '^FAIL ' "$results")
skip=$(grep -c '^SKIP ' "$results")
[ "$skip" -eq 0 ] || echo "($skip skipped: they need a kernel option this kernel lacks)"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ] && [ "$pass" -gt 0 ]
