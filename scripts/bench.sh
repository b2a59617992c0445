#!/usr/bin/env bash
# make bench: run the benchmark chain R times (default 3) on the benchmark
# kernel, then print the table and write build/bench/results.json.
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
obj=$1 runs=${2:-3}
mkdir -p "$top/build/bench"
export PMTEST_ACCEL=${PMTEST_ACCEL:-$("$top/scripts/probe-accel.sh" "$obj/arch/x86/boot/bzImage")}
results=$(mktemp); trap 'rm -f "$results"' EXIT
logs=()
for i in $(seq 1 "$runs"); do
	echo "bench: run $i of $runs ($PMTEST_ACCEL)"
	rm -rf "$top/build/bench/bench-$i"; cp -a "$top/bench" "$top/build/bench/bench-$i"
	echo "$i" > "$top/build/bench/bench-$i/run"	# restore order alternates with it
	"$top/scripts/run-scenario.sh" "$top/build/bench/bench-$i" "$obj" "$results" || exit 1
	logs+=("$top/build/logs/bench-$i.log")
done
python3 "$top/scripts/bench-report.py" "$PMTEST_ACCEL" "$top/build/bench/results.json" "${logs[@]}"
