# SPDX-License-Identifier: MIT
# creds_root.sh - --user, --group and --groups at work (root only: skipped
# otherwise): names and numbers, the user's own groups, every stage, the
# errors the library finds as the commands start, and an unprivileged prun
# refused what it may not take.
. "$TOOL_TESTS_DIR/lib.sh"
if [ "$(id -u)" != 0 ]; then
    echo "not root: skipped"
    exit 77
fi
if ! id nobody > /dev/null 2>&1; then
    echo "no user nobody: skipped"
    exit 77
fi
cd "$TMP" || exit 99
# nobody must get through $TMP (mktemp's 700) to the directories below.
chmod 711 "$TMP"

nobody_uid=$(id -u nobody)
nobody_gid=$(id -g nobody)
nobody_group=$(id -gn nobody)
nobody_groups=$(id -G nobody)
# A directory nobody may enter and a PATH nobody may search.
mkdir -m 755 open
PUBLIC_PATH=/usr/bin:/bin

ids() {  # ids OPTION...: "uid gid groups..." of a command run with OPTION...
    "$PRUN" -C open -E PATH="$PUBLIC_PATH" "$@" sh -c 'echo $(id -u) $(id -g) $(id -G)'
}

# --user alone: that user, with its primary group and its own groups.
same "-U nobody" "$(ids -U nobody)" "$nobody_uid $nobody_gid $nobody_groups"
same "--user=UID" "$(ids --user="$nobody_uid")" "$nobody_uid $nobody_gid $nobody_groups"
# --group: the gid; with --user, the user's groups still.
got=$(ids -U nobody -G 0)
same "-U nobody -G 0: uid and gid" "$(echo "$got" | cut -d' ' -f1-2)" "$nobody_uid 0"
same "-U nobody -G 0: nobody's own groups still" "$(echo "$got" | cut -d' ' -f3- | tr ' ' '\n' | sort -n | tr '\n' ' ')" \
    "$(printf '%s\n' 0 $nobody_groups | sort -un | tr '\n' ' ')"
same "-G NAME alone: root with that gid" "$(ids -G "$nobody_group" | cut -d' ' -f1-2)" "0 $nobody_gid"
same "-G GID alone" "$(ids -G 4242 | cut -d' ' -f1-2)" "0 4242"
# --groups: the supplementary groups; empty clears them.
same "--groups= clears them" "$(ids --groups=)" "0 0 0"
same "-U nobody --groups=: only its primary group" "$(ids -U nobody --groups=)" "$nobody_uid $nobody_gid $nobody_gid"
same "--groups=LIST, names and numbers" "$(ids --groups="$nobody_group,4242" | tr ' ' '\n' | sort -n | tr '\n' ' ')" \
    "$(printf '%s\n' 0 0 0 "$nobody_gid" 4242 | sort -n | tr '\n' ' ')"
# A uid with no entry in the database: with --group it works; the
# library's sentence says why it cannot without.
same "a uid not in the database, with -G" "$(ids -U 4242 -G 4243)" "4242 4243 4243"
status_is 125 "a uid not in the database, without -G" "$PRUN" -U 4242 touch ran 2>err
contains "... the library says why" err "prun: user 4242 is not in the user database, so its group is unknown: set group too"
check "... and nothing ran" ! -e ran
# Every stage.
same "every stage runs as nobody" \
    "$("$PRUN" -C open -U nobody id -u '|' sh -c 'cat; id -u' | tr '\n' ' ')" "$nobody_uid $nobody_uid "
# The working directory is entered as the user: one nobody may not enter
# is 125, with the library's sentence.
mkdir -m 700 closed
status_is 125 "-U nobody -C a directory nobody may not enter" "$PRUN" -U nobody -C closed true 2>err
same "... the library's sentence" "$(cat err)" "prun: cannot change directory to 'closed': Permission denied"
# A command not found is still 127 as another user.
status_is 127 "-U nobody: a command not found" "$PRUN" -C open -E PATH="$PUBLIC_PATH" -U nobody prun-no-such-command 2>err
same "... with prun's message" "$(cat err)" "prun: failed to run command 'prun-no-such-command': No such file or directory"
# The files prun opens are opened by prun (root), before the change.
"$PRUN" -C open -U nobody --stdout=out.txt id -u
same "--stdout opened by prun, written by nobody" "$(cat out.txt)" "$nobody_uid"
# --umask and --rlimit together with --user: the hard limit is set before
# the user changes, so root may raise it for nobody.
same "--user with --umask and --rlimit" \
    "$("$PRUN" -C open -U nobody --umask=077 --rlimit=nofile=100:4096 sh -c 'echo $(id -u) $(umask) $(ulimit -n) $(ulimit -Hn)')" \
    "$nobody_uid 0077 100 4096"
# The parent-death signal survives the change of user.
make_marker ready
chmod 666 "$TMP/ready"
mkdir -m 777 pub
{ "$PRUN" -C pub -U nobody sh -c 'echo $PPID > prun.pid; echo ready > "$0"; exec sleep 30' "$TMP/ready" 2>&1 & } | cat > /dev/null &
reader=$!
same "stage ready (nobody)" "$(read_marker ready)" ready
start=$(now)
kill -KILL "$(cat pub/prun.pid)"
wait "$reader"
below "-U nobody: the command died with prun" "$(since "$start")" 10

# An unprivileged prun asking for another user or group: the library's
# -EPERM, 125, with its sentence.  (prun itself, run as nobody.)
unprivileged() {
    "$PRUN" -C / -U nobody "$PRUN" -C / -E PATH="$PUBLIC_PATH" "$@"
}
status_is 125 "nobody asking for root" unprivileged -U root true 2>err
same "... the library's sentence" "$(cat err)" "prun: cannot run 'true' as user 'root': Operation not permitted"
status_is 125 "nobody asking for group 0" unprivileged -G 0 true 2>err
same "... the library's sentence" "$(cat err)" "prun: cannot run 'true' with group '0': Operation not permitted"
status_is 125 "nobody raising a hard limit" unprivileged --rlimit=nofile=100:unlimited true 2>err
same "... the library's sentence" "$(cat err)" "prun: cannot set the nofile limit of 'true': Operation not permitted"
same "nobody asking to be nobody" "$(unprivileged -U nobody id -u)" "$nobody_uid"

finish
