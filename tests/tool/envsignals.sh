# SPDX-License-Identifier: MIT
# envsignals.sh - env(1)'s --default-signal, --ignore-signal and
# --block-signal, as GNU env 9.x has them: the dispositions and the mask
# the commands start with (read by cat from its /proc/self/status), the
# order the options apply in, their errors, and what they do to the
# signals prun itself passes on.
. "$TOOL_TESTS_DIR/lib.sh"
cd "$TMP" || exit 99

SIGHUP=1 SIGINT=2 SIGQUIT=3 SIGKILL=9 SIGUSR1=10 SIGPIPE=13 SIGALRM=14 SIGTERM=15 SIGCHLD=17
SIGSTOP=19 SIGTSTP=20 SIGWINCH=28

# masks OPTION...: SigIgn and SigBlk of a command run with OPTION...
masks() {
    "$PRUN" "$@" cat /proc/self/status > status.out
    ign=$(mask_of SigIgn status.out)
    blk=$(mask_of SigBlk status.out)
}
is_set() {  # is_set MASK SIG: y or nothing
    sig_in_mask "$1" "$2" && echo y
}

# --ignore-signal=SIGS: names or numbers, with commas; the rest unchanged.
masks --ignore-signal=INT,SIGPIPE,10
for s in INT PIPE USR1; do
    eval "n=\$SIG$s"
    check "--ignore-signal: $s ignored ($ign)" -n "$(is_set "$ign" "$n")"
done
check "--ignore-signal: TERM untouched" -z "$(is_set "$ign" $SIGTERM)"
same "--ignore-signal: the mask untouched" "$blk" 0000000000000000
masks --ignore-signal=int --ignore-signal=Hup
check "lower case, repeated: INT" -n "$(is_set "$ign" $SIGINT)"
check "lower case, repeated: HUP" -n "$(is_set "$ign" $SIGHUP)"
# Without SIGS: every signal that can be ignored, but SIGCHLD, which prun
# needs to wait for the commands (GNU env: it "might have no effect").
masks --ignore-signal
for s in HUP INT QUIT USR1 PIPE ALRM TERM TSTP WINCH; do
    eval "n=\$SIG$s"
    check "--ignore-signal alone: $s ($ign)" -n "$(is_set "$ign" "$n")"
done
check "--ignore-signal alone: RTMAX" -n "$(is_set "$ign" 64)"
check "--ignore-signal alone: not CHLD" -z "$(is_set "$ign" $SIGCHLD)"
check "--ignore-signal alone: not KILL" -z "$(is_set "$ign" $SIGKILL)"
masks --ignore-signal=CHLD
check "--ignore-signal=CHLD: no effect" -z "$(is_set "$ign" $SIGCHLD)"
status_is 3 "--ignore-signal=CHLD: the status is still the command's" \
    "$PRUN" --ignore-signal=CHLD sh -c 'exit 3'

# --default-signal=SIGS undoes what the caller ignores.
(trap '' INT PIPE HUP; exec "$PRUN" --default-signal=PIPE,INT cat /proc/self/status) > status.out
ign=$(mask_of SigIgn status.out)
check "--default-signal: PIPE back to its default" -z "$(is_set "$ign" $SIGPIPE)"
check "--default-signal: INT back to its default" -z "$(is_set "$ign" $SIGINT)"
check "--default-signal: HUP still ignored" -n "$(is_set "$ign" $SIGHUP)"
(trap '' INT PIPE HUP QUIT; exec "$PRUN" --default-signal cat /proc/self/status) > status.out
same "--default-signal alone: nothing ignored" "$(mask_of SigIgn status.out)" 0000000000000000
# As coreutils' test: seq dies of SIGPIPE quietly instead of "write error".
(trap '' PIPE; exec "$PRUN" --default-signal=PIPE sh -c 'seq 999999 2> seq.err | head -n1 > seq.out')
same "--default-signal=PIPE: seq's first line" "$(cat seq.out)" 1
same "--default-signal=PIPE: and no write error" "$(cat seq.err)" ""

# Left to right, the last one naming a signal wins.
masks --default-signal=INT,PIPE --ignore-signal=INT
check "default INT,PIPE then ignore INT: INT ignored" -n "$(is_set "$ign" $SIGINT)"
check "... PIPE at its default" -z "$(is_set "$ign" $SIGPIPE)"
masks --ignore-signal=INT,PIPE --default-signal=INT
check "ignore INT,PIPE then default INT: INT at its default" -z "$(is_set "$ign" $SIGINT)"
check "... PIPE ignored" -n "$(is_set "$ign" $SIGPIPE)"
masks --ignore-signal --default-signal=TERM
check "ignore all, then default TERM: TERM at its default" -z "$(is_set "$ign" $SIGTERM)"
check "... HUP ignored" -n "$(is_set "$ign" $SIGHUP)"

# --block-signal: the commands' signal mask (empty otherwise); a later
# --default-signal unblocks, as in GNU env.
masks --block-signal=INT,USR1
check "--block-signal: INT blocked ($blk)" -n "$(is_set "$blk" $SIGINT)"
check "--block-signal: USR1 blocked" -n "$(is_set "$blk" $SIGUSR1)"
check "--block-signal: TERM not" -z "$(is_set "$blk" $SIGTERM)"
check "--block-signal: INT not ignored" -z "$(is_set "$ign" $SIGINT)"
masks --block-signal
for s in HUP INT TERM CHLD WINCH; do
    eval "n=\$SIG$s"
    check "--block-signal alone: $s ($blk)" -n "$(is_set "$blk" "$n")"
done
check "--block-signal alone: RTMAX" -n "$(is_set "$blk" 64)"
masks --block-signal --default-signal=INT
check "block all, default INT: INT unblocked" -z "$(is_set "$blk" $SIGINT)"
check "... TERM blocked" -n "$(is_set "$blk" $SIGTERM)"
masks --block-signal=INT --default-signal
same "block INT, default all: nothing blocked" "$blk" 0000000000000000
masks --default-signal --block-signal=INT
check "default all, then block INT: INT blocked" -n "$(is_set "$blk" $SIGINT)"
status_is 0 "--block-signal true (coreutils)" "$PRUN" --block-signal true
"$PRUN" --block-signal=INT true '|' cat /proc/self/status > status.out
check "every stage: the last one's mask too" -n "$(is_set "$(mask_of SigBlk status.out)" $SIGINT)"

# Empty SIGS, or empty items, are no-ops.
masks --ignore-signal= --block-signal=,
same "--ignore-signal= is a no-op" "$ign" 0000000000000000
same "--block-signal=, is a no-op" "$blk" 0000000000000000
masks --ignore-signal=,INT,,
check "empty items are skipped" -n "$(is_set "$ign" $SIGINT)"

# Errors: 125 before anything runs, naming the signal.
status_is 125 "--ignore-signal=FOO" "$PRUN" --ignore-signal=INT,FOO touch ran 2> err
same "--ignore-signal=FOO message" "$(cat err)" "prun: --ignore-signal: 'FOO': invalid signal
Try 'prun --help' for more information."
status_is 125 "--default-signal=0" "$PRUN" --default-signal=0 touch ran 2> err
contains "--default-signal=0 message" err "prun: --default-signal: '0': invalid signal"
status_is 125 "--block-signal=65" "$PRUN" --block-signal=65 touch ran 2> err
contains "--block-signal=65 message" err "prun: --block-signal: '65': invalid signal"
status_is 125 "--ignore-signal=KILL" "$PRUN" --ignore-signal=KILL touch ran 2> err
same "--ignore-signal=KILL message" "$(cat err)" "prun: cannot ignore signal KILL: Invalid argument"
status_is 125 "--default-signal=STOP" "$PRUN" --default-signal=STOP touch ran 2> err
same "--default-signal=STOP message" "$(cat err)" "prun: cannot set signal STOP to its default: Invalid argument"
status_is 127 "--ignore-signal KILL: without =, KILL is the command" "$PRUN" --ignore-signal KILL 2>/dev/null
check "nothing ran after the errors" ! -e ran
status_is 0 "--block-signal=KILL is accepted (and does nothing)" "$PRUN" --block-signal=KILL,STOP true

# What they do to prun: an ignored signal is ignored by prun too, so it
# is neither seen nor passed on (as when prun starts with it ignored);
# one set to its default is passed on, even if the caller ignored it.
handler='trap "echo got USR1 > \"\$0.log\"; exit 7" USR1; sh -c "echo ready > \"\$0\"; exec sleep 30" "$0" & wait'
make_marker ready
"$PRUN" --ignore-signal=USR1 --default-signal=TERM sh -c 'echo ready > "$0"; exec sleep 30' "$TMP/ready" &
pid=$!
same "stage ready (--ignore-signal=USR1)" "$(read_marker ready)" ready
kill -USR1 "$pid"
kill -TERM "$pid"
wait "$pid"
same "--ignore-signal=USR1: not passed on, prun lives; TERM was" "$?" 143
rm -f "$TMP/ready.log"
make_marker ready
(trap '' USR1; exec "$PRUN" --default-signal=USR1 sh -c "$handler" "$TMP/ready") &
pid=$!
same "stage ready (--default-signal=USR1)" "$(read_marker ready)" ready
kill -USR1 "$pid"
wait "$pid"
same "--default-signal=USR1 under an ignored USR1: passed on" "$?" 7
contains "the command got USR1" ready.log "got USR1"
# The timeout signal, ignored on purpose in the commands: -k's KILL ends
# them (coreutils' env-signal-handler test, with prun as both).
"$PRUN" -v -k .1 -s INT -t .1 --ignore-signal=INT sleep 10 2> err
same "-s INT --ignore-signal=INT: INT, then KILL" "$(cat err)" "prun: sending signal INT to command 'sleep'
prun: sending signal KILL to command 'sleep'"
status_is 137 "... 137" "$PRUN" -k .1 -s INT -t .1 --ignore-signal sleep 10
status_is 124 "-s INT alone: INT ends it" "$PRUN" -k 5 -s INT -t .1 sleep 10
status_is 137 "-s RTMAX --ignore-signal=RTMAX" "$PRUN" -k .1 -s RTMAX -t .1 --ignore-signal=RTMAX sleep 10
# The timeout itself works however prun's own signals are set.
status_is 137 "--ignore-signal alone: the timeout still works" "$PRUN" -t .1 -s KILL --ignore-signal sleep 10

finish
