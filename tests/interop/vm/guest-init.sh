#!/bin/sh
# PID 1 inside the throw-away guest (root = the host's / over 9p, read-only).
# Mounts scratch filesystems, mounts the writable share (the host's
# $IKEINT_OUT, same path in the guest), loads the IPsec, veth, dummy and tun
# modules of the unpacked Debian kernel, runs the script named on the kernel
# command line as ikeint.run=PATH, stores its exit code and powers off.
PATH=/usr/sbin:/usr/bin:/sbin:/bin
export PATH
mount -t proc proc /proc
mount -t sysfs sys /sys
[ -e /dev/null ] || mount -t devtmpfs dev /dev
mkdir -p /dev/pts /dev/shm 2>/dev/null
mount -t devpts devpts /dev/pts 2>/dev/null
mount -t tmpfs tmpfs /dev/shm
# what udev would add: bash's process substitution needs /dev/fd
[ -e /dev/fd ] || ln -s /proc/self/fd /dev/fd
for i in 0 1 2; do n=$(echo stdin stdout stderr | cut -d' ' -f$((i+1))); [ -e /dev/$n ] || ln -s /proc/self/fd/$i /dev/$n; done
RUN= OUTDIR= KEEP=
for a in $(cat /proc/cmdline); do
    case "$a" in
    ikeint.run=*) RUN="${a#ikeint.run=}" ;;
    ikeint.out=*) OUTDIR="${a#ikeint.out=}" ;;
    ikeint.keep=*) KEEP="$KEEP ${a#ikeint.keep=}" ;;
    esac
done
# Scratch tmpfs over the writable system folders. Host folders the run needs
# (the suite, its cache, a Rust target dir) that live under one of them (a
# clone in /tmp, say) are bound aside first and bound back at their own path
# inside the new tmpfs.
# /mnt is on the read-only root: a small tmpfs there holds the bind points
mount -t tmpfs tmpfs /mnt
for d in /run /tmp /var/tmp /var/log /var/lib; do
    inside=
    for k in $KEEP; do case "$k/" in "$d"/*) inside="$inside $k";; esac; done
    n=0
    for k in $inside; do n=$((n+1)); mkdir -p "/mnt/keep$n" 2>/dev/null; mount --bind "$k" "/mnt/keep$n"; done
    mount -t tmpfs tmpfs "$d" 2>/dev/null
    n=0
    for k in $inside; do n=$((n+1)); mkdir -p "$k"; mount --bind "/mnt/keep$n" "$k"; umount "/mnt/keep$n"; done
done
mkdir -p "$OUTDIR" 2>/dev/null
mount -t 9p -o trans=virtio,version=9p2000.L,msize=512000 ikeout "$OUTDIR"
hostname ikeint-guest 2>/dev/null
ip link set lo up
INTEROP=$(cd "$(dirname "$0")/.." && pwd)
[ -f "$OUTDIR/vm-env" ] && . "$OUTDIR/vm-env"
MODROOT="$IKEINT_CACHE/opt/kernel"
# the kernel's module auto-loading (crypto templates, stdrng, xfrm, ...) must
# find the unpacked Debian kernel's modules: a wrapper on the scratch /run
printf '#!/bin/sh\nexec /sbin/modprobe -d "%s" "$@"\n' "$MODROOT" > /run/ikeint-modprobe
chmod 755 /run/ikeint-modprobe
echo /run/ikeint-modprobe > /proc/sys/kernel/modprobe
{
    echo "guest kernel: $(uname -a)"
    modprobe -d "$MODROOT" -a esp4 xfrm_user xfrm_ipcomp veth dummy tun des_generic authenc \
        echainiv seqiv drbg jitterentropy_rng 2>&1
    echo "modules: $(cut -d' ' -f1 /proc/modules | tr '\n' ' ')"
} > "$OUTDIR/guest-boot.log" 2>&1
rc=99
if [ -n "$RUN" ] && [ -x "$RUN" ]; then
    IKEINT_IN_GUEST=1 IKEINT_OUT="$OUTDIR" "$RUN" > "$OUTDIR/guest-run.log" 2>&1
    rc=$?
else
    echo "no runnable ikeint.run=$RUN" >> "$OUTDIR/guest-boot.log"
fi
echo "$rc" > "$OUTDIR/guest.rc"
sync
umount "$OUTDIR" 2>/dev/null
echo o > /proc/sysrq-trigger
sleep 30
