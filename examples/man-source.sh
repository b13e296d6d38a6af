# SPDX-License-Identifier: MIT
# man-source.sh - the source of a program shown in a man page.
#
#   sh man-source.sh PAGE FILE         prints the program of PAGE marked FILE
#   sh man-source.sh --markers PAGE... prints "PAGE FILE" for every marker
#   sh man-source.sh --roff FILE       prints FILE as the lines of a .EX block
#
# A page shows a program of examples/ as the .EX ... .EE block that follows
# the comment line
#
#   .\" example: FILE
#
# (other lines, such as .SS Program source, may come in between).  The
# block is turned back into C by undoing the escapes the pages use inside
# .EX: \e (a backslash), \- (a minus), \& (nothing), \(aq, \(dq, \(rs,
# \(ti, \(ha, and \fB, \fI, \fR, \fP (dropped).  Anything else, or a
# request inside the block, is an error, so that a page cannot show what
# the file does not say.  --roff does the reverse, for pasting a changed
# program into its page.  A first line /* SPDX-License-Identifier: ... */
# of the file is not shown in the page.

case $1 in
--markers)
    shift
    for page; do
        sed -n 's/^\.\\" example: *\([^ ]*\) *$/\1/p' "$page" | while read -r file; do
            echo "$page $file"
        done
    done
    exit 0 ;;
--roff)
    sed -e '1{/^\/\* SPDX-License-Identifier: [^*]* \*\/$/d;}' \
        -e 's/\\/\\e/g' -e 's/-/\\-/g' -e "s/'/\\\\(aq/g" -e 's/^\([.]\)/\\\&\1/' "$2"
    exit $? ;;
esac

page=$1 file=$2
[ -r "$page" ] && [ -n "$file" ] || { echo "usage: man-source.sh PAGE FILE" >&2; exit 2; }
awk -v file="$file" -v page="$page" '
function fail(msg) { print page ":" NR ": " msg > "/dev/stderr"; bad = 1; exit 1 }
function unescape(s,    out, c, i, n, name) {
    out = ""
    n = length(s)
    for (i = 1; i <= n; i++) {
        c = substr(s, i, 1)
        if (c != "\\") { out = out c; continue }
        c = substr(s, ++i, 1)
        if (c == "e") out = out "\\"
        else if (c == "-") out = out "-"
        else if (c == "&") ;
        else if (c == "(") {
            name = substr(s, i + 1, 2); i += 2
            if (name == "aq") out = out "\047"
            else if (name == "dq") out = out "\""
            else if (name == "rs") out = out "\\"
            else if (name == "ti") out = out "~"
            else if (name == "ha") out = out "^"
            else fail("unknown escape \\(" name " in the program")
        } else if (c == "f") {
            c = substr(s, ++i, 1)
            if (c !~ /^[BIRP]$/) fail("unknown font escape \\f" c " in the program")
        } else fail("unknown escape \\" c " in the program")
    }
    return out
}
state == 0 && $0 ~ /^\.\\" example: */ {
    name = $0; sub(/^\.\\" example: */, "", name); sub(/ *$/, "", name)
    if (name == file) { state = 1; found = 1 }
    next
}
state == 1 && /^\.EX *$/ { state = 2; next }
state == 1 && /^\.\\" example:/ { fail("a marker before the .EX of " file) }
state == 2 && /^\.EE *$/ { state = 3; exit 0 }
state == 2 && /^[.\047]/ { fail("a request inside the program: " $0) }
state == 2 { print unescape($0) }
END {
    if (bad) exit 1
    if (!found) { print page ": no line .\\\" example: " file > "/dev/stderr"; exit 1 }
    if (state == 1) { print page ": no .EX after the marker of " file > "/dev/stderr"; exit 1 }
    if (state == 2) { print page ": no .EE after the program " file > "/dev/stderr"; exit 1 }
}' "$page"
