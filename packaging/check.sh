#!/usr/bin/env bash
# packaging/check.sh: checks the built .deb and .rpm without installing anything on this host.
#   packaging/check.sh [DEB [RPM]]     (default: the newest of each in packaging/target)
# Needs dpkg-deb, lintian, rpm and systemd-analyze (.ci/run installs them); exits 1 on any
# failure and says which check failed and why.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
deb=${1:-$(ls -t "$here"/target/quorumd_*_all.deb 2>/dev/null | head -n 1 || true)}
rpmf=${2:-$(ls -t "$here"/target/quorumd-*.noarch.rpm 2>/dev/null | head -n 1 || true)}
[ -n "$deb" ] && [ -f "$deb" ] || { echo "check.sh: no .deb in packaging/target: run 'make deb' first" >&2; exit 1; }
[ -n "$rpmf" ] && [ -f "$rpmf" ] || { echo "check.sh: no .rpm in packaging/target: run 'make rpm' first" >&2; exit 1; }
for tool in dpkg-deb lintian rpm systemd-analyze; do
  command -v "$tool" >/dev/null || { echo "check.sh: $tool is missing (apt-get install ${tool/dpkg-deb/dpkg}; systemd-analyze is in systemd)" >&2; exit 1; }
done

failures=0
ok() { echo "ok   $*"; }
bad() { echo "FAIL $*"; failures=$((failures + 1)); }
# expect DESCRIPTION COMMAND...: passes when the command succeeds
expect() { local what=$1; shift; if "$@" >/dev/null 2>&1; then ok "$what"; else bad "$what"; fi; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
chmod 755 "$work"

echo "== $(basename "$deb") ($(du -k "$deb" | cut -f1) KiB), $(basename "$rpmf") ($(du -k "$rpmf" | cut -f1) KiB)"

# --- maintainer scripts: syntax (dash is /bin/sh on Debian, stricter than bash) -------------
for s in "$here"/src/deb/control/{postinst,prerm,postrm} "$here"/src/rpm/*.sh; do
  if out=$(sh -n "$s" 2>&1); then ok "sh -n $(basename "$s")"; else bad "sh -n $s: $out"; fi
done

# --- .deb contents ---------------------------------------------------------------------------
dpkg-deb -c "$deb" | awk '{print $1, $2, $NF}' | sed 's# \./# /#' > "$work/deb.list"
has_entry() { grep -qxF -- "$1" "$work/deb.list"; }
for e in "-rwxr-xr-x root/root /usr/bin/quorumd" \
         "-rw-r--r-- root/root /usr/share/quorumd/lib/quorumd.jar" \
         "drwxr-xr-x root/root /usr/share/quorumd/scripts/" \
         "-rw-r--r-- root/root /usr/share/quorumd/scripts/quorumd-watchdog.sh" \
         "-rw-r--r-- root/root /usr/share/quorumd/scripts/quorumd-wrapper.sh" \
         "-rw-r--r-- root/root /usr/share/quorumd/scripts/quorumd-cds-train.sh" \
         "-rw-r--r-- root/root /etc/quorumd/quorumd.yaml" \
         "-rw-r--r-- root/root /etc/default/quorumd" \
         "-rw-r--r-- root/root /lib/systemd/system/quorumd.service" \
         "drwxr-xr-x root/root /var/lib/quorumd/" \
         "-rw-r--r-- root/root /usr/share/man/man1/quorumd.1.gz" \
         "-rw-r--r-- root/root /usr/share/doc/quorumd/examples/quorumd-exec@.service" \
         "-rw-r--r-- root/root /usr/share/doc/quorumd/examples/quorumd-exec@.timer" \
         "-rw-r--r-- root/root /usr/share/doc/quorumd/examples/quorumd-alerts.yml"; do
  if has_entry "$e"; then ok "deb has $e"; else bad "deb lacks '$e' (dpkg-deb -c shows: $(grep -F -- "${e##* }" "$work/deb.list" || echo nothing))"; fi
done
jars=$(grep -c '/usr/share/quorumd/lib/.*\.jar$' "$work/deb.list" || true)
agent_jars=$(ls "$root"/agent/target/lib/*.jar 2>/dev/null | wc -l)
if [ "$jars" = "$agent_jars" ]; then ok "deb has all $jars jars of agent/target/lib"; else bad "deb has $jars jars, agent/target/lib has $agent_jars"; fi
# the launcher is the same script as the checkout's
dpkg-deb -x "$deb" "$work/root"
if cmp -s "$work/root/usr/bin/quorumd" "$root/agent/src/main/sh/quorumd"; then ok "/usr/bin/quorumd is agent/src/main/sh/quorumd"; else bad "/usr/bin/quorumd differs from agent/src/main/sh/quorumd"; fi
# the scripts the agent runs are the checkout's, byte for byte
for f in quorumd-watchdog.sh quorumd-wrapper.sh quorumd-cds-train.sh; do
  if cmp -s "$work/root/usr/share/quorumd/scripts/$f" "$root/agent/src/main/scripts/$f"; then ok "/usr/share/quorumd/scripts/$f is agent/src/main/scripts/$f"; else bad "/usr/share/quorumd/scripts/$f differs from agent/src/main/scripts/$f"; fi
done
conffiles=$(dpkg-deb --ctrl-tarfile "$deb" | tar -xO ./conffiles)
for c in /etc/quorumd/quorumd.yaml /etc/default/quorumd; do
  if grep -qxF -- "$c" <<<"$conffiles"; then ok "conffile $c"; else bad "$c is not a conffile (conffiles: $conffiles)"; fi
done
depends=$(dpkg-deb -f "$deb" Depends)
if grep -q 'java17-runtime-headless' <<<"$depends" && grep -q 'bash' <<<"$depends" && grep -q 'adduser' <<<"$depends"; then
  ok "Depends: $depends"
else
  bad "Depends lacks java17-runtime-headless, bash or adduser: $depends"
fi
# the packaged launcher runs with the packaged jars (QUORUMD_LIB: there is no lib/ beside it)
if out=$(QUORUMD_LIB="$work/root/usr/share/quorumd/lib" "$work/root/usr/bin/quorumd" --version 2>&1); then
  ok "packaged launcher: quorumd --version -> ${out:-(no output)}"
else
  bad "packaged launcher: quorumd --version failed: $out"
fi

# the class archive written at install: postinst and %post run the packaged training script as
# the agent's user into the unit's CacheDirectory; here the same script runs as nobody from the
# unpacked .deb, and the packaged launcher must then map what it wrote
if grep -qx 'interest-noawait /usr/lib/jvm' "$here/src/deb/control/triggers" && grep -q '"triggered"' "$here/src/deb/control/postinst"; then
  ok "a Java runtime changed under /usr/lib/jvm retrains the class archive (dpkg trigger)"
else
  bad "no dpkg trigger on /usr/lib/jvm for retraining the class archive"
fi
if grep -q 'quorumd-cds-train.sh /usr/bin/quorumd /var/cache/quorumd' "$here/src/deb/control/postinst" \
    && grep -q 'quorumd-cds-train.sh /usr/bin/quorumd /var/cache/quorumd' "$here/src/rpm/post.sh"; then
  ok "postinst and %post write the class archive into /var/cache/quorumd"
else
  bad "postinst or %post does not run quorumd-cds-train.sh into /var/cache/quorumd"
fi
if [ "$(id -u)" = 0 ] && id nobody >/dev/null 2>&1 && command -v runuser >/dev/null; then
  mkdir -p "$work/cache" && chown nobody "$work/cache"
  QUORUMD_LIB="$work/root/usr/share/quorumd/lib" runuser -u nobody -- env QUORUMD_LIB="$work/root/usr/share/quorumd/lib" \
    sh "$work/root/usr/share/quorumd/scripts/quorumd-cds-train.sh" "$work/root/usr/bin/quorumd" "$work/cache" >"$work/train.out" 2>&1 || true
  archive=$(ls "$work"/cache/quorumd-*.aot "$work"/cache/quorumd-*.jsa 2>/dev/null | head -n 1 || true)
  opts=$(QUORUMD_LIB="$work/root/usr/share/quorumd/lib" QUORUMD_CDS_DIR="$work/cache" sh -x "$work/root/usr/bin/quorumd" --version 2>&1 | grep -o -- '-XX:\(AOTCache\|SharedArchiveFile\)=[^ ]*' || true)
  if [ -n "$archive" ] && [ -n "$opts" ]; then ok "install-time class archive: $(basename "$archive"), launcher maps it (${opts%%=*})"; else bad "install-time class archive: none or unused ($(cat "$work/train.out"))"; fi
else
  echo "skip install-time class archive run (needs root and the user nobody)"
fi

# --- lintian: no errors, no warnings; every override justified by a comment above it ---------
lint_as=()
[ "$(id -u)" = 0 ] && lint_as=(runuser -u nobody --)   # lintian warns when run as root
cp "$deb" "$work/check.deb"; chmod 644 "$work/check.deb"
if out=$("${lint_as[@]}" lintian --pedantic --display-info --fail-on error,warning "$work/check.deb" 2>&1); then
  ok "lintian --pedantic: ${out:-clean}" | head -n 1
  [ -z "$out" ] || sed 's/^/     /' <<<"$out"
else
  bad "lintian --pedantic:"; sed 's/^/     /' <<<"$out"
fi
overrides=$work/root/usr/share/lintian/overrides/quorumd
unjustified=$(awk '/^#/ {c=1; next} /^[[:space:]]*$/ {c=0; next} { if (!c) print; }' "$overrides")
if [ -z "$unjustified" ]; then ok "every lintian override has a comment"; else bad "lintian overrides without a comment above them: $unjustified"; fi

# --- the unit: systemd-analyze verify exits 0 even on errors, so any output is a failure -----
# ExecStart must exist for verify: point it at the unpacked launcher.
mkdir "$work/unit"
sed "s#/usr/bin/quorumd#$work/root/usr/bin/quorumd#g" "$work/root/lib/systemd/system/quorumd.service" > "$work/unit/quorumd.service"
out=$(systemd-analyze verify --man=no "$work/unit/quorumd.service" 2>&1 || true)
if [ -z "$out" ]; then ok "systemd-analyze verify quorumd.service"; else bad "systemd-analyze verify quorumd.service:"; sed 's/^/     /' <<<"$out"; fi
unit=$work/root/lib/systemd/system/quorumd.service
for k in Type=notify WatchdogSec= KillMode=mixed Restart=on-failure User=quorumd RuntimeDirectory=quorumd \
         TimeoutStopSec= StartLimitIntervalSec= StartLimitBurst=; do
  expect "unit sets $k" grep -q "^$k" "$unit"
done
# the start limit belongs to [Unit] (systemd ignores it, with a warning, under [Service])
expect "StartLimitIntervalSec= and StartLimitBurst= are in [Unit]" \
  test "$(sed -n '/^\[Unit\]/,/^\[/p' "$unit" | grep -c '^StartLimit\(IntervalSec\|Burst\)=')" = 2
# ProtectClock=yes implies DeviceAllow= rules that, before systemd 252, deny the command
# /dev/net/tun, /dev/fuse, GPUs and serial ports
if grep -q '^ProtectClock=' "$unit"; then bad "unit sets $(grep '^ProtectClock=' "$unit"): it blocks devices for the command before systemd 252"; else ok "unit leaves ProtectClock= off"; fi
# TimeoutStopSec must cover the defaults: stop_timeout 5s + hooks.timeout 10s + 10s
stop_sec=$(sed -n 's/^TimeoutStopSec=\([0-9]*\)s$/\1/p' "$unit")
if [ -n "$stop_sec" ] && [ "$stop_sec" -ge 25 ]; then ok "TimeoutStopSec=${stop_sec}s covers stop_timeout + hooks.timeout + 10s with the defaults"; else bad "TimeoutStopSec='$stop_sec' is under 25s (5s + 10s + 10s)"; fi

# --- .rpm: files, flags, owners, dependencies, scriptlets, digests ---------------------------
rpm -qp --qf '[%{FILEFLAGS:fflags} %{FILEMODES:perms} %{FILEUSERNAME}:%{FILEGROUPNAME} %{FILENAMES}\n]' "$rpmf" \
  | sed 's/^ *//' > "$work/rpm.list"
for e in "-rwxr-xr-x root:root /usr/bin/quorumd" \
         "-rw-r--r-- root:root /usr/share/quorumd/lib/quorumd.jar" \
         "drwxr-xr-x root:root /usr/share/quorumd/scripts" \
         "-rw-r--r-- root:root /usr/share/quorumd/scripts/quorumd-watchdog.sh" \
         "-rw-r--r-- root:root /usr/share/quorumd/scripts/quorumd-wrapper.sh" \
         "-rw-r--r-- root:root /usr/share/quorumd/scripts/quorumd-cds-train.sh" \
         "cn -rw-r----- root:quorumd /etc/quorumd/quorumd.yaml" \
         "cn -rw-r--r-- root:root /etc/sysconfig/quorumd" \
         "-rw-r--r-- root:root /usr/lib/systemd/system/quorumd.service" \
         "drwxr-x--- quorumd:quorumd /var/lib/quorumd" \
         "d -rw-r--r-- root:root /usr/share/doc/quorumd/examples/quorumd-exec@.service" \
         "d -rw-r--r-- root:root /usr/share/doc/quorumd/examples/quorumd-exec@.timer" \
         "d -rw-r--r-- root:root /usr/share/doc/quorumd/examples/quorumd-alerts.yml"; do
  if grep -qxF -- "$e" "$work/rpm.list"; then ok "rpm has $e"; else bad "rpm lacks '$e' (has: $(grep -F -- "${e##* }" "$work/rpm.list" || echo nothing))"; fi
done
rjars=$(grep -c '/usr/share/quorumd/lib/.*\.jar$' "$work/rpm.list" || true)
if [ "$rjars" = "$agent_jars" ]; then ok "rpm has all $rjars jars"; else bad "rpm has $rjars jars, agent/target/lib has $agent_jars"; fi
requires=$(rpm -qpR "$rpmf" 2>/dev/null)
for r in "java-headless >= 1:17" "bash >= 4" "util-linux" "shadow-utils"; do
  if grep -qxF -- "$r" <<<"$requires"; then ok "rpm requires $r"; else bad "rpm does not require '$r' (requires: $(tr '\n' ',' <<<"$requires"))"; fi
done
scripts=$(rpm -qp --scripts "$rpmf" 2>/dev/null)
for s in preinstall postinstall preuninstall postuninstall; do
  if grep -q "^$s scriptlet" <<<"$scripts"; then ok "rpm has a $s scriptlet"; else bad "rpm has no $s scriptlet"; fi
done
if rpm -K "$rpmf" 2>&1 | grep -q 'digests OK'; then ok "rpm -K: digests OK"; else bad "rpm -K: $(rpm -K "$rpmf" 2>&1)"; fi

# install into a scratch root (no scripts: they need systemd), edit the config, reinstall:
# owners resolve to the quorumd user and %config(noreplace) keeps the edit
r=$work/rpmroot
mkdir -p "$r/etc"
printf 'root:x:0:0:root:/root:/bin/sh\nquorumd:x:990:990::/var/lib/quorumd:/sbin/nologin\n' > "$r/etc/passwd"
printf 'root:x:0:\nquorumd:x:990:\n' > "$r/etc/group"
if rpm --root "$r" --initdb && rpm --root "$r" -i --nodeps --noscripts "$rpmf" 2>"$work/rpm.err"; then
  ok "rpm installs into a scratch root"
  # numeric: this host has no quorumd user; 990 is the scratch root's quorumd
  own=$(stat -c '%a %u:%g' "$r/etc/quorumd/quorumd.yaml" "$r/var/lib/quorumd" | tr '\n' ' ')
  if [ "$own" = "640 0:990 750 990:990 " ]; then ok "rpm owners: 0640 root:quorumd, 0750 quorumd:quorumd"; else bad "rpm owners (uid:gid, quorumd=990): $own, want 640 0:990 750 990:990"; fi
  echo "# edited by check.sh" >> "$r/etc/quorumd/quorumd.yaml"
  rpm --root "$r" -U --replacepkgs --nodeps --noscripts "$rpmf" 2>>"$work/rpm.err" || true
  if tail -n 1 "$r/etc/quorumd/quorumd.yaml" | grep -q 'edited by check.sh'; then ok "rpm reinstall keeps the edited config"; else bad "rpm reinstall replaced the edited config"; fi
else
  bad "rpm scratch install: $(cat "$work/rpm.err")"
fi

echo "== $failures failure(s)"
[ "$failures" = 0 ]
