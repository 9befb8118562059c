# quorumd %postun = %systemd_postun_with_restart quorumd.service, except that a running agent
# is restarted only when `quorumd check` accepts the config (else the old agent keeps running).
if [ $1 -ge 1 ]; then
    if why=$(runuser -u quorumd -- /usr/bin/quorumd check 2>&1 >/dev/null); then
        if [ -x /usr/lib/systemd/systemd-update-helper ]; then
            /usr/lib/systemd/systemd-update-helper mark-restart-system-units quorumd.service || :
        else
            systemctl daemon-reload >/dev/null 2>&1 || :
            systemctl try-restart quorumd.service >/dev/null 2>&1 || :
        fi
    else
        systemctl daemon-reload >/dev/null 2>&1 || :
        echo "quorumd: not restarting quorumd.service: $(printf '%s\n' "$why" | head -n 1)" >&2
    fi
fi
if [ $1 -eq 0 ]; then
    systemctl daemon-reload >/dev/null 2>&1 || :
    # the JVM's class archive (CacheDirectory=): a cache, owned by no package
    rm -rf /var/cache/quorumd
fi
exit 0
