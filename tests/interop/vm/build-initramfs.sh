#!/bin/bash
# Build $IKEINT_CACHE/vm/initramfs.cpio.gz: static busybox + the virtio/9p
# modules of the unpacked Debian kernel + initramfs-init.sh as /init.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
source "$HERE/../lib/paths.sh"
KVER=$(kernel_version)
[ -n "$KVER" ] || { echo "no unpacked kernel in $IKEINT_CACHE/opt/kernel" >&2; exit 1; }
mkdir -p "$IKEINT_CACHE/vm"
WORK=$(mktemp -d "$IKEINT_CACHE/vm/.initramfs.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
mkdir -p "$WORK/bin" "$WORK/modules"
cp "$IKEINT_CACHE/opt/busybox/bin/busybox" "$WORK/bin/busybox"
for a in sh mount insmod switch_root sleep cat mkdir; do ln -s busybox "$WORK/bin/$a"; done
# modules (with their dependencies, in load order) needed to mount the 9p root
: > "$WORK/modules/order"
modprobe -d "$IKEINT_CACHE/opt/kernel" -S "$KVER" --show-depends -a virtio_pci 9pnet_virtio 9p \
  | awk '$1=="insmod"{print $2}' | while read -r f; do
    b=$(basename "$f")
    grep -qx "$b" "$WORK/modules/order" && continue
    cp "$f" "$WORK/modules/$b"
    echo "$b" >> "$WORK/modules/order"
done
[ -s "$WORK/modules/order" ] || { echo "no modules found" >&2; exit 1; }
install -m 0755 "$HERE/initramfs-init.sh" "$WORK/init"
( cd "$WORK" && find . | cpio -o -H newc --quiet ) | gzip -1 > "$IKEINT_CACHE/vm/initramfs.cpio.gz.tmp"
mv "$IKEINT_CACHE/vm/initramfs.cpio.gz.tmp" "$IKEINT_CACHE/vm/initramfs.cpio.gz"
echo "built $IKEINT_CACHE/vm/initramfs.cpio.gz (kernel $KVER)"
