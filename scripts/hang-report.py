#!/usr/bin/env python3
"""Say where a silent guest's vCPUs are, from QEMU's HMP monitor.

Usage: hang-report.py <monitor-socket> <vmlinux>

The runner calls it on a guest whose console went quiet, before killing it.
For each vCPU it prints whether it is halted, its RIP as a kernel symbol,
the kernel text addresses found in the top of its stack (a crude backtrace:
some are stale) and its local APIC (timer, pending interrupts).  The KASLR offset comes from the IDT: its gate 0 points at
asm_exc_divide_error.  If the monitor does not answer, QEMU itself is stuck
(or another client, such as pc-profile.py, holds the monitor: it serves one
at a time).
"""
import bisect
import re
import socket
import subprocess
import sys


class Monitor:
    def __init__(self, path):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(10)
        self.sock.connect(path)
        self._read()			# banner

    def _read(self):
        buf = b""
        while not buf.endswith(b"(qemu) "):
            chunk = self.sock.recv(65536)
            if not chunk:
                break
            buf += chunk
        return buf.decode(errors="replace")

    def cmd(self, line):
        self.sock.sendall(line.encode() + b"\n")
        # HMP echoes the command line; drop it and the final prompt.
        return "\n".join(self._read().replace("\r", "").split("\n")[1:-1])


def kernel_symbols(vmlinux):
    addrs, names = [], []
    out = subprocess.run(["nm", "-n", vmlinux], capture_output=True,
                         text=True, check=False).stdout
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[1] in "tTwW":
            addrs.append(int(parts[0], 16))
            names.append(parts[2])
    idt = re.search(r"^([0-9a-f]+) T asm_exc_divide_error$", out, re.M)
    text = (re.search(r"^([0-9a-f]+) T _stext$", out, re.M),
            re.search(r"^([0-9a-f]+) [tTD] _etext$", out, re.M))
    bounds = tuple(int(m.group(1), 16) if m else 0 for m in text)
    return addrs, names, int(idt.group(1), 16) if idt else 0, bounds


def kaslr_offset(mon, cpu, regs, gate0_link):
    """KASLR offset: where IDT gate 0 points, less asm_exc_divide_error."""
    idt = re.search(r"^IDT=\s*([0-9a-f]+)", regs, re.M)
    if not idt or not gate0_link:
        return 0
    mon.cmd("cpu " + cpu)
    gate = [int(w, 16) for w in re.findall(
        r"0x([0-9a-f]{16})", mon.cmd("x/2gx 0x" + idt.group(1)))]
    if len(gate) != 2:
        return 0
    handler = ((gate[0] & 0xffff) | ((gate[0] >> 32) & 0xffff0000) |
               ((gate[1] & 0xffffffff) << 32))
    return handler - gate0_link


def report_cpu(mon, cpu, block, syms):
    """One vCPU: halted or not, RIP, text on its stack, local APIC."""
    addrs, names, idt_link, stext, etext = syms

    def sym(a):
        i = bisect.bisect_right(addrs, a) - 1
        return "%s+0x%x" % (names[i], a - addrs[i]) if i >= 0 else hex(a)

    def reg(name):
        m = re.search(r"\b" + name + r"\s*=\s*([0-9a-f]+)", block)
        return int(m.group(1), 16) if m else 0

    off = kaslr_offset(mon, cpu, block, idt_link)
    rip, rsp = reg("RIP"), reg("RSP")
    hlt = re.search(r"HLT=(\d)", block)
    print("vCPU %s: %s, RIP %s (KASLR offset 0x%x)" %
          (cpu, "halted" if hlt and hlt.group(1) == "1" else "running",
           sym(rip - off), off & 0xffffffffffffffff))
    mon.cmd("cpu " + cpu)
    words = re.findall(r"0x([0-9a-f]{16})", mon.cmd("x/96gx 0x%x" % rsp))
    trail = [sym(w - off) for w in map(lambda x: int(x, 16), words)
             if stext <= w - off < etext]
    print("  text addresses on its stack: " + (", ".join(trail) or "none"))
    # Its local APIC: a halted vCPU whose timer is masked or never
    # fires (no tick, so no hung-task report either) shows it here.
    print("  " + mon.cmd("info lapic").replace("\n", "\n  "))


def main():
    sock_path, vmlinux = sys.argv[1], sys.argv[2]
    try:
        mon = Monitor(sock_path)
        cpus = re.findall(r"CPU #(\d+)", mon.cmd("info cpus"))
        regs = mon.cmd("info registers -a")
    except OSError as e:
        print("monitor did not answer (%s): QEMU itself is stuck" % e)
        return 1
    print(regs)
    addrs, names, idt_link, (stext, etext) = kernel_symbols(vmlinux)
    blocks = re.split(r"^CPU#", regs, flags=re.M)[1:]
    for cpu, block in zip(cpus, blocks):
        try:
            report_cpu(mon, cpu, block, (addrs, names, idt_link, stext, etext))
        except OSError as e:
            print("vCPU %s: the monitor stopped answering (%s)" % (cpu, e))
    return 0


if __name__ == "__main__":
    sys.exit(main())
