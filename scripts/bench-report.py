#!/usr/bin/env python3
"""Aggregate the BENCH lines of `make bench` runs into a table and JSON.

Every figure comes with its baseline measured in the same boot (or, for the
kexec critical path, in the same chain of boots).  Over several runs the
value, baseline and ratio are reported as min / median / max.
"""
import json
import platform
import re
import statistics
import sys

accel, out, logs = sys.argv[1], sys.argv[2], sys.argv[3:]
ROW = re.compile(r'BENCH: name=(\S+) unit=(\S+) value=(\d+) baseline=(\d+) target=(\S+)')
TS = re.compile(r'^\[ *(\d+\.\d+)\] (.*)')

samples = {}   # name -> {"unit", "target", "pairs": [(value, baseline)]}


def add(name, unit, value, baseline, target):
    row = samples.setdefault(name, {"unit": unit, "target": target, "pairs": []})
    row["pairs"].append((value, baseline))


for log in logs:
    held, t_reboot, cp = None, None, {}
    for line in open(log, errors="replace"):
        line = line.rstrip("\r\n")
        m = ROW.search(line)
        if m:
            add(m[1], m[2], int(m[3]), int(m[4]), m[5])
        m = re.search(r'PMTEST: BENCH-KEXEC held_mib=(\d+)', line)
        if m:
            held = int(m[1])
        t = TS.match(line)
        if t and 'kexec-next: reboot(RB_KEXEC)' in t[2]:
            t_reboot = float(t[1])
        if t and 'kexec_core: Starting new kernel' in t[2] and t_reboot is not None:
            if held is not None:
                cp[held] = (float(t[1]) - t_reboot) * 1e6
            held, t_reboot = None, None
    # Work on the kexec path against the same path with nothing in pools.
    for mib, us in sorted(cp.items()):
        if mib and 0 in cp:
            add(f"kexec_path_{mib}MiB_in_pools", "us", us, cp[0], "flat")


def ratio(v, b):
    return v / b if b else None


def met(target, r, v, b):
    if r is None and target != "value<=baseline":
        return None
    if target.startswith("ratio>="):
        return r >= float(target[7:])
    if target.startswith("ratio<="):
        return r <= float(target[7:])
    if target == "value<=baseline":
        return v <= b
    if target == "flat":
        # Same path with nothing held in pools; TCG's run-to-run noise on a
        # few-ms figure is itself tens of percent, growth would be far more.
        return r <= 1.5
    return None


rows = []
for name, s in samples.items():
    vals = [v for v, _ in s["pairs"]]
    bases = [b for _, b in s["pairs"]]
    ratios = [ratio(v, b) for v, b in s["pairs"] if b]
    v, b = statistics.median(vals), statistics.median(bases)
    r = statistics.median(ratios) if ratios else None
    rows.append({
        "name": name, "unit": s["unit"], "value": v, "baseline": b,
        "ratio": r, "target": s["target"], "met": met(s["target"], r, v, b),
        "n": len(vals), "value_min": min(vals), "value_max": max(vals),
        "ratio_min": min(ratios) if ratios else None,
        "ratio_max": max(ratios) if ratios else None,
    })

cpu = "unknown"
try:
    for line in open("/proc/cpuinfo"):
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
except OSError:
    pass
machine = f"{platform.node()} ({cpu}), guest under QEMU {accel.upper()}"
json.dump({"machine": machine, "accel": accel, "rows": rows}, open(out, "w"), indent=1)


def fmt(x):
    if x is None:
        return "-"
    return f"{x:.3g}" if isinstance(x, float) and x < 100 else f"{x:.0f}"


print(f"\npmpool benchmarks: {len(logs)} run(s), {machine}")
print(f"{'row':34} {'unit':6} {'value (min..max)':>24} {'baseline':>10} "
      f"{'ratio (min..max)':>20} {'target':>16} met")
for r in rows:
    span = f"{fmt(r['value'])} ({fmt(r['value_min'])}..{fmt(r['value_max'])})"
    rspan = "-" if r["ratio"] is None else \
        f"{r['ratio']:.2f} ({r['ratio_min']:.2f}..{r['ratio_max']:.2f})"
    m = {True: "yes", False: "NO", None: "-"}[r["met"]]
    print(f"{r['name']:34} {r['unit']:6} {span:>24} {fmt(r['baseline']):>10} "
          f"{rspan:>20} {r['target']:>16} {m}")
print(f"\nwritten: {out}")
