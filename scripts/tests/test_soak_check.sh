#!/usr/bin/env bash
# test_soak_check.sh: check 4 of scripts/guest/soak-check (stress-ng's
# metrics check) on a stand-in guest root, with busybox's sh, awk, grep
# and sed as in the guest. The trace and the stress-ng log are those of
# a failing 100 % soak boot (2026-12-02 18:17, dev-shm's instance 1111,
# its child 1112 and worker 1113), cut to what check 4 reads; each case
# edits them. The late count of that boot must pass; a lower counter, a
# larger difference, a huge copy, a hash error alone, another instance,
# another stressor, a late process that is not late, a trace without the
# instance's exit, and no trace at all must fail.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
check=$here/../guest/soak-check
pass=0 fail=0
ok() { echo "ok - $1"; pass=$((pass + 1)); }
notok() { echo "not ok - $1"; fail=$((fail + 1)); }
bb=$(command -v busybox) || { echo "busybox missing (run: make deps)" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/bin"
for a in sh awk sed grep tr cut sort head cat echo wc sleep; do ln -s "$bb" "$tmp/bin/$a"; done

trace='        stress-ng-139     [000] .....    22.783898: sched_process_fork: comm=stress-ng pid=139 child_comm=stress-ng child_pid=1111
  stress-ng-dev-s-1111    [001] .....    22.793730: sched_process_fork: comm=stress-ng-dev-s pid=1111 child_comm=stress-ng-dev-s child_pid=1112
  stress-ng-dev-s-1112    [002] .....    22.793877: sched_process_fork: comm=stress-ng-dev-s pid=1112 child_comm=stress-ng-dev-s child_pid=1113
  stress-ng-dev-s-1111    [001] d..3.    32.819296: signal_generate: sig=15 errno=0 code=0 comm=stress-ng-dev-s pid=1112 grp=1 res=0
  stress-ng-dev-s-1111    [001] d..3.    33.835100: signal_generate: sig=9 errno=0 code=0 comm=stress-ng-dev-s pid=1112 grp=1 res=0
  stress-ng-dev-s-1111    [001] .....    33.836665: sched_process_exit: comm=stress-ng-dev-s pid=1111 prio=120 group_dead=true
  stress-ng-dev-s-1112    [001] .....    45.463164: sched_process_exit: comm=stress-ng-dev-s pid=1112 prio=120 group_dead=true
  stress-ng-dev-s-1113    [000] .....    45.551690: sched_process_exit: comm=stress-ng-dev-s pid=1113 prio=120 group_dead=true'
log='stress-ng: 18:17:38.14 info:  [139] dispatching hogs: 1 bad-altstack, 1 dev-shm
stress-ng: 18:17:56.91 debug: [1111] dev-shm: started [1111] (instance 0)
stress-ng: 18:18:07.96 debug: [1111] dev-shm: exited [1111] (instance 0)
stress-ng: 18:20:28.10 fail:  [1923] pagemove: mremap of address 0x7ffff5200000 to 0x7ffff51ff000 failed, errno=12 (Cannot allocate memory)
stress-ng: 18:21:52.40 fail:  [139] dev_shm instance 0 corrupted bogo-ops counter, 5 vs 4
stress-ng: 18:21:52.40 fail:  [139] dev_shm instance 0 hash error in bogo-ops counter and run flag, 170145443 vs 2480973464
stress-ng: 18:21:52.40 fail:  [139] metrics-check: stressor metrics corrupted, data is compromised'

# run NAME WANT [SED-ON-LOG [SED-ON-TRACE [NO-TRACE]]]: WANT "ok" or "not ok"
# for check 4.
run() {
	local name=$1 want=$2 r=$tmp/root out got
	rm -rf "$r"
	mkdir -p "$r/tmp" "$r/proc" "$r/sys/kernel/debug/tracing/per_cpu/cpu0" \
		"$r/sys/kernel/debug/tracing/events/sched/sched_process_exit"
	echo 2 > "$r/tmp/stress-ng.rc"
	echo "console=ttyS0 testbed.soak=100" > "$r/proc/cmdline"
	echo "thp_split_pmd_failed 0" > "$r/proc/vmstat"
	printf 'overrun: 0\ndropped events: 0\n' > "$r/sys/kernel/debug/tracing/per_cpu/cpu0/stats"
	echo "$log" | sed "${3:-}" > "$r/tmp/stress-ng.log"
	if [ -z "${5:-}" ]; then
		echo 1 > "$r/sys/kernel/debug/tracing/events/sched/sched_process_exit/enable"
		echo "$trace" | sed "${4:-}" > "$r/sys/kernel/debug/tracing/trace"
	fi
	out=$(PATH=$tmp/bin:$PATH SOAK_CHECK_ROOT=$r "$bb" sh "$check" 10 2>&1)
	got=$(echo "$out" | grep -E '^(not )?ok 4 ')
	case "$got" in
	"$want 4 "*) ok "$name: $got";;
	*) notok "$name: want '$want 4', got '${got:-nothing}'"; echo "$out" | sed 's/^/#   /' | tail -n 15;;
	esac
	# check 2 (--verify) must not count the metrics lines.
	echo "$out" | grep -q '^ok 2 ' || notok "$name: check 2 did not pass"
}

run "the late count of the failing boot" ok
run "no metrics failure" ok '/fail:  \[139\]/d'
run "counter lower than the copy" "not ok" 's/counter, 5 vs 4/counter, 3 vs 4/'
run "counter equal to the copy" "not ok" 's/counter, 5 vs 4/counter, 4 vs 4/'
run "difference larger than the late processes" "not ok" 's/counter, 5 vs 4/counter, 7 vs 4/'
run "a copy beyond 2^63" "not ok" 's/counter, 5 vs 4/counter, 5 vs 18446744073709551615/'
run "a corrupted run flag" "not ok" '$a stress-ng: fail:  [139] dev_shm instance 0 corrupted run flag, 1 vs 0'
run "a hash error alone in another instance" "not ok" '$a stress-ng: fail:  [139] dev_shm instance 1 hash error in bogo-ops counter and run flag, 1 vs 2'
run "a stressor whose race was not analysed" "not ok" 's/dev_shm instance 0/stack instance 0/'
run "no process exited after the instance" "not ok" '' 's/33.836665: sched_process_exit/46.0: sched_process_exit/'
run "no exit of the instance in the trace" "not ok" '' '/pid=1111 prio/d'
run "no trace" "not ok" '' '' notrace
run "no -v started line" "not ok" '/started \[1111\]/d'

echo "# test_soak_check: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
