# quorumd %post = %systemd_post quorumd.service, expanded by hand (the plugin expands no
# macros): a fresh install applies the preset and starts nothing; the shipped config is a
# commented-out example that `quorumd check` refuses until the operator writes the peer list.
if [ $1 -eq 1 ]; then
    if [ -x /usr/lib/systemd/systemd-update-helper ]; then
        /usr/lib/systemd/systemd-update-helper install-system-units quorumd.service || :
    else
        systemctl --no-reload preset quorumd.service >/dev/null 2>&1 || :
    fi
fi
exit 0
