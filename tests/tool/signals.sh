# SPDX-License-Identifier: MIT
# signals.sh - timeouts, --kill-after, --preserve-status, -s, -v, -f, and
# signals sent to prun being forwarded to the stages.  Background runs wait
# for a marker line from the stage through a FIFO, never for a sleep.
. "$TOOL_TESTS_DIR/lib.sh"

# -s: names in any case, with or without SIG, numbers, real-time signals;
# -v says what is sent.
for s in INT SIGINT sigint Int 2; do
    status_is 124 "-s $s" "$PRUN" -v -t 50ms -s "$s" sleep 30 2>"$TMP/err"
    same "-v with -s $s" "$(cat "$TMP/err")" "prun: sending signal INT to command 'sleep'"
done
status_is 124 "-s RTMIN+1" "$PRUN" -v -t 50ms -s RTMIN+1 sleep 30 2>"$TMP/err"
same "-v with RTMIN+1" "$(cat "$TMP/err")" "prun: sending signal RTMIN+1 to command 'sleep'"
status_is 124 "-v on a pipeline" "$PRUN" -v -t 50ms sleep 30 '|' cat 2>"$TMP/err"
same "-v names every stage" "$(cat "$TMP/err")" "prun: sending signal TERM to command 'sleep | cat'"
status_is 0 "-t 1.5m, done in time" "$PRUN" -t 1.5m true
status_is 0 "-t 0 is no limit" "$PRUN" -t 0 true
status_is 0 "-t 1d" "$PRUN" -t 1d -k 1h true
status_is 0 "-t 1e9 (huge)" "$PRUN" -t 1e9d true

# --kill-after on a child that ignores TERM: TERM at 0.2 s, KILL 0.3 s later.
start=$(now)
status_is 137 "--kill-after" \
    "$PRUN" -v -t 0.2 -k 0.3 sh -c 'trap "" TERM; exec sleep 30' 2>"$TMP/err"
elapsed=$(awk "BEGIN { print $(now) - $start }")
same "--kill-after messages" "$(cat "$TMP/err")" "prun: sending signal TERM to command 'sh'
prun: sending signal KILL to command 'sh'"
at_least "TERM, then KILL after the grace" "$elapsed" 0.45
below "KILL came promptly" "$elapsed" 10

# --preserve-status: the command's own status after a timeout.
status_is 143 "-p, died of TERM: 128+15" "$PRUN" -p -t 50ms sleep 30
status_is 137 "-p -k on a TERM-ignoring child" \
    "$PRUN" -p -t 50ms -k 50ms sh -c 'trap "" TERM; exec sleep 30'

# A stopped child still ends: the signal is followed by SIGCONT.
status_is 124 "timeout of a stopped child" "$PRUN" -t 50ms sh -c 'kill -STOP $$; exec sleep 30'

# A forwarded TERM: prun dies of TERM, as the stage did.
make_marker ready
"$PRUN" --report="$TMP/term.json" sh -c 'echo ready > "$0"; exec sleep 30' "$TMP/ready" &
pid=$!
same "stage ready (TERM)" "$(read_marker ready)" ready
kill -TERM "$pid"
wait "$pid"
same "forwarded TERM: prun died of TERM" "$?" 143
contains "the stage died of TERM" "$TMP/term.json" '"signal":"TERM","signal_number":15'
contains "TERM was forwarded" "$TMP/term.json" '"timed_out":false,"signal_sent":"TERM"'

# A forwarded HUP.
make_marker ready
"$PRUN" --report="$TMP/hup.json" sh -c 'echo ready > "$0"; exec sleep 30' "$TMP/ready" &
pid=$!
same "stage ready (HUP)" "$(read_marker ready)" ready
kill -HUP "$pid"
wait "$pid"
same "forwarded HUP: prun died of HUP" "$?" 129
contains "the stage died of HUP" "$TMP/hup.json" '"signal":"HUP","signal_number":1'

# A forwarded signal the stage handles: its exit status is prun's.  The
# marker comes from the stage's child once it runs with USR1 at default
# (a child forked but not yet exec'd would still have the trap).
handler='trap "echo got USR1 > \"\$0.log\"; exit 7" USR1; sh -c "echo ready > \"\$0\"; exec sleep 30" "$0" & wait'
make_marker ready
"$PRUN" sh -c "$handler" "$TMP/ready" &
pid=$!
same "stage ready (USR1)" "$(read_marker ready)" ready
kill -USR1 "$pid"
wait "$pid"
same "handled USR1: the stage's status" "$?" 7
contains "USR1 reached the stage" "$TMP/ready.log" "got USR1"

# A signal ignored when prun started is not forwarded, and stays ignored
# in the stages (as in timeout(1); timeout9.sh checks the dispositions).
rm -f "$TMP/ready.log"
make_marker ready
(trap '' USR1; exec "$PRUN" sh -c "$handler" "$TMP/ready") &
pid=$!
same "stage ready (ignored USR1)" "$(read_marker ready)" ready
kill -USR1 "$pid"
kill -TERM "$pid"
wait "$pid"
same "ignored USR1 not forwarded; TERM was" "$?" 143
check "the stage never saw USR1" ! -e "$TMP/ready.log"

# A forwarded signal starts the --kill-after timer too.
make_marker ready
"$PRUN" -k 0.2 sh -c 'trap "" TERM; echo ready > "$0"; exec sleep 30' "$TMP/ready" &
pid=$!
same "stage ready (-k after a forwarded TERM)" "$(read_marker ready)" ready
kill -TERM "$pid"
wait "$pid"
same "forwarded TERM ignored, then KILL" "$?" 137

# A forwarded signal reaches a stopped stage (SIGCONT follows it).
make_marker ready
"$PRUN" sh -c 'echo ready > "$0"; kill -STOP $$; exec sleep 30' "$TMP/ready" &
pid=$!
same "stage ready (stopped)" "$(read_marker ready)" ready
kill -TERM "$pid"
wait "$pid"
same "forwarded TERM ended a stopped stage" "$?" 143

# The whole group is signalled: a grandchild holding the pipe dies too,
# so cat sees EOF at once.
start=$(now)
"$PRUN" -t 0.2 sh -c 'sleep 30 & wait' | cat
below "grandchild killed with the group" "$(awk "BEGIN { print $(now) - $start }")" 10

# prun's own write to a closed stderr (the -v message) raises a SIGPIPE
# that is nobody else's business: it is not forwarded.
"$PRUN" -v -t 0.1 -k 0.3 sh -c 'trap "" TERM; trap "echo got PIPE > \"\$0\"" PIPE; sleep 30 & wait' \
    "$TMP/pipe.log" 2>&1 | true
check "own SIGPIPE not forwarded" ! -e "$TMP/pipe.log"

# -f: only the stages' own pids are signalled; a grandchild survives.
status_is 124 "-f timeout" "$PRUN" -f -t 0.2 sh -c 'sleep 30 >/dev/null 2>&1 & echo $! > "$0"; wait' "$TMP/gc"
gc=$(cat "$TMP/gc")
check "-f: the grandchild was not signalled" -n "$gc"
if [ -n "$gc" ]; then
    status_is 0 "-f: the grandchild is alive" kill -0 "$gc"
    kill -KILL "$gc" 2>/dev/null
fi

finish
