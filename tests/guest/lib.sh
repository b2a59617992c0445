# Helpers for scenario scripts, sourced by /init.
# Verdict lines are "PMTEST: PASS: ..." and "PMTEST: FAIL: ..."; the host
# runner judges the run from them.

pass() { echo "PMTEST: PASS: $*"; }
fail() { echo "PMTEST: FAIL: $*"; }
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
