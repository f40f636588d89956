#!/usr/bin/env python3
"""PyTorch peers of vlmrl's fused CUDA kernels, for comparison with native/bench/bench_cuda.cu.

Times the same math as the kernels (docs/algorithms.md), forward + backward through autograd, in
PyTorch eager and with torch.compile, on the cases of bench_cuda (the CPU benchmarks' modes):
  policy loss, fp32, rows of 1024 tokens, per-token advantages, token-mean aggregation:
    ppo, clip-higher, aaac, aaac-k3-dads  x  1M, 4M, 16M tokens
    (the math of benchmarks/src/main/java/io/vlmrl/bench/EagerPolicyLossBaseline.java)
  token log-probs + entropy from logits: (N, V) = (2048, 32768), (8192, 151936), fp32 and bf16
and the device-to-device copy bandwidth (a 1 GiB tensor copy_, bytes read plus written).

Timing: CUDA events around `iters` back-to-back forward + backward steps, the best mean of
`repeats` loops, after a warm-up; the first call (which compiles) is timed on its own and
reported as first_call_s (for torch.compile, the compilation). torch.compile runs with dynamic=False after torch._dynamo.reset(): one
compilation per case, reused for all its timed calls.

Output: a line per case on stdout and, with --out FILE, one JSON object per line
(kinds: env, copy, policy_loss, token_logprobs, skipped). torch is imported only after the
arguments are parsed, so --help works without it.

Usage: python3 benchmarks/gpu/torch_peer.py [--out FILE] [--no-compile] [--only ...] [--quick]
"""
import argparse
import json
import math
import sys
import time

ROW_LEN = 1024  # PolicyLossInputs.ROW_LEN
LOSS_MODES = [  # name, eps_high, aaac, k3 with DADS weights (PolicyLossCase.java)
    ("ppo", 0.2, False, False),
    ("clip-higher", 0.28, False, False),
    # AAAC's upper clip is per token; eps_high is unused (not NaN: torch.compile guards on float
    # arguments' values, and a NaN guard never holds, so it would recompile on every call).
    ("aaac", 0.2, True, False),
    ("aaac-k3-dads", 0.2, True, True),
]
EPS_LOW = 0.2
AAAC_EPS_MIN, AAAC_EPS_MAX = 0.20, 0.32
KL_BETA = 1e-3
LOGRATIO_CLAMP, KL_CLAMP, K3_CLAMP = 20.0, 20.0, 10.0


def token_counts(quick):
    # Largest first: when the time budget runs out, the smallest cases lose their compile.
    return [64 * 1024] if quick else [16 << 20, 4 << 20, 1 << 20]


def logits_shapes(quick):
    return [(256, 32768), (64, 151936)] if quick else [(2048, 32768), (8192, 151936)]


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description="PyTorch eager and torch.compile peers of the fused vlmrl CUDA kernels "
                    "(see the module docstring for the cases).")
    parser.add_argument("--out", metavar="FILE", help="also write one JSON object per line to FILE")
    parser.add_argument("--no-compile", action="store_true", help="skip the torch.compile variants")
    parser.add_argument("--only", default="copy,policy,logprobs", metavar="LIST",
                        help="comma list of copy, policy, logprobs (default: all)")
    parser.add_argument("--quick", action="store_true",
                        help="small sizes (64K tokens; 256 and 64 logit rows), a smoke test of the script")
    parser.add_argument("--iters", type=int, default=20,
                        help="timed steps per loop for log-probs and copy (default 20; policy loss uses 5x)")
    parser.add_argument("--warmup", type=int, default=3,
                        help="untimed steps after the first call (default 3; policy loss uses 3x)")
    parser.add_argument("--repeats", type=int, default=3, help="timed loops per case, best mean reported (default 3)")
    parser.add_argument("--budget-s", type=float, default=0.0, metavar="S",
                        help="after S seconds, skip the remaining torch.compile variants (eager still runs); "
                             "0 = no limit")
    parser.add_argument("--device", default="cuda",
                        help="torch device (default cuda; cpu only to dry-run this script: no CUDA events)")
    args = parser.parse_args(argv)
    groups = [g for g in args.only.split(",") if g]
    unknown = [g for g in groups if g not in ("copy", "policy", "logprobs")]
    if unknown or not groups:
        parser.error(f"--only: expected a comma list of copy, policy, logprobs, got {args.only!r}")
    args.groups = set(groups)
    for name in ("iters", "warmup", "repeats"):
        if getattr(args, name) < 1:
            parser.error(f"--{name} must be at least 1")
    return args


class Output:
    def __init__(self, path):
        self.file = open(path, "w") if path else None

    def record(self, **fields):
        if self.file:
            clean = {k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in fields.items()}
            self.file.write(json.dumps({"tool": "torch_peer", **clean}) + "\n")
            self.file.flush()

    def close(self):
        if self.file:
            self.file.close()


class Timer:
    """Mean milliseconds per call: best of `repeats` loops, CUDA events (wall clock on CPU)."""

    def __init__(self, torch, device):
        self.torch = torch
        self.cuda = device.startswith("cuda")

    def sync(self):
        if self.cuda:
            self.torch.cuda.synchronize()

    def first_call_s(self, fn):
        self.sync()
        start = time.perf_counter()
        fn()
        self.sync()
        return time.perf_counter() - start

    def mean_ms(self, fn, warmup, iters, repeats):
        for _ in range(warmup):
            fn()
        self.sync()
        best = math.inf
        for _ in range(repeats):
            if self.cuda:
                start = self.torch.cuda.Event(enable_timing=True)
                stop = self.torch.cuda.Event(enable_timing=True)
                start.record()
                for _ in range(iters):
                    fn()
                stop.record()
                stop.synchronize()
                ms = start.elapsed_time(stop)
            else:
                t0 = time.perf_counter()
                for _ in range(iters):
                    fn()
                ms = (time.perf_counter() - t0) * 1e3
            best = min(best, ms / iters)
        return best


def make_policy_loss(torch):
    def policy_loss(logp, old, adv, mask, ref, kl_weight, valid, eps_high, aaac, adv_min, adv_max, k3):
        """Token-mean clipped surrogate (+ beta * k3 KL weighted per response); EagerPolicyLossBaseline."""
        mask_f = mask.to(torch.float32)
        ratio = torch.exp(torch.clamp(logp - old, -LOGRATIO_CLAMP, LOGRATIO_CLAMP))
        neg_adv = -adv
        unclipped = neg_adv * ratio
        if aaac:
            spread = adv_max - adv_min
            norm_adv = (adv - adv_min) / spread if spread > 0 else adv * 0.0 + 0.5
            upper = norm_adv * (AAAC_EPS_MAX - AAAC_EPS_MIN) + (1.0 + AAAC_EPS_MIN)
            clipped = torch.minimum(torch.clamp(ratio, min=1.0 - EPS_LOW), upper)
        else:
            clipped = torch.clamp(ratio, 1.0 - EPS_LOW, 1.0 + eps_high)
        per_token = torch.maximum(unclipped, neg_adv * clipped)
        loss = (per_token * mask_f).sum() / valid
        if k3:
            delta = torch.clamp(ref - logp, -KL_CLAMP, KL_CLAMP)
            kl = torch.clamp(torch.exp(delta) - delta - 1.0, -K3_CLAMP, K3_CLAMP)
            loss = loss + (kl * kl_weight.unsqueeze(1) * mask_f).sum() / valid * KL_BETA
        return loss

    return policy_loss


def make_token_logprobs(torch):
    def token_logprobs_entropy(logits, targets):
        logsm = torch.log_softmax(logits.float(), dim=-1)
        logp = logsm.gather(-1, targets.unsqueeze(-1)).squeeze(-1)
        entropy = -(logsm.exp() * logsm).sum(-1)
        return logp, entropy

    return token_logprobs_entropy


class Runner:
    def __init__(self, torch, args, out):
        self.torch = torch
        self.args = args
        self.out = out
        self.timer = Timer(torch, args.device)
        self.start = time.perf_counter()
        self.can_compile = not args.no_compile and hasattr(torch, "compile")
        if not args.no_compile and not self.can_compile:
            print("torch.compile is not available in this PyTorch: eager only")

    def variants(self, fn):
        yield "eager", fn
        if not self.can_compile:
            return
        elapsed = time.perf_counter() - self.start
        if self.args.budget_s > 0 and elapsed > self.args.budget_s:
            yield "compile", None  # over budget: the caller records a skip
            return
        self.torch._dynamo.reset()  # a fresh compilation for this case; no guards of earlier cases
        yield "compile", self.torch.compile(fn, dynamic=False)

    def measure(self, step, warmup, iters):
        first_s = self.timer.first_call_s(step)
        ms = self.timer.mean_ms(step, warmup, iters, self.args.repeats)
        return ms, first_s

    def copy(self):
        torch = self.torch
        nbytes = (64 << 20) if self.args.quick else (1 << 30)
        src = torch.ones(nbytes, dtype=torch.uint8, device=self.args.device)
        dst = torch.empty_like(src)
        ms = self.timer.mean_ms(lambda: dst.copy_(src), self.args.warmup, self.args.iters, self.args.repeats)
        gbps = 2.0 * nbytes / (ms * 1e6)
        print(f"\ndevice-to-device copy of {nbytes >> 20} MiB: {gbps:.0f} GB/s (read + write)")
        self.out.record(kind="copy", bytes=nbytes, ms=ms, gbps=gbps)
        del src, dst

    def policy_loss(self):
        torch = self.torch
        dev = self.args.device
        loss_fn = make_policy_loss(torch)
        print(f"\npolicy loss, forward + backward, rows of {ROW_LEN}\n{'mode':14s} {'tokens':>10s} {'impl':>8s} "
              f"{'us/step':>10s} {'1st call s':>10s}")
        for tokens in token_counts(self.args.quick):
            rows = tokens // ROW_LEN
            gen = torch.Generator(device=dev)
            gen.manual_seed(42)
            shape = (rows, ROW_LEN)
            old = torch.randn(shape, device=dev, generator=gen) * 0.5 - 1.0
            logp = (old + 0.15 * torch.randn(shape, device=dev, generator=gen)).requires_grad_(True)
            ref = old + 0.1 * torch.randn(shape, device=dev, generator=gen)
            adv = torch.randn(shape, device=dev, generator=gen)
            lengths = torch.randint(ROW_LEN // 4, ROW_LEN + 1, (rows, 1), device=dev, generator=gen)
            mask = torch.arange(ROW_LEN, device=dev).unsqueeze(0) < lengths  # bool, 1 byte per token
            kl_weight = torch.rand(rows, device=dev, generator=gen) * 0.8 + 0.2
            valid = float(mask.sum().item())
            adv_valid = adv[mask]
            adv_min, adv_max = float(adv_valid.min().item()), float(adv_valid.max().item())
            del adv_valid
            for name, eps_high, aaac, k3 in LOSS_MODES:
                for impl, fn in self.variants(loss_fn):
                    if fn is None:
                        self.skip("policy_loss", impl, case=name, tokens=tokens)
                        continue

                    def step(fn=fn, eps_high=eps_high, aaac=aaac, k3=k3):
                        logp.grad = None
                        loss = fn(logp, old, adv, mask, ref, kl_weight, valid, eps_high, aaac, adv_min, adv_max, k3)
                        loss.backward()

                    ms, first_s = self.measure(step, 3 * self.args.warmup, 5 * self.args.iters)
                    print(f"{name:14s} {tokens:10d} {impl:>8s} {ms * 1e3:10.1f} {first_s:10.2f}")
                    self.out.record(kind="policy_loss", case=name, tokens=tokens, impl=impl, ms=ms,
                                    first_call_s=first_s, iters=5 * self.args.iters)
            del old, logp, ref, adv, lengths, mask, kl_weight
            self.free()

    def token_logprobs(self):
        torch = self.torch
        dev = self.args.device
        lp_fn = make_token_logprobs(torch)
        print(f"\ntoken log-probs + entropy, forward + backward\n{'dtype':6s} {'N':>6s} {'V':>7s} {'impl':>8s} "
              f"{'us/step':>12s} {'1st call s':>10s}")
        for n, v in logits_shapes(self.args.quick):
            for dtype_name, dtype in (("fp32", torch.float32), ("bf16", torch.bfloat16)):
                gen = torch.Generator(device=dev)
                gen.manual_seed(7)
                logits = (3.0 * torch.randn((n, v), device=dev, generator=gen)).to(dtype).requires_grad_(True)
                targets = torch.randint(0, v, (n,), device=dev, generator=gen)
                for impl, fn in self.variants(lp_fn):
                    if fn is None:
                        self.skip("token_logprobs", impl, n=n, v=v, dtype=dtype_name)
                        continue

                    def step(fn=fn):
                        logits.grad = None
                        logp, entropy = fn(logits, targets)
                        (logp.sum() + entropy.sum()).backward()

                    ms, first_s = self.measure(step, self.args.warmup, self.args.iters)
                    print(f"{dtype_name:6s} {n:6d} {v:7d} {impl:>8s} {ms * 1e3:12.1f} {first_s:10.2f}")
                    self.out.record(kind="token_logprobs", n=n, v=v, dtype=dtype_name, impl=impl, ms=ms,
                                    first_call_s=first_s, iters=self.args.iters)
                    logits.grad = None
                    self.free()
                del logits, targets
                self.free()

    def skip(self, kind, impl, **key):
        reason = f"time budget of {self.args.budget_s:.0f} s spent"
        print(f"{kind} {key} {impl}: skipped ({reason})")
        self.out.record(kind="skipped", case_kind=kind, impl=impl, reason=reason, **key)

    def free(self):
        if self.args.device.startswith("cuda"):
            self.torch.cuda.empty_cache()


def main(argv=None):
    args = parse_args(argv)
    try:
        import torch  # imported here so that --help needs no PyTorch
    except ImportError as e:
        print(f"torch_peer: cannot import torch ({e}); install a CUDA build of PyTorch", file=sys.stderr)
        return 1
    if args.device.startswith("cuda") and not torch.cuda.is_available():
        print(f"torch_peer: torch {torch.__version__} sees no CUDA device (torch.version.cuda = {torch.version.cuda})",
              file=sys.stderr)
        return 1
    out = Output(args.out)
    try:
        import triton
        triton_version = triton.__version__
    except Exception:  # noqa: BLE001 - any failure means "not usable"
        triton_version = None
    device_name = torch.cuda.get_device_name(0) if args.device.startswith("cuda") else args.device
    print(f"device: {device_name}, torch {torch.__version__} (CUDA {torch.version.cuda}), triton {triton_version}")
    out.record(kind="env", device=device_name, torch=torch.__version__, cuda=torch.version.cuda,
               triton=triton_version, compile=not args.no_compile and hasattr(torch, "compile"))
    runner = Runner(torch, args, out)
    try:
        if "copy" in args.groups:
            runner.copy()
        if "logprobs" in args.groups:
            runner.token_logprobs()
        if "policy" in args.groups:
            runner.policy_loss()
    finally:
        out.close()
    print(f"\ntorch_peer: done in {time.perf_counter() - runner.start:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
