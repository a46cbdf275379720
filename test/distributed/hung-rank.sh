#!/usr/bin/env bash
# A hung rank ends the job (docs/distributed.md): rank 1 is stopped with
# SIGSTOP mid-epoch, and rank 0's watchdog must end the job within a bound,
# exit non-zero and name rank 1 and the collective rank 0 waits in. With the
# watchdog off (--rank-timeout 0) the same job must still be waiting after
# three timeouts, so that the bound is the watchdog's doing, not mpirun's.
# Usage: hung-rank.sh DP_BINARY WORKDIR
set -euo pipefail
dp=$1 work=$2
rm -rf "$work" && mkdir -p "$work"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
# Loopback only: shared memory between the two ranks, no network transport.
mpi=(mpirun -np 2 --oversubscribe --bind-to none --mca btl self,vader)
# --sync-bn off: the only collective of a step is the gradient allreduce.
run=(--epochs 2 --train-limit 19200 --test-limit 64 --threads 1 --checkpoint-every 0
     --sync-bn off --mutation none)
timeout=2
fail() { echo "FAIL: $*" >&2; exit 1; }

job="" victim=""
cleanup() {  # nothing stays behind, stopped or not
  [[ -n $victim ]] && kill -CONT "$victim" 2>/dev/null && kill -9 "$victim" 2>/dev/null
  if [[ -n $job ]]; then kill -9 "$job" 2>/dev/null; { wait "$job"; } 2>/dev/null || true; fi
  for p in $(pgrep -f "$dp" || true); do
    if { tr '\0' '\n' < /proc/$p/environ; } 2>/dev/null | grep -q "^OMPI_COMM_WORLD_RANK="; then
      grep -qF "$work" /proc/$p/cmdline 2>/dev/null && kill -CONT "$p" && kill -9 "$p"
    fi
  done
  return 0
}
trap cleanup EXIT

# start_and_stop NAME ARGS...: starts the job, waits for rank 0's first batch
# line, stops rank 1; sets job, victim and stopped (the time).
start_and_stop() {
  local name=$1; shift
  "${mpi[@]}" "$dp" "${run[@]}" --out "$work/$name" "$@" > "$work/$name.log" 2>&1 &
  job=$!
  for _ in $(seq 1 600); do
    grep -q "^epoch 1/2 batch" "$work/$name.log" && break
    kill -0 $job 2>/dev/null || { cat "$work/$name.log"; fail "$name: the job ended early"; }
    sleep 0.1
  done
  grep -q "^epoch 1/2 batch" "$work/$name.log" || fail "$name: no batch line after 60 s"
  victim=""
  for p in $(pgrep -f "$dp" || true); do
    if { tr '\0' '\n' < /proc/$p/environ; } 2>/dev/null | grep -qx OMPI_COMM_WORLD_RANK=1; then
      grep -qF "$work/$name" /proc/$p/cmdline && victim=$p
    fi
  done
  [[ -n $victim ]] || fail "$name: rank 1 not found"
  kill -STOP "$victim"
  stopped=$(date +%s%N)
}

echo "== rank 1 stopped, --rank-timeout $timeout: the job ends naming rank 1"
start_and_stop watched --rank-timeout $timeout
for _ in $(seq 1 600); do kill -0 $job 2>/dev/null || break; sleep 0.1; done
if kill -0 $job 2>/dev/null; then cat "$work/watched.log"; fail "the job still runs 60 s after rank 1 stopped"; fi
rc=0
wait $job || rc=$?
took=$(( ($(date +%s%N) - stopped) / 1000000 ))
job=""
echo "mpirun exited $rc, ${took} ms after rank 1 (pid $victim) was stopped"
grep "no progress" "$work/watched.log" || true
[[ $rc -ne 0 ]] || fail "mpirun exited 0"
(( took >= timeout * 1000 && took <= 30000 )) \
  || fail "the job ended ${took} ms after the stop, not within ${timeout} to 30 s"
want="\(rank 0 of 2\): error: no progress from rank 1 for [0-9]+ s in the gradient allreduce of step [0-9]+ \(epoch 1\); ending the job \(--rank-timeout $timeout\)"
grep -qE "$want" "$work/watched.log" || { cat "$work/watched.log"; fail "no message naming rank 1 and the collective"; }
# mpirun ends the stopped rank too (a zombie not yet reaped is gone).
running() { local s; s=$(ps -o stat= -p "$1" 2>/dev/null | tr -d ' '); [[ -n $s && $s != Z* ]]; }
for _ in $(seq 1 50); do running "$victim" || break; sleep 0.1; done
running "$victim" && fail "the stopped rank (pid $victim) was left behind"
victim=""

echo "== the same with --rank-timeout 0: still waiting after $((3 * timeout)) s"
start_and_stop unwatched --rank-timeout 0
sleep $((3 * timeout))
kill -0 $job 2>/dev/null || { cat "$work/unwatched.log"; fail "the job ended without the watchdog"; }
grep -q "no progress" "$work/unwatched.log" && fail "--rank-timeout 0 still watches"
cleanup
job="" victim=""
echo "PASS"
