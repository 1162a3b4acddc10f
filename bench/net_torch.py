"""PyTorch side of `hrl bench net`: the same networks, modes, batches and timing rules.

Networks: MinAtar (4x10x10 -> conv16 k3 -> ReLU -> 1024 -> 128 -> ReLU -> 6) and the Nature CNN
(4x84x84, divided by 255 -> conv32 k8 s4 -> conv64 k4 s2 -> conv64 k3 s1 -> 3136 -> 512 -> 6),
ReLU everywhere. Forward: under torch.inference_mode(), the output copied to a NumPy array. Train:
forward, Q(s, a) by gather, 0.5 * MSE, backward, Adam (lr 1e-4), with loss.item() read back
(as `hrl bench net` reads its loss). The input needs no gradient, as in `hrl`.

Also times a square float32 product (torch.mm) on one thread and on all --threads, for the
machine's sgemm peak. Prints one JSON object.

Usage: python bench/net_torch.py [--threads T] [--batch 32,256] [--repeats 7] [--round-ms 200]
                                 [--warmup 3] [--matmul 2048]
"""

import argparse
import json
import os
import time

import torch
from torch import nn

NUM_ACTIONS = 6


def network(name):
    if name == "minatar":
        return (4, 10, 10), nn.Sequential(
            nn.Conv2d(4, 16, 3), nn.ReLU(), nn.Flatten(), nn.Linear(1024, 128), nn.ReLU(),
            nn.Linear(128, NUM_ACTIONS),
        ), 1.0
    return (4, 84, 84), nn.Sequential(
        nn.Conv2d(4, 32, 8, stride=4), nn.ReLU(), nn.Conv2d(32, 64, 4, stride=2), nn.ReLU(),
        nn.Conv2d(64, 64, 3), nn.ReLU(), nn.Flatten(), nn.Linear(3136, 512), nn.ReLU(),
        nn.Linear(512, NUM_ACTIONS),
    ), 1.0 / 255.0


def observations(name, batch, shape):
    if name == "minatar":
        return (torch.rand(batch, *shape) < 0.5).float()
    return torch.floor(torch.rand(batch, *shape) * 255.0)


def time_rounds(call, warmup, repeats, round_ms):
    """Median and fastest milliseconds per call, as hrl_nn::bench times them."""
    for _ in range(warmup):
        call()
    rounds = []
    for _ in range(repeats):
        start = time.perf_counter()
        calls = 0
        while True:
            call()
            calls += 1
            elapsed_ms = (time.perf_counter() - start) * 1e3
            if elapsed_ms >= round_ms:
                break
        rounds.append(elapsed_ms / calls)
    rounds.sort()
    mid = len(rounds) // 2
    median = rounds[mid] if len(rounds) % 2 else (rounds[mid - 1] + rounds[mid]) / 2
    return median, rounds[0]


def bench_case(name, mode, batch, args):
    torch.manual_seed(0)
    shape, model, scale = network(name)
    obs = observations(name, batch, shape)
    if mode == "forward":
        def call():
            with torch.inference_mode():
                model(obs * scale if scale != 1.0 else obs).numpy()
    else:
        actions = (torch.arange(batch) % NUM_ACTIONS).unsqueeze(1)
        targets = torch.randn(batch, 1)
        optimizer = torch.optim.Adam(model.parameters(), lr=1e-4)

        def call():
            q = model(obs * scale if scale != 1.0 else obs)
            loss = 0.5 * (q.gather(1, actions) - targets).square().mean()
            loss.item()
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
    median_ms, min_ms = time_rounds(call, args.warmup, args.repeats, args.round_ms)
    return {"network": name, "mode": mode, "batch": batch, "median_ms": median_ms,
            "min_ms": min_ms}


def bench_matmul(size, threads, args):
    torch.set_num_threads(threads)
    a, b = torch.rand(size, size) * 2 - 1, torch.rand(size, size) * 2 - 1
    median_ms, _ = time_rounds(lambda: torch.mm(a, b), args.warmup, args.repeats, 0.0)
    return {"size": size, "threads": threads, "median_ms": median_ms,
            "gflops": 2.0 * size ** 3 / (median_ms * 1e6)}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    parser.add_argument("--batch", default="32,256")
    parser.add_argument("--networks", default="minatar,nature")
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--round-ms", type=float, default=200.0)
    parser.add_argument("--matmul", type=int, default=2048)
    args = parser.parse_args()
    batches = [int(b) for b in args.batch.split(",")]
    matmul = []
    if args.matmul > 0:
        matmul = [bench_matmul(args.matmul, t, args) for t in sorted({1, args.threads})]
    torch.set_num_threads(args.threads)
    cases = [bench_case(name, mode, batch, args) for name in args.networks.split(",")
             for mode in ("forward", "train") for batch in batches]
    print(json.dumps({"torch": torch.__version__, "threads": args.threads, "cases": cases,
                      "matmul": matmul,
                      "cpu_capability": torch.backends.cpu.get_cpu_capability()}))


if __name__ == "__main__":
    main()
