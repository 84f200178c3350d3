#!/usr/bin/env bash
# test_soak_check.sh: check 4 of scripts/guest/soak-check (stress-ng's
# metrics check) on a stand-in guest root, with busybox's sh, awk, grep
# and sed as in the guest. The trace and the stress-ng log are those of
# a failing 100 % soak boot (2026-12-02 18:17, dev-shm's instance 1111,
# its child 1112 and worker 1113), cut to what check 4 reads; each case
# edits them. The late count of that boot must pass, with its reason; each
# other case must fail for its own reason: a counter that is not the copy
# plus one (lower, equal, two above, beyond 2^63), a corrupted run flag,
# a hash error alone in another instance, another stressor, no late
# worker (only its parent, or an unrelated process, exited late), no exit
# of the instance, lost events, no trace, no instance pid.
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

# run NAME WANT WHY [SED-ON-LOG [SED-ON-TRACE [notrace|lost]]]: WANT "ok" or
# "not ok" for check 4, WHY a pattern its output must match.
run() {
	local name=$1 want=$2 why=$3 r=$tmp/root out got
	rm -rf "$r"
	mkdir -p "$r/tmp" "$r/proc" "$r/sys/kernel/debug/tracing/per_cpu/cpu0" \
		"$r/sys/kernel/debug/tracing/events/sched/sched_process_exit"
	echo 2 > "$r/tmp/stress-ng.rc"
	echo "console=ttyS0 testbed.soak=100 testbed.trace=dev_shm" > "$r/proc/cmdline"
	echo "thp_split_pmd_failed 0" > "$r/proc/vmstat"
	printf 'overrun: 0\ndropped events: %s\n' "$([ "${6:-}" = lost ] && echo 3 || echo 0)" \
		> "$r/sys/kernel/debug/tracing/per_cpu/cpu0/stats"
	echo "$log" | sed "${4:-}" > "$r/tmp/stress-ng.log"
	if [ "${6:-}" != notrace ]; then
		echo 1 > "$r/sys/kernel/debug/tracing/events/sched/sched_process_exit/enable"
		echo "$trace" | sed "${5:-}" > "$r/sys/kernel/debug/tracing/trace"
	fi
	out=$(PATH=$tmp/bin:$PATH SOAK_CHECK_ROOT=$r "$bb" sh "$check" 10 2>&1)
	got=$(echo "$out" | grep -E '^(not )?ok 4 ')
	if [ "${got#"$want 4 "}" != "$got" ] && echo "$out" | grep -qE "$why"; then
		ok "$name: $got"
	else
		notok "$name: want '$want 4' and /$why/, got '${got:-nothing}'"
		echo "$out" | grep -v '^# stress-ng' | sed 's/^/#   /' | tail -n 15
	fi
	# testbed.trace=dev_shm: the instance's trace is printed.
	if [ "${6:-}" != notrace ] && echo "$log" | sed "${4:-}" | grep -q "dev-shm: started \[1111\]" &&
	   ! echo "$out" | grep -q "^# trace: .*pid=1111 "; then
		notok "$name: no trace of dev_shm's instance printed"
	fi
	# check 2 (--verify) must not count the metrics lines.
	echo "$out" | grep -q '^ok 2 ' || notok "$name: check 2 did not pass"
}

late='worker pid 1113 exited 11.715s after the instance process 1111'
run "the late count of the failing boot" ok "$late"
run "no metrics failure" ok '^ok 4 stress-ng metrics check$' '/fail:  \[139\]/d'
run "counter lower than the copy" "not ok" 'counter 3 is not the copy 4 plus one' 's/counter, 5 vs 4/counter, 3 vs 4/'
run "counter equal to the copy" "not ok" 'counter 4 is not' 's/counter, 5 vs 4/counter, 4 vs 4/'
run "counter two above the copy" "not ok" 'counter 6 is not' 's/counter, 5 vs 4/counter, 6 vs 4/'
run "a copy beyond 2^63" "not ok" 'counter 5 is not the copy 18446744073709551615' 's/counter, 5 vs 4/counter, 5 vs 18446744073709551615/'
run "a counter beyond 2^63 that wraps to copy + 1" "not ok" 'counter 18446744073709551621 is not' 's/counter, 5 vs 4/counter, 18446744073709551621 vs 4/'
run "a corrupted run flag" "not ok" 'run flag is corrupted' '$a stress-ng: fail:  [139] dev_shm instance 0 corrupted run flag, 1 vs 0'
run "a hash error alone in another instance" "not ok" 'instance 1: .*hash error without' '$a stress-ng: debug: [1200] dev-shm: started [1200] (instance 1)\nstress-ng: fail:  [139] dev_shm instance 1 hash error in bogo-ops counter and run flag, 1 vs 2'
run "a stressor whose race was not analysed" "not ok" 'late count of stack has not been analysed' 's/dev_shm instance 0/stack instance 0/; s/dev-shm: started/stack: started/'
run "the worker exited before the instance, its parent after" "not ok" 'no worker' '' 's/45.551690: sched_process_exit/30.0: sched_process_exit/'
run "an unrelated late process, the worker not late" "not ok" 'no worker' '' 's/45.551690: sched_process_exit/30.0: sched_process_exit/; $a \        stress-ng-139     [000] .....    40.0: sched_process_fork: comm=stress-ng pid=139 child_comm=stress-ng child_pid=1300\n        stress-ng-1300     [000] .....    50.0: sched_process_exit: comm=stress-ng pid=1300 prio=120 group_dead=true'
run "no exit of the instance in the trace" "not ok" 'no exit of its instance' '' '/pid=1111 prio/d'
run "events lost" "not ok" 'lost 3 events' '' '' lost
run "no trace" "not ok" 'no trace of its processes' '' '' notrace
run "no -v started line" "not ok" 'no pid of its instance' '/started \[1111\]/d'

echo "# test_soak_check: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
