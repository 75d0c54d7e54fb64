#!/usr/bin/env python3
"""A powercap tree whose counters run at known power, for checking perwatt end to end.

    python3 Benchmarks/fake_rapl.py --root /tmp/rapl --seconds 30 &
    .build/release/perwatt exec --powercap-root /tmp/rapl -- sleep 5

Zones (name:watts:range_joules), default: package-0 at 30 W wrapping every 0.5 s (15 J range),
its dram at 6 W (65.7 kJ range) and its core at 20 W (inside the package). perwatt should report
36 W for the basis rapl:package+dram, with the package wrapping twice a second.

Counters are rewritten in place every millisecond (as RAPL firmware updates them), with fixed-width
values so a reader holding the file open never sees a shorter, stale tail.
"""
import argparse, os, time

p = argparse.ArgumentParser()
p.add_argument("--root", required=True)
p.add_argument("--seconds", type=float, default=60)
p.add_argument("--zone", action="append", help="ID:NAME:WATTS:RANGE_J, e.g. intel-rapl:0:package-0:30:15")
a = p.parse_args()
zones = a.zone or ["intel-rapl:0:package-0:30:15", "intel-rapl:0:0:dram:6:65712.999613", "intel-rapl:0:1:core:20:15"]
fds = []
for spec in zones:
    parts = spec.split(":")
    zid, name, watts, rng = ":".join(parts[:-3]), parts[-3], float(parts[-2]), int(float(parts[-1]) * 1e6)
    d = os.path.join(a.root, zid)
    os.makedirs(d, exist_ok=True)
    open(os.path.join(d, "name"), "w").write(name + "\n")
    open(os.path.join(d, "max_energy_range_uj"), "w").write(f"{rng}\n")
    path = os.path.join(d, "energy_uj")
    open(path, "w").write("%020d\n" % 0)
    fds.append((os.open(path, os.O_WRONLY), watts, rng))
start = time.monotonic()
while time.monotonic() - start < a.seconds:
    t = time.monotonic() - start
    for fd, watts, rng in fds:
        os.pwrite(fd, b"%020d\n" % (int(watts * 1e6 * t) % rng), 0)
    time.sleep(0.001)
