#!/usr/bin/env bash
# run-qemu.sh KOUT RESDIR [CMDLINE...]: boot KOUT's bzImage with KOUT's
# initramfs.cpio under QEMU (KVM only if a probe boot really works, else
# TCG), with a hard time limit. Writes RESDIR/console.log (kernel, ttyS0) and
# RESDIR/user.log (tests, ttyS1). Exit 0 when the guest reached the end of its
# run, 1 otherwise (panic, hang, time limit), with a one-line reason.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

kout=$(cd "${1:?usage: run-qemu.sh KOUT RESDIR [CMDLINE...]}" && pwd)
res=${2:?usage: run-qemu.sh KOUT RESDIR [CMDLINE...]}
shift 2
need qemu-system-x86_64 timeout cpio
kernel=$kout/arch/x86/boot/bzImage
initrd=${INITRD:-$kout/initramfs.cpio}
[ -f "$kernel" ] || die "$kernel missing: build the kernel first"
[ -f "$initrd" ] || die "$initrd missing: build the initramfs first"
mkdir -p "$res"
TIMEOUT=${TIMEOUT:-3600}
MEM=${MEM:-4G}
case $MEM in
	*G) mem_mb=$(( ${MEM%G} * 1024 ));;
	*M) mem_mb=${MEM%M};;
	*) die "MEM=$MEM: give it as NG or NM";;
esac

qemu=(qemu-system-x86_64 -nodefaults -display none -no-reboot -smp 4,sockets=2,cores=2,threads=1 -m "${mem_mb}M"
      -object memory-backend-ram,id=m0,size=$(( mem_mb / 2 ))M
      -object memory-backend-ram,id=m1,size=$(( mem_mb - mem_mb / 2 ))M
      -numa node,nodeid=0,cpus=0-1,memdev=m0 -numa node,nodeid=1,cpus=2-3,memdev=m1
      -kernel "$kernel")
append="console=ttyS0 panic=-1 loglevel=7 ${QEMU_APPEND:-} $*"

# KVM works on some machines of this kind and hangs at "Booting from ROM" on
# others: boot a two-line init under KVM once and remember the verdict.
accel() {
	local cache=$CACHE/accel probe=$BUILD/probe
	if [ -n "${ACCEL:-}" ]; then echo "$ACCEL"; return; fi
	if [ -f "$cache" ]; then cat "$cache"; return; fi
	mkdir -p "$CACHE" "$probe/root/bin"
	local verdict=tcg
	if [ -r /dev/kvm ] && [ -w /dev/kvm ]; then
		cp "$(command -v busybox)" "$probe/root/bin/busybox"
		printf '#!/bin/busybox sh\n/bin/busybox echo KVM-PROBE-OK >/dev/ttyS0\n/bin/busybox reboot -f\n' > "$probe/root/init"
		chmod +x "$probe/root/init"
		(cd "$probe/root" && find . | cpio -o -H newc --quiet) > "$probe/probe.cpio"
		timeout -k 2 30 "${qemu[@]}" -accel kvm -cpu host -initrd "$probe/probe.cpio" \
			-serial "file:$probe/console.log" -append "console=ttyS0 panic=-1" \
			>/dev/null 2>&1 || true
		grep -q '^KVM-PROBE-OK' "$probe/console.log" 2>/dev/null && verdict=kvm
	fi
	echo "$verdict" > "$cache"
	log "qemu: accelerator probe: $verdict"
	echo "$verdict"
}

acc=$(accel)
if [ "$acc" = kvm ]; then
	qemu+=(-accel kvm -cpu host)
else
	qemu+=(-accel tcg,thread=multi -cpu max)
fi
# A swap disk, new for every run (the guest runs mkswap on it).
swap=$res/swap.img
rm -f "$swap" && truncate -s "${SWAP_SIZE:-2G}" "$swap"
qemu+=(-drive "file=$swap,if=virtio,format=raw,cache=unsafe")
rm -f "$res/console.log" "$res/user.log"
log "qemu: booting $kernel ($acc, ${MEM}, limit ${TIMEOUT}s)"
start=$(date +%s)
timeout -k 5 "$TIMEOUT" "${qemu[@]}" -initrd "$initrd" -append "$append" \
	-serial "file:$res/console.log" -serial "file:$res/user.log" \
	>"$res/qemu.log" 2>&1 &
qpid=$!
seen=0
while kill -0 "$qpid" 2>/dev/null; do
	sleep 5
	n=$(grep -c '^===KSELFTEST-BEGIN' "$res/user.log" 2>/dev/null || true)
	if [ "${n:-0}" -gt "$seen" ]; then
		tr -d '\r' < "$res/user.log" | grep '^===KSELFTEST-BEGIN' | sed -n "$((seen + 1)),${n}p" |
			while read -r _ name; do log "qemu: +$(( $(date +%s) - start ))s running ${name%===}"; done
		seen=$n
	fi
done
set +e
wait "$qpid"
rc=$?
set -e
secs=$(( $(date +%s) - start ))
rm -f "$swap"
echo "$secs" > "$res/seconds"
if grep -q '^===RUN-END===' "$res/user.log" 2>/dev/null; then
	log "qemu: guest finished in ${secs}s"
	exit 0
fi
if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
	echo "run-qemu.sh: error: guest hung: no end of run after ${TIMEOUT}s (logs: $res)" >&2
elif grep -q 'Kernel panic' "$res/console.log" 2>/dev/null; then
	echo "run-qemu.sh: error: guest kernel panicked: $(grep -m1 'Kernel panic' "$res/console.log" | sed 's/^\[[^]]*\] //') (logs: $res)" >&2
else
	echo "run-qemu.sh: error: guest stopped before the end of its run (qemu exit $rc; logs: $res)" >&2
fi
exit 1
