#!/usr/bin/env python3
"""Joins the GPU check's outputs into one markdown report (standard library only).

Usage: python3 benchmarks/gpu/report.py RESULTS_DIR [--out FILE]

Reads from RESULTS_DIR (every file optional; what is missing shows as "-" or "not run"):
  meta.tsv          key<TAB>value lines written by check.sh (GPU, versions, command, commit, ...)
  steps.tsv         name<TAB>status<TAB>seconds<TAB>description, one line per step of check.sh
  bench_cuda.jsonl  native/bench/bench_cuda --out: device, copy, policy_loss, token_logprobs
  torch_peer.jsonl  benchmarks/gpu/torch_peer.py --out: env, copy, policy_loss, token_logprobs, skipped
  bench_ncu.jsonl   bench_cuda --ncu --out: which marker kernel opens which case
  ncu.csv           Nsight Compute's CSV (details page, base units) of that run
  sanitizer-*.txt   compute-sanitizer --log-file of each tool
and writes RESULTS_DIR/results.md: a header (GPU, driver, CUDA, PyTorch, command, commit),
the steps, the targets met or not, one table of every case (fused kernel time, bytes / time
as GB/s and as % of the device-to-device copy, eager and torch.compile times, the speed-ups),
and the kernels' own times from Nsight Compute when that ran.
"""
import argparse
import csv
import json
import math
import os
import re
import sys

# The targets.
POLICY_MIN_TOKENS = 4 << 20          # the policy-loss targets apply from 4M tokens
POLICY_MIN_COPY_FRACTION = 0.80      # >= 80% of the device-to-device copy bandwidth
POLICY_MIN_VS_COMPILE = 1.0          # faster than torch.compile
LOGPROBS_MIN_VS_EAGER = 2.0          # >= 2x PyTorch eager
LOGPROBS_MIN_VS_COMPILE = 1.0        # >= torch.compile

LOSS_MODES = ["ppo", "clip-higher", "aaac", "aaac-k3-dads"]
POLICY_TOKENS = [1 << 20, 4 << 20, 16 << 20]
LOGITS_SHAPES = [(2048, 32768), (8192, 151936)]
DTYPES = ["fp32", "bf16"]
SANITIZERS = ["memcheck", "racecheck", "initcheck"]


def read_jsonl(path, warnings):
    records = []
    if not os.path.exists(path):
        return records
    with open(path) as f:
        for number, line in enumerate(f, 1):
            line = line.strip()
            if not line:
                continue
            try:
                records.append(json.loads(line))
            except json.JSONDecodeError as e:
                warnings.append(f"{os.path.basename(path)}:{number}: not JSON ({e.msg}); line ignored")
    return records


def read_tsv(path):
    rows = []
    if os.path.exists(path):
        with open(path) as f:
            for line in f:
                line = line.rstrip("\n")
                if line:
                    rows.append(line.split("\t"))
    return rows


def fmt_us(ms):
    if ms is None:
        return "-"
    us = ms * 1e3
    return f"{us:.1f}" if us < 100 else f"{us:.0f}"


def fmt_num(x, digits=0, suffix=""):
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return "-"
    return f"{x:.{digits}f}{suffix}"


def fmt_ratio(x):
    return "-" if x is None else f"{x:.2f}x"


def ratio(numerator, denominator):
    if numerator is None or denominator is None or denominator <= 0:
        return None
    return numerator / denominator


def tokens_label(n):
    return f"{n >> 20}M" if n % (1 << 20) == 0 else (f"{n >> 10}K" if n % 1024 == 0 else str(n))


# ---------------------------------------------------------------- Nsight Compute

TIME_UNITS = {"nsecond": 1e-9, "ns": 1e-9, "usecond": 1e-6, "us": 1e-6, "msecond": 1e-3, "ms": 1e-3,
              "second": 1.0, "s": 1.0}
BYTE_UNITS = {"byte": 1.0, "b": 1.0, "kbyte": 1e3, "kb": 1e3, "mbyte": 1e6, "mb": 1e6, "gbyte": 1e9, "gb": 1e9,
              "tbyte": 1e12, "kibyte": 1024.0, "mibyte": 1024.0 ** 2, "gibyte": 1024.0 ** 3}


def metric_value(value, unit):
    """A metric in seconds or bytes, whatever unit ncu printed."""
    try:
        x = float(value.replace(",", ""))
    except ValueError:
        return None
    u = unit.strip().lower()
    if u in TIME_UNITS:
        return x * TIME_UNITS[u]
    if u in BYTE_UNITS:
        return x * BYTE_UNITS[u]
    return x


def parse_ncu(csv_path, cases_path, warnings):
    """Kernels of each profiled case: {marker: {"kernels": [(name, seconds)], "dram_bytes": b}}."""
    if not os.path.exists(csv_path):
        return {}, {}
    cases = {}
    for r in read_jsonl(cases_path, warnings):
        if r.get("kind") == "ncu_case":
            cases[r["marker"]] = r
    with open(csv_path, newline="") as f:
        lines = f.read().splitlines()
    start = next((i for i, l in enumerate(lines) if l.startswith('"ID"')), None)
    if start is None:
        warnings.append("ncu.csv: no CSV header (ncu failed? see check.log)")
        return cases, {}
    kernels = {}  # ncu ID -> {name, grid, time, dram}
    for row in csv.DictReader(lines[start:]):
        kid = row.get("ID")
        if kid is None or not kid.strip().isdigit():
            continue
        k = kernels.setdefault(int(kid), {"name": row.get("Kernel Name") or row.get("Function Name") or "?",
                                          "grid": row.get("Grid Size", ""), "time": None, "dram": 0.0})
        metric = row.get("Metric Name", "")
        value = metric_value(row.get("Metric Value", ""), row.get("Metric Unit", ""))
        if value is None:
            continue
        if metric == "launch__grid_size" and not k["grid"]:  # CSV versions without a "Grid Size" column
            k["grid"] = f"({value:.0f}, 1, 1)"
        elif metric == "gpu__time_duration.sum":
            k["time"] = value
        elif metric in ("dram__bytes_read.sum", "dram__bytes_write.sum"):
            k["dram"] += value
    per_case = {}
    current = None
    for kid in sorted(kernels):
        k = kernels[kid]
        if k["name"].startswith("vlmrl_bench_marker"):
            m = re.match(r"\(\s*(\d+)", k["grid"])
            current = int(m.group(1)) if m else None
            continue
        if current is None:
            continue
        entry = per_case.setdefault(current, {"kernels": [], "dram_bytes": 0.0})
        entry["kernels"].append((k["name"], k["time"]))
        entry["dram_bytes"] += k["dram"]
    return cases, per_case


def short_kernel_name(name):
    """'void (anonymous namespace)::forward_block_rows<float>((anonymous namespace)::ForwardArgs)' -> 'forward_block_rows<float>'"""
    name = name.replace("(anonymous namespace)::", "")
    name = re.sub(r"^void ", "", name)
    return re.sub(r"\(.*$", "", name).strip()  # the parameter list


# ---------------------------------------------------------------- report

class Report:
    def __init__(self, results_dir):
        self.dir = results_dir
        self.warnings = []
        self.meta = {row[0]: row[1] if len(row) > 1 else "" for row in read_tsv(os.path.join(results_dir, "meta.tsv"))}
        self.steps = read_tsv(os.path.join(results_dir, "steps.tsv"))
        self.bench = read_jsonl(os.path.join(results_dir, "bench_cuda.jsonl"), self.warnings)
        self.torch = read_jsonl(os.path.join(results_dir, "torch_peer.jsonl"), self.warnings)
        self.ncu_cases, self.ncu = parse_ncu(os.path.join(results_dir, "ncu.csv"),
                                             os.path.join(results_dir, "bench_ncu.jsonl"), self.warnings)
        self.device = next((r for r in self.bench if r.get("kind") == "device"), {})
        self.torch_env = next((r for r in self.torch if r.get("kind") == "env"), {})
        copy = [r for r in self.bench if r.get("kind") == "copy"]
        torch_copy = [r for r in self.torch if r.get("kind") == "copy"]
        self.copy_gbps = copy[0]["gbps"] if copy else None
        self.torch_copy_gbps = torch_copy[0]["gbps"] if torch_copy else None
        # Reference for "% of copy": bench_cuda's copy, else torch's.
        self.ref_copy = self.copy_gbps or self.torch_copy_gbps

    def step_status(self, name):
        for row in self.steps:
            if row[0] == name:
                return row[1] if len(row) > 1 else "?"
        return None

    def fused(self, kind, **key):
        for r in self.bench:
            if r.get("kind") == kind and all(r.get(k) == v for k, v in key.items()):
                return r
        return None

    def peer(self, kind, impl, **key):
        for r in self.torch:
            if r.get("kind") == kind and r.get("impl") == impl and all(r.get(k) == v for k, v in key.items()):
                return r
        return None

    def skipped(self, kind, impl, **key):
        for r in self.torch:
            if (r.get("kind") == "skipped" and r.get("case_kind") == kind and r.get("impl") == impl
                    and all(r.get(k) == v for k, v in key.items())):
                return r
        return None

    # One row per case; returns the row and the target verdict (None where no target applies).
    def case_row(self, op, label, kind, key, policy):
        f = self.fused(kind, **key)
        eager = self.peer(kind, "eager", **key)
        comp = self.peer(kind, "compile", **key)
        ms = f.get("ms") if f else None
        gbps = f.get("gbps") if f else None
        of_copy = ratio(gbps, self.ref_copy)
        eager_ms = eager.get("ms") if eager else None
        comp_ms = comp.get("ms") if comp else None
        vs_eager = ratio(eager_ms, ms)
        vs_comp = ratio(comp_ms, ms)
        verdict = None
        if policy:
            if key["tokens"] >= POLICY_MIN_TOKENS:
                verdict = self.verdict([("copy", of_copy, POLICY_MIN_COPY_FRACTION, f"≥{POLICY_MIN_COPY_FRACTION:.0%} of copy"),
                                        ("compile", vs_comp, POLICY_MIN_VS_COMPILE, "faster than compile")], kind, key)
        else:
            verdict = self.verdict([("eager", vs_eager, LOGPROBS_MIN_VS_EAGER, f"≥{LOGPROBS_MIN_VS_EAGER:.0f}x eager"),
                                    ("compile", vs_comp, LOGPROBS_MIN_VS_COMPILE, "≥ compile")], kind, key)
        fwd_bwd = ""
        if f and "fwd_ms" in f:
            fwd_bwd = f" ({fmt_us(f['fwd_ms'])} + {fmt_us(f['bwd_ms'])})"
        cells = [op, label, fmt_us(ms) + fwd_bwd, fmt_num(f.get("bytes") / 1e6 if f else None, 1),
                 fmt_num(gbps), fmt_num(of_copy * 100 if of_copy is not None else None, 0, "%"),
                 fmt_us(eager_ms), fmt_us(comp_ms) if comp_ms is not None else self.missing_compile(kind, key),
                 fmt_ratio(vs_eager), fmt_ratio(vs_comp), verdict[0] if verdict else ""]
        return cells, verdict

    def missing_compile(self, kind, key):
        return "skipped (budget)" if self.skipped(kind, "compile", **key) else "-"

    @staticmethod
    def verdict(checks, kind, key):
        """('met' | 'NOT met: ...' | 'not measured: ...', met?) over (name, value, minimum, text) checks."""
        missing = [text for _, value, _, text in checks if value is None]
        failed = [f"{text} ({value:.2f})" for _, value, minimum, text in checks if value is not None and value < minimum]
        if failed:
            return "NOT met: " + "; ".join(failed), False
        if missing:
            return "not measured: " + "; ".join(missing), None
        return "met", True

    def render(self):
        out = []
        m = self.meta
        dev = self.device
        gpu = dev.get("name") or m.get("gpu") or "no GPU"
        out.append(f"# vlmrl GPU check: {gpu}")
        out.append("")
        failed = [row for row in self.steps if len(row) > 1 and row[1] in ("FAILED", "TIMEOUT")]
        if m.get("mode") == "dry-run":
            status = "**Dry run** (no GPU steps were run): " + ("the steps that run here passed" if not failed else
                                                               f"step `{failed[0][0]}` FAILED")
        elif failed:
            status = f"**FAILED** at step `{failed[0][0]}` ({failed[0][1].lower()}); later steps did not run" \
                     if m.get("keep_going") != "1" else \
                     "**FAILED** steps: " + ", ".join(f"`{r[0]}`" for r in failed)
        elif not self.steps:
            status = "**No steps recorded** (steps.tsv missing)"
        elif m.get("finished") != "1":
            status = "**Incomplete**: the check stopped before its end (interrupted?)"
        else:
            status = "**All steps passed**"
        out.append(status + ".")
        out.append("")
        cc = dev.get("cc")
        gpu_line = gpu + (f", compute capability {cc}, {dev.get('sms')} SMs, {fmt_num(dev.get('mem_gib'), 0)} GiB,"
                          f" L2 {dev.get('l2_mib')} MiB" if cc else "")
        runtime = dev.get("runtime")
        rt = f"{runtime // 1000}.{(runtime % 1000) // 10}" if isinstance(runtime, int) and runtime else "-"
        torch_line = "-"
        if self.torch_env:
            torch_line = (f"{self.torch_env.get('torch')} (CUDA {self.torch_env.get('cuda')}), "
                          f"Triton {self.torch_env.get('triton')}")
        rows = [
            ("GPU", gpu_line),
            ("driver", m.get("driver", "-")),
            ("CUDA", f"nvcc {m.get('nvcc', '-')}; runtime linked into the library {rt}; "
                     f"architecture sm_{m.get('arch', '?')}"),
            ("PyTorch", torch_line),
            ("tools", f"CMake {m.get('cmake', '-')}, {m.get('cxx', '-')}, compute-sanitizer {m.get('sanitizer', '-')}, "
                      f"ncu {m.get('ncu', '-')}"),
            ("command", f"`{m.get('command', '-')}`"),
            ("git commit", m.get("commit", "-")),
            ("date", f"{m.get('date', '-')}, total {m.get('total_s', '-')} s"),
        ]
        for k, v in rows:
            out.append(f"- {k}: {v}")
        out.append("")

        # Targets.
        out.append("## Targets")
        out.append("")
        out.append("| target | result |")
        out.append("| --- | --- |")
        dry = m.get("mode") == "dry-run"
        tests = self.step_status("tests")
        not_run = "not run (dry run: no GPU)"
        out.append("| correctness: CUDA = CPU within the native suite's tolerances (ctest, test_cuda_vs_cpu run on the"
                   f" GPU), and the benchmarks' own checks against the CPU kernel | "
                   f"{not_run if dry else self.correctness(tests)} |")
        out.append(f"| sanitizers clean (memcheck, racecheck; initcheck on the small cases) | "
                   f"{not_run if dry else self.sanitizers()} |")
        table = []
        policy_verdicts, lp_verdicts = [], []
        for n in POLICY_TOKENS:
            for mode in LOSS_MODES:
                cells, v = self.case_row("policy loss", f"{mode}, {tokens_label(n)}", "policy_loss",
                                         {"case": mode, "tokens": n}, True)
                table.append(cells)
                if v:
                    policy_verdicts.append((f"{mode} {tokens_label(n)}", v))
        for n, v_ in LOGITS_SHAPES:
            for dt in DTYPES:
                cells, v = self.case_row("log-probs + entropy", f"{n} x {v_} {dt}", "token_logprobs",
                                         {"n": n, "v": v_, "dtype": dt}, False)
                table.append(cells)
                if v:
                    lp_verdicts.append((f"{n}x{v_} {dt}", v))
        out.append(f"| policy loss fwd+bwd at ≥ 4M tokens: ≥ {POLICY_MIN_COPY_FRACTION:.0%} of the copy bandwidth and "
                   f"faster than torch.compile | {not_run if dry else self.summary(policy_verdicts)} |")
        out.append(f"| token log-probs + entropy fwd+bwd: ≥ {LOGPROBS_MIN_VS_EAGER:.0f}x eager and ≥ torch.compile | "
                   f"{not_run if dry else self.summary(lp_verdicts)} |")
        out.append("")

        # The table.
        out.append("## Every case, forward + backward")
        out.append("")
        copy_note = (f"copy = device-to-device copy of 1 GiB, {fmt_num(self.copy_gbps)} GB/s (bench_cuda "
                     f"cudaMemcpyAsync; torch copy_ {fmt_num(self.torch_copy_gbps)} GB/s), bytes read + written")
        out.append(copy_note + ".")
        out.append("")
        out.append("| op | case | fused µs | MB moved | GB/s | of copy | eager µs | compile µs | vs eager | "
                   "vs compile | target |")
        out.append("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |")
        for cells in table:
            out.append("| " + " | ".join(cells) + " |")
        out.append("")
        out.append("fused: the C call as a caller sees it (workspace, kernels, result copy, stream sync for the "
                   "forward calls), mean of back-to-back calls, best of 3 loops; for log-probs forward + backward "
                   "(each in brackets). MB moved: the minimal bytes of the CPU benchmarks' byte models (policy loss "
                   "17 B per token, 21 with the KL's ref; log-probs 3 N V e + 44 N). eager / compile: "
                   "benchmarks/gpu/torch_peer.py, the same math with autograd (compile: torch.compile, "
                   "dynamic=False, compiled once per case). vs: PyTorch time / fused time.")
        compiles = [r.get("first_call_s") for r in self.torch
                    if r.get("impl") == "compile" and isinstance(r.get("first_call_s"), (int, float))]
        skipped = [r for r in self.torch if r.get("kind") == "skipped"]
        if compiles or skipped:
            out.append(f"torch.compile: {len(compiles)} compilations (first calls), {sum(compiles):.0f} s in all, "
                       f"longest {max(compiles, default=0):.1f} s; {len(skipped)} skipped for the time budget.")
            out.append("")

        # Nsight Compute.
        out.append("## Kernel time alone (Nsight Compute)")
        out.append("")
        if not self.ncu:
            status = self.step_status("ncu")
            out.append(f"Not available ({'step ' + status if status else 'not run'}).")
        else:
            out.append("One call per case, caches flushed before each kernel, clocks not locked (`--clock-control none`).")
            out.append("")
            out.append("| case | kernels (µs) | kernels µs | of call | DRAM MB | DRAM GB/s | model GB/s | of copy |")
            out.append("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |")
            for marker in sorted(self.ncu):
                c = self.ncu_cases.get(marker, {})
                entry = self.ncu[marker]
                if c.get("case_kind") == "policy_loss":
                    label = f"policy loss {c.get('case')}, {tokens_label(c.get('tokens', 0))}"
                    f = self.fused("policy_loss", case=c.get("case"), tokens=c.get("tokens"))
                else:
                    label = f"log-probs {c.get('n')} x {c.get('v')} {c.get('dtype')}"
                    f = self.fused("token_logprobs", n=c.get("n"), v=c.get("v"), dtype=c.get("dtype"))
                times = [t for _, t in entry["kernels"] if t is not None]
                total = sum(times) if times else None
                names = ", ".join(f"{short_kernel_name(n)} {fmt_num(t * 1e6 if t else None, 1)}" for n, t in entry["kernels"])
                model_gbps = ratio(f.get("bytes") if f else None, total * 1e9 if total else None)
                dram_gbps = ratio(entry["dram_bytes"], total * 1e9 if total else None)
                share = ratio(total * 1e3 if total else None, f.get("ms") if f else None)
                out.append(f"| {label} | {names} | {fmt_num(total * 1e6 if total else None, 1)} | "
                           f"{fmt_num(share * 100 if share else None, 0, '%')} | {fmt_num(entry['dram_bytes'] / 1e6, 1)} | "
                           f"{fmt_num(dram_gbps)} | {fmt_num(model_gbps)} | "
                           f"{fmt_num(ratio(model_gbps, self.ref_copy) * 100 if model_gbps and self.ref_copy else None, 0, '%')} |")
            out.append("")
            out.append("of call: the kernels' share of the fused call's time above; the rest is launch, workspace, "
                       "result copy and synchronization. model GB/s: the byte model over the kernels' time.")
        out.append("")

        out.append("## Fused LM-head log-probs")
        out.append("")
        out.append(m.get("lm_head", "No such op in this commit (nothing in native/include/vlmrl): nothing to time."))
        out.append("")

        out.append("## Steps")
        out.append("")
        out.append("| step | result | seconds | what |")
        out.append("| --- | --- | ---: | --- |")
        for row in self.steps:
            row = row + [""] * (4 - len(row))
            out.append(f"| {row[0]} | {row[1]} | {row[2]} | {row[3]} |")
        sanitizer_lines = self.sanitizer_summaries()
        if sanitizer_lines:
            out.append("")
            for tool, line in sanitizer_lines:
                out.append(f"- {tool}: `{line}`")
        if m.get("ctest"):
            out.append(f"- ctest: {m['ctest']}")
        if self.warnings:
            out.append("")
            out.append("Warnings while reading the results:")
            for w in self.warnings:
                out.append(f"- {w}")
        out.append("")
        out.append("Full output: check.log in the same folder.")
        return "\n".join(out) + "\n"

    def correctness(self, tests):
        if tests is None:
            return "not run"
        if tests != "ok":
            return f"NOT met (step tests {tests})"
        bench_checks = [r for r in self.bench if r.get("kind") in ("policy_loss", "token_logprobs")]
        if self.step_status("bench") == "ok" and bench_checks:
            return "met (ctest passed with test_cuda_vs_cpu run; the benchmark's checks passed)"
        return "met (ctest passed with test_cuda_vs_cpu run)"

    def sanitizers(self):
        statuses = [(t, self.step_status(t)) for t in SANITIZERS]
        if all(s is None for _, s in statuses):
            return "not run"
        bad = [f"{t} {s}" for t, s in statuses if s not in ("ok", None)]
        missing = [t for t, s in statuses if s is None]
        if bad:
            return "NOT met: " + ", ".join(bad)
        if missing:
            return "clean where run; not run: " + ", ".join(missing)
        return "met (0 errors from each tool)"

    def sanitizer_summaries(self):
        lines = []
        for tool in SANITIZERS:
            path = os.path.join(self.dir, f"sanitizer-{tool}.txt")
            if not os.path.exists(path):
                continue
            with open(path, errors="replace") as f:
                summary = [l.strip().lstrip("=").strip() for l in f if "SUMMARY" in l]
            lines.append((tool, summary[-1] if summary else "no summary line"))
        return lines

    @staticmethod
    def summary(verdicts):
        if not verdicts:
            return "not measured"
        met = [name for name, (_, ok) in verdicts if ok is True]
        failed = [(name, text) for name, (text, ok) in verdicts if ok is False]
        unmeasured = [name for name, (_, ok) in verdicts if ok is None]
        parts = []
        if not failed and not unmeasured:
            return f"met in all {len(verdicts)} cases"
        parts.append(f"met in {len(met)} of {len(verdicts)}")
        if failed:
            parts.append("NOT met: " + "; ".join(f"{name} ({text.replace('NOT met: ', '')})" for name, text in failed))
        if unmeasured:
            parts.append("not measured: " + ", ".join(unmeasured))
        return "; ".join(parts)


def main(argv=None):
    parser = argparse.ArgumentParser(description="Join the GPU check's outputs into RESULTS_DIR/results.md.")
    parser.add_argument("results_dir")
    parser.add_argument("--out", help="output file (default RESULTS_DIR/results.md)")
    args = parser.parse_args(argv)
    if not os.path.isdir(args.results_dir):
        parser.error(f"no such folder: {args.results_dir}")
    text = Report(args.results_dir).render()
    out = args.out or os.path.join(args.results_dir, "results.md")
    with open(out, "w") as f:
        f.write(text)
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
