# quorumd %pre: the system user exists before the payload, so %attr(…,quorumd) resolves.
getent group quorumd >/dev/null || groupadd -r quorumd
getent passwd quorumd >/dev/null || \
    useradd -r -g quorumd -d /var/lib/quorumd -s /sbin/nologin -c "quorumd agent" quorumd
exit 0
