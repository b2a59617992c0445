#!/usr/bin/env bash
# Run one kexec scenario in QEMU and judge it.
#
# Usage: run-scenario.sh <scenario-dir> <kernel-objdir> <results-file>
#
# A scenario is a directory with:
#   conf     shell variables (all optional); PMTEST_FULL=1 (make test-full)
#            asks for the full number of repetitions where CI runs fewer:
#              BOOTS=N          boots expected (boot N must print its "end")
#              TIMEOUT=S        wall-clock limit for the whole QEMU run
#              SILENCE=S        a console quiet this long is a hang (default
#                               60 s; x5/2 on the debug kernel and x3/2 with
#                               guests in parallel, unless TIMEOUT_FIXED=1)
#              MEM=1G SMP=2     guest size (1G is 2G on the debug kernel)
#              KHO_SCRATCH=l,g,n  kho_scratch= on the debug kernel (default
#                               128M,512M,64M); a big guest's KASAN shadow
#                               and memmap must fit in the global area
#              ALONE=1          run-tests.sh runs no other guest beside it
#                               (a scenario whose timing depends on the host)
#              QEMU_EXTRA="..." extra QEMU arguments (devices, -M options)
#              CMDLINE_EXTRA="" extra kernel arguments for every boot
#              EXPECT=(re ...)  extended regexes that must appear in the log
#              REJECT=(re ...)  extra regexes that must not appear
#              ALLOW=(re ...)   log lines matching these are exempt from REJECT
#              KUNIT=1          enable built-in KUnit suites, count their cases
#              STOCK_KERNEL=1   put Debian's stock 7.2.13 kernel in the
#                               initramfs as /stock-kernel (kexec target)
#              OLD_KERNEL=<commit>  boot 1 runs the debug kernel of that
#                               earlier commit of this repository
#                               (scripts/build-old-kernel.sh; cached); it is
#                               /old-kernel in the initramfs (a kexec
#                               target), its modules under /old/lib/modules
#                               (PMTEST_MODROOT=/old in a boot script)
#              KEXEC_TOOLS=1    put kexec-tools' kexec (and its libraries)
#                               in the initramfs: a classic kexec_load()
#              NEEDS_CONFIG=CONFIG_X  skip (not run, not counted) on a kernel
#                               without it, e.g. the plain kernel of make
#                               test-fast for the debug-kernel scenarios
#              EXPECT_FAIL=1    runner self-test: the run itself must be judged FAIL
#              EXPECT_WHY=re    ... and for a reason matching this regex
#                               (EXPECT then lists what the runner must log)
#   boot1, boot2, ...  shell fragments sourced by /init in that boot
#   any other files   copied to /scenario/ in the guest
# The verdict comes from "PMTEST: PASS|FAIL" lines printed by the guest, the
# final "PMTEST: boot N end", and the absence of panics, oopses and WARNs.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
sdir=$(cd "$1" && pwd); obj=$(cd "$2" && pwd); results=$3
name=$(basename "$sdir")
logdir=$top/build/logs; mkdir -p "$logdir"
log=$logdir/$name.log

NEEDS_CONFIG="" ALONE=0 BOOTS=1 TIMEOUT=120 SILENCE=0 TIMEOUT_FIXED=0 MEM=1G SMP=2 QEMU_EXTRA="" CMDLINE_EXTRA="" KUNIT=0 EXPECT_FAIL=0
STOCK_KERNEL=0 KEXEC_TOOLS=0 EXPECT_WHY="" OLD_KERNEL="" KHO_SCRATCH=""
EXPECT=() REJECT=() ALLOW=()
# shellcheck disable=SC1091
. "$sdir/conf"
if [ -n "${NEEDS_CONFIG:-}" ] && ! grep -q "^$NEEDS_CONFIG=[ym]" "$obj/.config"; then
	printf '%-5s %-40s %4ss  %s\n' SKIP "$name" 0 "needs $NEEDS_CONFIG (make test's debug kernel)"
	echo "SKIP scenario:$name 0s needs $NEEDS_CONFIG" >> "$results"
	exit 0
fi
[ "$SILENCE" -gt 0 ] || SILENCE=60
# A debug kernel (KASAN, lockdep, kmemleak) boots several times slower
# under TCG, and KASAN's shadow must fit next to KHO's scratch areas.
if grep -q '^CONFIG_KASAN=y' "$obj/.config" && [ "${TIMEOUT_FIXED:-0}" != 1 ]; then
	TIMEOUT=$((TIMEOUT * ${PMTEST_DEBUG_SLOWDOWN:-5}))
	SILENCE=$((SILENCE * 5 / 2))
	# 2 GiB, not 3: a smaller guest boots faster (memmap, KASAN's shadow)
	# and its last boot's kmemleak scan reads less; a boot-profile run took
	# 18 s against 22-23 s (2026-12-03).  A scenario that needs more says so.
	case $MEM in 1G) MEM=${PMTEST_DEBUG_MEM:-2G} ;; esac
	# KHO sizes its scratch areas at 200% of the early reservations, which
	# KASAN inflates past the guest's memory; the next kernel's early
	# allocations (KASAN's shadow included) must fit in them.  The low
	# area takes the next kernel's allocations below 4 GiB, the 64 MiB
	# swiotlb among them: at 64M, swiotlb sometimes found no room next to
	# the kexec'd image and halved itself, and MemTotal moved by 32 MiB.
	CMDLINE_EXTRA="$CMDLINE_EXTRA kho_scratch=${KHO_SCRATCH:-128M,512M,64M}"
fi
# Timeouts were set for one guest at a time; with guests in parallel, a
# guest shares the host's caches, memory bandwidth and QEMU's own threads.
if [ "${PMTEST_JOBS:-1}" -gt 1 ] && [ "$ALONE" != 1 ] && [ "${TIMEOUT_FIXED:-0}" != 1 ]; then
	TIMEOUT=$((TIMEOUT * 3 / 2))
	SILENCE=$((SILENCE * 3 / 2))
fi

# ---- initramfs -----------------------------------------------------------
stage=$top/build/initramfs/$name
rm -rf "$stage"; mkdir -p "$stage"/{bin,scenario,tmp,lib}
cp /bin/busybox "$stage/bin/busybox"
# The applet links go into the initramfs here: "busybox --install" in each
# boot's /init took 2 s on the debug kernel.
for a in $(/bin/busybox --list-full | grep -vx bin/busybox); do
	mkdir -p "$stage/$(dirname "$a")"
	ln -sf /bin/busybox "$stage/$a"
done
cp "$top/tests/guest/init" "$stage/init"; chmod +x "$stage/init"
cp "$top/tests/guest/lib.sh" "$stage/scenario/lib.sh"
# Built once, whichever of several parallel runs comes first.
helper=$top/build/guest/kexec-next
mkdir -p "$(dirname "$helper")"
(
	flock 9
	if [ ! -x "$helper" ] || [ "$top/tests/guest/kexec-next.c" -nt "$helper" ]; then
		gcc -static -O2 -Wall -o "$helper" "$top/tests/guest/kexec-next.c"
	fi
) 9> "$helper.lock"
cp "$helper" "$stage/bin/kexec-next"
cp "$obj/arch/x86/boot/bzImage" "$stage/kernel"
if [ "$STOCK_KERNEL" = 1 ]; then
	"$top/scripts/fetch-stock-kernel.sh" "$top/build/stock" >/dev/null
	cp "$top/build/stock/vmlinuz" "$stage/stock-kernel"
fi
first_kernel=$obj/arch/x86/boot/bzImage
if [ -n "$OLD_KERNEL" ]; then
	old=$("$top/scripts/build-old-kernel.sh" "$OLD_KERNEL" "$top/build/src/linux-7.2.13")
	first_kernel=$old/bzImage
	cp "$old/bzImage" "$stage/old-kernel"
	mkdir -p "$stage/old/lib"
	cp -a "$old/modinst/lib/modules" "$stage/old/lib/"
fi
if [ "$KEXEC_TOOLS" = 1 ]; then
	kx=$(command -v kexec || echo /usr/sbin/kexec)
	mkdir -p "$stage/sbin"
	cp "$kx" "$stage/sbin/kexec"
	for l in $(ldd "$kx" | awk '/=> \//{ print $3 } /^\t\//{ print $1 }'); do
		mkdir -p "$stage$(dirname "$l")"
		cp -L "$l" "$stage$l"
	done
fi
if [ -d "$obj/modinst/lib/modules" ]; then
	cp -a "$obj/modinst/lib/modules" "$stage/lib/"
fi
cp -a "$sdir"/. "$stage/scenario/"
cmdline="console=ttyS0 panic=-1 retain_initrd loglevel=7 $CMDLINE_EXTRA"
[ "$KUNIT" = 1 ] && cmdline="$cmdline kunit.enable=1"
echo "$cmdline" > "$stage/scenario/cmdline"
echo "$BOOTS" > "$stage/scenario/boots"	# the last boot, for chained scenarios
initrd=$top/build/initramfs/$name.cpio
(cd "$stage" && find . | cpio -o -H newc --quiet -R 0:0) > "$initrd"

# ---- QEMU ----------------------------------------------------------------
accel=${PMTEST_ACCEL:-tcg}
# TCG's default CPU model (qemu64) lacks SSSE3/AVX, so the kernel hashes the
# kexec segments with its generic, KASAN-instrumented SHA-256: on the debug
# kernel that is ~9 s per kexec_file_load (the 45 MB bzImage init_size is
# hashed).  "max" gives the guest every feature TCG implements but LA57:
# with 5-level paging the debug kernel took a KASAN wild-memory-access
# report in an interrupt during early boot after a kexec (rcu_is_watching()
# reading a per-CPU address before its shadow exists).  Without AVX2 the
# kernel hashes with sha256_transform_avx, which TCG runs faster than the
# AVX2 one (rorx): 64 % of a kexec_file_load's busy PC samples were there;
# the debug kernel's kexec_file_load took 5.4-6.6 s, against 6.9-7.7 s
# (2026-12-01, 3 + 5 runs of scripts/boot-profile.sh).
# PMTEST_TCG_OPTS=",thread=single" (or any other -accel tcg option) tries a
# TCG variant: one host thread for all vCPUs made two guests side by side
# no faster beyond the noise (2026-12-03), so the default stays MTTCG.
if [ "$accel" = kvm ]; then accel_args=(-accel kvm -cpu host); else accel_args=(-accel "tcg${PMTEST_TCG_OPTS:-}" -cpu "${PMTEST_TCG_CPU:-max,la57=off,avx2=off}"); fi
# shellcheck disable=SC2206
extra=($QEMU_EXTRA)
# The HMP monitor listens on a socket so that a guest that goes silent can be
# looked at before it is killed (scripts/hang-report.py).  It is in /tmp: a
# unix socket's path has at most 107 bytes, and a checkout's may be long.
mon=${TMPDIR:-/tmp}/pmtest-$(id -u)-$name.mon
rm -f "$mon"
start=$(date +%s)
set +e
# The log is opened for appending, so that the runner's own lines (the hang
# report) and QEMU's are not written over each other.
: > "$log"
timeout -k 5 "$TIMEOUT" qemu-system-x86_64 "${accel_args[@]}" -M q35 -smp "$SMP" -m "$MEM" \
	-display none -monitor "unix:$mon,server=on,wait=off" -serial stdio -no-reboot \
	-kernel "$first_kernel" -initrd "$initrd" \
	-append "$cmdline pmtest.boot=1" "${extra[@]}" < /dev/null >> "$log" 2>&1 &
qpid=$!
# Silence watchdog: a guest whose console says nothing for SILENCE seconds is
# hung (the longest quiet stretch seen in a passing debug-kernel log is 29 s,
# a kexec_file_load hashing the image).  Where its vCPUs are goes into the
# log, then it is killed: a hang costs SILENCE, not TIMEOUT.
silent=0 size=-1 quiet_since=$start
while kill -0 "$qpid" 2>/dev/null; do
	sleep 2
	now=$(date +%s) cur=$(stat -c %s "$log" 2>/dev/null || echo 0)
	if [ "$cur" != "$size" ]; then
		size=$cur quiet_since=$now
	elif [ $((now - quiet_since)) -ge "$SILENCE" ]; then
		silent=$((now - quiet_since))
		{
			echo "==== runner: guest silent for ${silent}s; vCPU state follows ===="
			timeout 60 "$top/scripts/hang-report.py" "$mon" "$obj/vmlinux" 2>&1
			echo "==== runner: end of vCPU state ===="
		} >> "$log"
		# QEMU, not timeout(1), and by SIGTERM, on which QEMU exits
		# cleanly (timeout re-raises a fatal signal on itself); by
		# SIGKILL if it has not within 10 s (QEMU itself stuck).
		pkill -TERM -P "$qpid" 2>/dev/null || kill -KILL "$qpid" 2>/dev/null
		for _ in 1 2 3 4 5 6 7 8 9 10; do
			kill -0 "$qpid" 2>/dev/null || break
			sleep 1
		done
		pkill -KILL -P "$qpid" 2>/dev/null
		break
	fi
done
wait "$qpid"
rc=$?
rm -f "$mon"
set -e
secs=$(( $(date +%s) - start ))

# ---- verdict --------------------------------------------------------------
# shellcheck disable=SC1091
. "$top/scripts/judge.sh"
why=""
clean=$(sed -e 's/\r$//' "$log")
if [ "$silent" -gt 0 ]; then
	why="guest hung: console silent for ${silent}s (vCPU state at the end of the log)"
elif [ $rc -eq 124 ] || [ $rc -eq 137 ]; then
	why="timed out after ${TIMEOUT}s"
fi
[ -n "$why" ] || why=$(judge "$clean" "PMTEST: boot $BOOTS end" "boot $BOOTS never finished (qemu rc $rc)")

# KUnit: one result row per test case (KTAP parsed from the serial log).
if [ "$KUNIT" = 1 ]; then
	ktap=$(sed -n 's/^\[ *[0-9.]*\] //p' <<<"$clean")
	ncase=0
	while read -r suite st case; do
		echo "$st kunit:$suite.$case" >> "$results"
		ncase=$((ncase + 1))
	done < <(awk '
		/^    # Subtest: /           { suite = $3 }
		/^KTAP version/              { next }
		/^        (not )?ok [0-9]+ / { next }
		/^    ok [0-9]+ /            { n = $0; sub(/^    ok [0-9]+ /, "", n); sub(/ #.*/, "", n)
		                               if ($0 ~ /# SKIP/) next; print suite, "PASS", n }
		/^    not ok [0-9]+ /        { n = $0; sub(/^    not ok [0-9]+ /, "", n); sub(/ #.*/, "", n)
		                               print suite, "FAIL", n }' <<<"$ktap")
	planned=$(grep -Ec '^# Subtest: |^    # Subtest: ' <<<"$ktap" || true)
	if [ -z "$why" ] && [ "$ncase" = 0 ]; then
		why="no KUnit test case ran"
	fi
	if [ -z "$why" ] && grep -Eq '^(    )?not ok ' <<<"$ktap"; then
		why="KUnit failures: $(grep -E '^    not ok ' <<<"$ktap" | head -3 | tr '\n' ' ')"
	fi
	: "$planned"
fi

if [ -n "$why" ]; then verdict=FAIL; else verdict=PASS; fi
if [ "$EXPECT_FAIL" = 1 ]; then
	if [ "$verdict" = FAIL ] && [ -n "$EXPECT_WHY" ] && ! grep -Eq -- "$EXPECT_WHY" <<<"$why"; then
		verdict=FAIL why="runner judged it FAIL for the wrong reason: $why"
	elif [ "$verdict" = FAIL ]; then
		echo "  (runner self-test: judged FAIL as it must be: $why)"
		verdict=PASS why=""
		# The EXPECT lines are what the runner itself must have logged.
		for re in "${EXPECT[@]}"; do
			if [ -z "$why" ] && ! grep -Eq -- "$re" <<<"$clean"; then
				verdict=FAIL why="runner self-test: log lacks $re"
			fi
		done
	else
		verdict=FAIL why="runner judged a broken scenario PASS"
	fi
fi
printf '%-5s %-40s %4ss  %s\n' "$verdict" "$name" "$secs" "$why"
echo "$verdict scenario:$name ${secs}s $why" >> "$results"
if [ "$verdict" = FAIL ]; then
	echo "---- last 30 lines of $log ----"
	tail -n 30 "$log"
	echo "----"
	exit 1
fi
