# SPDX-License-Identifier: MIT
# env.sh - -C, -i, -u, -E, and PATH looked up in the child's environment.
. "$TOOL_TESTS_DIR/lib.sh"
cd "$TMP" || exit 99

mkdir -p sub/inner
printf '#!/bin/sh\necho "script in $(pwd)"\n' > sub/script
chmod +x sub/script

same "-C" "$("$PRUN" -C sub pwd)" "$TMP/sub"
same "--chdir=DIR" "$("$PRUN" --chdir="$TMP/sub/inner" pwd)" "$TMP/sub/inner"
same "-C: a relative command is found in DIR" "$("$PRUN" -C sub ./script)" "script in $TMP/sub"
same "-C: files are prun's, relative to its cwd" \
    "$("$PRUN" -C sub --stdout=out.txt pwd; cat out.txt)" "$TMP/sub"
status_is 125 "-C: no such directory" "$PRUN" -C nodir true 2>/dev/null
status_is 125 "-C: not a directory" "$PRUN" -C sub/script true 2>/dev/null

export PRUN_TEST_A=a PRUN_TEST_B=b
same "environment passed on" "$("$PRUN" sh -c 'echo $PRUN_TEST_A$PRUN_TEST_B')" ab
same "-i" "$("$PRUN" -i env)" ""
same "-i -E" "$("$PRUN" -i -E X=1 -E Y=2 env)" "X=1
Y=2"
same "-i: PATH default is /bin:/usr/bin" "$("$PRUN" -i sh -c 'echo found')" found
same "-u" "$("$PRUN" -u PRUN_TEST_A sh -c 'echo ${PRUN_TEST_A-unset}$PRUN_TEST_B')" unsetb
same "--unset=NAME" "$("$PRUN" --unset=PRUN_TEST_B sh -c 'echo ${PRUN_TEST_B-unset}')" unset
same "-E replaces" "$("$PRUN" -E PRUN_TEST_A=new env | grep '^PRUN_TEST_A=')" PRUN_TEST_A=new
same "--env, value with =" "$("$PRUN" --env=PRUN_TEST_C=x=y sh -c 'echo $PRUN_TEST_C')" x=y
same "-E empty value" "$("$PRUN" -E PRUN_TEST_A= env | grep '^PRUN_TEST_A=')" PRUN_TEST_A=
same "-E then -u: in order" "$("$PRUN" -E PRUN_TEST_D=1 -u PRUN_TEST_D sh -c 'echo ${PRUN_TEST_D-unset}')" unset
same "-u then -E: in order" "$("$PRUN" -u PRUN_TEST_A -E PRUN_TEST_A=back sh -c 'echo $PRUN_TEST_A')" back
same "-E twice: the last one, once" "$("$PRUN" -E PRUN_TEST_A=1 -E PRUN_TEST_A=2 env | grep -c '^PRUN_TEST_A=')" 1
same "-i after -E still first" "$("$PRUN" -E K=v -i env)" "K=v"
same "every stage gets it" "$("$PRUN" -E PRUN_TEST_A=z sh -c 'echo $PRUN_TEST_A' '|' sh -c 'cat; echo $PRUN_TEST_A')" "z
z"
status_is 125 "-u NAME=VALUE" "$PRUN" -u A=B true 2>"$TMP/err"
contains "-u NAME=VALUE message" "$TMP/err" "prun: cannot unset 'A=B': Invalid argument"
status_is 125 "-u ''" "$PRUN" -u '' true 2>/dev/null
status_is 125 "-E without =" "$PRUN" -E NOEQUALS true 2>/dev/null
status_is 125 "-E =value" "$PRUN" -E =value true 2>/dev/null

# PATH is the child's: the search follows -E and -i.
status_is 127 "-E PATH=/nonexistent" "$PRUN" -E PATH=/nonexistent sh -c true 2>/dev/null
same "-E PATH finds the child's programs" "$("$PRUN" -E "PATH=$TMP/sub:/usr/bin:/bin" script)" "script in $TMP"
status_is 127 "prun's PATH is not used" sh -c 'PATH="$0/sub:$PATH" "$1" -E PATH=/nonexistent script' "$TMP" "$PRUN" 2>/dev/null

finish
