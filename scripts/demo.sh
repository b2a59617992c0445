#!/usr/bin/env bash
# make demo: boot our kernel in QEMU, fill pmpools with a linked structure,
# kexec, restore and verify it in the next kernel, and show what happened.
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
obj=$1
results=$(mktemp)
trap 'rm -f "$results"' EXIT
export PMTEST_ACCEL=${PMTEST_ACCEL:-$("$top/scripts/probe-accel.sh" "$obj/arch/x86/boot/bzImage")}
echo "Booting Linux 7.2.13 + pmpool in QEMU ($PMTEST_ACCEL); the full console log goes to build/logs/demo.log"
echo
"$top/scripts/run-scenario.sh" "$top/demo" "$obj" "$results" >/dev/null
rc=$?
# The story, from the serial console: our lines and KHO's, nothing else.
sed -e 's/\r$//' "$top/build/logs/demo.log" |
	grep -E 'PMTEST: (boot|DEMO|PASS|FAIL|INFO|INCONCLUSIVE|pools)|pmpool|KHO: exec from|kexec|iommu-persist|DMAR: (persist|\[)' |
	grep -v 'PMTEST: kexec loaded\|PMTEST: PASS: iommu_persist_edu mode\|edu .* done, ' |
	sed -e 's/^\[ *[0-9.]*\] //' -e 's/^iommu_persist_edu: PMTEST: /edu: /' -e 's/^PMTEST: DEMO: //' -e 's/^PMTEST: pools: /    /' \
	    -e 's/^PMTEST: \(boot [0-9]*\) start.*/\n=== \1 ===/' -e 's/^PMTEST: boot [0-9]* end$//'
echo
if [ $rc -eq 0 ]; then
	echo "demo: PASS (the structure and the device's DMA mappings crossed two kexecs intact)"
else
	echo "demo: FAIL, see build/logs/demo.log"
fi
exit $rc
