# SPDX-License-Identifier: MIT
# exports.sh - libprun.so exports exactly the functions prun.h declares
# (PRUN_EXPORT), nothing of the library's insides (prun__*).

: "${LIB_SRCDIR:?}" "${LIB_BUILDDIR:?}"
so=$(ls "$LIB_BUILDDIR"/.libs/libprun.so.*.*.* 2>/dev/null | head -n 1)
if [ -z "$so" ]; then
    echo "SKIP: no shared library was built"
    exit 77
fi
tmp=$(mktemp -d) || exit 99
trap 'rm -rf "$tmp"' EXIT
nm -D --defined-only "$so" | awk '{ sub(/@.*/, "", $3); if ($3 != "") print $3 }' | sort -u > "$tmp/exported"
sed -n 's/^PRUN_EXPORT .*[ *]\(prun_[a-z0-9_]*\)(.*/\1/p' "$LIB_SRCDIR/prun.h" | sort -u > "$tmp/declared"
[ -s "$tmp/declared" ] || { echo "FAIL: no PRUN_EXPORT declarations found in prun.h"; exit 1; }
status=0
for f in $(comm -23 "$tmp/exported" "$tmp/declared"); do
    echo "FAIL: $f is exported but not declared in prun.h"
    status=1
done
for f in $(comm -13 "$tmp/exported" "$tmp/declared"); do
    echo "FAIL: $f is declared in prun.h but not exported"
    status=1
done
[ $status -eq 0 ] && echo "PASS: libprun.so exports the $(wc -l < "$tmp/declared") functions of prun.h and nothing else"
exit $status
