#!/usr/bin/env bash
# Tests benchmarks/gpu/check.sh without a GPU: a dry run builds for real, then the GPU steps
# run against stand-ins (nvidia-smi, compute-sanitizer, ncu, a Python "with" PyTorch, and
# bench_cuda / test_cuda_vs_cpu replaced by scripts that print made-up results), so that the
# script's control flow, its failure handling and report.py's tables are exercised before the
# one short session on a GPU machine. Usage: bash benchmarks/gpu/selftest.sh [WORK_DIR]
set -euo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
WORK=${1:-$(mktemp -d /tmp/vlmrl-gpu-selftest.XXXXXX)}
mkdir -p "$WORK"
WORK="$(cd "$WORK" && pwd)"
BUILD=$WORK/build
FAKE=$WORK/fakebin
mkdir -p "$FAKE"
fails=0
pass() { echo "PASS $*"; }
fail() { echo "FAIL $*"; fails=$((fails + 1)); }
expect() {  # expect FILE PATTERN DESCRIPTION
  if grep -qF -- "$2" "$1"; then pass "$3"; else fail "$3 (no '$2' in $1)"; fi
}

echo "== 1. dry run (real build, CPU tests) into $WORK/dry"
if bash "$REPO/benchmarks/gpu/check.sh" --dry-run --arch 90 --build-dir "$BUILD" "$WORK/dry" > "$WORK/dry.out" 2>&1; then
  pass "dry run exits 0"
else
  fail "dry run exits 0 (see $WORK/dry.out)"; cat "$WORK/dry.out"; exit 1
fi
expect "$WORK/dry/results.md" "**Dry run**" "dry-run report says so"
expect "$WORK/dry/check.log" "test_cuda_vs_cpu (Skipped)" "ctest reports the CUDA comparison as skipped without a GPU"
expect "$WORK/dry.out" "would run:" "dry run shows the GPU commands"

echo "== 2. stand-ins"
cat > "$FAKE/nvidia-smi" <<'EOF'
#!/bin/bash
if [[ "$*" == *--query-gpu* ]]; then echo "NVIDIA H200, 9.0, 570.86.15, 143771 MiB"; else echo "(stand-in nvidia-smi)"; fi
EOF
cat > "$FAKE/compute-sanitizer" <<'EOF'
#!/bin/bash
[[ $1 == --version ]] && { echo "NVIDIA (R) Compute Sanitizer"; echo "Version 2099.1.0.0 (build 1)"; exit 0; }
log=/dev/null tool=memcheck
while [[ $# -gt 0 ]]; do
  case $1 in --log-file) log=$2; shift 2 ;; --tool) tool=$2; shift 2 ;; --error-exitcode) shift 2 ;; *) break ;; esac
done
"$@"; rc=$?
if [[ $tool == "${FAKE_SANITIZER_FAILS:-}" ]]; then
  { echo "========= Invalid __global__ read of size 4 bytes"; echo "========= ERROR SUMMARY: 1 error"; } > "$log"; exit 1
fi
if [[ $tool == racecheck ]]; then echo "========= RACECHECK SUMMARY: 0 hazards displayed (0 errors, 0 warnings)" > "$log"
else echo "========= ERROR SUMMARY: 0 errors" > "$log"; fi
exit $rc
EOF
cat > "$FAKE/ncu" <<'EOF'
#!/bin/bash
[[ $1 == --version ]] && { echo "NVIDIA (R) Nsight Compute Command Line Profiler"; echo "Version 2099.2.0.0 (build 1)"; exit 0; }
log=/dev/stdout
while [[ $# -gt 0 && $1 == --* ]]; do
  case $1 in --log-file) log=$2; shift 2 ;; --metrics|--profile-from-start|--clock-control|--page|--print-units) shift 2 ;; *) shift ;; esac
done
"$@" || exit $?
python3 "$(dirname "$0")/fake_results.py" ncu > "$log"
EOF
cat > "$FAKE/fakepython" <<'EOF'
#!/bin/bash
# "Python with PyTorch": the pre-flight check reads a script on stdin; torch_peer.py writes results.
if [[ $1 == - ]]; then cat > /dev/null; echo "torch 9.9.9 (stand-in), CUDA 12.8, cuda available: True"; exit 0; fi
if [[ $1 == *torch_peer.py ]]; then
  out=""; prev=""
  for a in "$@"; do [[ $prev == --out ]] && out=$a; prev=$a; done
  python3 "$(dirname "$0")/fake_results.py" torch > "$out"; echo "torch_peer stand-in: wrote $out"; exit 0
fi
exec python3 "$@"
EOF
cat > "$FAKE/fake_results.py" <<'EOF'
"""Made-up results in the formats of bench_cuda, torch_peer.py and ncu (details page CSV)."""
import json, sys
COPY = 4000.0  # GB/s
MODES = ["ppo", "clip-higher", "aaac", "aaac-k3-dads"]
TOKENS = [1 << 20, 4 << 20, 16 << 20]
SHAPES = [(2048, 32768), (8192, 151936)]
def policy_ms(mode, n):  # aaac-k3-dads reaches only 70% of copy: its target is NOT met
    b = n * (21 if mode == "aaac-k3-dads" else 17)
    return b, b / ((0.70 if mode == "aaac-k3-dads" else 0.88) * COPY * 1e6) + 0.004
def lp_ms(n, v, dt):
    b = 3 * n * v * (4 if dt == "fp32" else 2) + 44 * n
    return b, b / (0.8 * COPY * 1e6)
kind = sys.argv[1]
if kind == "bench":
    print(json.dumps({"tool": "bench_cuda", "kind": "device", "name": "NVIDIA H200", "cc": "9.0", "sms": 132,
                      "mem_gib": 139.8, "l2_mib": 60, "driver": 12080, "runtime": 12080}))
    print(json.dumps({"tool": "bench_cuda", "kind": "copy", "bytes": 1 << 30, "ms": 2 * (1 << 30) / (COPY * 1e6), "gbps": COPY}))
    for n in TOKENS:
        for m in MODES:
            b, ms = policy_ms(m, n)
            print(json.dumps({"tool": "bench_cuda", "kind": "policy_loss", "case": m, "tokens": n, "impl": "fused", "ms": ms,
                              "bytes": b, "gbps": b / (ms * 1e6), "copy_same_gbps": COPY, "iters": 100, "cpu_check": "ok"}))
    for n, v in SHAPES:
        for dt in ("fp32", "bf16"):
            b, ms = lp_ms(n, v, dt)
            print(json.dumps({"tool": "bench_cuda", "kind": "token_logprobs", "n": n, "v": v, "dtype": dt, "impl": "fused",
                              "fwd_ms": ms / 3, "bwd_ms": 2 * ms / 3, "ms": ms, "bytes": b, "gbps": b / (ms * 1e6),
                              "copy_same_gbps": COPY, "iters": 20, "spot_check": "ok"}))
elif kind == "torch":
    print(json.dumps({"tool": "torch_peer", "kind": "env", "device": "NVIDIA H200", "torch": "9.9.9", "cuda": "12.8",
                      "triton": "9.9", "compile": True}))
    print(json.dumps({"tool": "torch_peer", "kind": "copy", "bytes": 1 << 30, "ms": 0.55, "gbps": 3900.0}))
    for n, v in SHAPES:
        for dt in ("fp32", "bf16"):
            _, ms = lp_ms(n, v, dt)
            print(json.dumps({"tool": "torch_peer", "kind": "token_logprobs", "n": n, "v": v, "dtype": dt, "impl": "eager",
                              "ms": 6 * ms, "first_call_s": 0.1, "iters": 20}))
            # bf16 at the large shape: compile is faster than the kernel (target NOT met)
            c = 0.9 * ms if (n, dt) == (8192, "bf16") else 1.5 * ms
            print(json.dumps({"tool": "torch_peer", "kind": "token_logprobs", "n": n, "v": v, "dtype": dt, "impl": "compile",
                              "ms": c, "first_call_s": 9.5, "iters": 20}))
    for n in reversed(TOKENS):
        for m in MODES:
            _, ms = policy_ms(m, n)
            print(json.dumps({"tool": "torch_peer", "kind": "policy_loss", "case": m, "tokens": n, "impl": "eager",
                              "ms": 8 * ms, "first_call_s": 0.05, "iters": 100}))
            if n == 1 << 20:  # the budget ran out before the 1M compiles
                print(json.dumps({"tool": "torch_peer", "kind": "skipped", "case_kind": "policy_loss", "impl": "compile",
                                  "reason": "time budget of 180 s spent", "case": m, "tokens": n}))
            else:
                print(json.dumps({"tool": "torch_peer", "kind": "policy_loss", "case": m, "tokens": n, "impl": "compile",
                                  "ms": 2 * ms, "first_call_s": 7.0, "iters": 100}))
elif kind == "ncu":
    print("==PROF== Connected to process 4242 (/x/bench_cuda)")
    print('"ID","Process ID","Process Name","Host Name","Kernel Name","Context","Stream","Block Size","Grid Size",'
          '"Device","CC","Section Name","Metric Name","Metric Unit","Metric Value"')
    kid, marker = 0, 0
    def kernel(name, grid, ns, dram):
        global kid
        for metric, unit, value in (("dram__bytes_read.sum", "byte", f"{dram * 0.7:.0f}"),
                                    ("dram__bytes_write.sum", "byte", f"{dram * 0.3:.0f}"),
                                    ("gpu__time_duration.sum", "nsecond", f"{ns:.0f}"),
                                    ("launch__grid_size", "", str(grid))):
            print(f'"{kid}","4242","bench_cuda","127.0.0.1","{name}","1","7","(256, 1, 1)","({grid}, 1, 1)","0","9.0",'
                  f'"Command line profiler metrics","{metric}","{unit}","{value}"')
        kid += 1
    for n in (4 << 20, 16 << 20):
        for m in MODES:
            marker += 1
            kernel("vlmrl_bench_marker()", marker, 1000, 0)
            b, ms = policy_ms(m, n)
            kernel("(anonymous namespace)::policy_loss_tokens((anonymous namespace)::LossArgs)", n // 4096, ms * 1e6 * 0.8, b)
            kernel("(anonymous namespace)::reduce_partials(const Partial *, long, Partial *)", 1, 3000, 1e5)
    for n, v in SHAPES:
        for dt in ("fp32", "bf16"):
            marker += 1
            kernel("vlmrl_bench_marker()", marker, 1000, 0)
            b, ms = lp_ms(n, v, dt)
            kernel("void (anonymous namespace)::forward_block_rows<float>((anonymous namespace)::ForwardArgs)", n, ms * 1e6 / 3, b / 3)
            kernel("void (anonymous namespace)::backward_block_rows<float>((anonymous namespace)::BackwardArgs)", n, ms * 2e6 / 3, 2 * b / 3)
    print("==PROF== Disconnected from process 4242")
EOF
chmod +x "$FAKE"/*

# The GPU binaries become scripts; they are newer than their sources, so the build keeps them.
install_stubs() {
  cat > "$BUILD/bin/bench_cuda" <<EOF
#!/bin/bash
out=/dev/null; ncu=0; prev=""
for a in "\$@"; do [[ \$prev == --out ]] && out=\$a; [[ \$a == --ncu ]] && ncu=1; prev=\$a; done
[[ " \$* " == *" --info "* ]] && { echo "device: NVIDIA H200 (stand-in)"; exit 0; }
if (( ncu )); then
  python3 - "\$out" <<'PY'
import json, sys
with open(sys.argv[1], "w") as f:
    m = 0
    for n in (4 << 20, 16 << 20):
        for c in ("ppo", "clip-higher", "aaac", "aaac-k3-dads"):
            m += 1
            f.write(json.dumps({"tool": "bench_cuda", "kind": "ncu_case", "marker": m, "case_kind": "policy_loss", "case": c, "tokens": n}) + "\n")
    for n, v in ((2048, 32768), (8192, 151936)):
        for d in ("fp32", "bf16"):
            m += 1
            f.write(json.dumps({"tool": "bench_cuda", "kind": "ncu_case", "marker": m, "case_kind": "token_logprobs", "n": n, "v": v, "dtype": d}) + "\n")
PY
  exit 0
fi
python3 "$FAKE/fake_results.py" bench > "\$out"; echo "bench_cuda stand-in: wrote \$out"
EOF
  cat > "$BUILD/bin/test_cuda_vs_cpu" <<'EOF'
#!/bin/bash
if [[ -n ${FAKE_TEST_SKIPS:-} ]]; then echo "SKIPPED: no CUDA device"; exit 0; fi
echo "PASS test_cuda_vs_cpu.policy_loss_clip_modes (120 checks, 0 failed)"
echo "PASS test_cuda_vs_cpu.logprobs_match_cpu (300 checks, 0 failed)"
EOF
  chmod +x "$BUILD/bin/bench_cuda" "$BUILD/bin/test_cuda_vs_cpu"
  touch "$BUILD/bin/bench_cuda" "$BUILD/bin/test_cuda_vs_cpu"
}

run_gpu() {  # run_gpu NAME [VAR=value...] [-- check.sh options...]: check.sh in GPU mode with the stand-ins
  local name=$1 vars=() opts=()
  shift
  while [[ $# -gt 0 && $1 != -- ]]; do vars+=("$1"); shift; done
  [[ $# -gt 0 ]] && shift
  opts=("$@")
  install_stubs
  env PATH="$FAKE:$PATH" ${vars[@]+"${vars[@]}"} bash "$REPO/benchmarks/gpu/check.sh" ${opts[@]+"${opts[@]}"} \
      --build-dir "$BUILD" --python "$FAKE/fakepython" "$WORK/$name" > "$WORK/$name.out" 2>&1
}

echo "== 3. a full GPU run against the stand-ins"
if run_gpu ok; then pass "GPU run exits 0"; else fail "GPU run exits 0 (see $WORK/ok.out)"; tail -30 "$WORK/ok.out"; fi
R=$WORK/ok/results.md
expect "$R" "**All steps passed**" "report: all steps passed"
expect "$R" "NVIDIA H200, compute capability 9.0" "report: GPU line"
expect "$R" "driver: 570.86.15" "report: driver from nvidia-smi"
expect "$R" "| correctness: CUDA = CPU" "report: correctness row"
expect "$R" "met (0 errors from each tool)" "report: sanitizers clean"
# Made-up: 88% (70% for aaac-k3-dads) of copy in the kernel plus 4 us per call: 4M and aaac-k3-dads miss 80%.
expect "$R" "met in 3 of 8; NOT met: ppo 4M (≥80% of copy (0.73))" "report: policy target, the cases under 80% named"
expect "$R" "| policy loss | ppo, 16M | 85.0 | 285.2 | 3354 | 84% | 680 | 170 | 8.00x | 2.00x | met |" "report: a policy row"
expect "$R" "met in 3 of 4; NOT met: 8192x151936 bf16" "report: log-probs target (compile faster at one shape)"
expect "$R" "| policy loss | ppo, 16M |" "report: policy rows"
expect "$R" "skipped (budget)" "report: a skipped compile shows as such"
expect "$R" "| log-probs + entropy | 8192 x 151936 fp32 |" "report: log-probs rows"
expect "$R" "| policy loss ppo, 16M | policy_loss_tokens 68.0, reduce_partials 3.0 | 71.0 | 84% |" "report: ncu kernels per case"
expect "$R" "forward_block_rows<float> 1555.9" "report: ncu template kernel names"
expect "$R" "| memcheck | ok |" "report: steps table"
expect "$WORK/ok/check.log" "PASS test_cuda_vs_cpu.policy_loss_clip_modes" "log: the CUDA comparison's case lines"
expect "$WORK/ok.out" "# vlmrl GPU check: NVIDIA H200" "console: the report at the end"

echo "== 4. a sanitizer error stops the check at that step"
if run_gpu racefail FAKE_SANITIZER_FAILS=racecheck; then fail "racecheck error exits non-zero"; else pass "racecheck error exits non-zero"; fi
expect "$WORK/racefail.out" "step 'racecheck'" "console names the failed step"
expect "$WORK/racefail/results.md" "**FAILED** at step \`racecheck\`" "report: failed at racecheck"
if grep -q "^bench" "$WORK/racefail/steps.tsv"; then fail "no step after the failure"; else pass "no step after the failure"; fi

echo "== 5. --keep-going runs the rest"
if run_gpu keepgoing FAKE_SANITIZER_FAILS=memcheck -- --keep-going; then
  fail "--keep-going with a failure still exits non-zero"
else
  pass "--keep-going with a failure still exits non-zero"
fi
expect "$WORK/keepgoing/steps.tsv" "bench	ok" "--keep-going ran the benchmark after the failure"
expect "$WORK/keepgoing/results.md" "**FAILED** steps: \`memcheck\`" "report: failed steps listed"

echo "== 6. a skipped CUDA comparison on a GPU machine fails"
if run_gpu skipfail FAKE_TEST_SKIPS=1; then fail "a skip on a GPU machine fails"; else pass "a skip on a GPU machine fails"; fi
expect "$WORK/skipfail.out" "step 'tests'" "the tests step is named"

echo "== 7. argument handling"
if bash "$REPO/benchmarks/gpu/check.sh" --bogus > "$WORK/args.out" 2>&1; then fail "unknown option rejected"; else pass "unknown option rejected"; fi
if bash "$REPO/benchmarks/gpu/check.sh" --skip build "$WORK/x" > "$WORK/args.out" 2>&1; then fail "--skip build rejected"; else pass "--skip build rejected"; fi
if bash "$REPO/benchmarks/gpu/check.sh" a b > "$WORK/args.out" 2>&1; then fail "two results dirs rejected"; else pass "two results dirs rejected"; fi
if bash "$REPO/benchmarks/gpu/check.sh" --help > "$WORK/args.out" 2>&1; then pass "--help"; else fail "--help"; fi
# No nvidia-smi on this PATH, and no --dry-run: the first step must say so.
if env PATH="$(dirname "$(command -v nvcc)"):/usr/bin:/bin" bash "$REPO/benchmarks/gpu/check.sh" --build-dir "$BUILD" \
     "$WORK/nogpu" > "$WORK/nogpu.out" 2>&1; then
  fail "without a GPU and without --dry-run the check fails"
else
  expect "$WORK/nogpu.out" "no GPU visible" "without a GPU and without --dry-run the tools step fails clearly"
fi

echo ""
if (( fails == 0 )); then echo "selftest: all passed ($WORK)"; else echo "selftest: $fails FAILED ($WORK)"; exit 1; fi
