"""The end-to-end demonstration: spectrally normalized against unconstrained laws (:func:`run_demo`).

For each seed, every bundled material (hardening cubic 1-D, plane strain, Treloar rubber) is fitted
twice with the same data, architecture, activation, seed and training budget: once spectrally
normalized (SN, certified bound set from the data) and once unconstrained (free weights; its bound is
the product of the exact layer norms, also a valid certificate, just not a designed one). Every case
of :mod:`snsurrogate.demo.scenarios` is then run with each law at the step from its nominal stiffness
and at its own certified step (:mod:`snsurrogate.demo.runs`); the two *long runs* (free vibration
from a random velocity field, ``Settings.long_steps`` steps) report the true-energy drift that the
solver monitors. A network-size sweep (:mod:`snsurrogate.demo.sweep`) sets the designed SN bound against
the unconstrained product of layer norms and the steps each costs. At finite strain
(:mod:`snsurrogate.demo.finite`), Treloar's three test modes are fitted as the certified hyperelastic law and as
its unconstrained counterpart (``Settings.finite_seeds`` seeds), and with each a rubber plate with a hole is
pulled to ``Settings.finite_stretch`` and a rubber block punched ``Settings.finite_depth`` deep, at the step
recomputed at every state and at a constant nominal step. The outputs (``summary.json``, ``report.md``, plots,
models, ParaView files) are described in :func:`run_demo`.

    snsurrogate demo --out out/demo            # 10 seeds and the sweep, about 8 min on 2 CPU cores
    snsurrogate demo --out out/demo --quick    # 2 seeds, small budget: a smoke test
"""

from __future__ import annotations

import multiprocessing
import os
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tqdm.auto import tqdm

from .finite import compare
from .report import summarize, write_outputs
from .runs import run_seed
from .settings import FULL, QUICK, Settings
from .sweep import sweep_architectures, sweep_point

__all__ = ["DemoResult", "FULL", "QUICK", "Settings", "run_demo"]


@dataclass
class DemoResult:
    """What :func:`run_demo` produced: the content of ``summary.json`` and the files written."""

    summary: dict[str, Any]
    out_dir: Path
    files: list[Path]

    @property
    def sn_always_stable(self) -> bool:
        """Whether no SN run at its certified step blew up (the demo's claim: the linearised system never grows,
        what the certificate proves); runs the true-energy monitor stopped are counted apart in the claim."""
        return bool(self.summary["claim"]["holds"])


def _worker_init() -> None:
    import torch

    torch.set_num_threads(1)


def run_demo(out: str | os.PathLike[str], *, quick: bool = False, seeds: int | None = None,
             workers: int | None = None, epochs: int | None = None, hidden: tuple[int, ...] | None = None,
             progress: bool = True, plots: bool = True) -> DemoResult:
    """Run the demo into ``out`` and return its summary.

    Parameters
    ----------
    out
        Output folder. Written: ``summary.json`` (every number, with units), ``report.md`` (tables
        and the explanation), ``fits.png``, ``energy.png``, ``waves.png``, ``punch.png``, ``rates.png``,
        ``sweep.png``, ``models/seed<k>/*.pt``, ``models/sweep/<depth>x<width>_<kind>.pt`` and
        ``runs/seed<k>/<case>/<model>_<step>/`` (ParaView ``results.pvd``
        and ``frames/``, ``history.csv``, ``summary.json``).
    quick
        Small settings (:data:`QUICK`: 2 seeds, short training, coarse meshes) for a smoke test.
    seeds, workers, epochs, hidden
        Override the number of seeds, worker processes, Adam epochs or hidden widths of the settings.
    progress
        Show a progress bar over the seeds.
    plots
        Write the figures (matplotlib).
    """
    settings = (QUICK if quick else FULL).with_(seeds=seeds, workers=workers, epochs=epochs,
                                                hidden=tuple(hidden) if hidden else None)
    if settings.seeds < 1:
        raise ValueError(f"seeds must be at least 1, got {settings.seeds}")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    results, sweep, finite = [], [], []
    points = sweep_architectures(settings)
    bar = tqdm(total=settings.seeds + len(points) + bool(settings.finite_seeds), desc="demo (seeds, sweep, finite)",
               unit="job", disable=not progress)
    if settings.workers > 1 and settings.seeds + len(points) > 1:
        ctx = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(max_workers=settings.workers, mp_context=ctx, initializer=_worker_init) as pool:
            # the sweep's largest fits first, so that no long job starts last
            jobs = {pool.submit(sweep_point, d, w, settings, out): "sweep" for d, w in reversed(points)}
            if settings.finite_seeds:
                jobs[pool.submit(compare, out / "finite", settings.finite_seeds, settings.finite_stretch,
                                 settings.finite_epochs, settings.finite_depth)] = "finite"
            jobs.update({pool.submit(run_seed, seed, settings, out, seed == 0): "seed"
                         for seed in range(settings.seeds)})
            for job in as_completed(jobs):
                {"sweep": sweep.extend, "seed": results.append, "finite": finite.extend}[jobs[job]](job.result())
                bar.update()
    else:
        for seed in range(settings.seeds):
            results.append(run_seed(seed, settings, out, seed == 0))
            bar.update()
        for d, w in points:
            sweep.extend(sweep_point(d, w, settings, out))
            bar.update()
        if settings.finite_seeds:
            finite.extend(compare(out / "finite", settings.finite_seeds, settings.finite_stretch,
                                  settings.finite_epochs, settings.finite_depth))
            bar.update()
    bar.close()
    sweep.sort(key=lambda r: (r["depth"], r["width"], r["kind"] != "sn"))
    results.sort(key=lambda r: r["seed"])
    summary = summarize(results, sweep, settings, time.perf_counter() - t0, finite)
    files = []
    if plots:
        from .plots import plot_all

        files += plot_all(summary, results[0], settings, out)
    summary["wall_seconds_total"] = time.perf_counter() - t0
    files += write_outputs(summary, out)
    return DemoResult(summary, out, files)
