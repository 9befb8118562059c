# quorumd %preun = %systemd_preun quorumd.service: on erase (not upgrade) disable and stop;
# the agent's stop hands mastership over.
if [ $1 -eq 0 ]; then
    if [ -x /usr/lib/systemd/systemd-update-helper ]; then
        /usr/lib/systemd/systemd-update-helper remove-system-units quorumd.service || :
    else
        systemctl --no-reload disable --now quorumd.service >/dev/null 2>&1 || :
    fi
fi
exit 0
