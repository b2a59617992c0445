#!/usr/bin/env bash
# Run every scenario under tests/scenarios (or only T=<name>), print a
# summary table and end with "N passed, N failed".
#
# Usage: run-tests.sh <kernel-objdir> [scenario-name...]
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
obj=$1; shift
results=$top/build/logs/results.txt
mkdir -p "$top/build/logs"; : > "$results"

if [ $# -gt 0 ]; then
	scen=()
	for n in "$@"; do
		[ -d "$top/tests/scenarios/$n" ] || { echo "no scenario named $n" >&2; exit 2; }
		scen+=("$top/tests/scenarios/$n")
	done
else
	mapfile -t scen < <(find "$top/tests/scenarios" -mindepth 1 -maxdepth 1 -type d | sort)
fi

accel=$("$top/scripts/probe-accel.sh" "$obj/arch/x86/boot/bzImage")
export PMTEST_ACCEL=$accel
echo "accelerator: $accel$([ "$accel" = tcg ] && echo ' (KVM absent or its probe boot failed)')"
start=$(date +%s)
for s in "${scen[@]}"; do
	"$top/scripts/run-scenario.sh" "$s" "$obj" "$results" || true
done

# The static checks are a test too: zero findings from make check.
if [ $# -eq 0 ] && [ -n "${PMPOOL_SPARSE:-}" ]; then
	if "$top/scripts/check.sh" "$top/build/linux" "$obj" "$PMPOOL_SPARSE" > "$top/build/logs/check.log" 2>&1; then
		echo "PASS static:check (checkpatch, kernel-doc, sparse)" | tee -a "$results"
	else
		echo "FAIL static:check (see build/logs/check.log)" | tee -a "$results"
		tail -20 "$top/build/logs/check.log"
	fi
fi

echo
echo "=================== summary ($(( $(date +%s) - start ))s, $accel) ==================="
awk '{ printf "%-5s %s\n", $1, $2 }' "$results"
pass=$(grep -c '^PASS ' "$results")
fail=$(grep -c '^FAIL ' "$results")
skip=$(grep -c '^SKIP ' "$results")
[ "$skip" -eq 0 ] || echo "($skip skipped: they need a kernel option this kernel lacks)"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ] && [ "$pass" -gt 0 ]
