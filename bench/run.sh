#!/bin/sh
# SPDX-License-Identifier: MIT
# run.sh - the benchmark driver (make bench).
#
# Runs every case for every contender, alternately and in the same run:
# in each round each case runs once per contender, in an order rotated
# from round to round, each contender in a fresh process (see bench.c).
# Then it prints the medians over the rounds, the ratio of each
# contender's time to libprun's (or the prun tool's), and the goals of
# issues 5, 9 and 10, met or missed, as Markdown.
#
# Environment:
#   BENCH_BIN     prun-bench (default: ./prun-bench)
#   PRUN_TOOL     the prun tool (default: ../prun/prun)
#   PYBENCH       pybench.py (default: next to this script)
#   BENCH_QUICK=1 one short round: a smoke test, not a measurement
#   BENCH_ROUNDS  rounds (default 3, or 1 with BENCH_QUICK)
#   BENCH_CASES   the cases to run (default: all), e.g. "spawn-16M wakeup"
#   BENCH_RESULTS keep the raw result lines in this file
#   BENCH_FROM    run nothing: summarize these result files (from BENCH_RESULTS)
set -u

here=$(cd "$(dirname "$0")" && pwd)
BENCH_BIN=${BENCH_BIN:-./prun-bench}
PRUN_TOOL=${PRUN_TOOL:-../prun/prun}
PYBENCH=${PYBENCH:-$here/pybench.py}
BENCH_QUICK=${BENCH_QUICK:-0}
if [ "$BENCH_QUICK" != 0 ]; then rounds=${BENCH_ROUNDS:-1}; else rounds=${BENCH_ROUNDS:-3}; fi
export BENCH_QUICK PYBENCH

results=${BENCH_RESULTS:-$(mktemp)}
[ -n "${BENCH_RESULTS:-}" ] || trap 'rm -f "$results"' EXIT
if [ -n "${BENCH_FROM:-}" ]; then
    # shellcheck disable=SC2086 # a list of files
    cat $BENCH_FROM >"$results.from" && mv "$results.from" "$results"
    rounds=0
else
    : >"$results"
fi

note() { echo "- $*"; }

echo "## Machine"
echo
cpuinfo() { grep -m1 "^$1" /proc/cpuinfo | sed 's/.*: //'; }
note "CPU: $(cpuinfo 'model name') (family $(cpuinfo 'cpu family'), model $(cpuinfo 'model\s'), $(cpuinfo 'cpu MHz') MHz$(grep -qw hypervisor /proc/cpuinfo && echo ', virtual')), $(nproc) online"
note "kernel: $(uname -sr); $(ldd --version 2>&1 | head -1)"
note "memory: $(awk '/MemTotal/ {printf "%.1f GiB", $2 / 1048576}' /proc/meminfo)"
note "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
[ -n "${BENCH_FROM:-}" ] || note "rounds: $rounds$( [ "$BENCH_QUICK" != 0 ] && echo ' (BENCH_QUICK: short budgets, a smoke test)')"
echo

echo "## Contenders"
echo
pairs=$("$BENCH_BIN" list) || { echo "cannot run $BENCH_BIN" >&2; exit 1; }
echo "$pairs" | sed -n 's/^missing \(.*\)/- skipped, not found by configure: \1/p'

BENCH_PYTHON=
if command -v python3 >/dev/null 2>&1; then
    # The interpreter itself, not a wrapper (pyenv shims are shell scripts).
    BENCH_PYTHON=$(python3 -c 'import sys; print(sys.executable)')
    note "python: $("$BENCH_PYTHON" --version 2>&1) ($BENCH_PYTHON)"
    for c in spawn-16M spawn-2G capture-1G capture-256M roundtrip-256M wakeup; do
        pairs="$pairs
$c python"
    done
    for c in spawn-creds-16M spawn-creds-2G; do
        pairs="$pairs
$c python-creds"
    done
else
    note "skipped: python3 is not installed"
fi
export BENCH_PYTHON

# The spawn-creds cases run their child as nobody: only root may.
if [ "$(id -u)" != 0 ]; then
    note "skipped spawn-creds-16M, spawn-creds-2G: they need root (the child runs as user nobody)"
    pairs=$(echo "$pairs" | grep -v '^spawn-creds-')
elif ! getent passwd nobody >/dev/null 2>&1; then
    note "skipped spawn-creds-16M, spawn-creds-2G: there is no user nobody"
    pairs=$(echo "$pairs" | grep -v '^spawn-creds-')
fi
# The child of spawn-tiny and spawn-fds-*, next to prun-bench.
if [ ! -x "$(dirname "$BENCH_BIN")/tiny-exit" ]; then
    note "skipped spawn-tiny, spawn-tiny-interleaved, spawn-fds-*: no tiny-exit next to $BENCH_BIN (x86_64 and aarch64 only)"
    pairs=$(echo "$pairs" | grep -v -e '^spawn-tiny' -e '^spawn-fds-')
fi

# The child of capture-writes-*, next to prun-bench.
if [ ! -x "$(dirname "$BENCH_BIN")/writer" ]; then
    note "skipped capture-writes-*: no writer next to $BENCH_BIN (make writer)"
    pairs=$(echo "$pairs" | grep -v '^capture-writes-')
fi

# The tool's cases need its --timeout and its '|' pipelines.
if ! "$PRUN_TOOL" --timeout 5 true >/dev/null 2>&1; then
    note "skipped tool-true: '$PRUN_TOOL --timeout 5 true' does not work (yet)"
    pairs=$(echo "$pairs" | grep -v '^tool-true ')
fi
if [ "$("$PRUN_TOOL" echo ok '|' tr o O 2>/dev/null)" != Ok ]; then
    note "skipped tool-pipe: '$PRUN_TOOL echo ok '|' tr o O' does not print Ok (yet)"
    pairs=$(echo "$pairs" | grep -v '^tool-pipe ')
fi
export PRUN_TOOL
echo

all_cases=$(echo "$pairs" | awk '$1 != "missing" && !seen[$1]++ {print $1}')
cases=${BENCH_CASES:-$all_cases}

# The contenders of a case, rotated left by $2 places.
contenders_of() {
    echo "$pairs" | awk -v c="$1" -v k="$2" '
        $1 == c { name[n++] = $2 }
        END { for (i = 0; i < n; i++) printf "%s ", name[(i + k) % n] }'
}

start=$(date +%s)
r=1
[ -z "${BENCH_FROM:-}" ] || echo "summarizing $BENCH_FROM" >&2
while [ "$r" -le "$rounds" ]; do
    echo "round $r/$rounds (load $(cut -d' ' -f1 /proc/loadavg))" >&2
    for c in $cases; do
        # shellcheck disable=SC2046 # the names are words
        "$BENCH_BIN" "$c" $(contenders_of "$c" "$((r - 1))") | tee -a "$results" >&2
    done
    r=$((r + 1))
done
elapsed=$(($(date +%s) - start))

echo "## Results"
echo
note "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg); $elapsed s in all"
note "time: per call (spawn-*, tool-true, readline-1M), per transfer (capture, roundtrip, bounded, tool-pipe), per wake-up, per batch (wait-any-1000: start to last reap; wait-any-500-together: release to last reap); medians over the rounds"
note "CPU: user + system time of the measuring process alone (RUSAGE_SELF, children not included) over the same span (per call in readline-1M); medians over the rounds"
note "x libprun: the contender's time over libprun's (over the prun tool's for tool-*) in the same round, median over the rounds (paired, so that the load drifting between rounds cancels out): above 1, libprun is faster"
echo
awk -v quick="$BENCH_QUICK" '
function med(key) { return median_of(vals[key]) }
function median_of(list,    n, i, j, t, v) {
    n = split(list, v, " ")
    for (i = 2; i <= n; i++)
        for (j = i; j > 1 && v[j - 1] + 0 > v[j] + 0; j--) { t = v[j]; v[j] = v[j - 1]; v[j - 1] = t }
    if (n == 0) return ""
    return n % 2 ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2
}
# The median over the rounds of the time of a over that of b in the same round (the
# i-th result of a pair is from round i: each round runs each pair once).
function paired(a, b) { return paired_key(a, b, "t_ms") }
# The same for another key of the result lines (cpu_ms).
function paired_key(a, b, key,    i, list) {
    list = ""
    for (i = 1; i <= occ[a]; i++)
        if ((a SUBSEP key SUBSEP i) in pv && (b SUBSEP key SUBSEP i) in pv && pv[b SUBSEP key SUBSEP i] > 0)
            list = list " " pv[a SUBSEP key SUBSEP i] / pv[b SUBSEP key SUBSEP i]
    return median_of(list)
}
function fmt(x) { return x == "" ? "" : (x < 10 ? sprintf("%.3f", x) : sprintf("%.1f", x)) }
$1 == "failed" {
    k = $2 " " $3; failed[k] = 1; occ[k]++
    if (!(k in seen)) { seen[k] = 1; order[n_order++] = k }
    next
}
$1 != "result" { next }
{
    k = $2 " " $3
    if (!(k in seen)) { seen[k] = 1; order[n_order++] = k }
    rounds[k]++
    occ[k]++
    for (i = 4; i <= NF; i++) {
        split($i, kv, "=")
        vals[k SUBSEP kv[1]] = vals[k SUBSEP kv[1]] " " kv[2]
        pv[k SUBSEP kv[1] SUBSEP occ[k]] = kv[2]
    }
}
END {
    print "| case | contender | time (ms) | x libprun | MB/s | peak RSS (MiB) | RSS / bytes | worst (ms) | CPU (ms) | rounds |"
    print "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|"
    for (i = 0; i < n_order; i++) {
        k = order[i]; split(k, ck, " ")
        ref = (ck[1] ~ /^tool-/ ? "prun" : "libprun")
        t = med(k SUBSEP "t_ms"); pr = paired(k, ck[1] " " ref)
        ratio = pr != "" ? sprintf("%.2f", pr) : ""
        note = (k in failed) ? " (FAILED in some round)" : ""
        printf "| %s | %s%s | %s | %s | %s | %s | %s | %s | %s | %d |\n", ck[1], ck[2], note, fmt(t), ratio,
            med(k SUBSEP "mb_s"), med(k SUBSEP "hwm_mib"), med(k SUBSEP "hwm_ratio"), fmt(med(k SUBSEP "max_ms")),
            fmt(med(k SUBSEP "cpu_ms")), rounds[k]
        T[k] = t; R[k] = med(k SUBSEP "hwm_ratio"); H[k] = med(k SUBSEP "hwm_mib"); C[k] = med(k SUBSEP "cpu_ms")
    }
    print ""
    print "## Goals (issue 5)"
    print ""
    # libprun and raw take turns call by call in spawn-*-interleaved: the
    # steadiest ratio this benchmark has.
    goal_ratio("spawn-16M-interleaved", "raw", "libprun within 1.05x of raw posix_spawn at 16 MiB (interleaved)", "le", 1.05, "libprun/raw")
    goal_ratio("spawn-2G-interleaved", "raw", "libprun within 1.05x of raw posix_spawn at 2 GiB (interleaved)", "le", 1.05, "libprun/raw")
    goal_ratio("spawn-16M", "raw", "libprun within 1.05x of raw posix_spawn at 16 MiB (separate processes)", "le", 1.05, "libprun/raw")
    goal_ratio("spawn-2G", "raw", "libprun within 1.05x of raw posix_spawn at 2 GiB (separate processes)", "le", 1.05, "libprun/raw")
    split("fork glib-spawn_sync libpipeline libuv", forks, " ")
    for (i = 1; i <= 4; i++)
        goal_ratio("spawn-2G", forks[i], "at 2 GiB at least 20x faster than " forks[i] " (fork-based)", "ge", 20, forks[i] "/libprun", 1)
    info_ratio("spawn-2G", "python", "python at 2 GiB (vfork-based since 3.10, so not in the 20x goal)")
    split("glib-spawn_sync glib-GSubprocess libpipeline raw", peers, " ")
    for (i = 1; i <= 4; i++)
        goal_ratio("capture-1G", peers[i], "capture: at least 1.2x the throughput of " peers[i], "ge", 1.2, peers[i] "/libprun", 1)
    goal_ratio("capture-1G", "python", "capture: at least 3x the throughput of python", "ge", 3, "python/libprun", 1)
    goal_value("capture-1G libprun", R, "capture: peak RSS at most 1.2x the bytes captured", "le", 1.2, "RSS/bytes")
    goal_ratio("roundtrip-256M", "raw", "round trip: at least as fast as the raw poll loop", "ge", 1.0, "raw/libprun", 1)
    goal_ratio("roundtrip-256M", "python", "round trip: at least 5x python", "ge", 5, "python/libprun", 1)
    goal_value("bounded-on_output-4G libprun", H, "4 GiB through on_output: peak RSS under 32 MiB", "lt", 32, "MiB")
    goal_value("bounded-max_output-1M libprun", T, "max_output 1 MiB of 4 GiB: returns at once (under 100 ms)", "lt", 100, "ms")
    goal_value("wakeup libprun", T, "wake-up: median under 1 ms", "lt", 1, "ms")
    if (T["wakeup raw"] != "") printf "  - the floor, a plain blocking waitpid(): %.3f ms\n", T["wakeup raw"]
    goal_ratio("tool-true", "timeout", "prun --timeout 5 true within 1.1x of timeout(1)", "le", 1.1, "prun/timeout")
    goal_ratio("tool-pipe", "sh", "prun yes | head within 1.1x of sh", "le", 1.1, "prun/sh")
    print ""
    print "## Goals (issue 9)"
    print ""
    # spawn-tiny: the child costs almost nothing, so the work of the spawner shows.
    goal_bar("spawn-tiny-interleaved", "raw", "tiny static child: libprun within 0.80x of raw posix_spawn (interleaved; the bar is 0.90x)", 0.80, 0.90, "libprun/raw")
    goal_bar("spawn-tiny", "raw", "tiny static child: libprun within 0.80x of raw posix_spawn (separate processes; the bar is 0.90x)", 0.80, 0.90, "libprun/raw")
    info_pair("spawn-tiny vfork", "spawn-tiny raw", "tiny static child: vfork + execve against raw posix_spawn", "vfork/raw")
    info_pair("spawn-tiny vfork", "spawn-tiny libprun", "tiny static child: vfork + execve against libprun", "vfork/libprun")
    # The caller holds 10 or 15,000 more fds; each contender against itself.
    v = paired("spawn-fds-15000 libprun", "spawn-fds-10 libprun")
    if (v == "") printf "- libprun grows at most 1.25x from 10 to 15,000 fds, streams inherited: not measured\n"
    else verdict("libprun grows at most 1.25x from 10 to 15,000 fds, streams inherited", v, "le", 1.25, "15000/10")
    growth("spawn-fds-", "streams inherited")
    growth("spawn-fds-pipe-", "stdout on a pipe (its end is above the 15,000 fds: measured, no goal)")
    # The options, at two sizes of the caller: no fork, so flat.
    goal_ratio("spawn-creds-16M", "libprun-creds", "user, umask, rlimit, pdeathsig cost at most 1.1x a plain libprun spawn at 16 MiB", "le", 1.1, "creds/plain", 1)
    goal_ratio("spawn-creds-2G", "libprun-creds", "the same at 2 GiB (flat: no fork)", "le", 1.1, "creds/plain", 1)
    for (i = 1; i <= 2; i++) {
        c = (i == 1 ? "spawn-creds-16M" : "spawn-creds-2G")
        if (T[c " libprun-creds"] != "" && T[c " libprun"] != "")
            printf "  - %s: the options add %+.0f us per call (median times %s and %s ms)\n", c,
                (T[c " libprun-creds"] - T[c " libprun"]) * 1000, fmt(T[c " libprun-creds"]), fmt(T[c " libprun"])
    }
    info_pair("spawn-creds-2G libprun-creds", "spawn-creds-16M libprun-creds", "libprun with the options, 2 GiB against 16 MiB", "2G/16M")
    info_pair("spawn-creds-2G libprun", "spawn-creds-16M libprun", "plain libprun, 2 GiB against 16 MiB", "2G/16M")
    split("fork-creds glib-child_setup python-creds", cpeers, " ")
    for (i = 1; i <= 3; i++)
        info_pair("spawn-creds-2G " cpeers[i], "spawn-creds-2G libprun-creds", "the same options at 2 GiB by " cpeers[i] " (forks)", cpeers[i] "/libprun-creds")
    print ""
    print "## Goals (issue 10)"
    print ""
    # Capture against the loop a careful C programmer writes: 64 KiB reads
    # into a reused buffer, appended to a doubling buffer (raw-reused).
    split("capture-256M capture-1G", caps, " ")
    for (i = 1; i <= 2; i++) {
        goal_bar(caps[i], "raw-reused", caps[i] ": libprun within 0.90x of the time of the reused-buffer loop (the bar is 1.00x)", 0.90, 1.00, "libprun/raw-reused")
        goal_value(caps[i] " libprun", R, caps[i] ": peak RSS at most 1.05x the bytes captured", "le", 1.05, "RSS/bytes")
        info_pair(caps[i] " libprun", caps[i] " raw", caps[i] ": against the plain loop (reads straight into the growing buffer)", "libprun/raw")
        info_pair(caps[i] " libprun", caps[i] " libpipeline", caps[i] ": against libpipeline", "libprun/libpipeline")
    }
    # The goals of issue 5 against the stronger loop.
    goal_ratio("capture-1G", "raw-reused", "capture (the goal of issue 5, against the reused-buffer loop): at least 1.2x its throughput", "ge", 1.2, "raw-reused/libprun", 1)
    goal_ratio("roundtrip-256M", "raw-reused", "round trip (the goal of issue 5, against the poll loop with a reused buffer): at least as fast", "ge", 1.0, "raw-reused/libprun", 1)
    # A child that writes 1 or 64 bytes per write(2).
    split("capture-writes-1 capture-writes-64", wr, " ")
    split("1-byte 64-byte", wn, " ")
    for (i = 1; i <= 2; i++) {
        goal_ratio(wr[i], "raw", wn[i] " writes (" wr[i] "): libprun within 1.0x of the raw read loop", "le", 1.0, "libprun/raw")
        goal_ratio(wr[i], "raw-reused", wn[i] " writes (" wr[i] "): libprun within 1.0x of the reused-buffer read loop", "le", 1.0, "libprun/raw-reused")
        cpu_pair(wr[i] " libprun", wr[i] " raw", wn[i] " writes: the CPU of the reading process")
    }
    # Many children.
    goal_ratio("wait-any-1000", "raw", "1,000 sleep 0.2 by prun_popen + prun_wait_any within 1.10x of posix_spawn + waitpid(-1) (wall time)", "le", 1.10, "libprun/raw")
    v = paired_key("wait-any-1000 libprun", "wait-any-1000 raw", "cpu_ms")
    if (v != "") verdict("the same in CPU time of the collecting process (start and collect)", v, "le", 1.10, "libprun/raw CPU")
    cpu_pair("wait-any-1000 libprun", "wait-any-1000 raw", "wait-any-1000, CPU of the start phase", "start_cpu_ms")
    cpu_pair("wait-any-1000 libprun", "wait-any-1000 raw", "wait-any-1000, CPU of the collect phase", "collect_cpu_ms")
    goal_value("wait-any-500-together libprun", C, "500 children ending together: collected by prun_wait_any in under 0.35 s of CPU", "lt", 350, "CPU ms")
    cpu_pair("wait-any-500-together libprun", "wait-any-500-together raw", "the same by waitpid(-1)")
    # Lines.
    goal_ratio("readline-1M", "raw", "1 million lines by prun_readline within 1.2x of a raw read loop that splits them (a malloc per line too)", "le", 1.2, "libprun/raw")
    cpu_pair("readline-1M libprun", "readline-1M raw", "readline-1M: CPU per call")
    if (quick != 0) { print ""; print "(BENCH_QUICK: one short round; do not quote these numbers)" }
}
# goal_ratio with a goal and a looser bar: met, only the bar met, or missed.
function goal_bar(c, peer, text, goal, bar, label,    v) {
    v = paired(c " libprun", c " " peer)
    if (v == "") { printf "- %s: not measured\n", text; return }
    printf "- **%s**: %s (%s = %.3f)\n", (v <= goal ? "met" : v <= bar ? "bar met, goal MISSED" : "MISSED"), text, label, v
}
# The medians of a CPU key (cpu_ms unless given) of a and b, and their paired ratio.
function cpu_pair(a, b, text, key,    v, ma, mb, an, bn) {
    if (key == "") key = "cpu_ms"
    v = paired_key(a, b, key); ma = med(a SUBSEP key); mb = med(b SUBSEP key)
    if (v == "" || ma == "" || mb == "") return
    split(a, an, " "); split(b, bn, " ")
    printf "  - %s: %s %s ms, %s %s ms (%s/%s = %.3f)\n", text, an[2], fmt(ma), bn[2], fmt(mb), an[2], bn[2], v
}
function info_pair(a, b, text, label,    v) {
    v = paired(a, b)
    if (v != "") printf "- (for comparison) %s: %s = %.3f\n", text, label, v
}
# Each contender of PREFIX15000 against itself in PREFIX10, paired by round.
function growth(prefix, text,    i, k, ck, v, line) {
    line = ""
    for (i = 0; i < n_order; i++) {
        k = order[i]; split(k, ck, " ")
        if (ck[1] != prefix "15000") continue
        v = paired(k, prefix "10 " ck[2])
        if (v != "") line = line sprintf("%s %s %.2fx (%s to %s ms)", (line == "" ? "" : ";"), ck[2], v, fmt(T[prefix "10 " ck[2]]), fmt(T[k]))
    }
    if (line != "") printf "- growth from 10 to 15,000 fds, %s:%s\n", text, line
}
# The paired ratio: peer time / reference time if peer_over_ref, else the inverse.
function goal_ratio(c, peer, text, op, bound, label, peer_over_ref,    ref, v) {
    ref = c " " (c ~ /^tool-/ ? "prun" : "libprun")
    v = peer_over_ref ? paired(c " " peer, ref) : paired(ref, c " " peer)
    if (v == "") { printf "- %s: not measured\n", text; return }
    verdict(text, v, op, bound, label)
}
function info_ratio(c, peer, text,    v) {
    v = paired(c " " peer, c " libprun")
    if (v != "") printf "- (for comparison) %s: %s/libprun = %.3f\n", text, peer, v
}
function goal_value(k, A, text, op, bound, label) {
    if (!(k in A) || A[k] == "") { printf "- %s: not measured\n", text; return }
    verdict(text, A[k], op, bound, label)
}
function verdict(text, v, op, bound, label,    ok) {
    ok = (op == "le" && v <= bound) || (op == "ge" && v >= bound) || (op == "lt" && v < bound)
    printf "- **%s**: %s (%s = %.3f)\n", (ok ? "met" : "MISSED"), text, label, v
}
' "$results"
