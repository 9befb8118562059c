# quorumd wrapper: the first program of the managed command's new session and process group.
# Usage: sh quorumd-wrapper.sh PGID_FILE RUN_ID ARGV...
# It records the group id for the restart certificate, says "ready" on stdout, and execs ARGV
# only once the agent writes "go" on stdin; the agent does so after the watchdog confirmed that it
# guards this group. If the agent dies before that, stdin ends and the command never starts.
# It runs with the command's environment, whose PATH (command.env) may be anything: every
# program it runs is named by its absolute path, and it execs ARGV with that PATH untouched.
file=$1 run=$2
shift 2
printf 'pgid=%s run=%s\n' "$$" "$run" > "$file.tmp" || exit 126
if [ -x /usr/bin/mv ]; then mv=/usr/bin/mv; else mv=/bin/mv; fi
"$mv" -f "$file.tmp" "$file" || exit 126
echo "quorumd-wrapper ready pgid=$$"
IFS= read -r go || exit 125
[ "$go" = go ] || exit 125
exec "$@" < /dev/null
