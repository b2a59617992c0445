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

# kexec_next [EXTRA_CMDLINE...]: KHO kexec into $NEXT_KERNEL (default
# /kernel, the kernel under test; /stock-kernel is Debian's stock kernel
# when the scenario asks for it) with this initramfs; boot N+1 runs
# /scenario/boot<N+1>.  Never returns on success.
kexec_next_load() {
	local next=$((PMTEST_BOOT + 1))
	# retain_initrd keeps this boot's initramfs in /sys/firmware/initrd, a
	# regular file kexec_file_load() reads directly (no copy to /tmp).
	if ! kexec-next load "${NEXT_KERNEL:-/kernel}" /sys/firmware/initrd \
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

# kexec_classic [EXTRA_CMDLINE...]: like kexec_next, but with kexec-tools'
# kexec_load() (no KHO: the next kernel receives no handover).  Needs
# KEXEC_TOOLS=1 in the scenario's conf.
kexec_classic() {
	local next=$((PMTEST_BOOT + 1))
	if ! kexec -l /kernel --initrd=/sys/firmware/initrd \
	     --append="$(cat /scenario/cmdline) pmtest.boot=$next $*"; then
		fail "kexec_load (kexec-tools) for boot $next"
		return 1
	fi
	info "classic kexec (kexec_load) to boot $next"
	kexec -e
	fail "kexec -e to boot $next returned"
}

# cmdline_arg NAME: the value of NAME=... on this boot's command line.
cmdline_arg() { tr ' ' '\n' < /proc/cmdline | sed -n "s/^$1=//p" | tail -1; }

# meminfo FIELD: value in kB from /proc/meminfo.
meminfo() { awk -v f="$1:" '$1 == f { print $2 }' /proc/meminfo; }

# swiotlb_slabs: this boot's swiotlb size in 2 KiB slabs (it is not in
# MemTotal: a boot whose swiotlb had to shrink shows more MemTotal).
swiotlb_slabs() { cat /sys/kernel/debug/swiotlb/io_tlb_nslabs 2>/dev/null || echo '?'; }

# load_module NAME MODE [PARAM=VALUE...]: insmod NAME.ko mode=MODE; PASS if
# it loads (our modules refuse to load when their own checks fail).  The
# modules are those of the kernel under $PMTEST_MODROOT (set it to /old in
# a boot that runs OLD_KERNEL).
load_module() {
	local name=$1 mode=$2 ko
	shift 2
	ko=$(find "${PMTEST_MODROOT:-}/lib/modules" -name "$name.ko" | head -1)
	if [ -z "$ko" ]; then
		fail "$name.ko not in the initramfs"
		return 1
	fi
	if insmod "$ko" mode="$mode" "$@"; then
		pass "$name mode=$mode $*"
	else
		fail "$name mode=$mode $* refused to load"
		return 1
	fi
}

# sample MODE ...: the pmpool sample (a linked structure over four pools).
sample() { load_module pmpool_sample "$@"; }

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

# edu MODE ...: the iommu-persist sample driver for QEMU's edu device.
edu() { load_module iommu_persist_edu "$@"; }

# leakcheck: on a kmemleak kernel, scan and fail on any suspected leak whose
# backtrace involves pmpool or iommu-persist (run at the end of a scenario).
# Once per boot: a chain's case_end already scanned before /init's own call.
leakcheck() {
	local k=/sys/kernel/debug/kmemleak ours n
	[ -z "${PMTEST_LEAKCHECKED:-}" ] || return 0
	PMTEST_LEAKCHECKED=1
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

# case_begin NAME / case_end NAME: the bounds of one scenario's part of a
# chain (scripts/run-chain.sh), which judges each part on its own.  A part
# ends as a scenario does, with a kmemleak scan (while its modules are
# loaded: kmemleak names their functions only then), and then its modules
# are unloaded (the sample's pools destroyed, so that the next part
# creates them afresh under the same names) before the marker.
case_begin() { echo "PMTEST: case $1 begin"; }
case_end() {
	local m
	leakcheck
	for m in $(awk '{ print $1 }' /proc/modules); do
		rmmod "$m" || fail "case $1: rmmod $m"
	done
	echo "PMTEST: case $1 end"
}
