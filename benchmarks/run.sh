#!/usr/bin/env bash
# Runs the vlmrl JMH benchmarks and prints the fused-vs-eager table.
#
#   benchmarks/run.sh quick [extra JMH args]   # a few minutes on 2 cores: fewer sizes and iterations
#   benchmarks/run.sh full  [extra JMH args]   # every size, more iterations (RESULTS.md)
#
# Extra arguments go to JMH after ours, e.g. a benchmark regex ("PolicyLoss") or "-p tokens=65536".
# Environment:
#   VLMRL_BENCH_THREADS  threads for LibTorch and for the native OpenMP kernels (default: nproc)
#   OMP_WAIT_POLICY      OpenMP idle-thread policy (default here: passive, see README.md)
#   VLMRL_BENCH_CP       class path to use instead of benchmarks/target/classes:benchmarks/target/lib/*
#   JAVA                 java executable (default: java)
set -euo pipefail

mode="${1:-}"
case "$mode" in
  quick|full) shift ;;
  *) echo "usage: benchmarks/run.sh quick|full [extra JMH args]" >&2; exit 2 ;;
esac

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
cd "$root"
java_cmd="${JAVA:-java}"

# Build only when nothing is built yet.
if [[ -z "${VLMRL_BENCH_CP:-}" && ! -d benchmarks/target/classes/io/vlmrl/bench ]]; then
  echo "benchmarks/target/classes missing: building (mvn -q -pl benchmarks -am package -DskipTests)"
  mvn -q -pl benchmarks -am package -DskipTests
fi
cp="${VLMRL_BENCH_CP:-benchmarks/target/classes:benchmarks/target/lib/*}"

# Same thread count for LibTorch (set in Java from -Dvlmrl.bench.threads) and for the
# native kernels' OpenMP runtime (OMP_NUM_THREADS, read when the library loads).
threads="${VLMRL_BENCH_THREADS:-$(nproc)}"
export OMP_NUM_THREADS="$threads"

# OpenMP threads sleep while they wait (for the next parallel region or at a barrier)
# instead of spinning. LibTorch and the native kernels share one libgomp; with its default
# (spin first), a waiting thread keeps its core busy and loses the scheduler's wake-up
# priority, so as soon as any other process runs on this 2-core machine a parallel region
# waits a whole time slice for a descheduled peer: ~16 ms per call even for a 0.05 ms
# kernel (README.md, "OpenMP wait policy"). Export OMP_WAIT_POLICY=active to measure spinning.
export OMP_WAIT_POLICY="${OMP_WAIT_POLICY:-passive}"

stamp="$(date -u +%Y%m%dT%H%M%SZ)"
results="benchmarks/results"
mkdir -p "$results"
json="$results/$mode-$stamp.json"
memory="$results/$mode-$stamp-memory.csv"
cpu_times="$results/$mode-$stamp-cpu.csv"
table="$results/$mode-$stamp.md"

# The heap is fixed and pre-touched so that JVM heap growth never shows up in the
# resident-memory high-water mark the log-prob benchmark reads. JavaCPP's own cap on resident
# memory (4x the heap by default) is lifted: the unfused LM head at 8192 x 151936 holds 5 GB of
# logits.
fork_jvm_args="-Xms2g -Xmx2g -XX:+AlwaysPreTouch -Dorg.bytedeco.javacpp.maxPhysicalBytes=0 -Dvlmrl.bench.threads=$threads -Dvlmrl.bench.memoryFile=$memory -Dvlmrl.bench.cpuFile=$cpu_times"

# The fused LM head (LmHeadLogProbsBenchmark) does 3-4 N x D x V products per call: at the
# issue's shapes (N = 4096 / 8192, V = 151936) that is 8-10 TFLOP, over a minute per call on
# 2 cores. quick keeps V and D and cuts N to 512 / 1024; full runs the issue's shapes with one
# warm-up call and one measured call per method (a call takes minutes there), and without the
# eager peer, whose [N, V] temporaries (about 8x the logits: 20 GB at 4096 x 151936, 40 GB at
# 8192) do not fit a 23 GiB machine.
# With extra arguments, full runs one JMH invocation with them (LmHead included at 3 iterations).
lm_head_args=()
if [[ "$mode" == quick ]]; then
  jmh_args=(-f 1 -wi 1 -w 1s -i 2 -r 1s -p mode=ppo,aaac-k3-dads -p tokens=4194304 -p shape=2048x32768
            -p ndv=512x2048x151936,1024x1024x151936)
elif [[ $# -eq 0 ]]; then
  jmh_args=(-f 1 -wi 1 -w 2s -i 3 -r 2s -e 'LmHeadLogProbsBenchmark')
  lm_head_args=(-f 1 -wi 1 -w 1s -i 1 -r 1s -e 'LmHeadLogProbsBenchmark.eager$' 'LmHeadLogProbsBenchmark')
else
  jmh_args=(-f 1 -wi 1 -w 2s -i 3 -r 2s)
fi

cpu_model="$(lscpu | sed -n 's/^Model name:[[:space:]]*//p' | head -1)"
cores="$(nproc)"
mem_total="$(free -g | awk '/^Mem:/ {print $2 " GiB"}')"
jdk="$("$java_cmd" -version 2>&1 | head -1)"
commit="$(git rev-parse --short HEAD 2>/dev/null || echo unknown)"

{
  echo "## vlmrl benchmarks ($mode run, $stamp)"
  echo
  echo "- machine: $cpu_model, $cores cores, $mem_total memory"
  echo "- JDK: $jdk"
  echo "- threads: LibTorch $threads, native OpenMP $threads (OMP_NUM_THREADS); OMP_WAIT_POLICY $OMP_WAIT_POLICY"
  echo "- load average before the run (other processes on the machine distort every number): $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "- git commit: $commit"
  echo "- command: benchmarks/run.sh $mode $*"
  echo "- JMH: ${jmh_args[*]} $*"
  if [[ ${#lm_head_args[@]} -gt 0 ]]; then echo "- JMH (fused LM head): ${lm_head_args[*]}"; fi
  echo
} > "$table"

echo "== checking that fused kernels and eager baselines compute the same math"
"$java_cmd" -Xmx2g -Dvlmrl.bench.threads="$threads" -cp "$cp" io.vlmrl.bench.BaselineAgreement

echo "== JMH ($mode): results in $json"
"$java_cmd" -cp "$cp" org.openjdk.jmh.Main "${jmh_args[@]}" \
  -jvmArgsAppend "$fork_jvm_args" -rf json -rff "$json" "$@"
jsons=("$json")
if [[ ${#lm_head_args[@]} -gt 0 ]]; then
  lm_json="$results/$mode-$stamp-lmhead.json"
  echo "== JMH ($mode, fused LM head at the issue's shapes): results in $lm_json"
  "$java_cmd" -cp "$cp" org.openjdk.jmh.Main "${lm_head_args[@]}" \
    -jvmArgsAppend "$fork_jvm_args" -rf json -rff "$lm_json"
  jsons+=("$lm_json")
fi

{
  echo "- load average after the run: $(cut -d' ' -f1-3 /proc/loadavg)"
  echo
  "$java_cmd" -cp "$cp" io.vlmrl.bench.report.ResultsReport "${jsons[@]}" "$memory" "$cpu_times"
} >> "$table"
echo
cat "$table"
echo "(table saved to $table)"
