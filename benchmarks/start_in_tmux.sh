#!/usr/bin/env bash
# Start -> first case on screen in a real terminal (tmux), on the generated 10,000 x 5 dataset.
# Usage: benchmarks/start_in_tmux.sh   (needs tmux; generates /tmp/labeler-bench once)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
[ -d /tmp/labeler-bench ] || python "$here/generate.py" /tmp/labeler-bench
cd /tmp/labeler-bench
labeler validate >/dev/null || true   # warms the cache like a second open
for i in 1 2 3 4 5; do
  tmux kill-session -t lbench 2>/dev/null || true
  t0=$(date +%s.%N)
  tmux new-session -d -s lbench -x 120 -y 40 "labeler label big --annotator bench; sleep 30"
  until tmux capture-pane -p -t lbench 2>/dev/null | grep -q INPUT; do sleep 0.02; done
  t1=$(date +%s.%N)
  echo "run $i: $(echo "$t1 - $t0" | bc) s"
done
tmux kill-session -t lbench
