#!/usr/bin/env python3
"""PyTorch peers of vlmrl's fused CUDA kernels, for comparison with native/bench/bench_cuda.cu.

Times the same math as the kernels (docs/algorithms.md) in PyTorch eager and with
torch.compile, forward plus backward through autograd, on the same shapes:
  policy loss:  N = 64K, 1M, 4M tokens (rows of 4096), modes ppo, clip-higher, aaac, aaac+k3+weights
  token logprobs + entropy: (N, V) = (2048, 32768), (512, 151936), fp32 and bf16

Usage (on a GPU machine with PyTorch):  python3 benchmarks/gpu/torch_peer.py [--no-compile]
"""
import argparse

import torch

ROW_LEN = 4096


def clipped_policy_loss(logp, old, adv, mask, ref, lam, denom, row_valid, eps_low, eps_high,
                        aaac, k3, seq_mean_token_mean):
    """Per-token clipped surrogate (+ optional k3 KL), aggregated; mirrors vlmrl_policy_loss."""
    logratio = torch.clamp(logp - old, -20.0, 20.0)
    rho = torch.exp(logratio)
    if aaac:  # minmax-normalised advantage widens eps_high (stats -4 .. 4 as in bench_cuda)
        eps_high = 0.20 + 0.12 * ((adv + 4.0) / 8.0)
    else:
        eps_high = torch.full_like(adv, eps_high)
    pg = torch.maximum(-adv * rho, -adv * torch.minimum(torch.clamp(rho, min=1.0 - eps_low), 1.0 + eps_high))
    weight = mask / denom
    if seq_mean_token_mean:
        weight = weight / row_valid.clamp(min=1.0)
    loss = (pg * weight).sum()
    if k3:
        delta = torch.clamp(ref - logp, -20.0, 20.0)
        kl = torch.clamp(torch.exp(delta) - delta - 1.0, -10.0, 10.0) * lam
        loss = loss + 1e-3 * (kl * mask / denom).sum()
    return loss


def token_logprobs_entropy(logits, targets):
    logsm = torch.log_softmax(logits.float(), dim=-1)
    logp = logsm.gather(-1, targets.unsqueeze(-1)).squeeze(-1)
    entropy = -(logsm.exp() * logsm).sum(-1)
    return logp, entropy


def time_ms(fn, warmup=5, iters=20):
    for _ in range(warmup):
        fn()
    torch.cuda.synchronize()
    start, stop = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    start.record()
    for _ in range(iters):
        fn()
    stop.record()
    torch.cuda.synchronize()
    return start.elapsed_time(stop) / iters


def bench_policy_loss(variants):
    modes = [("ppo", 0.2, False, False), ("clip-higher", 0.28, False, False),
             ("aaac", 0.2, True, False), ("aaac+k3+weights", 0.2, True, True)]
    print(f"\npolicy loss, forward + backward\n{'mode':18s} {'tokens':>10s} " +
          " ".join(f"{name + ' us':>14s}" for name, _ in variants))
    for n in (64 * 1024, 1024 * 1024, 4 * 1024 * 1024):
        rows = n // ROW_LEN
        dev = "cuda"
        logp = (-torch.randn(rows, ROW_LEN, device=dev).abs()).requires_grad_(True)
        old = logp.detach() + 0.1 * torch.randn_like(logp)
        ref = logp.detach() + 0.2 * torch.randn_like(logp)
        adv = torch.randn_like(logp)
        cols = torch.arange(ROW_LEN, device=dev)
        mask = (cols < ROW_LEN * 7 // 8).float().expand(rows, ROW_LEN).contiguous()
        row_valid = mask.sum(-1, keepdim=True)
        lam = torch.full((rows, 1), 0.8, device=dev)
        for name, eps_high, aaac, k3 in modes:
            seq = name == "aaac+k3+weights"
            denom = float(rows) if seq else float(mask.sum())
            times = []
            for _, fn in variants:
                def step():
                    logp.grad = None
                    loss = fn(logp, old, adv, mask, ref, lam, denom, row_valid, 0.2, eps_high, aaac, k3, seq)
                    loss.backward()
                times.append(time_ms(step) * 1e3)
            print(f"{name:18s} {n:10d} " + " ".join(f"{t:14.1f}" for t in times))


def bench_token_logprobs(variants):
    print(f"\ntoken logprobs + entropy, forward + backward\n{'dtype':6s} {'N':>6s} {'V':>7s} " +
          " ".join(f"{name + ' fwd us':>16s} {name + ' f+b us':>16s}" for name, _ in variants))
    for n, v in ((2048, 32768), (512, 151936)):
        for dtype in (torch.float32, torch.bfloat16):
            logits = (3.0 * torch.randn(n, v, device="cuda")).to(dtype).requires_grad_(True)
            targets = torch.randint(0, v, (n,), device="cuda")
            cells = []
            for _, fn in variants:
                with torch.no_grad():
                    fwd = time_ms(lambda: fn(logits, targets)) * 1e3

                def step():
                    logits.grad = None
                    logp, entropy = fn(logits, targets)
                    (logp.sum() + entropy.sum()).backward()
                cells.append(f"{fwd:16.1f} {time_ms(step) * 1e3:16.1f}")
                torch.cuda.empty_cache()
            print(f"{str(dtype).replace('torch.', ''):6s} {n:6d} {v:7d} " + " ".join(cells))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-compile", action="store_true", help="skip the torch.compile variants")
    args = parser.parse_args()
    if not torch.cuda.is_available():
        print("no CUDA device")
        return
    print(f"device: {torch.cuda.get_device_name(0)}, torch {torch.__version__}")
    loss_variants = [("eager", clipped_policy_loss)]
    lp_variants = [("eager", token_logprobs_entropy)]
    if not args.no_compile:
        loss_variants.append(("compile", torch.compile(clipped_policy_loss, dynamic=False)))
        lp_variants.append(("compile", torch.compile(token_logprobs_entropy, dynamic=False)))
    bench_policy_loss(loss_variants)
    bench_token_logprobs(lp_variants)


if __name__ == "__main__":
    main()
