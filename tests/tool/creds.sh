# SPDX-License-Identifier: MIT
# creds.sh - --umask and --rlimit, applied to every stage, and the errors
# of every credential and limit option (125, naming what is wrong, before
# anything runs).  creds_root.sh has --user, --group and --groups at work.
. "$TOOL_TESTS_DIR/lib.sh"
cd "$TMP" || exit 99

# ---- --umask=MODE (octal)
same "--umask=077" "$("$PRUN" --umask=077 sh -c umask)" 0077
same "--umask=0" "$("$PRUN" --umask=0 sh -c umask)" 0000
same "--umask=0777" "$("$PRUN" --umask=0777 sh -c umask)" 0777
same "--umask, every stage" "$("$PRUN" --umask=027 sh -c umask '|' sh -c 'cat; umask' | tr '\n' ' ')" "0027 0027 "
"$PRUN" --umask=026 touch made
same "--umask: a file's mode" "$(stat -c %a made)" 640
same "no --umask: the caller's" "$(umask 023; "$PRUN" sh -c umask)" 0023
for m in 8 1000 abc '' -022 u=rwx 0o22 ' 22'; do
    status_is 125 "--umask='$m'" "$PRUN" --umask="$m" touch ran 2>err
done
same "--umask message" "$(cat err)" "prun: invalid umask ' 22': an octal mode from 0 to 777 is needed
Try 'prun --help' for more information."

# ---- --rlimit=RESOURCE=SOFT[:HARD], repeatable
same "--rlimit: SOFT alone sets both" "$("$PRUN" --rlimit=nofile=64 sh -c 'ulimit -Sn; ulimit -Hn' | tr '\n' ' ')" "64 64 "
same "--rlimit: SOFT:HARD" "$("$PRUN" --rlimit=nofile=32:64 sh -c 'ulimit -Sn; ulimit -Hn' | tr '\n' ' ')" "32 64 "
hard_n=$(ulimit -Hn)
same "--rlimit: SOFT: keeps the hard limit" "$("$PRUN" --rlimit=nofile=16: sh -c 'ulimit -Sn; ulimit -Hn' | tr '\n' ' ')" "16 $hard_n "
same "--rlimit: :HARD keeps the soft limit" "$("$PRUN" --rlimit=core=:0 sh -c 'ulimit -Hc' 2>&1)" 0
same "--rlimit: the last one of a resource wins" \
    "$("$PRUN" --rlimit=nofile=50 --rlimit=nofile=40:60 sh -c 'ulimit -Sn; ulimit -Hn' | tr '\n' ' ')" "40 60 "
same "--rlimit: several resources" \
    "$("$PRUN" --rlimit=nofile=50 --rlimit=core=0 --rlimit=cpu=100:unlimited sh -c 'ulimit -n; ulimit -c; ulimit -t' | tr '\n' ' ')" \
    "50 0 100 "
same "--rlimit: every stage" "$("$PRUN" --rlimit=nofile=48 sh -c 'ulimit -n' '|' sh -c 'cat; ulimit -n' | tr '\n' ' ')" "48 48 "
same "--rlimit: prun's own limits are not changed" "$("$PRUN" --rlimit=nofile=48 true; ulimit -Sn)" "$(ulimit -Sn)"
if [ "$(ulimit -Hf)" = unlimited ]; then
    same "--rlimit=fsize=unlimited" "$("$PRUN" --rlimit=fsize=unlimited sh -c 'ulimit -f')" unlimited
fi
# A limit the kernel refuses: the library's sentence, 125.
status_is 125 "--rlimit=nofile=unlimited: beyond nr_open" "$PRUN" --rlimit=nofile=unlimited touch ran 2>err
same "a refused limit: the library's sentence" "$(cat err)" \
    "prun: cannot set the nofile limit of 'touch': Operation not permitted"
# Bad ones: usage errors naming the part at fault.
rlimit_error() {  # rlimit_error ARG MESSAGE
    status_is 125 "--rlimit='$1'" "$PRUN" --rlimit="$1" touch ran 2>err
    same "--rlimit='$1' message" "$(head -1 err)" "prun: invalid --rlimit '$1': $2"
}
rlimit_error foo=1 "unknown resource 'foo'"
rlimit_error NOFILE=1 "unknown resource 'NOFILE'"
rlimit_error nofile=abc "invalid limit 'abc' (a number or unlimited)"
rlimit_error nofile=1:x "invalid limit 'x' (a number or unlimited)"
rlimit_error nofile=-1 "invalid limit '-1' (a number or unlimited)"
rlimit_error nofile= "invalid limit '' (a number or unlimited)"
rlimit_error nofile=18446744073709551616 "invalid limit '18446744073709551616' (a number or unlimited)"
rlimit_error nofile=10:5 "the soft limit is above the hard limit"
rlimit_error nofile=unlimited:5 "the soft limit is above the hard limit"
rlimit_error "nofile=:0" "the soft limit would be above the hard limit"
rlimit_error nofile "expected RESOURCE=SOFT[:HARD]"
rlimit_error =5 "expected RESOURCE=SOFT[:HARD]"
rlimit_error nofile=: "expected RESOURCE=SOFT[:HARD]"

# ---- --user, --group, --groups: the errors known before anything runs
status_is 125 "-U ''" "$PRUN" -U '' touch ran 2>err
same "-U '' message" "$(cat err)" "prun: invalid user '': a name or a number is needed
Try 'prun --help' for more information."
status_is 125 "--group=" "$PRUN" --group= touch ran 2>err
contains "--group= message" err "prun: invalid group '': a name or a number is needed"
for g in , a, ,a a,,b; do
    status_is 125 "--groups='$g'" "$PRUN" --groups="$g" touch ran 2>err
done
same "--groups message" "$(head -1 err)" "prun: invalid --groups 'a,,b': an empty group name at column 3"
# Names are looked up by the library as the commands start: still 125,
# with its sentence, and nothing runs.
status_is 125 "an unknown user" "$PRUN" -U prun-no-such-user touch ran 2>err
same "an unknown user: the library's sentence" "$(cat err)" \
    "prun: no user 'prun-no-such-user' in the user database: No such file or directory"
status_is 125 "an unknown group" "$PRUN" -G prun-no-such-group touch ran 2>err
same "an unknown group: the library's sentence" "$(cat err)" \
    "prun: no group 'prun-no-such-group' in the group database: No such file or directory"
status_is 125 "an unknown group in --groups" "$PRUN" --groups=prun-no-such-group touch ran 2>err
contains "an unknown group in --groups: named" err "no group 'prun-no-such-group' in the group database"
status_is 125 "an unknown user in a pipeline" "$PRUN" -U prun-no-such-user true '|' touch ran 2>/dev/null
check "nothing ran after the errors" ! -e ran
# ... and a command that is not found is still 127, not found is not
# run (126), whatever the options (creds_root.sh: with --user too).
status_is 127 "--rlimit: a command not found is still 127" \
    "$PRUN" --umask=022 --rlimit=nofile=64 prun-no-such-command 2>err
same "... with prun's message" "$(cat err)" "prun: failed to run command 'prun-no-such-command': No such file or directory"
: > noexec
status_is 126 "--rlimit: a command that cannot run is still 126" "$PRUN" --rlimit=nofile=64 ./noexec 2>/dev/null

finish
