#!/usr/bin/env bash
# test-errors.sh [--kernel KOUT]: the tooling's answers to bad input. Each
# case must exit non-zero with a one-line error naming the problem, and leave
# the user's tree untouched. With --kernel, also boots KOUT's kernel into a
# panic, a hanging init and a hanging test.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
S=$here/..
. "$S/lib.sh"
kout=
[ "${1:-}" = --kernel ] && kout=$(cd "${2:?--kernel KOUT}" && pwd)

pass=0 fail=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# expect NAME PATTERN CMD...: CMD fails, and its last stderr line matches PATTERN.
expect() {
	local name=$1 pat=$2 rc err
	shift 2
	"$@" >"$tmp/out" 2>"$tmp/err"
	rc=$?
	err=$(grep -v '^\[[0-9:]*\] ' "$tmp/err" | tail -n1)
	if [ $rc -ne 0 ] && echo "$err" | grep -qE "$pat"; then
		echo "ok - $name: $err"
		pass=$((pass + 1))
	else
		echo "not ok - $name: rc=$rc, stderr: $(tail -n3 "$tmp/err" | tr '\n' '|')"
		fail=$((fail + 1))
	fi
}
check() {	# check NAME CMD...: CMD succeeds.
	local name=$1; shift
	if "$@" >/dev/null 2>&1; then echo "ok - $name"; pass=$((pass + 1))
	else echo "not ok - $name"; fail=$((fail + 1)); fi
}

# A small git repo standing in for a user's kernel tree, with a branch and
# uncommitted work.
user=$tmp/user
mkdir -p "$user/mm" && git -C "$user" init -q -b mine
echo 'int x;' > "$user/mm/huge_memory.c"
git -C "$user" add -A && git -C "$user" -c user.name=u -c user.email=u@x commit -qm base
echo 'int y;' >> "$user/mm/huge_memory.c"		# uncommitted
echo scratch > "$user/untracked.txt"
state() { git -C "$user" for-each-ref --format='%(refname) %(objectname)' refs/heads;
	  git -C "$user" status --porcelain; git -C "$user" rev-parse HEAD; git -C "$user" diff | sha1sum; }
before=$(state)

good=$tmp/good bad=$tmp/bad
mkdir -p "$good" "$bad"
cat > "$good/0001-mm-test.patch" <<'P'
From 0000000000000000000000000000000000000000 Mon Sep 17 00:00:00 2001
From: Test <test@example.org>
Date: Mon, 1 Jan 2026 00:00:00 +0000
Subject: [PATCH] mm: test

---
 mm/huge_memory.c | 1 +
 1 file changed, 1 insertion(+)

diff --git a/mm/huge_memory.c b/mm/huge_memory.c
--- a/mm/huge_memory.c
+++ b/mm/huge_memory.c
@@ -1 +1,2 @@
 int x;
+int z;
P
sed 's/^ int x;$/ int nothere;/' "$good/0001-mm-test.patch" > "$bad/0001-mm-test.patch"

expect "KERNEL_TREE not a git tree" "is not a git tree" \
	env KERNEL_TREE="$tmp" TREE="$tmp/w0" bash "$S/tree.sh" series
mkdir -p "$tmp/notkernel" && git -C "$tmp/notkernel" init -q
expect "KERNEL_TREE not a kernel tree" "not a Linux kernel tree" \
	env KERNEL_TREE="$tmp/notkernel" TREE="$tmp/w0" bash "$S/tree.sh" series
expect "BASE not a commit" "is not a commit" \
	env KERNEL_TREE="$user" BASE=no-such-ref TREE="$tmp/w1" bash "$S/tree.sh" series
expect "patch does not apply" "0001-mm-test.patch: does not apply" \
	env KERNEL_TREE="$user" PATCHES="$bad" BRANCH=t-bad TREE="$tmp/w2" bash "$S/tree.sh" series
check "failed apply leaves no worktree" test ! -e "$tmp/w2"
check "user's tree untouched after a failed apply" test "$(state)" = "$before"
check "good patch applies in a new worktree" \
	env KERNEL_TREE="$user" PATCHES="$good" BRANCH=t-good TREE="$tmp/w3" bash "$S/tree.sh" series
check "the series is on the new branch" grep -q 'int z' "$tmp/w3/mm/huge_memory.c"
after=$(state | grep -v 'refs/heads/t-good')
check "user's branches, index and work untouched" test "$after" = "$before"
expect "branch exists" "already exists" \
	env KERNEL_TREE="$user" PATCHES="$good" BRANCH=t-good TREE="$tmp/w4" bash "$S/tree.sh" series
expect "pinned base version gone" "no longer in the archive; it has: .*linux-source-7.3=7.3.4-1~bpo13[+]1" \
	env CACHE="$tmp/fb" BASE_VER=0.0-0 bash "$S/fetch-base.sh"
mkdir -p "$tmp/nopath"
for t in bash make gcc bison flex bc dirname basename date cat; do ln -sf "$(command -v $t)" "$tmp/nopath/$t"; done
mkdir -p "$tmp/ksrc" && touch "$tmp/ksrc/Makefile"
expect "missing tool" "missing tool 'ccache'" \
	env PATH="$tmp/nopath" bash "$S/build-kernel.sh" "$tmp/ksrc" "$tmp/o"

if [ -n "$kout" ]; then
	# A kernel that panics at boot: no init anywhere.
	expect "kernel panics at boot" "panicked" env TIMEOUT=180 \
		QEMU_APPEND="rdinit=/nonexistent root=/dev/nonexistent" bash "$S/run-qemu.sh" "$kout" "$tmp/panic"
	# A guest that never finishes: init sleeps.
	expect "guest hangs" "hung: no end of run after 45s" env TIMEOUT=45 \
		QEMU_APPEND="rdinit=/bin/busybox -- sleep 9999" bash "$S/run-qemu.sh" "$kout" "$tmp/hang"
	# A test that hangs: the guest's per-test limit kills it, the run goes on,
	# and the parser reports the timeout as a failure.
	r=$tmp/hangtest
	mkdir -p "$r/root"
	(cd "$r/root" && cpio -id --quiet < "$kout/initramfs.cpio")
	printf '#!/bin/sh\nsleep 9999\n' > "$r/root/tests/hang" && chmod +x "$r/root/tests/hang"
	printf 'hang 5\n' > "$r/root/tests/tests.txt"
	(cd "$r/root" && find . | cpio -o -H newc --quiet) > "$r/initramfs.cpio"
	check "run with a hanging test reaches its end" env INITRD="$r/initramfs.cpio" TIMEOUT=300 \
		bash "$S/run-qemu.sh" "$kout" "$r"
	cat "$r/console.log" "$r/user.log" 2>/dev/null | tr -d '\r' > "$r/run.log"
	python3 "$S/ktap.py" "$r/run.log" >"$tmp/out" 2>&1
	check "hanging test is a failure (ktap.py exits 1)" test $? -eq 1
	check "hanging test reported as a timeout" grep -q '^    not ok: timeout$' "$tmp/out"
fi
echo "test-errors: $pass passed, $fail failed"
[ $fail -eq 0 ]
