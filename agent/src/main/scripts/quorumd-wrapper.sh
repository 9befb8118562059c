# quorumd wrapper: the first program of the managed command's new session and process group.
# Usage: sh quorumd-wrapper.sh PGID_FILE RUN_ID ARGV...
# It records the group id for the restart certificate, says "ready" on stdout, and execs ARGV
# only once the agent writes "go" on stdin; the agent does so after the watchdog confirmed that it
# guards this group. If the agent dies before that, stdin ends and the command never starts.
# It runs with the command's environment, whose PATH (command.env) may be anything: every
# program it runs is named by its absolute path, and it execs ARGV with that PATH untouched.
#
# Parked: sh quorumd-wrapper.sh --parked PGID_FILE ARGV...
# Started ahead of need with the command's environment less QUORUMD_TERM and QUORUMD_MASTER,
# which only a start knows. It says "parked" and writes nothing until a start gives it, on stdin,
# the run id (a line of hex digits, sent once command.state names that run); then as above it
# records the group id for that run and says "ready", and waits for three lines written by the
# agent in one write(): "go", the term, the master. It exports those two and execs ARGV. Anything
# else on stdin, or its end (the agent died, or no longer wants it), and it exits having run nothing.
if [ "$1" = --parked ]; then
    parked=1 file=$2
    shift 2
    echo "quorumd-wrapper parked pgid=$$"
    IFS= read -r run || exit 125
    case $run in ''|*[!0-9a-f]*) exit 125 ;; esac
else
    parked=0 file=$1 run=$2
    shift 2
fi
printf 'pgid=%s run=%s\n' "$$" "$run" > "$file.tmp" || exit 126
if [ -x /usr/bin/mv ]; then mv=/usr/bin/mv; else mv=/bin/mv; fi
"$mv" -f "$file.tmp" "$file" || exit 126
echo "quorumd-wrapper ready pgid=$$"
IFS= read -r go || exit 125
[ "$go" = go ] || exit 125
if [ $parked = 1 ]; then
    IFS= read -r term || exit 125
    IFS= read -r master || exit 125
    case $term in ''|*[!0-9]*) exit 125 ;; esac
    export QUORUMD_TERM="$term" QUORUMD_MASTER="$master"
fi
exec "$@" < /dev/null
