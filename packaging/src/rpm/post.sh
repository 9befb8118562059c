# quorumd %post = %systemd_post quorumd.service, expanded by hand (the plugin expands no
# macros): a fresh install applies the preset and starts nothing; the shipped config is a
# commented-out example that `quorumd check` refuses until the operator writes the peer list.
# On install and upgrade the class archive is written before any start (the launcher maps it
# from the unit's CacheDirectory): an AOT cache when the java knows -XX:AOTCacheOutput (JDK
# 25+), an AppCDS archive otherwise; a failure only costs the speed-up.
mkdir -p /var/cache/quorumd
chown quorumd:quorumd /var/cache/quorumd
chmod 0750 /var/cache/quorumd
rm -f /var/cache/quorumd/quorumd-*.jsa /var/cache/quorumd/quorumd-*.aot
runuser -u quorumd -- sh /usr/share/quorumd/scripts/quorumd-cds-train.sh /usr/bin/quorumd /var/cache/quorumd \
    || echo "quorumd: no class archive was written; agents start without one (slower)" >&2
if [ $1 -eq 1 ]; then
    if [ -x /usr/lib/systemd/systemd-update-helper ]; then
        /usr/lib/systemd/systemd-update-helper install-system-units quorumd.service || :
    else
        systemctl --no-reload preset quorumd.service >/dev/null 2>&1 || :
    fi
fi
exit 0
