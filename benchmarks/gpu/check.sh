#!/usr/bin/env bash
# The CUDA kernels on a real GPU, in one command: build, native tests (CUDA against CPU),
# compute-sanitizer, the CUDA benchmark, the PyTorch peers, one markdown report.
# benchmarks/gpu/README.md describes what it runs and writes; --help lists the options.
set -euo pipefail

usage() {
  cat <<'EOF'
usage: bash benchmarks/gpu/check.sh [options] [RESULTS_DIR]

On an NVIDIA GPU machine (nvcc, CMake, a C++ compiler, Python with a CUDA build of PyTorch
and Triton, compute-sanitizer; ncu optional), from a plain checkout:
  1. tools      find the tools and the GPU (nvidia-smi), record versions
  2. configure  CMake for native/ with -DVLMRL_CUDA_BENCH=ON, CUDA arch of the local GPU
  3. build      the library, the native tests and bench_cuda
  4. preflight  bench_cuda --info: the CUDA runtime sees the GPU
  5. tests      ctest, every native test; test_cuda_vs_cpu must run (a skip fails)
  6. memcheck   compute-sanitizer --tool memcheck   over test_cuda_vs_cpu
  7. racecheck  compute-sanitizer --tool racecheck  over test_cuda_vs_cpu
  8. initcheck  compute-sanitizer --tool initcheck  over test_cuda_vs_cpu --small
  9. bench      bench_cuda: policy loss (4 modes x 1M/4M/16M tokens), token log-probs + entropy
                ((2048, 32768) and (8192, 151936), fp32 and bf16), device-to-device copy
 10. torch      torch_peer.py: the same cases in PyTorch eager and torch.compile, copy bandwidth
 11. ncu        Nsight Compute: each large case's kernels alone (optional: a failure only warns)
 12. report     RESULTS_DIR/results.md from all of the above (also written when a step fails)
It stops at the first failing step, naming it, and shows the end of that step's output.
Everything goes to RESULTS_DIR/check.log; machine-readable results sit beside it.

RESULTS_DIR         where the results go (default: build-gpu/ in the repository root)
--dry-run           for a machine without a GPU: tools, configure and build (nvcc compiles
                    the CUDA code), the CPU tests (test_cuda_vs_cpu must report a skip),
                    the harnesses' --help and --list, and a report; prints each GPU step's
                    command instead of running it
--arch N            CUDA architecture (CMAKE_CUDA_ARCHITECTURES: 90 = H100/H200, 80 = A100);
                    default: the GPU's compute capability (nvidia-smi), else 90
--build-dir DIR     CMake build folder (default: RESULTS_DIR/build)
--jobs N            parallel build and test jobs (default: the number of CPUs)
--skip LIST         comma list of steps to skip: tests, memcheck, racecheck, initcheck,
                    bench, torch, ncu
--keep-going        run the later steps after a failed one (the exit code is still 1)
--sanitize-small    run memcheck and racecheck on test_cuda_vs_cpu --small too (faster)
--torch-budget S    torch_peer.py skips the remaining torch.compile cases after S seconds
                    (default 150; eager still runs)
--python PY         the Python with PyTorch (default: python3)
-h, --help          this text
EOF
}

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
COMMAND_LINE="bash benchmarks/gpu/check.sh${*:+ $*}"

RESULTS_DIR=""
BUILD_DIR=""
ARCH=""
DRY_RUN=0
KEEP_GOING=0
SKIP=""
JOBS=""
SANITIZE_SMALL=0
TORCH_BUDGET=150
PYTHON=python3

die_usage() { echo "check.sh: $*" >&2; echo "(bash benchmarks/gpu/check.sh --help for the options)" >&2; exit 2; }
need_value() { [[ $# -ge 2 && -n $2 ]] || die_usage "$1 needs a value"; }

while [[ $# -gt 0 ]]; do
  case $1 in
    -h|--help) usage; exit 0 ;;
    --dry-run) DRY_RUN=1 ;;
    --keep-going) KEEP_GOING=1 ;;
    --sanitize-small) SANITIZE_SMALL=1 ;;
    --arch) need_value "$@"; ARCH=$2; shift ;;
    --arch=*) ARCH=${1#*=} ;;
    --build-dir) need_value "$@"; BUILD_DIR=$2; shift ;;
    --build-dir=*) BUILD_DIR=${1#*=} ;;
    --jobs) need_value "$@"; JOBS=$2; shift ;;
    --jobs=*) JOBS=${1#*=} ;;
    --skip) need_value "$@"; SKIP=$2; shift ;;
    --skip=*) SKIP=${1#*=} ;;
    --torch-budget) need_value "$@"; TORCH_BUDGET=$2; shift ;;
    --torch-budget=*) TORCH_BUDGET=${1#*=} ;;
    --python) need_value "$@"; PYTHON=$2; shift ;;
    --python=*) PYTHON=${1#*=} ;;
    -*) die_usage "unknown option '$1'" ;;
    *) [[ -z $RESULTS_DIR ]] || die_usage "one RESULTS_DIR only (got '$RESULTS_DIR' and '$1')"
       RESULTS_DIR=$1 ;;
  esac
  shift
done

[[ -z $ARCH || $ARCH =~ ^[0-9]{2,3}[af]?$ ]] || die_usage "--arch expects a CUDA architecture number such as 90 or 80, got '$ARCH'"
[[ -z $JOBS || $JOBS =~ ^[1-9][0-9]*$ ]] || die_usage "--jobs expects a positive integer, got '$JOBS'"
[[ $TORCH_BUDGET =~ ^[0-9]+$ ]] || die_usage "--torch-budget expects whole seconds, got '$TORCH_BUDGET'"
for s in ${SKIP//,/ }; do
  case $s in
    tests|memcheck|racecheck|initcheck|bench|torch|ncu) ;;
    *) die_usage "--skip: '$s' is not a step that can be skipped (tests, memcheck, racecheck, initcheck, bench, torch, ncu)" ;;
  esac
done
JOBS=${JOBS:-$(nproc 2>/dev/null || echo 4)}

RESULTS_DIR=${RESULTS_DIR:-$REPO/build-gpu}
mkdir -p "$RESULTS_DIR"
RESULTS_DIR="$(cd "$RESULTS_DIR" && pwd)"
BUILD_DIR=${BUILD_DIR:-$RESULTS_DIR/build}
mkdir -p "$BUILD_DIR"
BUILD_DIR="$(cd "$BUILD_DIR" && pwd)"
# Keep the results and the build out of git (and out of copies of the working tree).
[[ -e $RESULTS_DIR/.gitignore ]] || echo '*' > "$RESULTS_DIR/.gitignore"
[[ -e $BUILD_DIR/.gitignore ]] || echo '*' > "$BUILD_DIR/.gitignore"

LOG=$RESULTS_DIR/check.log
STEPS=$RESULTS_DIR/steps.tsv
META=$RESULTS_DIR/meta.tsv
# A fresh run: drop what an earlier run left (the build folder is reused).
rm -f "$LOG" "$STEPS" "$META" "$RESULTS_DIR"/{bench_cuda,torch_peer,bench_ncu}.jsonl "$RESULTS_DIR"/ncu.csv \
      "$RESULTS_DIR"/sanitizer-*.txt "$RESULTS_DIR"/results.md
: > "$LOG"
: > "$STEPS"
: > "$META"
exec 3>&1  # the console, also for the steps (whose output goes to the log)

say() { printf '%s\n' "$*" | tee -a "$LOG" >&3; }
meta() { printf '%s\t%s\n' "$1" "${2//$'\t'/ }" >> "$META"; }
record() { printf '%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" >> "$STEPS"; }
skipped() { [[ ",$SKIP," == *",$1,"* ]]; }
FAILED_STEPS=()

# step NAME DESCRIPTION COMMAND...: runs COMMAND (a function or program) with errexit, its
# output into the log; on failure names the step, shows the end of its output and stops
# (with --keep-going: goes on). A failure of a "soft" step (SOFT=1) only warns.
step() {
  local name=$1 desc=$2
  shift 2
  if skipped "$name"; then
    record "$name" skipped 0 "$desc"
    say "--- [$name] skipped (--skip)"
    return 0
  fi
  local t0=$SECONDS first_line rc=0
  first_line=$(( $(wc -l < "$LOG") + 1 ))
  say ""
  say "=== [$name] $desc  ($(date -u +%H:%M:%S) UTC, ${SECONDS}s into the check)"
  # In the background, so that errexit holds inside the function (it does not in `f || ...`).
  ( set -euo pipefail; "$@" ) >>"$LOG" 2>&1 &
  wait $! || rc=$?
  local dt=$(( SECONDS - t0 ))
  if (( rc == 0 )); then
    record "$name" "$( (( DRY_RUN )) && is_gpu_step "$name" && echo dry-run || echo ok)" "$dt" "$desc"
    say "    ok (${dt}s)"
    return 0
  fi
  local status=FAILED
  (( rc == 124 || rc == 137 )) && status=TIMEOUT
  if [[ ${SOFT:-0} == 1 ]]; then
    record "$name" "warning" "$dt" "$desc (exit code $rc; optional step)"
    say "    WARNING: optional step '$name' did not succeed (exit code $rc); see $LOG"
    return 0
  fi
  record "$name" "$status" "$dt" "$desc"
  FAILED_STEPS+=("$name")
  {
    echo ""
    echo "!!! step '$name' ($desc): $status (exit code $rc) after ${dt}s. The end of its output:"
    tail -n +"$first_line" "$LOG" | tail -n 40 | sed 's/^/    | /'
    echo "!!! full log: $LOG"
  } | tee -a "$LOG" >&2
  (( KEEP_GOING )) && return 0
  exit 1
}

is_gpu_step() {
  case $1 in preflight|tests|memcheck|racecheck|initcheck|bench|torch|ncu) return 0 ;; esac
  return 1
}

# Runs a command on the GPU, or in a dry run shows it (on the console and in the log).
gpu() {
  if (( DRY_RUN )); then
    local shown
    shown="    would run:$(printf ' %q' "$@")"
    echo "$shown"       # the log
    echo "$shown" >&3   # the console (not tee /dev/fd/3: that would reopen and truncate a file)
    return 0
  fi
  "$@"
}

finish() {
  local rc=$?
  set +e
  meta total_s "$SECONDS"
  (( rc == 0 && ${#FAILED_STEPS[@]} == 0 )) && meta finished 1
  if "$PYTHON_REPORT" "$REPO/benchmarks/gpu/report.py" "$RESULTS_DIR" >>"$LOG" 2>&1; then
    say ""
    say "report: $RESULTS_DIR/results.md"
    cat "$RESULTS_DIR/results.md" >&3
  else
    say "!!! the report could not be written (see $LOG)"
  fi
  if (( rc == 0 && ${#FAILED_STEPS[@]} > 0 )); then
    say "!!! failed steps: ${FAILED_STEPS[*]}"
    exit 1
  fi
  if (( rc != 0 )); then
    say "!!! the check FAILED (exit code $rc); log: $LOG"
  else
    say "check.sh: done in ${SECONDS}s$( (( DRY_RUN )) && echo ' (dry run: no GPU step was run)')"
  fi
  exit "$rc"
}
# The report script needs only the standard library: any python3 will do.
PYTHON_REPORT=$(command -v python3 || command -v "$PYTHON" || echo python3)
trap finish EXIT

# ------------------------------------------------------------------ steps

tool_version() {  # "Version 2024.1.1.0 (build ...)" -> 2024.1.1.0
  [[ -n $1 ]] || { echo "not found"; return 0; }
  "$1" --version 2>/dev/null | sed -n 's/.*Version \([0-9][0-9.]*\).*/\1/p' | sed -n 1p
}

find_tool() {  # first of the candidates that runs
  local c
  for c in "$@"; do
    [[ -n $c ]] || continue
    if [[ $c == */* ]]; then
      [[ -x $c ]] && { echo "$c"; return 0; }
    elif command -v "$c" >/dev/null 2>&1; then
      command -v "$c"; return 0
    fi
  done
  return 1
}

NVCC="" CUDA_ROOT="" SANITIZER="" NCU="" GPU_NAME=""
tools() {
  local gpu_line=""
  NVCC=$(find_tool nvcc "${CUDA_HOME:-}/bin/nvcc" "${CUDA_PATH:-}/bin/nvcc" /usr/local/cuda/bin/nvcc) ||
    { echo "nvcc not found (looked in PATH, \$CUDA_HOME/bin, /usr/local/cuda/bin)"; return 1; }
  CUDA_ROOT=$("$NVCC" --dryrun -x cu -E /dev/null 2>&1 | sed -n 's/^#\$ TOP=//p' | sed -n 1p)
  CUDA_ROOT=$(readlink -f "${CUDA_ROOT:-$(dirname "$NVCC")/..}")
  echo "nvcc: $NVCC (CUDA root $CUDA_ROOT)"
  "$NVCC" --version
  command -v cmake >/dev/null || { echo "cmake not found"; return 1; }
  cmake --version | sed -n 1p
  command -v "${CXX:-c++}" >/dev/null || { echo "no C++ compiler (${CXX:-c++})"; return 1; }
  "${CXX:-c++}" --version | sed -n 1p
  SANITIZER=$(find_tool compute-sanitizer "$CUDA_ROOT/bin/compute-sanitizer" \
                "$CUDA_ROOT/compute-sanitizer/compute-sanitizer" /usr/local/cuda/bin/compute-sanitizer) || SANITIZER=""
  local ncu_elsewhere=(/opt/nvidia/nsight-compute/*/ncu "$CUDA_ROOT"/nsight-compute*/ncu)  # unmatched globs stay literal
  NCU=$(find_tool ncu "$CUDA_ROOT/bin/ncu" /usr/local/cuda/bin/ncu "${ncu_elsewhere[@]}") || NCU=""
  echo "compute-sanitizer: ${SANITIZER:-not found}"
  echo "ncu: ${NCU:-not found}"
  meta nvcc "$("$NVCC" --version | sed -n 's/.*release \([0-9.]*\).*/\1/p')"
  meta cmake "$(cmake --version | sed -n 's/^cmake version //p')"
  meta cxx "$("${CXX:-c++}" --version | sed -n 1p)"
  meta sanitizer "$(tool_version "$SANITIZER")"
  meta ncu "$(tool_version "$NCU")"

  if command -v nvidia-smi >/dev/null; then
    # compute_cap needs a driver from 2022 on; without it, the architecture falls back to --arch or 90.
    gpu_line=$(nvidia-smi --query-gpu=name,compute_cap,driver_version,memory.total --format=csv,noheader 2>/dev/null |
               sed -n 1p) ||
      gpu_line=$(nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>/dev/null |
                 sed -n 1p | awk -F', ' '{print $1 ", ?, " $2 ", " $3}') || gpu_line=""
  fi
  if [[ -n $gpu_line ]]; then
    echo "GPU 0 (nvidia-smi): $gpu_line"
    nvidia-smi 2>&1 | head -20 || true
    GPU_NAME=$(echo "$gpu_line" | cut -d, -f1 | xargs)
    meta gpu "$GPU_NAME"
    meta driver "$(echo "$gpu_line" | cut -d, -f3 | xargs)"
    local cap
    cap=$(echo "$gpu_line" | cut -d, -f2 | xargs | tr -d .)
    if [[ -z $ARCH && $cap =~ ^[0-9]+$ ]]; then ARCH=$cap; fi
  elif (( ! DRY_RUN )); then
    echo "no GPU visible (nvidia-smi missing or it lists none): run with --dry-run on a machine without one"
    return 1
  else
    echo "no GPU (dry run)"
    meta gpu "none (dry run)"
  fi
  if [[ -z $ARCH ]]; then
    ARCH=90
    echo "CUDA architecture: 90 (default; no compute capability from nvidia-smi)"
  fi
  echo "CUDA architecture: sm_$ARCH"
  meta arch "$ARCH"

  if (( ! DRY_RUN )); then
    if [[ -z $SANITIZER ]] && ! { skipped memcheck && skipped racecheck && skipped initcheck; }; then
      echo "compute-sanitizer not found (looked in PATH and under $CUDA_ROOT); --skip memcheck,racecheck,initcheck to go without"
      return 1
    fi
    if ! skipped torch; then
      "$PYTHON" - <<'PY' || { echo "$PYTHON cannot run PyTorch on the GPU (--skip torch to go without)"; return 1; }
import sys
import torch
print(f"torch {torch.__version__}, CUDA {torch.version.cuda}, cuda available: {torch.cuda.is_available()}")
sys.exit(0 if torch.cuda.is_available() else 3)
PY
    fi
  fi
  return 0
}

configure() {
  local out
  cmake -S "$REPO/native" -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=Release -DVLMRL_CUDA_BENCH=ON \
        -DCMAKE_CUDA_COMPILER="$NVCC" -DCMAKE_CUDA_ARCHITECTURES="$ARCH" 2>&1 | tee "$BUILD_DIR/configure.txt"
  if ! grep -q "vlmrl: building CUDA kernels" "$BUILD_DIR/configure.txt"; then
    echo "CMake configured a CPU-only build (no 'vlmrl: building CUDA kernels' line): nvcc was not usable"
    return 1
  fi
}

build() {
  cmake --build "$BUILD_DIR" -j "$JOBS"
  local exe
  for exe in bench_cuda test_cuda_vs_cpu test_policy_loss test_token_logprobs test_common; do
    [[ -x $BUILD_DIR/bin/$exe ]] || { echo "the build made no $BUILD_DIR/bin/$exe"; return 1; }
  done
}

preflight() {
  if (( DRY_RUN )); then
    # What runs without a GPU: the harnesses' argument handling and case lists.
    "$BUILD_DIR/bin/bench_cuda" --help
    "$BUILD_DIR/bin/bench_cuda" --list
    "$BUILD_DIR/bin/bench_cuda" --info || echo "(bench_cuda --info: no usable GPU here, as expected in a dry run)"
    "$PYTHON" "$REPO/benchmarks/gpu/torch_peer.py" --help
    "$PYTHON" "$REPO/benchmarks/gpu/report.py" --help
  fi
  gpu "$BUILD_DIR/bin/bench_cuda" --info
}

tests() {
  local out=$BUILD_DIR/ctest-output.txt listing
  cd "$BUILD_DIR"  # (this step runs in a subshell)
  listing=$(ctest -N)
  [[ $listing == *test_cuda_vs_cpu* ]] || { echo "CTest has no test_cuda_vs_cpu (a CPU-only build?)"; return 1; }
  if (( DRY_RUN )); then
    # Without a GPU the CUDA comparison must report itself as skipped, not as passed.
    ctest --output-on-failure -j "$JOBS" --timeout 300 2>&1 | tee "$out"
    grep -Eq "test_cuda_vs_cpu .*Skipped" "$out" ||
      { echo "test_cuda_vs_cpu did not report a skip without a GPU"; return 1; }
    echo "(test_cuda_vs_cpu skipped, as it must without a GPU)"
    meta ctest "$(grep -E '% tests passed' "$out" | tail -1) (dry run: CPU tests only)"
    gpu env VLMRL_REQUIRE_CUDA=1 ctest -V -j "$JOBS" --timeout 300
    return 0
  fi
  # -V: every test's output in the log, test_cuda_vs_cpu's PASS line per case included.
  VLMRL_REQUIRE_CUDA=1 ctest -V -j "$JOBS" --timeout 300 2>&1 | tee "$out"
  if grep -Eq "\*\*\*Skipped|Not Run|\(Skipped\)" "$out"; then
    echo "a test was skipped on a GPU machine (test_cuda_vs_cpu must run here)"
    return 1
  fi
  meta ctest "$(grep -E '% tests passed' "$out" | tail -1)"
}

sanitize() {  # TOOL SMALL(0/1) TIME_LIMIT
  local tool=$1 small=$2 limit=$3
  local out=$RESULTS_DIR/sanitizer-$tool.txt rc=0
  local args=(--tool "$tool" --error-exitcode 1 --log-file "$out")
  local test_args=()
  (( small )) && test_args=(--small)
  if (( DRY_RUN )); then
    gpu env VLMRL_REQUIRE_CUDA=1 timeout -k 10 "$limit" "${SANITIZER:-compute-sanitizer}" "${args[@]}" \
        "$BUILD_DIR/bin/test_cuda_vs_cpu" ${test_args[@]+"${test_args[@]}"}
    return 0
  fi
  VLMRL_REQUIRE_CUDA=1 timeout -k 10 "$limit" "$SANITIZER" "${args[@]}" \
      "$BUILD_DIR/bin/test_cuda_vs_cpu" ${test_args[@]+"${test_args[@]}"} || rc=$?
  echo "--- compute-sanitizer $tool report ($out):"
  cat "$out" 2>/dev/null || true
  if (( rc != 0 )); then
    if (( rc == 124 || rc == 137 )); then
      echo "compute-sanitizer $tool timed out after ${limit}s (--sanitize-small runs the smaller test set)"
    else
      echo "compute-sanitizer $tool: exit code $rc (errors found, or test_cuda_vs_cpu failed under the tool)"
    fi
    return "$rc"
  fi
  local clean="ERROR SUMMARY: 0 errors"
  [[ $tool == racecheck ]] && clean="RACECHECK SUMMARY: 0 hazards displayed (0 errors"
  grep -qF "$clean" "$out" || { echo "no '$clean' line in $out"; return 1; }
}

bench() {
  gpu timeout -k 10 180 "$BUILD_DIR/bin/bench_cuda" --out "$RESULTS_DIR/bench_cuda.jsonl"
}

torch_peer() {
  gpu timeout -k 10 360 "$PYTHON" "$REPO/benchmarks/gpu/torch_peer.py" --out "$RESULTS_DIR/torch_peer.jsonl" \
      --budget-s "$TORCH_BUDGET"
}

ncu_profile() {
  if [[ -z $NCU ]] && (( ! DRY_RUN )); then
    echo "ncu not found: no kernel-only times"
    return 1
  fi
  # One call per large case after a warm-up; caches flushed per kernel (ncu's default), clocks
  # as in normal use; base units, C locale (no thousands separators) for report.py.
  export LC_ALL=C
  gpu timeout -k 10 120 "${NCU:-ncu}" --profile-from-start off --clock-control none --csv --page details \
      --print-units base --metrics gpu__time_duration.sum,dram__bytes_read.sum,dram__bytes_write.sum,launch__grid_size \
      --log-file "$RESULTS_DIR/ncu.csv" \
      "$BUILD_DIR/bin/bench_cuda" --ncu --only policy,logprobs --out "$RESULTS_DIR/bench_ncu.jsonl"
}

# ------------------------------------------------------------------ run

say "vlmrl GPU check$( (( DRY_RUN )) && echo ' (dry run)'): results in $RESULTS_DIR, build in $BUILD_DIR"
meta command "$COMMAND_LINE"
meta mode "$( (( DRY_RUN )) && echo dry-run || echo gpu)"
meta keep_going "$KEEP_GOING"
meta date "$(date -u '+%Y-%m-%d %H:%M:%S UTC')"
meta host "$(hostname 2>/dev/null || echo '?')"
meta commit "$(git -C "$REPO" rev-parse --short=12 HEAD 2>/dev/null || echo 'not a git checkout')$(
  [[ -n $(git -C "$REPO" status --porcelain --untracked-files=no 2>/dev/null) ]] && echo ' (with uncommitted changes)')"
if ! ls "$REPO"/native/include/vlmrl/*lm_head* >/dev/null 2>&1; then
  meta lm_head "No fused LM-head log-probs op in this commit (nothing in native/include/vlmrl): nothing to time."
else
  meta lm_head "A fused LM-head header exists in native/include/vlmrl, but bench_cuda and torch_peer.py have no case for it yet."
fi

# Steps that change shell state (tools found, the architecture) run in this shell.
t0=$SECONDS
say ""
say "=== [tools] find the tools and the GPU"
first_line=$(( $(wc -l < "$LOG") + 1 ))
if tools >>"$LOG" 2>&1; then
  record tools ok $(( SECONDS - t0 )) "find the tools and the GPU"
  say "    ok: nvcc $NVCC, sm_$ARCH, GPU ${GPU_NAME:-none}, compute-sanitizer ${SANITIZER:-none}, ncu ${NCU:-none}"
else
  record tools FAILED $(( SECONDS - t0 )) "find the tools and the GPU"
  FAILED_STEPS+=(tools)
  { echo "!!! step 'tools' FAILED. The end of its output:"; tail -n +"$first_line" "$LOG" | tail -n 20 | sed 's/^/    | /'; } | tee -a "$LOG" >&2
  exit 1
fi
export CUDACXX=$NVCC
PATH="$(dirname "$NVCC"):$PATH"
export PATH

step configure "CMake configure (sm_$ARCH, -DVLMRL_CUDA_BENCH=ON)" configure
step build "build the library, the native tests and bench_cuda (-j $JOBS)" build
step preflight "the CUDA runtime sees the GPU (bench_cuda --info)" preflight
step tests "ctest: every native test, test_cuda_vs_cpu included" tests
small_label=""
(( SANITIZE_SMALL )) && small_label=" --small"
step memcheck "compute-sanitizer memcheck, test_cuda_vs_cpu$small_label" sanitize memcheck "$SANITIZE_SMALL" 180
step racecheck "compute-sanitizer racecheck, test_cuda_vs_cpu$small_label" sanitize racecheck "$SANITIZE_SMALL" 180
step initcheck "compute-sanitizer initcheck, test_cuda_vs_cpu --small" sanitize initcheck 1 120
step bench "bench_cuda: fused kernels and device-to-device copy" bench
step torch "torch_peer.py: PyTorch eager and torch.compile" torch_peer
SOFT=1 step ncu "Nsight Compute: kernel times of the large cases (optional)" ncu_profile
