# SPDX-License-Identifier: MIT
# layers.sh - lib/'s files are layers (see lib/internal.h): each calls
# only the files listed before it in libprun_la_SOURCES, so no file calls
# one above it and nothing calls in a circle.  Checked on the object
# files: what each one needs (nm -u) against where it is defined.

: "${LIB_SRCDIR:?}" "${LIB_BUILDDIR:?}"
order=$(sed -n '/^libprun_la_SOURCES/,/^[^	]*$/p' "$LIB_SRCDIR/Makefile.am" |
    tr ' \\\t' '\n\n\n' | sed -n 's/\.c$//p')
[ -n "$order" ] || { echo "no sources found in $LIB_SRCDIR/Makefile.am"; exit 99; }

object() {
    for o in "$LIB_BUILDDIR/.libs/$1.o" "$LIB_BUILDDIR/$1.o"; do
        [ -f "$o" ] && { echo "$o"; return; }
    done
    echo "no object file for $1.c in $LIB_BUILDDIR" >&2
    exit 99
}

defs=$(mktemp) || exit 99
trap 'rm -f "$defs"' EXIT
rank=0
for f in $order; do
    rank=$((rank + 1))
    nm --defined-only "$(object "$f")" | awk -v f="$f" -v r="$rank" '$2 ~ /^[TDBR]$/ { print $3, f, r }' >> "$defs"
done

status=0
rank=0
for f in $order; do
    rank=$((rank + 1))
    for sym in $(nm -u "$(object "$f")" | awk '$1 == "U" && $2 ~ /^prun_/ { print $2 }'); do
        set -- $(awk -v s="$sym" '$1 == s { print $2, $3 }' "$defs")
        if [ $# -eq 0 ]; then
            echo "FAIL: $f.c uses $sym, which no file of lib/ defines"
            status=1
        elif [ "$2" -ge "$rank" ]; then
            echo "FAIL: $f.c calls $sym of $1.c, which is not below it"
            status=1
        fi
    done
done
[ $status -eq 0 ] && echo "PASS: the $rank files of lib/ call only the files below them"
exit $status
