"""Fit a spectrally normalized (SN) and an unconstrained network to the bundled data, with the same
architecture, data, seed and training budget, and run the same explicit simulations with each: a 1-D
bar impact in tension and in compression (hardening cubic law), a 2-D block hit by a punch (plane
strain law) and a natural-rubber bar pulled to a stretch of 6.5 (Treloar's measured curve), each at
the step from the law's nominal (initial) stiffness and at its own certified step, over several seeds.
Two long runs (a bar and a plane-strain block vibrating freely from a random initial velocity, 6,000
steps at each step, the default dt = "auto" included) report the true-energy drift the solver
monitors, and a network-size sweep (depth 2-6, width 32-128) sets the SN bound against the
unconstrained product of layer norms and the steps each costs. At finite strain, Treloar's three test modes
are fitted as the certified law and as an unconstrained MLP (2 seeds), and a rubber plate with a hole is
pulled to stretch 3 with each, at the step recomputed at every state and at a constant nominal step.

Units: the bundled data are in MPa, so every case runs in mm, s, t (tonne), MPa (force N, energy mJ).

Writes into DIR: report.md (tables and the explanation, start here), summary.json (every number per
seed and per run, with units), fits.png, energy.png, waves.png, punch.png, rates.png, sweep.png, the fitted
models (models/) and the ParaView files and histories of every run (runs/).

Exit status: 0 when the SN model was stable at its certified step in every run, 1 when it was not
(the report says where), 2 for bad arguments.

Examples:
  snsurrogate demo --out out/demo              # 10 seeds and the sweep, about 8 min on 2 CPU cores
  snsurrogate demo --out out/demo --quick      # 2 seeds, short training: a smoke test
  snsurrogate demo --out out/demo --seeds 20 --hidden 128,128,128
"""

from __future__ import annotations

import argparse
import sys

from .options import HIDDEN_HELP, Widths

HELP = "fit SN and unconstrained laws to the bundled data and compare them in explicit simulations"


def _positive(text: str) -> int:
    try:
        n = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if n < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return n


def add_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--out", required=True, metavar="DIR", help="output folder (created)")
    p.add_argument("--quick", action="store_true",
                   help="small settings: 2 seeds, 150 + 30 training epochs, coarse meshes (a smoke test)")
    p.add_argument("--seeds", type=_positive, metavar="N", help="number of seeds (default 10; 2 with --quick)")
    p.add_argument("--workers", type=_positive, metavar="N",
                   help="processes running seeds in parallel (default: one per core, at most 2)")
    p.add_argument("--epochs", type=_positive, metavar="N",
                   help="Adam epochs of every fit (default 300; 150 with --quick), the same for both models")
    p.add_argument("--hidden", action=Widths, help=f"{HIDDEN_HELP} (both networks; default 32,32,32)")
    p.add_argument("--no-plots", action="store_true", help="skip the figures")
    p.add_argument("--quiet", action="store_true", help="no progress bar")


def run(args: argparse.Namespace) -> int:
    from ..demo import run_demo

    try:
        result = run_demo(args.out, quick=args.quick, seeds=args.seeds, workers=args.workers, epochs=args.epochs,
                          hidden=tuple(args.hidden) if args.hidden else None, progress=not args.quiet,
                          plots=not args.no_plots)
    except OSError as exc:
        print(f"error: {args.out}: cannot write the outputs: {exc.strerror or exc}", file=sys.stderr)
        return 2
    s = result.summary
    print(f"{s['claim']['statement']}; unconstrained stable at its certified step in "
          f"{s['claim']['unconstrained_certified_stable']}/{s['claim']['unconstrained_certified_runs']}")
    print(f"{'case':<16} {'law':<14} {'step':<10} {'stable':>7} {'median steps':>13} {'median dt [s]':>14}")
    for r in s["rates"]:
        print(f"{r['scenario']:<16} {r['kind']:<14} {r['step']:<10} {r['stable']:>3}/{r['n']:<3} "
              f"{r['steps']['median']:>13.0f} {r['dt']['median']:>14.4g}")
    for r in (s.get("finite_strain") or {}).get("runs", []):  # finite strain: one SN law, unconstrained per seed
        law = "SN" if r["seed"] is None else f"unconstr. {r['seed']}"
        print(f"{r['case'] + ' (finite)':<16} {law:<14} {r['step']:<10} {int(r['stable']):>3}/1   {r['steps']:>13.0f} "
              f"{r['dt_min']:>14.4g}")
    print(f"wrote {result.out_dir / 'report.md'}, {result.out_dir / 'summary.json'} and "
          f"{len(result.files) - 2} figures in {s['wall_seconds_total']:.0f} s")
    if not result.sn_always_stable:
        print("error: an SN model BLEW UP at its certified step; see report.md",
              file=sys.stderr)
        return 1
    return 0
