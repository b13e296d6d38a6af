# SPDX-License-Identifier: MIT
# tty.sh - the terminal: when prun's stdin is its controlling terminal and
# prun is in the foreground, the stages' group gets the terminal and prun
# takes it back afterwards; Ctrl-Z stops prun with its stages, and fg/bg
# continue them.  Python's pty module plays the terminal and the shell.
. "$TOOL_TESTS_DIR/lib.sh"
cd "$TMP" || exit 99

if [ "$HAVE_PYTHON" = 0 ]; then
    echo "python3 is needed for the terminal tests" >&2
    exit 77
fi

# A non-interactive sh as the session leader, in the foreground.
cat > pty.py <<'PY'
import os, sys
pid, fd = os.forkpty()
if pid == 0:
    os.execvp("sh", ["sh", sys.argv[2], sys.argv[1]])
out = b""
while True:
    try:
        chunk = os.read(fd, 4096)
    except OSError:
        break
    if not chunk:
        break
    out += chunk
os.waitpid(pid, 0)
sys.stdout.write(out.decode().replace("\r", ""))
PY
cat > pty.sh <<'SH'
"$1" sh -c 'echo stage $(ps -o tpgid= -o pgid= -p $$)'
"$1" -f sh -c 'echo fg $(ps -o tpgid= -o pgid= -p $$)'
"$1" -t 50ms sleep 30; echo timeout $?
echo after $(ps -o tpgid= -o pgid= -p $$) $$
SH
# stdin from /dev/null: were fd 0 closed (CI has no stdin), the scripts'
# own pipes would take it, and the terminal's slave would lose it.
"$PYTHON" pty.py "$PRUN" pty.sh < /dev/null > pty.out 2>&1
sh_pgid=$(awk '$1 == "after" { print $4 }' pty.out)
same "the stages' group owns the terminal" \
    "$(awk -v s="$sh_pgid" '$1 == "stage" { print ($2 == $3 && $3 != s) }' pty.out)" 1
same "-f: the stage stays in the caller's foreground group" \
    "$(awk -v s="$sh_pgid" '$1 == "fg" { print ($2 == s && $3 == s) }' pty.out)" 1
contains "a timeout under a terminal" pty.out "timeout 124"
same "prun gave the terminal back" "$(awk '$1 == "after" { print ($2 == $3) }' pty.out)" 1

# An interactive shell's job control: the stage stops itself with TSTP
# (Ctrl-Z), so prun takes the terminal back and stops too; then the shell
# continues prun in the foreground (fg) or the background (bg).
cat > jobshell.py <<'PY'
import os, signal, sys

mode, prun, args = sys.argv[1], sys.argv[2], sys.argv[3:]
r, w = os.pipe()
pid, master = os.forkpty()
if pid == 0:
    os.close(r)
    def say(*words):
        os.write(w, (" ".join(str(x) for x in words) + "\n").encode())
    signal.signal(signal.SIGTTOU, signal.SIG_IGN)  # tcsetpgrp from the background
    job = os.fork()
    if job == 0:
        os.setpgid(0, 0)
        os.tcsetpgrp(0, os.getpgrp())
        signal.signal(signal.SIGTTOU, signal.SIG_DFL)
        os.execv(prun, [prun] + args)
    try:
        os.setpgid(job, job)
    except OSError:
        pass
    os.tcsetpgrp(0, job)
    _, st = os.waitpid(job, os.WUNTRACED)
    say("stopped", os.WIFSTOPPED(st) and os.WSTOPSIG(st))
    say("terminal-with-prun", os.tcgetpgrp(0) == job)
    os.tcsetpgrp(0, os.getpgrp())
    if mode == "fg":
        os.tcsetpgrp(0, job)
    os.kill(-job, signal.SIGCONT)
    _, st = os.waitpid(job, os.WUNTRACED)
    say("exit", os.WIFEXITED(st) and os.WEXITSTATUS(st))
    say("terminal-with-shell", os.tcgetpgrp(0) == os.getpgrp())
    os._exit(0)
os.close(w)
out = b""
while True:
    try:
        chunk = os.read(master, 4096)
    except OSError:
        break
    if not chunk:
        break
    out += chunk
os.waitpid(pid, 0)
report = b""
while True:
    chunk = os.read(r, 4096)
    if not chunk:
        break
    report += chunk
sys.stdout.write(report.decode())
sys.stdout.write("output " + " ".join(out.decode().split()) + "\n")
PY
stage='echo ready; kill -TSTP $$; echo resumed'
"$PYTHON" jobshell.py fg "$PRUN" -t 60 sh -c "$stage" < /dev/null > fg.out 2>&1
contains "Ctrl-Z: prun stops with TSTP" fg.out "stopped 20"
contains "Ctrl-Z: prun took the terminal back" fg.out "terminal-with-prun True"
contains "fg: the stage ran on" fg.out "output ready resumed"
contains "fg: prun's status" fg.out "exit 0"

"$PYTHON" jobshell.py bg "$PRUN" -t 60 sh -c "$stage" < /dev/null > bg.out 2>&1
contains "bg: prun stopped" bg.out "stopped 20"
contains "bg: the stage ran on" bg.out "output ready resumed"
contains "bg: prun's status" bg.out "exit 0"
# Continued in the background, prun must leave the terminal with the shell
# when its stages end: libprun takes the terminal back only while the
# stages' group still owns it.
contains "bg: the terminal stays with the shell" bg.out "terminal-with-shell True"

finish
