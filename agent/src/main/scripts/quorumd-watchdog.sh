# quorumd watchdog: a dead man's switch for one run of the managed command.
# Run by bash (dash has no `read -t`), in its own session and without a parent-death signal, so
# that it outlives the agent on purpose. Usage: bash quorumd-watchdog.sh STOP_SIGNAL GRACE_CS LABEL
#
# Lines on stdin, each written by the agent in one write():
#   D STOP_CS KILL_CS  absolute deadlines on /proc/uptime's clock (CLOCK_BOOTTIME) in 1/100 s:
#                      at STOP_CS send STOP_SIGNAL to the group, at KILL_CS send SIGKILL.
#                      A later line replaces them; once a signal went out they are frozen.
#   L LABEL            names the run in the log lines from now on (a watchdog started ahead of
#                      need, "parked", learns its run when it is taken); ignored once a group is
#                      guarded.
#   G PGID             the process group to guard; answered on stdout by "armed PGID STOP KILL".
#   Q                  the agent saw the group empty: exit without signalling.
# End of input (the agent died, even by SIGKILL) or SIGTERM: STOP_SIGNAL at once and SIGKILL
# GRACE_CS later, or at KILL_CS if that comes first. Waking up past KILL_CS (the host was frozen)
# sends SIGKILL with no grace. Exits once the group has no live member (zombies do not count).
# Every action goes to stderr, which the agent points at a file in state_dir, stamped with
# /proc/uptime.

# fd 3: a pipe whose both ends this shell holds, so a read on it can only time out. It is the
# sleep once stdin has ended, without forking `sleep`.
exec 3<> <(:)
# posix mode makes `read -t` use setitimer (CLOCK_MONOTONIC) rather than gettimeofday, so a step
# of the wall clock cannot stretch a wait.
set -o posix
trap '' INT HUP PIPE
trap 'term=1' TERM

sig=$1 grace=$2 label=$3
pgid='' stop_at='' kill_at='' gone_at='' buf=''
eof=0 term=0 stopped=0 killed=0 now_cs=0

now() {
    local up rest
    read -r up rest < /proc/uptime
    now_cs=$((10#${up%.*}${up#*.}))
}

as_seconds() {   # $1 centiseconds -> $secs
    printf -v secs '%d.%02d' $(($1 / 100)) $(($1 % 100))
}

log() {
    as_seconds "$now_cs"
    printf '%s watchdog[%d] %s pgid=%s: %s\n' "$secs" "$$" "$label" "${pgid:-none}" "$*" >&2
}

# True while a process of the group is not a zombie (a zombie leader whose other threads still
# run counts as alive). kill(-pgid, 0) would count zombies too, and they linger where PID 1 does
# not reap orphans.
group_alive() {
    local f line rest st pg pid t
    for f in /proc/[0-9]*/stat; do
        read -r line 2>/dev/null < "$f" || continue
        rest=${line##*) }
        st=${rest%% *}
        rest=${rest#* }
        rest=${rest#* }
        pg=${rest%% *}
        [ "$pg" = "$pgid" ] || continue
        [ "$st" != Z ] && return 0
        pid=${f#/proc/}
        pid=${pid%/stat}
        for t in /proc/"$pid"/task/[0-9]*; do
            [ "${t##*/}" != "$pid" ] && [ -e "$t" ] && return 0
        done
    done
    return 1
}

# Looks at the group before each signal, so that once it is empty a reused number is never hit.
signal_group() {
    if ! group_alive; then
        log "group is empty; exiting"
        exit 0
    fi
    kill -s "$1" -- "-$pgid" 2>/dev/null
}

handle() {
    case $1 in
        'L '*)
            if [ -z "$pgid" ]; then label=${1#L }; fi
            return ;;
    esac
    set -f
    set -- $1
    set +f
    case $1 in
        D)  if [ $stopped = 0 ] && [ $killed = 0 ] && [ -z "$gone_at" ] \
                && [ "$2" -ge 0 ] 2>/dev/null && [ "$3" -ge "$2" ] 2>/dev/null; then
                stop_at=$2 kill_at=$3
            fi ;;
        G)  if [ -z "$pgid" ] && [ "$2" -gt 1 ] 2>/dev/null; then
                pgid=$2
                log "guarding; stop at ${stop_at:-never}, kill at ${kill_at:-never}"
                printf 'armed %s %s %s\n' "$pgid" "${stop_at:-never}" "${kill_at:-never}"
            fi ;;
        Q)  log "released by the agent"
            exit 0 ;;
        *)  log "ignoring a line that is not D, L, G or Q: $1" ;;
    esac
}

while :; do
    now
    if { [ $eof = 1 ] || [ $term = 1 ]; } && [ -z "$gone_at" ]; then
        gone_at=$now_cs
        if [ -z "$pgid" ]; then
            log "agent gone before a group was assigned; nothing to guard"
            exit 0
        fi
        k=$((now_cs + grace))
        if [ -n "$kill_at" ] && [ "$kill_at" -lt "$k" ]; then k=$kill_at; fi
        kill_at=$k
        if [ -z "$stop_at" ] || [ "$stop_at" -gt "$now_cs" ]; then stop_at=$now_cs; fi
        log "agent gone (end of input: $eof, SIGTERM: $term)"
    fi
    if [ -n "$pgid" ]; then
        if [ -n "$kill_at" ] && [ "$now_cs" -ge "$kill_at" ]; then
            signal_group KILL
            if [ $killed = 0 ]; then
                killed=1
                as_seconds "$kill_at"
                log "SIGKILL sent (deadline $secs, late by $(( (now_cs - kill_at) * 10 )) ms)"
            fi
        elif [ -n "$stop_at" ] && [ "$now_cs" -ge "$stop_at" ] && [ $stopped = 0 ]; then
            signal_group "$sig"
            stopped=1
            as_seconds "$stop_at"
            log "signal $sig sent (deadline $secs, late by $(( (now_cs - stop_at) * 10 )) ms)"
        fi
        if { [ $stopped = 1 ] || [ $killed = 1 ]; } && ! group_alive; then
            log "group is empty; exiting"
            exit 0
        fi
    fi

    # Sleep until the next deadline, at most 0.5 s; poll every 20 ms once a signal is out.
    wait_ms=500
    next=''
    if [ $stopped = 0 ] && [ -n "$stop_at" ]; then next=$stop_at; fi
    if [ $killed = 0 ] && [ -n "$kill_at" ] && { [ -z "$next" ] || [ "$kill_at" -lt "$next" ]; }; then
        next=$kill_at
    fi
    if [ -n "$next" ] && [ -n "$pgid" ]; then
        # /proc/uptime is truncated to 10 ms: wake one step early, then poll in 2 ms steps.
        d=$(( (next - now_cs - 1) * 10 ))
        if [ "$d" -lt 2 ]; then d=2; fi
        if [ "$d" -lt "$wait_ms" ]; then wait_ms=$d; fi
    fi
    if { [ $stopped = 1 ] || [ $killed = 1 ]; } && [ "$wait_ms" -gt 20 ]; then wait_ms=20; fi
    printf -v tmo '%d.%03d' $((wait_ms / 1000)) $((wait_ms % 1000))

    if [ $eof = 1 ]; then
        read -r -t "$tmo" -u 3 line
    elif IFS= read -r -t "$tmo" line; then
        handle "$buf$line"
        buf=''
    elif [ $? -gt 128 ]; then
        # a time-out keeps what was read of an unfinished line
        buf=$buf$line
    else
        eof=1
    fi
done
