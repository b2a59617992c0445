# Helpers for scenario scripts, sourced by /init.
# Verdict lines are "PMTEST: PASS: ..." and "PMTEST: FAIL: ..."; the host
# runner judges the run from them.

pass() { echo "PMTEST: PASS: $*"; }
PMTEST_FAILS=0
fail() { PMTEST_FAILS=$((PMTEST_FAILS + 1)); echo "PMTEST: FAIL: $*"; }
info() { echo "PMTEST: $*"; }

# check DESCRIPTION COMMAND...: PASS if the command succeeds, else FAIL.
check() {
	local what=$1
	shift
	if "$@"; then pass "$what"; else fail "$what"; fi
}

# kexec_next [EXTRA_CMDLINE...]: KHO kexec into /kernel with this initramfs;
# boot N+1 runs /scenario/boot<N+1>.  Never returns on success.
kexec_next_load() {
	local next=$((PMTEST_BOOT + 1))
	[ -f /tmp/initrd.img ] || cat /sys/firmware/initrd > /tmp/initrd.img
	if ! kexec-next load /kernel /tmp/initrd.img \
	     "$(cat /scenario/cmdline) pmtest.boot=$next $*"; then
		fail "kexec_file_load for boot $next"
		return 1
	fi
	info "kexec loaded for boot $next"
}

kexec_next() {
	kexec_next_load "$@" || return 1
	info "kexec to boot $((PMTEST_BOOT + 1))"
	kexec-next exec
	fail "kexec to boot $((PMTEST_BOOT + 1)) returned"
}

# meminfo FIELD: value in kB from /proc/meminfo.
meminfo() { awk -v f="$1:" '$1 == f { print $2 }' /proc/meminfo; }

# sample MODE [PARAM=VALUE...]: load the pmpool sample module; PASS if it
# loads (it refuses to load when its own checks fail).
sample() {
	local mode=$1 ko
	shift
	ko=$(find /lib/modules -name pmpool_sample.ko | head -1)
	if [ -z "$ko" ]; then
		fail "pmpool_sample.ko not in the initramfs"
		return 1
	fi
	if insmod "$ko" mode="$mode" "$@"; then
		pass "pmpool_sample mode=$mode $*"
	else
		fail "pmpool_sample mode=$mode $* refused to load"
		return 1
	fi
}

# pools: print /sys/kernel/debug/pmpool/pools, prefixed for the log.
pools() {
	sed 's/^/PMTEST: pools: /' /sys/kernel/debug/pmpool/pools
}

# bench PARAM=VALUE...: load the benchmark module (make bench).
bench() {
	insmod "$(find /lib/modules -name pmpool_bench.ko | head -1)" "$@" || {
		fail "pmpool_bench $*"
		return 1
	}
}

# edu MODE [PARAM=VALUE...]: load the iommu-persist edu sample driver.
edu() {
	local mode=$1 ko
	shift
	ko=$(find /lib/modules -name iommu_persist_edu.ko | head -1)
	if [ -z "$ko" ]; then
		fail "iommu_persist_edu.ko not in the initramfs"
		return 1
	fi
	if insmod "$ko" mode="$mode" "$@"; then
		pass "iommu_persist_edu mode=$mode $*"
	else
		fail "iommu_persist_edu mode=$mode $* refused to load"
		return 1
	fi
}

# leakcheck: on a kmemleak kernel, scan and fail on any suspected leak whose
# backtrace involves pmpool or iommu-persist (run at the end of a scenario).
leakcheck() {
	local k=/sys/kernel/debug/kmemleak ours n
	[ -w $k ] || return 0
	echo scan > $k 2>/dev/null || return 0
	n=$(grep -c '^unreferenced object' $k)
	ours=$(grep -E -c 'pmpool|iommu_persist|intel_persist|edu_' $k)
	if [ "$ours" -gt 0 ]; then
		fail "kmemleak: $n suspected leak(s), $ours backtrace line(s) in pmpool/iommu-persist"
		grep -E -B12 'pmpool|iommu_persist|intel_persist|edu_' $k | head -40
	else
		info "kmemleak: $n suspected leak(s), none in pmpool/iommu-persist"
	fi
}
