#!/usr/bin/env bash
# Where a guest boot's time goes: boot the kernel once with initcall_debug
# and print the time to /init, the slowest initcalls and the kexec steps of
# one KHO kexec (make boot-profile: the debug kernel).
#
# Usage: [PROFILE_QEMU_EXTRA=..] [PROFILE_CMDLINE=..] [PROFILE_SMP=N]
#        boot-profile.sh <kernel-objdir>
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
obj=$(cd "$1" && pwd)
s=$top/build/boot-profile
rm -rf "$s"; mkdir -p "$s"
# PROFILE_QEMU_EXTRA, PROFILE_CMDLINE and PROFILE_SMP try a variant.
cat > "$s/conf" <<EOF
BOOTS=2
TIMEOUT=240
SMP=${PROFILE_SMP:-2}
QEMU_EXTRA="${PROFILE_QEMU_EXTRA:-}"
CMDLINE_EXTRA="initcall_debug ignore_loglevel ${PROFILE_CMDLINE:-}"
EOF
echo 'kexec_next' > "$s/boot1"
echo 'pass "booted twice"' > "$s/boot2"
export PMTEST_ACCEL=${PMTEST_ACCEL:-$("$top/scripts/probe-accel.sh" "$obj/arch/x86/boot/bzImage")}
"$top/scripts/run-scenario.sh" "$s" "$obj" "$s/results" || true
log=$top/build/logs/boot-profile.log
sed -e 's/\r$//' "$log" | awk '
	/^\[ *[0-9.]+\] / { t = substr($0, 2, index($0, "]") - 2) + 0 }
	/Linux version/ { boot++ }
	boot == 1 && /initcall .* returned .* after [0-9]+ usecs/ {
		fn = $0; sub(/.*initcall /, "", fn); sub(/\+.*/, "", fn)
		us = $0; sub(/.* after /, "", us); sub(/ usecs.*/, "", us)
		printf "%d %s\n", us, fn > "/dev/stderr"
	}
	boot == 1 && /Run \/init as init process/ { printf "boot 1: /init reached at %.1f s (kernel time)\n", t }
	boot == 1 && /kexec-next: kexec_file_load/ { l = t }
	boot == 1 && /kexec-next: loaded/ { printf "kexec_file_load: %.1f s\n", t - l }
	boot == 1 && /kexec-next: reboot\(RB_KEXEC\)/ { r = t }
	boot == 1 && /kexec_core: Starting new kernel/ { printf "reboot(RB_KEXEC) to the jump: %.1f s\n", t - r }
	boot == 2 && /Run \/init as init process/ { printf "boot 2: /init reached at %.1f s (kernel time)\n", t }
' 2> "$s/initcalls"
echo "slowest initcalls of boot 1 (ms):"
sort -nr "$s/initcalls" | head -15 | awk '{ printf "  %8.1f  %s\n", $1 / 1000, $2 }'
awk '{ s += $1 } END { printf "  %8.1f  all %d initcalls\n", s / 1000, NR }' "$s/initcalls"
grep '^[A-Z]* scenario:' "$s/results" | sed 's/^/whole run (QEMU start to power-off): /'
