# SPDX-License-Identifier: MIT
# exit_status.sh - every exit status rule of prun, in the order they apply.
. "$TOOL_TESTS_DIR/lib.sh"

# 125: prun itself failed, and nothing ran.
status_is 125 "no command" "$PRUN" 2>"$TMP/err"
contains "no command message" "$TMP/err" "Try 'prun --help' for more information."
status_is 125 "unknown option" "$PRUN" --bogus true 2>"$TMP/err"
contains "unknown option message" "$TMP/err" "prun: unrecognized option '--bogus'"
status_is 125 "missing option argument" "$PRUN" -t 2>/dev/null
status_is 125 "bad duration" "$PRUN" -t 5x touch "$TMP/ran" 2>"$TMP/err"
same "bad duration message" "$(cat "$TMP/err")" "prun: invalid time interval '5x'
Try 'prun --help' for more information."
for d in -1 '' 1..2 1e 0x10 inf nan ' 5' '5 s' 5sec 1.5mm +5; do
    status_is 125 "bad duration '$d'" "$PRUN" -t "$d" true 2>/dev/null
done
status_is 125 "bad --kill-after" "$PRUN" -k abc true 2>"$TMP/err"
contains "bad --kill-after message" "$TMP/err" "prun: invalid time interval 'abc'"
status_is 125 "bad signal" "$PRUN" -t 1 -s FOO touch "$TMP/ran" 2>"$TMP/err"
same "bad signal message" "$(cat "$TMP/err")" "prun: 'FOO': invalid signal
Try 'prun --help' for more information."
for s in 65 999999999999 SIG RTMIN+99 RTMAX-99 TERM1 -15 '' -0 EXIT; do
    status_is 125 "bad signal '$s'" "$PRUN" -s "$s" true 2>/dev/null
done
status_is 125 "unreadable --stdin" "$PRUN" --stdin="$TMP/nonexistent" touch "$TMP/ran" 2>"$TMP/err"
same "unreadable --stdin message" "$(cat "$TMP/err")" \
    "prun: cannot open '$TMP/nonexistent' for reading: No such file or directory"
status_is 125 "unwritable --stdout" "$PRUN" --stdout="$TMP/no/such/dir" touch "$TMP/ran" 2>/dev/null
status_is 125 "unwritable --stderr" "$PRUN" --stderr="$TMP/no/such/dir" touch "$TMP/ran" 2>/dev/null
status_is 125 "unwritable --report" "$PRUN" --report="$TMP/no/such/dir" touch "$TMP/ran" 2>/dev/null
status_is 125 "-C to a missing directory" "$PRUN" -C "$TMP/nodir" touch "$TMP/ran" 2>"$TMP/err"
same "-C message" "$(cat "$TMP/err")" "prun: cannot change directory to '$TMP/nodir': No such file or directory"
: > "$TMP/plainfile"
status_is 125 "-C to a file" "$PRUN" -C "$TMP/plainfile" touch "$TMP/ran" 2>/dev/null
status_is 125 "empty stage" "$PRUN" true '|' '|' touch "$TMP/ran" 2>/dev/null
status_is 125 "leading |" "$PRUN" '|' touch "$TMP/ran" 2>/dev/null
status_is 125 "trailing |" "$PRUN" touch "$TMP/ran" '|' 2>/dev/null
check "nothing ran after the 125s" ! -e "$TMP/ran"

# 124: the time ran out.
start=$(now)
status_is 124 "timeout" "$PRUN" -t 0.3 sleep 30
end=$(now)
at_least "the timeout waited" "$(awk "BEGIN{print $end - $start}")" 0.25
below "the timeout was prompt" "$(awk "BEGIN{print $end - $start}")" 5
status_is 124 "timeout, child exits by itself on TERM" \
    "$PRUN" -t 100ms sh -c 'trap "exit 3" TERM; while :; do sleep 1; done' 2>/dev/null
status_is 124 "timeout of a pipeline" "$PRUN" -t 100ms sleep 30 '|' sleep 30

# 137: the time ran out and S died of KILL.
status_is 137 "timeout with -s KILL" "$PRUN" -t 100ms -s KILL sleep 30
status_is 137 "timeout with -s 9 and -p" "$PRUN" -p -t 100ms -s 9 sleep 30

# 127: not found, in any stage, and then nothing is left running.
status_is 127 "not found" "$PRUN" prun-no-such-command 2>"$TMP/err"
same "not found message" "$(cat "$TMP/err")" \
    "prun: failed to run command 'prun-no-such-command': No such file or directory"
status_is 127 "not found in the middle" \
    "$PRUN" sh -c 'echo $$ > "$0"; exec sleep 30' "$TMP/pid" '|' prun-no-such-command '|' cat 2>/dev/null
if [ -s "$TMP/pid" ]; then
    check "the first stage was killed" "$(kill -0 "$(cat "$TMP/pid")" 2>&1 >/dev/null; echo $?)" != 0
fi
status_is 127 "PATH of the child" "$PRUN" -E PATH=/nonexistent sh -c true 2>/dev/null
status_is 127 "missing interpreter" sh -c "printf '#!/nonexistent/sh\n' > '$TMP/badinterp'; chmod +x '$TMP/badinterp'; '$PRUN' '$TMP/badinterp'" 2>/dev/null

# 126: found but not runnable; never run by /bin/sh instead.
mkdir "$TMP/dir"
status_is 126 "a directory" "$PRUN" "$TMP/dir" 2>"$TMP/err"
same "directory message" "$(cat "$TMP/err")" "prun: failed to run command '$TMP/dir': Is a directory"
printf 'touch "%s"\n' "$TMP/shran" > "$TMP/noperm"
chmod 644 "$TMP/noperm"
status_is 126 "not executable" "$PRUN" "$TMP/noperm" 2>"$TMP/err"
same "not executable message" "$(cat "$TMP/err")" "prun: failed to run command '$TMP/noperm': Permission denied"
cp "$TMP/noperm" "$TMP/noshebang"
chmod 755 "$TMP/noshebang"
status_is 126 "no #! line" "$PRUN" "$TMP/noshebang" 2>"$TMP/err"
contains "no #! line message" "$TMP/err" "prun: failed to run command '$TMP/noshebang': Exec format error"
check "never fell back to /bin/sh" ! -e "$TMP/shran"
status_is 126 "not runnable in a pipeline" "$PRUN" true '|' "$TMP/noshebang" 2>/dev/null

# S's exit code: the last stage's, or with --pipefail the rightmost nonzero.
status_is 0 "success" "$PRUN" true
status_is 42 "exit code" "$PRUN" sh -c 'exit 42'
status_is 255 "exit code 255" "$PRUN" sh -c 'exit 255'
status_is 0 "last stage decides" "$PRUN" sh -c 'exit 3' '|' true
status_is 5 "last stage's code" "$PRUN" true '|' sh -c 'exit 5'
status_is 3 "--pipefail" "$PRUN" --pipefail sh -c 'exit 3' '|' true
status_is 4 "--pipefail: rightmost nonzero" "$PRUN" --pipefail sh -c 'exit 3' '|' sh -c 'cat >/dev/null; exit 4' '|' true
status_is 0 "--pipefail, all zero" "$PRUN" --pipefail true '|' true

# S died of signal N: prun dies of N too (core dumps off), as a parent sees.
same "re-raised SEGV seen by sh" "$(sh -c '"$PRUN" sh -c "kill -SEGV \$\$"; echo $?' 2>/dev/null)" 139
same "re-raised TERM seen by sh" "$(sh -c '"$PRUN" sh -c "kill -TERM \$\$"; echo $?' 2>/dev/null)" 143
same "SIGPIPE in the last stage" "$(sh -c '"$PRUN" sh -c "kill -PIPE \$\$"; echo $?' 2>/dev/null)" 141
status_is 0 "yes | head -1: the first stage's SIGPIPE is not the status" "$PRUN" yes '|' head -1 >/dev/null
if [ "$HAVE_PYTHON" = 1 ]; then
    same "python sees -11" "$("$PYTHON" -c 'import subprocess, sys
print(subprocess.run([sys.argv[1], "sh", "-c", "kill -SEGV $$"]).returncode)' "$PRUN")" -11
    same "python sees -15 under --pipefail" "$("$PYTHON" -c 'import subprocess, sys
print(subprocess.run([sys.argv[1], "--pipefail", "sh", "-c", "kill -TERM $$", "|", "true"]).returncode)' "$PRUN")" -15
    # With core dumps allowed, prun still dies without dumping core.
    if (ulimit -c unlimited) 2>/dev/null; then
        same "no core from prun" "$(cd "$TMP" && ulimit -c unlimited && "$PYTHON" -c 'import os, subprocess, sys
p = subprocess.Popen([sys.argv[1], "sh", "-c", "ulimit -c 0; kill -SEGV $$"])
_, st = os.waitpid(p.pid, 0)
print(os.WIFSIGNALED(st) and os.WTERMSIG(st), os.WCOREDUMP(st))' "$PRUN")" "11 False"
        check "no core file" ! -e "$TMP/core"
        rm -f "$TMP"/core*
    fi
fi
# With -p after a timeout: 128+N, as a plain exit status.
status_is 143 "-p after a timeout" "$PRUN" -p -t 100ms sleep 30
if [ "$HAVE_PYTHON" = 1 ]; then
    same "-p: an exit status, not a death" "$("$PYTHON" -c 'import subprocess, sys
print(subprocess.run([sys.argv[1], "-p", "-t", "100ms", "sleep", "30"]).returncode)' "$PRUN")" 143
fi
status_is 3 "-p after a timeout, child exits 3" \
    "$PRUN" -p -t 100ms sh -c 'trap "exit 3" TERM; while :; do sleep 1; done' 2>/dev/null

finish
