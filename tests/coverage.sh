#!/bin/sh
# SPDX-License-Identifier: MIT
# coverage.sh SRCDIR - `make coverage`: a build of its own with gcov's
# instrumentation (in _build-coverage under the current directory), the
# whole `make check` in it, then the line and branch coverage of each file
# of lib/ and prun/, and the totals of lib/.  "branches" counts the
# branches taken at least once, as gcov -b's "Taken at least once".
set -eu
srcdir=$(cd "${1:?usage: coverage.sh SRCDIR}" && pwd)
build=$(pwd)/_build-coverage
rm -rf "$build"
mkdir -p "$build"
cd "$build"
"$srcdir/configure" --disable-shared CFLAGS='-O0 -g --coverage -fprofile-update=atomic' \
    LDFLAGS='--coverage' > configure.log
make -j"$(nproc)" > make.log 2>&1
status=0
# Processes that run as another user (creds_root.sh: nobody) write their
# counters too, rather than complain on the stderr the tests compare:
# every directory of the build and every counter file is theirs to write.
chmod -R a+w .
umask 000
make -k -j"$(nproc)" check > check.log 2>&1 || { grep -E '^(FAIL|ERROR)' check.log; status=1; }

report() {  # DIR NAME...: one line per file, then the totals
    dir=$1
    shift
    ( cd "$build/$dir" && for f in "$@"; do
        obj=$(ls .libs/"$f".gcda "$f".gcda prun-"$f".gcda 2>/dev/null | head -n 1) || true
        [ -n "$obj" ] || { echo "$f.c - - 0 0 0 0"; continue; }
        gcov -b -n -o "$(dirname "$obj")" "$obj" 2>/dev/null |
            awk -v f="$f.c" '
                /^File / { keep = index($0, "/" f "'"'"'") > 0 || index($0, "'"'"'" f "'"'"'") > 0 }
                keep && /^Lines executed:/ { split($2, a, ":"); l = a[2]; sub("%", "", l); ln = $4 }
                keep && /^Taken at least once:/ { split($4, a, ":"); b = a[2]; sub("%", "", b); bn = $6 }
                END { printf "%s %s %s %d %d %d %d\n", f, l, b,
                      int(l * ln / 100 + 0.5), ln, int(b * bn / 100 + 0.5), bn }'
      done )
}

summarize() {  # TITLE: the table, from report's lines on stdin
    awk -v title="$1" '
        { printf "  %-16s lines %6s%% of %4d   branches %6s%% of %4d\n", $1, $2, $5, $3, $7
          lh += $4; lt += $5; bh += $6; bt += $7 }
        END { printf "%s: lines %.1f%% (%d of %d), branches %.1f%% (%d of %d)\n", title,
              lt ? 100 * lh / lt : 0, lh, lt, bt ? 100 * bh / bt : 0, bh, bt }'
}

lib_files=$(sed -n '/^libprun_la_SOURCES/,/^[^	]*$/p' "$srcdir/lib/Makefile.am" |
    tr ' \\\t' '\n\n\n' | sed -n 's/\.c$//p')
echo "Coverage of lib/ by make check:"
report lib $lib_files | summarize "lib/"
prun_files=$(sed -n '/^prun_SOURCES/,/^[^	]*$/p' "$srcdir/prun/Makefile.am" |
    tr ' \\\t' '\n\n\n' | sed -n 's/\.c$//p' | sort -u)
echo "Coverage of prun/ by make check:"
report prun $prun_files | summarize "prun/"
[ $status -eq 0 ] || echo "make check failed: the coverage above is of what ran" >&2
exit $status
