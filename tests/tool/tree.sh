# SPDX-License-Identifier: MIT
# tree.sh - prun as a child subreaper.  When the time runs out, the
# signal reaches every process below prun, those that left the commands'
# process group or session included, once; --kill-after's KILL reaches
# them too, and with -k prun waits for those that outlive the commands.
# Orphans reparented to prun are reaped.  Without a timeout nothing the
# commands leave behind is touched, and -f keeps to the commands
# themselves.  A descendant holding a pipe to cat says it is gone by
# cat's EOF; SIGALRM makes the time run out when a stage is ready.
. "$TOOL_TESTS_DIR/lib.sh"
cd "$TMP" || exit 99

# A setsid'd grandchild: gone at the timeout.  Its pid in gc.pid.
start=$(now)
{ "$PRUN" -t 1 sh -c 'setsid sh -c "echo \$\$ > gc.pid; exec sleep 30" & sleep 30'; echo $? > st; } | cat
same "setsid'd grandchild: 124" "$(cat st)" 124
below "setsid'd grandchild: gone at the timeout" "$(since "$start")" 10
check "setsid'd grandchild: not alive" -z "$(alive "$(cat gc.pid)" && echo y)"

# An orphan (its parent exited: a daemon's double fork), adopted by prun.
start=$(now)
{ "$PRUN" -t 1 sh -c '(setsid sh -c "echo \$\$ > gc.pid; exec sleep 30" &); sleep 30'; echo $? > st; } | cat
same "orphan: 124" "$(cat st)" 124
below "orphan: gone at the timeout" "$(since "$start")" 10
check "orphan: not alive" -z "$(alive "$(cat gc.pid)" && echo y)"

# A grandchild in a process group of its own (setpgid), in the session.
if [ "$HAVE_PYTHON" = 1 ]; then
    start=$(now)
    { "$PRUN" -t 1 sh -c '"$0" -c "import os; os.setpgid(0, 0); os.execvp(\"sleep\", [\"sleep\", \"30\"])" &
                           echo $! > gc.pid; sleep 30' "$PYTHON"; echo $? > st; } | cat
    same "setpgid'd grandchild: 124" "$(cat st)" 124
    below "setpgid'd grandchild: gone at the timeout" "$(since "$start")" 10
    check "setpgid'd grandchild: not alive" -z "$(alive "$(cat gc.pid)" && echo y)"
fi

# A descendant that ignores TERM outlives the commands: with -k prun waits
# for it and KILLs it at the deadline (1 s after the ALRM), then exits.
make_marker ready
{ "$PRUN" -k 1 sh -c 'echo $PPID > prun.pid
                     setsid sh -c "trap \"\" TERM; echo \$\$ > \"\$0.pid\"; echo ready > \"\$0\"; exec sleep 30" "$0" &
                     exec sleep 30' "$TMP/ready" & } | cat &
reader=$!
same "stage ready (-k)" "$(read_marker ready)" ready
start=$(now)
kill -ALRM "$(cat prun.pid)"
wait "$reader"
elapsed=$(since "$start")
at_least "-k: prun waited for the descendant until KILL" "$elapsed" 0.9
below "-k: and no longer" "$elapsed" 10
check "-k: the descendant was killed" -z "$(alive "$(cat ready.pid)" && echo y)"
# Without -k prun exits when the commands are reaped: the descendant that
# ignores TERM lives on.
make_marker ready
"$PRUN" sh -c 'setsid sh -c "trap \"\" TERM; echo \$\$ > \"\$0.pid\"; echo ready > \"\$0\"; exec sleep 30" "$0" </dev/null >/dev/null 2>&1 &
                                 exec sleep 30' "$TMP/ready" &
pid=$!
same "stage ready (no -k)" "$(read_marker ready)" ready
kill -ALRM "$pid"
wait "$pid"
same "no -k: 124 once the commands are reaped" "$?" 124
check "no -k: the descendant that ignores TERM lives on" -n "$(alive "$(cat ready.pid)" && echo y)"
kill -KILL "$(cat ready.pid)" 2>/dev/null

# The signal goes once to each process: a descendant that cleans up on
# TERM (with a command of its own) finishes, and prun exits when it is
# gone, long before the -k deadline.
make_marker ready
rm -f cleaned
"$PRUN" -k 60 sh -c 'setsid sh -c "trap \"sleep 0.3; echo cleaned > cleaned; exit 0\" TERM; echo ready > \"\$0\"; while :; do sleep 0.05; done" "$0" </dev/null >/dev/null 2>&1 &
                     exec sleep 30' "$TMP/ready" &
pid=$!
same "stage ready (cleanup)" "$(read_marker ready)" ready
start=$(now)
kill -ALRM "$pid"
wait "$pid"
same "cleanup: 124" "$?" 124
below "cleanup: prun left when the descendant was done" "$(since "$start")" 30
same "cleanup: its command was not killed" "$(cat cleaned 2>/dev/null)" cleaned
# A stage's TERM trap runs once, however many scans there are.
make_marker ready
rm -f traps
"$PRUN" -k 0.5 sh -c 'trap "echo TERM >> traps" TERM; echo ready > "$0"; while :; do sleep 0.05; done' "$TMP/ready" &
pid=$!
same "stage ready (trap)" "$(read_marker ready)" ready
kill -ALRM "$pid"
wait "$pid"
same "trap: KILL at -k" "$?" 137
same "trap: TERM came once" "$(cat traps)" TERM

# Without a timeout, a daemon a command starts on purpose lives on.
status_is 0 "a daemon: prun's status" \
    "$PRUN" sh -c 'setsid sh -c "echo \$\$ > daemon.pid; exec sleep 30" </dev/null >/dev/null 2>&1 &'
check "a daemon lives on after prun" -n "$(alive "$(cat daemon.pid)" && echo y)"
kill -KILL "$(cat daemon.pid)" 2>/dev/null
# ... and a forwarded signal goes to the commands' group only.
make_marker ready
"$PRUN" sh -c 'setsid sh -c "echo \$\$ > daemon.pid; echo ready > \"\$0\"; exec sleep 30" "$0" </dev/null >/dev/null 2>&1 &
                exec sleep 30' "$TMP/ready" &
pid=$!
same "stage ready (forwarded)" "$(read_marker ready)" ready
kill -TERM "$pid"
wait "$pid"
same "forwarded TERM: prun died of it" "$?" 143
check "forwarded TERM: the daemon lives on" -n "$(alive "$(cat daemon.pid)" && echo y)"
kill -KILL "$(cat daemon.pid)" 2>/dev/null

# -f: only the commands themselves; the setsid'd grandchild lives on.
make_marker ready
"$PRUN" -f sh -c 'setsid sh -c "echo \$\$ > gc.pid; echo ready > \"\$0\"; exec sleep 30" "$0" </dev/null >/dev/null 2>&1 &
                  exec sleep 30' "$TMP/ready" &
pid=$!
same "stage ready (-f)" "$(read_marker ready)" ready
kill -ALRM "$pid"
wait "$pid"
same "-f: the time ran out" "$?" 124
check "-f: the setsid'd grandchild lives on" -n "$(alive "$(cat gc.pid)" && echo y)"
kill -KILL "$(cat gc.pid)" 2>/dev/null

# An orphan that exits while prun runs is reaped, not left a zombie: it
# was reparented to prun (its parent is prun while it lives), and once it
# has exited (the EOF of its pipe) prun reaps it.  Nothing can be waited
# on for another process's reaping: up to 10 s, in steps of 50 ms.
cat > reaped.sh <<'EOF'
prun_pid=$PPID
mkfifo orphan.fifo
(sh -c 'echo $$ > orphan.pid; read x < orphan.fifo' &)
exec 3> orphan.fifo
orphan=$(cat orphan.pid)
ppid=$(sed 's/.*) //' "/proc/$orphan/stat" | cut -d' ' -f2)
[ "$ppid" = "$prun_pid" ] && echo adopted
echo go >&3
exec 3>&-
i=0
while [ -e "/proc/$orphan" ] && [ $i -lt 200 ]; do
    sleep 0.05
    i=$((i + 1))
done
[ -e "/proc/$orphan" ] || echo reaped
EOF
same "an orphan is adopted and reaped" "$("$PRUN" sh reaped.sh | tr '\n' ' ')" "adopted reaped "

# A child prun had before it started (a shell's background job, then
# exec prun), as in coreutils' tests: no trouble, and no output.
same "a child of prun's own before exec" \
    "$(sh -c 'sleep 0.1 & exec "$0" -t .5 sh -c "sleep 2; echo foo"' "$PRUN"; echo "status $?")" "status 124"

# prun as the init of a PID namespace (coreutils' init-parent test): with
# a /proc of its own, and without (the /proc of the parent namespace,
# where the scans find nothing: the commands' group is signalled anyway).
if [ "$(id -u)" = 0 ] && unshare --pid --fork true 2>/dev/null; then
    start=$(now)
    status_is 124 "init of a PID namespace" unshare --pid --fork --mount-proc "$PRUN" -t .1 sleep 10
    status_is 124 "init of a PID namespace, the parent's /proc" unshare --pid --fork "$PRUN" -t .1 sleep 10
    below "PID namespaces: prompt" "$(since "$start")" 8
    # Not init, in a namespace whose /proc is the parent's: its pids are
    # not prun's, and prun must not signal a sibling whose pid happens to
    # be a descendant's in the other /proc (there, pids 3, 4, 5... are
    # children of pid 2, kthreadd, and prun is pid 2 here).
    same "a foreign /proc: no stranger is signalled" \
        "$(unshare --pid --fork sh -c '"$0" -t .3 sleep 5 & sh -c "trap \"echo sibling got TERM\" TERM; sleep 2 & wait; echo sibling done"; wait' "$PRUN")" \
        "sibling done"
fi

finish
