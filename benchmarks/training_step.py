"""Training-step time of a spectrally normalized network over the same network unconstrained.

Same architecture, batch, data and optimizer (Adam); the two variants are timed interleaved, in one
run, and the median over repeats is reported, so that machine noise affects both alike. Prints a
table over batch sizes and widths, with the ratio (issue target: SN / unconstrained <= 1.10).

    python benchmarks/training_step.py [--device cpu|cuda] [--threads 2]
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch

from snsurrogate.network import Architecture, StressNetwork


def step_time(net: StressNetwork, x: torch.Tensor, y: torch.Tensor, opt: torch.optim.Optimizer, steps: int) -> float:
    """Seconds per training step (forward, backward, Adam update), averaged over ``steps``."""
    sync = torch.cuda.synchronize if x.is_cuda else (lambda: None)
    sync()
    t0 = time.perf_counter()
    for _ in range(steps):
        opt.zero_grad(set_to_none=True)
        loss = torch.mean((net(x) - y) ** 2)
        loss.backward()
        opt.step()
    sync()
    return (time.perf_counter() - t0) / steps


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--device", default="cpu")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--repeats", type=int, default=7)
    p.add_argument("--d", type=int, default=1, help="strain and stress components")
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    dev = torch.device(args.device)
    print(f"device {dev}, {args.threads} threads, torch {torch.__version__}, d_in = d_out = {args.d}, "
          f"3 hidden layers, GroupSort, float32, Adam; median of {args.repeats} interleaved repeats")
    print(f"{'batch':>8} {'width':>6} {'SN ms/step':>11} {'plain ms/step':>14} {'ratio':>7}")
    for width in (32, 128):
        for batch in (256, 4096, 65536):
            arch = Architecture(args.d, args.d, (width,) * 3, "groupsort", 0.1, 100.0, (20.0, 1.0, 1.0, 1.0))
            torch.manual_seed(0)
            x = torch.rand(batch, args.d, device=dev) * 0.1
            y = torch.sin(30 * x)
            nets = {}
            for name, spectral in (("sn", True), ("plain", False)):
                torch.manual_seed(0)
                net = StressNetwork(arch, spectral=spectral).to(dev)
                nets[name] = (net, torch.optim.Adam(net.parameters(), lr=1e-3))
            steps = max(5, min(300, int(2e6 / (batch * width))))
            for net, opt in nets.values():  # warm-up
                step_time(net, x, y, opt, steps)
            times: dict[str, list[float]] = {"sn": [], "plain": []}
            for _ in range(args.repeats):
                for name, (net, opt) in nets.items():
                    times[name].append(step_time(net, x, y, opt, steps))
            sn, plain = statistics.median(times["sn"]), statistics.median(times["plain"])
            print(f"{batch:>8} {width:>6} {sn * 1e3:>11.3f} {plain * 1e3:>14.3f} {sn / plain:>7.2f}")


if __name__ == "__main__":
    main()
