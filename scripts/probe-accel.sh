#!/usr/bin/env bash
# Print "kvm" if a short KVM boot of <bzImage> reaches the kernel's end of
# boot, else "tcg".  /dev/kvm existing is not enough: on some hosts KVM
# creates VMs whose guests then hang or die on an emulation failure.
set -uo pipefail
kernel=$1
if [ -n "${PMTEST_ACCEL:-}" ]; then echo "$PMTEST_ACCEL"; exit 0; fi
if [ ! -r /dev/kvm ] || [ ! -w /dev/kvm ]; then echo tcg; exit 0; fi
out=$(timeout -k 2 20 qemu-system-x86_64 -accel kvm -cpu host -M q35 -m 256M \
	-display none -monitor none -serial stdio -no-reboot \
	-kernel "$kernel" -append "console=ttyS0 panic=-1" </dev/null 2>&1)
# With no initramfs and no root device the kernel panics at the very end of
# boot: reaching that message proves the guest ran to completion under KVM.
if grep -q 'VFS: Unable to mount root fs\|Kernel panic' <<<"$out"; then
	echo kvm
else
	echo tcg
fi
