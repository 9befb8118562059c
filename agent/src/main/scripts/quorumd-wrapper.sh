# quorumd wrapper: the first program of the managed command's new session and process group.
# Usage: sh quorumd-wrapper.sh PGID_FILE RUN_ID ARGV...
# It records the group id for the restart certificate, says "ready" on stdout, and execs ARGV
# only once the agent writes "go" on stdin; the agent does so after the watchdog confirmed that it
# guards this group. If the agent dies before that, stdin ends and the command never starts.
# It runs with the command's environment, whose PATH (command.env) may be anything: every
# program it runs is named by its absolute path, and it execs ARGV with that PATH untouched.
#
# Parked: sh quorumd-wrapper.sh --parked ARGV...
# Started ahead of need with the command's environment less QUORUMD_TERM and QUORUMD_MASTER,
# which only a start knows. It writes no file (the agent writes the pgid file for it once it is
# taken, after command.state names the run), says "parked" on stdout and waits for three lines,
# written by the agent in one write(): "go", the term, the master. It exports those two and execs
# ARGV; anything else on stdin, or its end (the agent died), and it exits without running anything.
if [ "$1" = --parked ]; then
    shift
    echo "quorumd-wrapper parked pgid=$$"
    IFS= read -r go || exit 125
    [ "$go" = go ] || exit 125
    IFS= read -r term || exit 125
    IFS= read -r master || exit 125
    case $term in ''|*[!0-9]*) exit 125 ;; esac
    export QUORUMD_TERM="$term" QUORUMD_MASTER="$master"
    exec "$@" < /dev/null
fi
file=$1 run=$2
shift 2
printf 'pgid=%s run=%s\n' "$$" "$run" > "$file.tmp" || exit 126
if [ -x /usr/bin/mv ]; then mv=/usr/bin/mv; else mv=/bin/mv; fi
"$mv" -f "$file.tmp" "$file" || exit 126
echo "quorumd-wrapper ready pgid=$$"
IFS= read -r go || exit 125
[ "$go" = go ] || exit 125
exec "$@" < /dev/null
