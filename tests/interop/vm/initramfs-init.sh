#!/bin/busybox sh
# /init of the guest's tiny initramfs: load virtio + 9p, mount the host's /
# read-only over 9p, then switch_root and exec the guest init named on the
# kernel command line as ikeint.init=PATH (vm/guest-init.sh).
/bin/busybox mkdir -p /proc /sys /dev /newroot
/bin/busybox mount -t proc proc /proc
/bin/busybox mount -t sysfs sys /sys
/bin/busybox mount -t devtmpfs dev /dev
for m in $(/bin/busybox cat /modules/order); do
    /bin/busybox insmod /modules/$m || echo "initramfs: insmod $m failed"
done
GINIT=
for a in $(/bin/busybox cat /proc/cmdline); do
    case "$a" in ikeint.init=*) GINIT="${a#ikeint.init=}" ;; esac
done
# the 9p device shows up asynchronously: retry, bounded (50 x 0.1 s)
i=0
while [ $i -lt 50 ]; do
    /bin/busybox mount -t 9p -o trans=virtio,version=9p2000.L,ro,msize=512000,cache=loose hostroot /newroot 2>/dev/null && break
    i=$((i+1)); /bin/busybox usleep 100000
done
if [ ! -x "/newroot$GINIT" ]; then
    echo "initramfs: cannot mount the host root or no guest init '$GINIT'"
    echo o > /proc/sysrq-trigger; /bin/busybox sleep 5
fi
/bin/busybox umount /proc /sys
/bin/busybox mount --move /dev /newroot/dev 2>/dev/null || /bin/busybox umount /dev
exec /bin/busybox switch_root /newroot "$GINIT"
