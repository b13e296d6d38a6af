# SPDX-License-Identifier: MIT
# lib.sh - helpers for the black-box tests of the prun tool.
# Sourced by tests/tool/*.sh, which run with PRUN set to the built tool
# (see AM_TESTS_ENVIRONMENT in tests/Makefile.am).  POSIX sh.  A test
# exits 0 when every check passed, 77 to skip, 1 otherwise.

if [ -z "${PRUN:-}" ] || [ ! -x "$PRUN" ]; then
    echo "PRUN must name the built prun tool" >&2
    exit 99
fi

TMP=$(mktemp -d "${TMPDIR:-/tmp}/prun-tool.XXXXXX") || exit 99
trap 'rm -rf "$TMP"' EXIT
# No stray core files from the stages that die of SEGV on purpose.
ulimit -c 0 2>/dev/null

# args: prints its arguments as [a][b c]... (for checking how words split)
mkdir "$TMP/bin"
cat > "$TMP/bin/args" <<'ARGS'
#!/bin/sh
for a in "$@"; do printf '[%s]' "$a"; done
echo
ARGS
chmod +x "$TMP/bin/args"
PATH="$TMP/bin:$PATH"
export PATH

# python3 for JSON and subprocess checks, when it is there; the real
# interpreter, as a version-manager shim can cost a second per start.
PYTHON=$(python3 -c 'import json, sys; print(sys.executable)' 2>/dev/null)
if [ -n "$PYTHON" ] && [ -x "$PYTHON" ]; then
    HAVE_PYTHON=1
else
    HAVE_PYTHON=0
fi

failures=0
checks=0

fail() {
    echo "FAIL: $*" >&2
    failures=$((failures + 1))
}

# check DESCRIPTION TEST-ARGS...: one `test` expression.
check() {
    desc=$1
    shift
    checks=$((checks + 1))
    test "$@" || fail "$desc"
}

# status_is WANT DESCRIPTION COMMAND...: COMMAND's exit status is WANT.
status_is() {
    want=$1 desc=$2
    shift 2
    "$@"
    got=$?
    checks=$((checks + 1))
    [ "$got" = "$want" ] || fail "$desc: exit status $got, expected $want"
}

# same DESCRIPTION GOT WANT
same() {
    checks=$((checks + 1))
    [ "$2" = "$3" ] || fail "$1: got '$2', expected '$3'"
}

# contains DESCRIPTION FILE TEXT: FILE has a line containing TEXT.
contains() {
    checks=$((checks + 1))
    grep -F -e "$3" "$2" >/dev/null || {
        fail "$1: '$3' not in $2:"
        sed 's/^/    /' "$2" >&2
    }
}

# lacks DESCRIPTION FILE TEXT
lacks() {
    checks=$((checks + 1))
    ! grep -F -e "$3" "$2" >/dev/null || fail "$1: '$3' unexpectedly in $2"
}

# at_least / below DESCRIPTION X Y: decimal comparisons, by awk.
at_least() {
    checks=$((checks + 1))
    awk -v x="$2" -v y="$3" 'BEGIN { exit !(x + 0 >= y + 0) }' || fail "$1: $2 < $3"
}
below() {
    checks=$((checks + 1))
    awk -v x="$2" -v y="$3" 'BEGIN { exit !(x + 0 < y + 0) }' || fail "$1: $2 >= $3"
}

# json_field FILE EXPR: a Python expression on the parsed report `r`.
json_field() {
    "$PYTHON" -c 'import json, sys
r = json.load(open(sys.argv[1]))
print(eval(sys.argv[2]))' "$1" "$2"
}

# Seconds since the epoch with fractions, for coarse time bounds.
now() {
    date +%s.%N
}

# Seconds since START (a value of now), for coarse time bounds.
since() {
    awk -v s="$1" -v n="$(now)" 'BEGIN { print n - s }'
}

# alive PID: the process exists and is not a zombie (this machine's init
# may be slow to reap, or not reap at all, what is reparented to it).
alive() {
    [ -r "/proc/$1/stat" ] || return 1
    state=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f1)
    [ -n "$state" ] && [ "$state" != Z ] && [ "$state" != X ]
}

# sig_in_mask MASK SIG: whether signal number SIG is in MASK, one of the
# 16 hex digit masks of /proc/PID/status (SigIgn, SigBlk...), split in two
# as a shell's arithmetic may be signed 64-bit.
sig_in_mask() {
    mask_hi=$(printf '%s' "$1" | cut -c1-8)
    mask_lo=$(printf '%s' "$1" | cut -c9-16)
    if [ "$2" -le 32 ]; then
        [ $(( (0x$mask_lo >> ($2 - 1)) & 1 )) = 1 ]
    else
        [ $(( (0x$mask_hi >> ($2 - 33)) & 1 )) = 1 ]
    fi
}

# mask_of FIELD FILE: the mask in a copy of /proc/PID/status.
mask_of() {
    sed -n "s/^$1:[[:space:]]*//p" "$2"
}

# A FIFO a background command writes a line to once it is ready:
# `read_marker NAME` blocks until then (never a sleep).
make_marker() {
    rm -f "$TMP/$1"
    mkfifo "$TMP/$1" || exit 99
}
read_marker() {
    read -r marker_line < "$TMP/$1"
    echo "$marker_line"
}

finish() {
    if [ "$failures" -ne 0 ]; then
        echo "$failures of $checks checks failed" >&2
        exit 1
    fi
    echo "$checks checks passed"
    exit 0
}
