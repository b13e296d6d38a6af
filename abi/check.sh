#!/bin/sh
# SPDX-License-Identifier: MIT
# abi/check.sh LIBRARY [HEADER] - the ABI check of CI: the built libprun.so
# (and the prun.h it was built from, lib/prun.h by default) against
# the committed baseline, abi/libprun.abi (abidw's description of the
# last release).  Additions pass: new functions, and fields appended to
# the sized structures (prun_opts, prun_result, prun_stage_info), which
# libprun's callers pass with their size.  Anything else that abidiff
# reports fails: a function removed or changed, a field moved, renamed
# or retyped, a structure that is not sized changing size.
#
# The baseline moves only on purpose, with `make abi-baseline`, and NEWS
# says so.  Needs abigail-tools (abidw, abidiff).
set -u
here=$(cd "$(dirname "$0")" && pwd)
so=${1:?usage: abi/check.sh path/to/libprun.so [path/to/prun.h]}
header=${2:-$here/../lib/prun.h}
# abidw matches the header by its absolute path, as the debug info has it.
header=$(cd "$(dirname "$header")" && pwd)/$(basename "$header")
baseline=$here/libprun.abi
tmp=$(mktemp -d) || exit 2
trap 'rm -rf "$tmp"' EXIT

abidw --header-file "$header" --drop-private-types --no-show-locs \
    --no-corpus-path --no-comp-dir-path --type-id-style hash "$so" > "$tmp/new.abi" || exit 2

# For the record: everything, additions included.
abidiff "$baseline" "$tmp/new.abi" > "$tmp/full.txt"
sed 's/^/    /' "$tmp/full.txt"

abidiff --no-added-syms "$baseline" "$tmp/new.abi" > "$tmp/report.txt"
rc=$?
if [ $rc -eq 0 ]; then
    echo "PASS: the ABI of $so is the baseline's, or adds to it"
    exit 0
fi
if [ $((rc & 3)) -ne 0 ]; then
    echo "FAIL: abidiff could not compare (status $rc)"
    exit 1
fi
if [ $((rc & 8)) -ne 0 ]; then
    echo "FAIL: an incompatible ABI change (abidiff status $rc)"
    exit 1
fi

# A change (status 4): only appended fields of the sized structures may
# explain it.  Every line of the report must be one of these.
awk '
    function bad(why) { printf "FAIL: %s: %s\n", why, $0; failed = 1 }
    { sub(/^[ \t]+/, "") }
    /^$/ || /^(Functions|Variables) changes summary:/ { next }
    /^[0-9]+ functions? with some indirect sub-type changes?:$/ { next }
    /^\[C\] .function .* has some indirect sub-type changes:$/ { next }
    /^parameter [0-9]+ of type .* has sub-type changes:$/ { next }
    /^in (pointed to|unqualified underlying) type .*:$/ { next }
    /^underlying type .struct prun_(opts|result|stage_info). .*changed:$/ { sized = 1; next }
    /^type size changed from [0-9]+ to [0-9]+ \(in bits\)$/ {
        if (!sized) { bad("a structure that is not sized changed size"); next }
        old_size = $5 + 0; next
    }
    /^[0-9]+ data member insertions?:$/ { next }
    /^.* at offset [0-9]+ \(in bits\)$/ {
        off = $0; sub(/.* at offset /, "", off); sub(/ .*/, "", off)
        if (off + 0 < old_size) bad("a field inserted before the end")
        next
    }
    { bad("not an addition") }
    END { exit failed }
' "$tmp/report.txt" || { echo "FAIL: the ABI changed other than by additions (see above)"; exit 1; }
echo "PASS: the ABI of $so adds to the baseline's: new functions, appended fields"
exit 0
