#!/usr/bin/env bash
# Data-parallel benchmark on the built-in job (Gloo over loopback): the same ACPO steps from the
# same warm start run as 1 rank x T threads and as N ranks x T/N threads, and the table compares
# their time per step and throughput and gives the share of a step spent in collectives
# (rank 0's time inside all-reduces and broadcasts, waiting for the slower rank included).
#
#   benchmarks/data-parallel.sh OUT_DIR [STEPS] [WARM_START]
#
# STEPS: RL steps of each run (default 60; the first 5 are left out of the per-step means).
# WARM_START: a model directory to start from (default: OUT_DIR/warmstart, made once by
# `vlmrl sft` with the default settings, 1000 steps). Needs java/target/vlmrl.jar and python3.
# Environment: VLMRL_BENCH_CORES (default: nproc) = T; VLMRL_BENCH_RANKS (default 2) = N.
set -euo pipefail

out="${1:?usage: benchmarks/data-parallel.sh OUT_DIR [STEPS] [WARM_START]}"
steps="${2:-60}"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
jar="$root/java/target/vlmrl.jar"
cores="${VLMRL_BENCH_CORES:-$(nproc)}"
ranks="${VLMRL_BENCH_RANKS:-2}"
per_rank=$(( cores / ranks > 0 ? cores / ranks : 1 ))
export OMP_WAIT_POLICY="${OMP_WAIT_POLICY:-passive}"
mkdir -p "$out"
warm="${3:-$out/warmstart}"
if [[ ! -d "$warm" ]]; then
  echo "warm start: vlmrl sft --out $warm"
  java -jar "$jar" sft --out "$warm" --quiet > "$out/sft.log" 2>&1
fi
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)" > "$out/load.txt"
common=(--model "$warm" --preset acpo --set "steps=$steps" --set checkpoint.every=0 --quiet)
rm -rf "$out/single" "$out/ranks"
echo "1 rank x $cores threads"
java -jar "$jar" train --out "$out/single" "${common[@]}" --set "threads=$cores" > "$out/single.log" 2>&1
echo "$ranks ranks x $per_rank threads"
java -jar "$jar" train --nproc "$ranks" --out "$out/ranks" "${common[@]}" --set "threads=$per_rank" > "$out/ranks.log" 2>&1
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)" >> "$out/load.txt"

python3 - "$out" "$cores" "$ranks" "$per_rank" <<'PY'
import json, re, sys
out, cores, ranks, per_rank = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
def read(run):
    rows = [json.loads(l) for l in open(f"{out}/{run}/metrics.jsonl") if l.strip()]
    tail = rows[5:] or rows
    step = sum(r["time/step_s"] for r in tail) / len(tail)
    tps = sum(r["throughput/tokens_per_s"] for r in tail) / len(tail)
    return len(rows), sum(r["time/step_s"] for r in rows), step, tps, rows[-1]["reward/mean"]
share = re.search(r"collectives took ([\d.]+) s of the RL loop's ([\d.]+) s \(([\d.]+)%", open(f"{out}/ranks.log").read())
a, b = read("single"), read("ranks")
print(f"| run | steps | RL s | s/step (after 5) | tokens/s (after 5) | in collectives |")
print(f"|---|---:|---:|---:|---:|---:|")
print(f"| 1 rank x {cores} threads | {a[0]} | {a[1]:.1f} | {a[2]:.3f} | {a[3]:.0f} | - |")
print(f"| {ranks} ranks x {per_rank} thread(s) | {b[0]} | {b[1]:.1f} | {b[2]:.3f} | {b[3]:.0f} | "
      + (f"{share.group(1)} s of {share.group(2)} s ({share.group(3)}%) |" if share else "? |"))
print(f"\nthroughput of {ranks} ranks / 1 rank: {b[3] / a[3]:.2f}x; last step's reward/mean {a[4]:.4f} vs {b[4]:.4f}")
PY
cat "$out/load.txt"
