# SPDX-License-Identifier: MIT
# timeout9.sh - prun level with GNU timeout 9.x: -s 0, durations that
# underflow, the dispositions the caller ignores kept in the commands
# (SIGPIPE and SIGXFSZ too), SIGALRM as the time running out, and the
# commands dying with prun (PR_SET_PDEATHSIG), even of SIGKILL.
# Background runs wait for a marker line through a FIFO, or for the EOF of
# a pipe the commands hold, never for a sleep.
. "$TOOL_TESTS_DIR/lib.sh"
cd "$TMP" || exit 99

SIGHUP=1 SIGINT=2 SIGUSR1=10 SIGPIPE=13 SIGALRM=14 SIGTERM=15 SIGCHLD=17 SIGXFSZ=25

# ---- -s 0: signal 0 is sent (nothing happens), then --kill-after applies.
start=$(now)
status_is 137 "-s 0 -k .1 -t .1" "$PRUN" -s 0 -k .1 -t .1 sleep 10
below "-s 0: KILL after the grace" "$(since "$start")" 5
"$PRUN" -v -s 0 -k .1 -t .1 sleep 10 2>err
same "-v names signal 0, then KILL" "$(cat err)" "prun: sending signal 0 to command 'sleep'
prun: sending signal KILL to command 'sleep'"
status_is 124 "-s 0 without -k: the command ends by itself, and the time ran out" \
    "$PRUN" -s 0 -t .1 sh -c 'sleep 0.5; exit 3'
status_is 3 "-s 0 -p: the command's own status" "$PRUN" -p -s 0 -t .1 sh -c 'sleep 0.5; exit 3'
status_is 0 "-s 00" "$PRUN" -s 00 true
status_is 137 "--signal=0" "$PRUN" --signal=0 --timeout=.1 --kill-after=.1 sleep 10
"$PRUN" --report=zero.json -s 0 -k .1 -t .1 sleep 10
contains "-s 0 is not counted as a signal sent, KILL is" zero.json '"timed_out":true,"signal_sent":"KILL"'

# ---- A duration that underflows is the shortest positive time, not none.
start=$(now)
status_is 124 "-t 1e-10000" "$PRUN" -t 1e-10000 sleep 10
status_is 124 "-t 1e-10000ms" "$PRUN" -t 1e-10000ms sleep 10
status_is 124 "-t 0.000001e-9999s" "$PRUN" -t 0.000001e-9999s sleep 10
# USR1, ignored on purpose in the command: only -k's KILL ends it.
status_is 137 "-k 1e-10000" "$PRUN" -s USR1 --ignore-signal=USR1 -t 1e-10000 -k 1e-10000 sleep 10
below "underflows are at once" "$(since "$start")" 5
status_is 0 "-t 0e-10000 is still zero: no limit" "$PRUN" -t 0e-10000 true
status_is 125 "a negative underflow is still refused" "$PRUN" -t -1e-10000 true 2>/dev/null

# ---- What the caller ignores stays ignored in the commands.
nohup "$PRUN" sh -c 'kill -HUP $$; echo survived' > nohup.out 2> nohup.err
same "nohup: HUP stays ignored" "$(cat nohup.out)" survived
same "an ignored INT stays ignored" \
    "$( (trap '' INT; exec "$PRUN" sh -c 'kill -INT $$; echo survived') )" survived
# SIGPIPE ignored: yes gets EPIPE, says so and exits 1, instead of dying.
{ (trap '' PIPE; exec "$PRUN" yes 2> pipe.err); echo $? > pipe.status; } | :
contains "ignored PIPE: yes reports the broken pipe" pipe.err "Broken pipe"
same "ignored PIPE: yes's own status, not 141" "$(cat pipe.status)" 1
# Not ignored, it is at its default: yes dies of SIGPIPE quietly.
status_is 0 "PIPE at its default" "$PRUN" yes '|' head -1 > /dev/null
# SIGXFSZ ignored: a write past --rlimit=fsize fails with EFBIG.
same "ignored XFSZ: the write fails, the shell goes on" \
    "$( (trap '' XFSZ; exec "$PRUN" --rlimit=fsize=1 sh -c 'printf hello > big; echo "went on $?"') 2>/dev/null)" \
    "went on 1"
status_is 153 "XFSZ at its default: death by it" \
    sh -c '"$0" --rlimit=fsize=1 sh -c "printf hello > big2; echo went on"' "$PRUN"
# The masks, as the command itself sees them.
(trap '' HUP INT PIPE USR1 XFSZ; exec "$PRUN" cat /proc/self/status) > status.ign
ign=$(mask_of SigIgn status.ign)
for s in HUP INT PIPE USR1 XFSZ; do
    eval "n=\$SIG$s"
    check "SIG$s ignored by the caller, ignored in the command ($ign)" -n "$(sig_in_mask "$ign" "$n" && echo y)"
done
check "TERM, not ignored, is not" -z "$(sig_in_mask "$ign" $SIGTERM && echo y)"
same "the command's signal mask is empty" "$(mask_of SigBlk status.ign)" 0000000000000000
# As in timeout(1), the timeout signal and SIGALRM are never left ignored:
# the timeout and the parent-death signal must reach the command.
(trap '' TERM ALRM USR1 HUP; exec "$PRUN" -s USR1 cat /proc/self/status) > status.reset
ign=$(mask_of SigIgn status.reset)
check "-s USR1 ignored by the caller: reset in the command" -z "$(sig_in_mask "$ign" $SIGUSR1 && echo y)"
check "ALRM ignored by the caller: reset" -z "$(sig_in_mask "$ign" $SIGALRM && echo y)"
check "TERM, not the timeout signal here, stays ignored" -n "$(sig_in_mask "$ign" $SIGTERM && echo y)"
check "HUP stays ignored" -n "$(sig_in_mask "$ign" $SIGHUP && echo y)"
start=$(now)
status_is 124 "an ignored TERM does not stop the timeout" sh -c 'trap "" TERM; exec "$0" -t .1 sleep 10' "$PRUN"
below "... which is prompt" "$(since "$start")" 5
# An ignored SIGCHLD neither loses the command's status nor reaches it.
status_is 3 "CHLD ignored by the caller" sh -c 'trap "" CHLD; exec "$0" -t 10 sh -c "exit 3"' "$PRUN"
(trap '' CHLD; exec "$PRUN" cat /proc/self/status) > status.chld
check "CHLD at its default in the command" -z "$(sig_in_mask "$(mask_of SigIgn status.chld)" $SIGCHLD && echo y)"

# ---- SIGALRM received by prun is the time running out: the command gets
# the timeout signal, and prun exits with 124, even without -t.
alrm_stage='trap "echo got USR1 > \"\$0.log\"; exit 3" USR1; echo ready > "$0"; while :; do sleep 0.05; done'
make_marker ready
"$PRUN" -s USR1 sh -c "$alrm_stage" "$TMP/ready" &
pid=$!
same "stage ready (ALRM without -t)" "$(read_marker ready)" ready
kill -ALRM "$pid"
wait "$pid"
same "ALRM without -t: 124" "$?" 124
contains "ALRM: the command got -s USR1" ready.log "got USR1"
rm -f ready.log
make_marker ready
start=$(now)
"$PRUN" -p -t 60 -s USR1 --report=alrm.json sh -c "$alrm_stage" "$TMP/ready" &
pid=$!
same "stage ready (ALRM before -t)" "$(read_marker ready)" ready
kill -ALRM "$pid"
wait "$pid"
same "ALRM before -t ran out, -p: the command's status" "$?" 3
below "ALRM did not wait for -t" "$(since "$start")" 30
contains "ALRM is a timeout in the report" alrm.json '"timed_out":true,"signal_sent":"USR1"'
# Once the time has run out, SIGALRM brings --kill-after's KILL forward.
# The first ALRM is the timeout (its -v line says it was taken), the
# second one the KILL.
make_marker ready
mkfifo verbose
start=$(now)
"$PRUN" -v -k 60 sh -c 'trap "" TERM; echo ready > "$0"; while :; do sleep 0.05; done' \
    "$TMP/ready" 2> verbose &
pid=$!
exec 3< verbose
same "stage ready (ALRM after the timeout)" "$(read_marker ready)" ready
kill -ALRM "$pid"
read -r line <&3
same "the first ALRM: the time ran out" "$line" "prun: sending signal TERM to command 'sh'"
kill -ALRM "$pid"
read -r line <&3
same "the second ALRM: KILL" "$line" "prun: sending signal KILL to command 'sh'"
wait "$pid"
same "ALRM after the timeout: KILL now" "$?" 137
exec 3<&-
below "KILL did not wait for -k" "$(since "$start")" 30
# SIGALRM ignored by the caller: reset, and counted (as above); and
# prun's own -v to a pipe that is closed is no reason to die: 124 still.
{ "$PRUN" -v -t .1 sleep 10 2>&1; echo $? > closed.status; } | :
same "-v to a closed pipe: still 124" "$(cat closed.status)" 124

# ---- prun killed, even by SIGKILL: the commands get the timeout signal
# from the kernel.  They hold the pipe to cat: its EOF is their death.
# killed_prun DESC OPTION... -- STAGE...: runs prun in the background,
# each stage writing "ready" to its marker (ready1, ready2) and the first
# one prun's pid to ready1.pid; kills prun with SIGKILL once both are
# ready; then the commands must be gone within 10 s.
stage1='echo $PPID > "$0.pid"; echo ready > "$0"; exec sleep 30'
stage2='echo ready > "$0"; exec sleep 30'
killed_prun() {
    desc=$1 markers=$2
    shift 2
    for m in $markers; do
        make_marker "$m"
    done
    start=$(now)
    { "$PRUN" "$@" 2>&1 & } | cat > /dev/null &
    reader=$!
    for m in $markers; do
        same "$desc: stage ready ($m)" "$(read_marker "$m")" ready
    done
    kill -KILL "$(cat "$TMP/ready1.pid")"
    wait "$reader"
    below "$desc: the commands died with prun" "$(since "$start")" 10
}
killed_prun "one command" ready1 sh -c "$stage1" "$TMP/ready1"
killed_prun "-f" ready1 -f sh -c "$stage1" "$TMP/ready1"
killed_prun "-s KILL, a command that ignores TERM" ready1 -s KILL sh -c "trap '' TERM; $stage1" "$TMP/ready1"
killed_prun "a pipeline" "ready1 ready2" sh -c "$stage1" "$TMP/ready1" '|' sh -c "$stage2" "$TMP/ready2"
killed_prun "a pipeline, -s INT" "ready1 ready2" -s INT sh -c "$stage1" "$TMP/ready1" '|' sh -c "$stage2" "$TMP/ready2"
# -s 0: no parent-death signal, the command lives on.
make_marker ready
"$PRUN" -s 0 sh -c 'echo $$ > "$0.pid"; echo ready > "$0"; exec sleep 30' "$TMP/ready" &
pid=$!
same "stage ready (-s 0)" "$(read_marker ready)" ready
kill -KILL "$pid"
wait "$pid"
orphan=$(cat ready.pid)
check "-s 0: the command outlives prun" -n "$(alive "$orphan" && echo y)"
kill -KILL "$orphan" 2>/dev/null

finish
