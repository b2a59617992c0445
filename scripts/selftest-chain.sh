#!/usr/bin/env bash
# The runner's own test of chains (row runner-detects-chain-failure of make
# test): run the chain of tests/runner-selftest/chain and check that each
# member got the verdict, for the reason, that tests/runner-selftest/chain/
# expect gives it: a member with a FAIL line fails for it alone, a member
# that panics fails for the panic, and the member after the stop runs alone.
#
# Usage: selftest-chain.sh <kernel-objdir> <results-file>
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
obj=$1 results=$2
name=runner-detects-chain-failure
st=$top/tests/runner-selftest/chain
parts=$top/build/chains/selftest-parts
rm -rf "$parts"; mkdir -p "$parts"
start=$(date +%s)
PMTEST_SCENARIOS=$st "$top/scripts/run-chain.sh" "$st/st-chain" "$obj" "$parts" \
	> "$top/build/logs/$name.log" 2>&1
secs=$(( $(date +%s) - start ))
why=""
while read -r m verdict re; do
	row=$(cat "$parts/$m" 2>/dev/null)
	if [ -z "$why" ] && ! grep -Eq -- "^$verdict scenario:$m [0-9]+s ?$re" <<<"$row"; then
		why="$m: expected $verdict${re:+ ($re)}, got '${row:-no row}'"
	fi
done < "$st/expect"
if [ -n "$why" ]; then verdict=FAIL; else verdict=PASS; fi
printf '%-5s %-40s %4ss  %s\n' "$verdict" "$name" "$secs" "$why"
echo "$verdict scenario:$name ${secs}s $why" >> "$results"
[ "$verdict" = PASS ]
