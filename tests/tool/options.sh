# SPDX-License-Identifier: MIT
# options.sh - --help, --version, a pipeline given as arguments, and no
# leaked file descriptors.
. "$TOOL_TESTS_DIR/lib.sh"
cd "$TMP" || exit 99

# --help and --version: GNU format on stdout, status 0; 125 when stdout
# cannot be written.
status_is 0 "--help" "$PRUN" --help > help.out
same "--help starts with Usage" "$(head -1 help.out)" \
    "Usage: prun [OPTION]... [--] COMMAND [ARG]... ['|' COMMAND [ARG]...]..."
for opt in --command= --shell --timeout= --signal= --kill-after= --preserve-status --foreground \
    --verbose --chdir= --ignore-environment --unset= --env= --stdin= --stdout= --stderr= \
    --append --merge-stderr --pipefail --report= --help --version 'Exit status:' \
    --user= --group= --groups= --umask= --rlimit= '--default-signal[=SIGS]' \
    '--ignore-signal[=SIGS]' '--block-signal[=SIGS]' '-U, ' '-G, '; do
    contains "--help mentions $opt" help.out "$opt"
done
status_is 0 "--help wins over the rest" "$PRUN" -t 5 --help false > /dev/null
status_is 0 "--version" "$PRUN" --version > version.out
check "--version first line" -n "$(sed -n '1{/^prun (prun) [0-9][0-9.]*$/p}' version.out)"
contains "--version warranty line" version.out "There is NO WARRANTY, to the extent permitted by law."
contains "--version licence line" version.out "License MIT: <https://spdx.org/licenses/MIT.html>."
if [ -w /dev/full ]; then
    status_is 125 "--help to /dev/full" "$PRUN" --help > /dev/full 2> err
    same "write error message" "$(cat err)" "prun: write error: No space left on device"
    status_is 125 "--version to /dev/full" "$PRUN" --version > /dev/full 2>/dev/null
fi
status_is 125 "usage error" "$PRUN" -x true 2> err
same "usage error message" "$(cat err)" "prun: invalid option -- 'x'
Try 'prun --help' for more information."
status_is 125 "missing option argument" "$PRUN" --report 2> err
same "missing option argument message" "$(cat err)" "prun: option '--report' requires an argument
Try 'prun --help' for more information."

# prun ps aux '|' grep bash: with a bash known to be running.
if command -v bash >/dev/null 2>&1 && command -v ps >/dev/null 2>&1; then
    make_marker ready
    mkfifo hold
    exec 3<>hold
    bash -c 'echo ready > "$0"; read x' "$TMP/ready" <&3 &
    holder=$!
    same "bash running" "$(read_marker ready)" ready
    "$PRUN" ps aux '|' grep bash > ps.out
    same "prun ps aux '|' grep bash: status" "$?" 0
    contains "prun ps aux '|' grep bash: output" ps.out "bash -c echo ready"
    lacks "no ps header past grep" ps.out "COMMAND"
    echo done >&3
    wait "$holder"
    exec 3>&-
fi

# The stages get fds 0, 1 and 2 and nothing else: prun's own fds (its
# signalfd, the files it opened) never leak.  fd 5 is open in this shell.
exec 5< /dev/null
plain=$(ls /proc/self/fd | wc -l)
viaprun=$("$PRUN" ls /proc/self/fd | wc -l)
check "prun ls /proc/self/fd: $viaprun entries, ls alone: $plain" "$viaprun" -le "$plain"
same "exactly 0 1 2 and ls's own" "$("$PRUN" --report=r.json --stdin=/dev/null --stdout=fds.out ls /proc/self/fd; tr '\n' ' ' < fds.out)" "0 1 2 3 "
same "in every stage" "$("$PRUN" ls /proc/self/fd '|' sh -c 'cat; ls /proc/self/fd' | tr '\n' ' ')" "0 1 2 3 0 1 2 3 "
exec 5<&-

finish
