#!/usr/bin/env bash
# SIGTERM at 20 random moments of the main job (./splitfed train: MiniLM on SST-2), each run resumed
# from the newest checkpoint the one before named; a run that finishes before its signal starts the
# job afresh. Then one last resume runs to the end. Prints one line per stop, any JVM crash file,
# and the last run's rounds.
#
#   tools/faults/sigterm_main_job.sh [WORK_DIR] [SEED]      (default: runs/sigterm-soak, 20261207)
set -u
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
WORK="${1:-$ROOT/runs/sigterm-soak}"
RANDOM="${2:-20261207}"
mkdir -p "$WORK" && cd "$WORK" || exit 1
rm -rf ck out hs_err* stop-*.log summary.txt finish.log
"$ROOT/splitfed" --version > /dev/null   # build first, so no stop lands in the build
stops=0
while [ $stops -lt 20 ]; do
  if [ -f ck/LATEST ]; then flag=--resume; else flag=--checkpoint-dir; fi
  t=$(( 15 + RANDOM % 90 ))   # seconds after the start: loading, training, evaluating, checkpointing
  "$ROOT/splitfed" train --no-progress $flag ck --out out > "stop-$((stops + 1)).log" 2>&1 &
  pid=$!
  sleep $t
  if ! kill -0 $pid 2> /dev/null; then
    wait $pid
    echo "a run finished before its signal (exit $?): starting the job afresh" | tee -a summary.txt
    rm -rf ck
    continue
  fi
  kill -TERM $pid
  wait $pid
  rc=$?
  stops=$((stops + 1))
  echo "stop $stops at ${t}s: exit $rc, $(wc -l < "stop-$stops.log") line(s): $(head -c 200 "stop-$stops.log")" | tee -a summary.txt
done
if [ -f ck/LATEST ]; then flag=--resume; else flag=--checkpoint-dir; fi
"$ROOT/splitfed" train --no-progress $flag ck --out out > finish.log 2>&1
echo "last resume: exit $?" | tee -a summary.txt
ls hs_err* 2> /dev/null | sed 's/^/JVM CRASH FILE: /' | tee -a summary.txt
grep -E "^ +[0-9]+ +0\.|final accuracy|exactly once" finish.log | tee -a summary.txt
