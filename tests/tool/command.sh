# SPDX-License-Identifier: MIT
# command.sh - -c LINE split without a shell, and --shell.
. "$TOOL_TESTS_DIR/lib.sh"
cd "$TMP" || exit 99

# splits_to DESCRIPTION LINE EXPECTED: `args` prints each word as [word].
splits_to() {
    checks=$((checks + 1))
    got=$("$PRUN" -c "$2" 2>&1)
    [ "$got" = "$3" ] || fail "$1: -c \"$2\" gave '$got', expected '$3'"
}

splits_to "blanks" 'args a  b	c ' '[a][b][c]'
splits_to "single quotes" "args 'b c' 'x\"y' 'back\\slash'" '[b c][x"y][back\slash]'
splits_to "double quotes" 'args "d e" "x\"y" "a\\b" "c\d" "\$x" "\`"' '[d e][x"y][a\b][c\d][$x][`]'
splits_to "backslashes" "args a\\ b \\'q\\' \\| \\\\ \\\$HOME" "[a b]['q'][|][\\][\$HOME]"
splits_to "empty words" "args '' \"\" x" '[][][x]'
splits_to "quotes inside a word" "args pre'mid'\"dle\"post" '[premiddlepost]'
splits_to "quoted metacharacters" \
    "args '\$HOME' 'a*b?' '[x]' '~' 'a;b&c<d>e(f)' \"#\" '|'" \
    '[$HOME][a*b?][[x]][~][a;b&c<d>e(f)][#][|]'
splits_to "~ and # inside a word" 'args a~b x#y a=~' '[a~b][x#y][a=~]'
splits_to "quoted newline" "args 'multi
line'" '[multi
line]'
splits_to "pipeline" 'args a b | tr a-z A-Z' '[A][B]'
splits_to "pipeline without blanks" 'args a|tr a-z A-Z|tr A B' '[B]'
splits_to "three stages" "printf 'x\\ny\\nx\\n' | sort | uniq -c" '      2 x
      1 y'
status_is 3 "-c status" "$PRUN" -c "sh -c 'exit 3'"
status_is 4 "-c --pipefail" "$PRUN" --pipefail -c "sh -c 'exit 4' | true"

# Shell syntax is rejected (125, nothing run) with a pointer at --shell.
rejects() {
    checks=$((checks + 1))
    "$PRUN" -c "$2" 2>"$TMP/err" >/dev/null
    st=$?
    if [ "$st" != 125 ]; then
        fail "$1: -c \"$2\" exit status $st, expected 125"
    elif [ -n "${3:-}" ] && ! grep -F -e "$3" "$TMP/err" >/dev/null; then
        fail "$1: -c \"$2\": '$3' not in '$(cat "$TMP/err")'"
    fi
}
hint="use --shell to run the line with /bin/sh"
rejects '$' 'touch ran $HOME' "a shell would interpret '\$' at column 11; quote or escape it, or $hint"
rejects '`' 'touch ran `date`' "'\`' at column 11"
rejects '*' 'touch ran *.c' "'*' at column 11; quote or escape it, or $hint"
rejects '?' 'touch ran a?' "'?' at column 12"
rejects '[' 'touch ran [ab]' "'[' at column 11"
rejects '~ at a word start' 'touch ran ~/x' "'~' at column 11"
rejects '# at a word start' 'touch ran #comment' "'#' at column 11"
rejects ';' 'touch ran; date' "';' at column 10"
rejects '&' 'touch ran & date' "'&' at column 11"
rejects '&&' 'touch ran && date' "'&' at column 11"
rejects '<' 'touch ran < /dev/null' "'<' at column 11"
rejects '>' 'touch ran > out' "'>' at column 11"
rejects '(' 'touch ran (x)' "'(' at column 11"
rejects ')' 'touch ran x)' "')' at column 12"
rejects 'newline' 'touch ran
date' "a shell would interpret the newline at column 10; quote or escape it, or $hint"
rejects 'backslash-newline' 'touch ran \
date' "the newline at column 12"
rejects '$ in double quotes' 'touch ran "$HOME"' "'\$' at column 12"
rejects '` in double quotes' 'touch ran "`date`"' "'\`' at column 12"
rejects 'unterminated single quote' "touch ran 'abc" "the quote (') at column 11 is never closed"
rejects 'unterminated double quote' 'touch ran "abc' 'the quote (") at column 11 is never closed'
rejects 'trailing backslash' 'touch ran \' "a backslash at the end of the line escapes nothing"
rejects 'empty line' '' "empty command line"
rejects 'blank line' '   ' "empty command line"
rejects 'empty stage' 'touch ran | | cat' "empty command in the pipeline at column 13"
rejects 'leading |' '| touch ran' "empty command in the pipeline at column 1"
rejects 'trailing |' 'touch ran |' "empty command in the pipeline"
rejects '||' 'touch ran || cat' "empty command in the pipeline"
check "nothing ran" ! -e ran
same "the whole message" "$("$PRUN" -c 'echo $HOME' 2>&1)" \
    "prun: --command: a shell would interpret '\$' at column 6; quote or escape it, or $hint"

# -c takes the whole pipeline: no operands after it.
status_is 125 "-c with operands" "$PRUN" -c 'echo a' extra 2>/dev/null

# --shell: /bin/sh -c LINE, one stage.
same "--shell expands and pipes" "$("$PRUN" --shell -c 'echo $((1 + 2)) | tr 3 x')" x
status_is 5 "--shell status" "$PRUN" --shell -c 'exit 5'
status_is 124 "--shell under a timeout" "$PRUN" -t 50ms --shell -c 'sleep 30; sleep 30'
status_is 125 "--shell without -c" "$PRUN" --shell echo hi 2>"$TMP/err"
contains "--shell without -c message" "$TMP/err" "prun: --shell needs --command=LINE"

# Options end at COMMAND; -- ends them too.
same "options end at COMMAND" "$("$PRUN" -t 5 args -l -t 3)" '[-l][-t][3]'
same "-- ends the options" "$("$PRUN" -- args --help)" '[--help]'
same "a lone '|' argument separates stages" "$("$PRUN" args a '|' tr a-z A-Z)" '[A]'
same "'|' glued to a word is a word" "$("$PRUN" args 'a|' '|b')" '[a|][|b]'

finish
