# shellcheck shell=bash
# The judge of a scenario's log, sourced by run-scenario.sh and run-chain.sh.
#
# judge TEXT END_RE END_WHY: print why TEXT (a serial log, CRs removed) fails,
# or nothing if it passes.  It fails on a panic, oops, BUG, WARNING, KASAN,
# UBSAN, call trace or PMTEST: FAIL line (or a REJECT regex) that no ALLOW
# regex exempts, if END_RE (the last boot's end) is missing (END_WHY is then
# the reason), if an EXPECT regex is missing, or if no PMTEST: PASS line is
# there.  EXPECT, REJECT and ALLOW are the scenario's arrays.
judge() {
	local text=$1 filtered=$1 re
	for re in "${ALLOW[@]}"; do
		filtered=$(grep -Ev -- "$re" <<<"$filtered" || true)
	done
	for re in 'Kernel panic' 'BUG:' 'Oops' 'WARNING:' 'general protection fault' \
		  'KASAN' 'UBSAN' 'Call Trace' 'PMTEST: FAIL' "${REJECT[@]}"; do
		if grep -Eq -- "$re" <<<"$filtered"; then
			echo "log has '$(grep -Em1 -- "$re" <<<"$filtered" | cut -c1-120)'"
			return
		fi
	done
	if ! grep -q -- "$2" <<<"$text"; then
		echo "$3"
		return
	fi
	for re in "${EXPECT[@]}"; do
		if ! grep -Eq -- "$re" <<<"$text"; then
			echo "expected line missing: $re"
			return
		fi
	done
	grep -q 'PMTEST: PASS' <<<"$text" || echo "no PASS line"
}
