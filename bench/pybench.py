# SPDX-License-Identifier: MIT
"""pybench.py - Python 3's subprocess as a contender of prun-bench.

    python3 pybench.py CASE STAMP_EXIT

Measures CASE the way prun-bench measures its C contenders (same inputs,
same budgets, same timing, same peak-RSS source: VmHWM of this process)
and prints the same kind of "result" line.  prun-bench runs it in a
fresh process of its own (capture-1G, capture-256M, roundtrip-256M,
wakeup, spawn-*); STAMP_EXIT is the wake-up case's child
(bench/stamp-exit.c).  In spawn-creds-* the contender is "python-creds":
run(user="nobody", umask=0o22), for which subprocess forks (it uses
vfork only without user, group and extra_groups).
"""
import mmap
import os
import statistics
import subprocess
import sys
import time

MiB = 1 << 20
GiB = 1 << 30
QUICK = os.environ.get("BENCH_QUICK", "0") not in ("", "0")


def now_ns():
    return time.monotonic_ns()  # CLOCK_MONOTONIC, like prun-bench


def status_kib(field):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return -1


def which(name):
    for d in (os.environ.get("PATH") or "/bin:/usr/bin").split(":"):
        p = os.path.join(d, name)
        if d and os.access(p, os.X_OK):
            return p
    raise SystemExit("pybench: %s not found on PATH" % name)


def make_resident(target):
    """Anonymous resident memory up to about target bytes of private,
    written pages, made as prun-bench makes it (MAP_POPULATE, then written)."""
    n = max(target - status_kib("RssAnon") * 1024, 1)
    m = mmap.mmap(-1, n, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS | mmap.MAP_POPULATE)
    step = 1 << 20
    block = b"\x01" * step
    for off in range(0, n - step + 1, step):
        m[off:off + step] = block
    m[n - n % step:] = b"\x01" * (n % step)
    return m


def repeat_median(call, min_calls, max_calls, budget_ms):
    """Per-call median after one untimed warm-up call, as prun-bench does."""
    call()
    times = []
    start = now_ns()
    while len(times) < max_calls and (
        len(times) < min_calls or (now_ns() - start) / 1e6 < budget_ms
    ):
        t0 = now_ns()
        call()
        times.append((now_ns() - t0) / 1e6)
    return statistics.median(times), len(times)


def case_spawn(name, resident, creds=False):
    ballast = make_resident(resident)
    rss = status_kib("VmRSS") / 1024

    def call():
        subprocess.run(["/bin/true"], check=True)

    def call_creds():
        subprocess.run(["/bin/true"], user="nobody", umask=0o22, check=True)

    rep = (5, 60, 300) if QUICK else (10, 400, 1500)
    med, n = repeat_median(call_creds if creds else call, *rep)
    who = "python-creds" if creds else "python"
    print("result %s %s t_ms=%.4f n=%d rss_mib=%.0f" % (name, who, med, n, rss))
    ballast.close()


def case_capture(name, size):
    t0 = now_ns()
    res = subprocess.run(
        [which("head"), "-c", str(size), "/dev/zero"], capture_output=True, check=True
    )
    ms = (now_ns() - t0) / 1e6
    hwm = status_kib("VmHWM") / 1024
    if len(res.stdout) != size or res.stdout.count(0) != size:
        raise SystemExit("pybench: wrong output (%d bytes)" % len(res.stdout))
    print(
        "result %s python t_ms=%.1f mb_s=%.0f hwm_mib=%.0f hwm_ratio=%.3f"
        % (name, ms, size / 1e3 / ms, hwm, hwm * MiB / size)
    )


def case_roundtrip(name):
    size = 256 * MiB
    pattern = bytes((((i * 2654435761) & 0xFFFFFFFF) >> 13) & 0xFF for i in range(4096))
    data = pattern * (size // len(pattern))  # the same bytes as prun-bench's input
    t0 = now_ns()
    p = subprocess.Popen([which("cat")], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    out, _ = p.communicate(data)
    ms = (now_ns() - t0) / 1e6
    hwm = status_kib("VmHWM") / 1024
    if p.returncode != 0 or out != data:
        raise SystemExit("pybench: output differs from input (%d bytes)" % len(out))
    print(
        "result %s python t_ms=%.1f mb_s=%.0f hwm_mib=%.0f" % (name, ms, size / 1e3 / ms, hwm)
    )


def case_wakeup(name, stamp_exit):
    n = 4 if QUICK else 12
    lat = []
    for i in range(n):  # lifetimes 20, 25, ... ms, as in prun-bench
        p = subprocess.Popen([stamp_exit, str(20 + 5 * i)], stdout=subprocess.PIPE)
        rc = p.wait(timeout=10)
        woke = now_ns()
        stamp = int(p.stdout.read())
        p.stdout.close()
        if rc != 0:
            raise SystemExit("pybench: stamp-exit child failed")
        lat.append((woke - stamp) / 1e6)
    print(
        "result %s python t_ms=%.4f max_ms=%.4f n=%d"
        % (name, statistics.median(lat), max(lat), n)
    )


def main():
    if len(sys.argv) != 3:
        raise SystemExit("usage: pybench.py CASE STAMP_EXIT")
    name, stamp_exit = sys.argv[1], sys.argv[2]
    if name == "spawn-16M":
        case_spawn(name, 16 * MiB)
    elif name == "spawn-2G":
        case_spawn(name, 2 * GiB)
    elif name == "spawn-creds-16M":
        case_spawn(name, 16 * MiB, creds=True)
    elif name == "spawn-creds-2G":
        case_spawn(name, 2 * GiB, creds=True)
    elif name == "capture-1G":
        case_capture(name, GiB)
    elif name == "capture-256M":
        case_capture(name, 256 * MiB)
    elif name == "roundtrip-256M":
        case_roundtrip(name)
    elif name == "wakeup":
        case_wakeup(name, stamp_exit)
    else:
        raise SystemExit("pybench: no case " + name)
    sys.stdout.flush()


if __name__ == "__main__":
    main()
