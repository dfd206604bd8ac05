#!/bin/sh
# Installs hermes-server from its .deb, enables the unit as an administrator does, removes and
# purges the package, and checks what a purge must leave behind: no link to the unit anywhere
# under /etc/systemd, no deb-systemd-helper state, the hermes user and /var/lib/hermes kept.
# All of it on a copy-on-write overlay of / in a mount namespace of its own, so the host's
# packages, users and units are never touched: run as `unshare --mount sh install-purge.sh
# <empty dir> <hermes-server.deb>` (root, CAP_SYS_ADMIN). Prints each step; exits non-zero on
# the first failure.
set -eu
work=$1
deb=$2
mount -t tmpfs hermes-test "$work"
mkdir "$work/upper" "$work/work" "$work/root"
mount -t overlay overlay -o "lowerdir=/,upperdir=$work/upper,workdir=$work/work" "$work/root"
root=$work/root
mount -t proc proc "$root/proc"
mount --rbind /dev "$root/dev"
mkdir -p "$root/run/hermes-test"
cp "$deb" "$root/run/hermes-test/hermes-server.deb"
link=/etc/systemd/system/multi-user.target.wants/hermes-server.service
state=/var/lib/systemd/deb-systemd-helper-enabled

chroot "$root" /bin/sh -eu -c '
link=$1
state=$2
step() { echo "== $*"; }
fail() { echo "FAIL: $*"; exit 1; }
! dpkg -s hermes-server >/dev/null 2>&1 || fail "hermes-server is installed on this system already"
step "dpkg -i"
dpkg -i /run/hermes-test/hermes-server.deb
getent passwd hermes >/dev/null || fail "no hermes user"
[ "$(stat -c "%a %U:%G" /etc/hermes/hermes.env)" = "640 root:hermes" ] || fail "hermes.env: $(stat -c "%a %U:%G" /etc/hermes/hermes.env)"
[ ! -e "$link" ] && [ ! -L "$link" ] || fail "a first install enabled the unit"
[ -f "$state/hermes-server.service.dsh-also" ] || fail "deb-systemd-helper recorded nothing"
grep -qx "$link" "$state/hermes-server.service.dsh-also" || fail "the state does not list $link"
step "systemctl enable"
systemctl enable hermes-server.service
[ -L "$link" ] || fail "systemctl enable made no $link"
step "dpkg -i again (an upgrade keeps it enabled)"
dpkg -i /run/hermes-test/hermes-server.deb
[ -L "$link" ] || fail "the upgrade disabled the unit"
step "dpkg --remove"
dpkg --remove hermes-server
step "dpkg --purge"
dpkg --purge hermes-server
dangling=$(find /etc/systemd -name "hermes-server*" 2>/dev/null)
[ -z "$dangling" ] || fail "left after purge: $dangling"
[ ! -e "$state/hermes-server.service.dsh-also" ] || fail "deb-systemd-helper state left after purge"
[ ! -e /etc/hermes ] || fail "/etc/hermes left after purge"
getent passwd hermes >/dev/null || fail "the purge removed the hermes user (its data stays)"
[ -d /var/lib/hermes ] || fail "the purge removed /var/lib/hermes (the data)"
step "purged cleanly"
' sh "$link" "$state"
