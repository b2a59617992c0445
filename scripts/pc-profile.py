#!/usr/bin/env python3
"""Sample a running guest's vCPU program counters through QEMU's monitor.

Usage: pc-profile.py <monitor-socket> <vmlinux> <seconds> [<from> <to>]

Asks the monitor for every vCPU's registers about every 20 ms for <seconds>
and prints the kernel functions the busy vCPUs were in, most frequent first,
counting only samples between <from> and <to> seconds after the start.
Under TCG no perf is available in the guest; this is how the kexec_file_load
time was found to be in the AVX2 SHA-256.  The sampling itself slows the
guest by about a fifth, so read ratios, not absolute times.  Start it as the
guest starts (the runner's socket is /tmp/pmtest-<uid>-<scenario>.mon); one
boot only, as a kexec changes the KASLR offset.
"""
import bisect
import collections
import importlib.util
import os
import re
import sys
import time

spec = importlib.util.spec_from_file_location(
    "hang_report", os.path.join(os.path.dirname(__file__), "hang-report.py"))
hang_report = importlib.util.module_from_spec(spec)
spec.loader.exec_module(hang_report)


def main():
    sock, vmlinux, secs = sys.argv[1], sys.argv[2], float(sys.argv[3])
    lo, hi = (float(sys.argv[4]), float(sys.argv[5])) if len(sys.argv) > 5 else (0, secs)
    for _ in range(100):
        try:
            mon = hang_report.Monitor(sock)
            break
        except OSError:
            time.sleep(0.1)
    else:
        print("no monitor at " + sock)
        return 1
    addrs, names, gate0_link, _ = hang_report.kernel_symbols(vmlinux)
    start, samples, off = time.time(), [], None
    while time.time() - start < secs:
        regs = mon.cmd("info registers -a")
        now = time.time() - start
        for block in re.split(r"^CPU#", regs, flags=re.M)[1:]:
            rip, hlt = re.search(r"RIP=([0-9a-f]+)", block), re.search(r"HLT=(\d)", block)
            if rip and hlt:
                samples.append((now, int(rip.group(1), 16), hlt.group(1) == "1"))
        if off is None and now > 3:
            off = hang_report.kaslr_offset(mon, "0", regs.split("CPU#1")[0], gate0_link)
        time.sleep(0.02)
    off = off or 0

    def sym(a):
        i = bisect.bisect_right(addrs, a - off) - 1
        return names[i] if i >= 0 else "(user or unknown)"

    count = collections.Counter(sym(rip) if not hlt else "(halted)"
                                for t, rip, hlt in samples if lo <= t <= hi)
    total = sum(count.values())
    print("%d samples (both vCPUs), %.0f-%.0f s" % (total, lo, hi))
    for name, n in count.most_common(30):
        print("%6d %5.1f%%  %s" % (n, 100.0 * n / total, name))
    return 0


if __name__ == "__main__":
    sys.exit(main())
