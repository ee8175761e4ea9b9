"""The demo's figures (matplotlib, Agg backend), from the showcase seed and the aggregated summary.

- ``fits.png``: stress and tangent of the SN and the unconstrained fit of each material, through and 50 %
  beyond the data, with each certified bound L as a horizontal line;
- ``energy.png``: stored energy over energy put in against time (log scale), each law at both steps;
- ``waves.png``: strain along the bars at a few times (certified steps);
- ``punch.png``: element strain size in the punched block at the end of the certified runs;
- ``rates.png``: stable runs out of all seeds, and steps needed at the certified step;
- ``sweep.png``: the network-size sweep: certified bound and steps against the number of parameters.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from fem.atomic import atomic_path

from .report import LAW_NAMES
from .runs import strain_norm
from .scenarios import SCENARIOS
from .settings import MATERIALS, Settings

COLORS = {"sn": "tab:blue", "unconstrained": "tab:red", "exact": "0.35"}
STYLE = {"certified": "-", "nominal": ":", "auto": "--"}


def _save(fig, path: Path) -> Path:
    """Save a figure atomically (:func:`fem.atomic.atomic_path`)."""
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=90, format="png")
    return path


def _time_unit(t: float) -> tuple[float, str]:
    """Scale and name for showing a time in seconds: microseconds below 1 ms, else milliseconds."""
    return (1e6, "us") if t < 1e-3 else (1e3, "ms")


def _runs(showcase, scenario, kind=None, step=None):
    return [r for r in showcase["runs"] if r["scenario"] == scenario and (kind is None or r["kind"] == kind)
            and (step is None or r["step"] == step)]


def plot_fits(showcase, path: Path):
    import matplotlib.pyplot as plt

    keys = [k for k in MATERIALS if k in showcase["curves"]]
    fig, axes = plt.subplots(2, len(keys), figsize=(4.2 * len(keys), 6.4), squeeze=False)
    for j, key in enumerate(keys):
        c = showcase["curves"][key]
        top, bottom = axes[0, j], axes[1, j]
        if c["data_strain"] is not None:
            top.plot(c["data_strain"], c["data_stress"], ".", color="0.6", ms=3, label="data")
        for kind in ("sn", "unconstrained"):
            top.plot(c["strain"], c[kind]["stress"], color=COLORS[kind], lw=1.3, label=LAW_NAMES[kind])
            bottom.plot(c["strain"], c[kind]["tangent"], color=COLORS[kind], lw=1.3, label=f"{LAW_NAMES[kind]} tangent")
            bottom.axhline(c[kind]["lipschitz_bound"], color=COLORS[kind], ls="--", lw=1,
                           label=f"{LAW_NAMES[kind]} certified L = {c[kind]['lipschitz_bound']:.4g}")
        for ax in (top, bottom):
            ax.axvspan(*c["data_range"], color="0.93", zorder=0)
            ax.set_xlabel(c["label"] + " [-]")
        top.set_title(key + (" (stretch - 1)" if key == "rubber" else ""), fontsize=10)
        top.set_ylabel("stress [MPa]" if c["data_strain"] is not None else "sxx [MPa]")
        bottom.set_ylabel("||C_t||_2 [MPa]")
        bottom.set_ylim(0, 1.15 * max(c[k]["lipschitz_bound"] for k in ("sn", "unconstrained")))
        top.legend(fontsize=7)
        bottom.legend(fontsize=6.5, loc="upper center")
    fig.suptitle("Fits (seed 0): shaded = range of the data; dashed = certified tangent bounds", fontsize=10)
    fig.tight_layout()
    return fig


def plot_energy(showcase, path: Path):
    import matplotlib.pyplot as plt

    cases = [k for k in ("bar_tension", "punch_2d", "rubber_stretch", "block_vibration") if _runs(showcase, k)]
    fig, axes = plt.subplots(1, len(cases), figsize=(4.4 * len(cases), 3.8), squeeze=False)
    for ax, key in zip(axes[0], cases):
        scale, unit = _time_unit(max(r["history"]["time"][-1] for r in _runs(showcase, key)))
        for r in _runs(showcase, key):
            h = r["history"]
            put_in = np.maximum.accumulate(np.abs(h["external"]) + abs(h["kinetic"][0]))
            stored = (np.abs(h["kinetic"]) + np.abs(h["internal"])) / np.maximum(put_in, 1e-300)
            keep = np.isfinite(stored) & (put_in > 1e-12 * max(put_in.max(), 1e-300))
            state = "stable" if r["stable"] else ("STOPPED: energy drift" if r.get("stopped_by") == "energy_drift"
                                                  else "BLEW UP")
            ax.semilogy(h["time"][keep] * scale, np.maximum(stored[keep], 1e-6), STYLE[r["step"]],
                        color=COLORS[r["kind"]], lw=1.2,
                        label=f"{LAW_NAMES[r['kind']]}, {r['step']} dt ({state})")
        ax.axhline(1000, color="k", lw=0.6, ls="--")
        ax.set_xlabel(f"time [{unit}]")
        ax.set_ylabel("stored energy / energy put in [-]")
        ax.set_title(SCENARIOS[key].title, fontsize=9)
        ax.legend(fontsize=6.5)
    fig.suptitle("Energy histories (seed 0); dashed line: the solver's runaway threshold", fontsize=10)
    fig.tight_layout()
    return fig


def plot_waves(showcase, settings: Settings, path: Path):
    import matplotlib.pyplot as plt

    cases = [k for k in ("bar_tension", "bar_compression", "rubber_stretch") if _runs(showcase, k)]
    fig, axes = plt.subplots(1, len(cases), figsize=(4.4 * len(cases), 3.6), squeeze=False)
    for ax, key in zip(axes[0], cases):
        for kind in ("sn", "unconstrained"):
            (r,) = _runs(showcase, key, kind, "certified")
            snaps = r["snapshots"]
            pick = np.unique(np.linspace(1, len(snaps) - 1, 3).round().astype(int))
            for n, i in enumerate(pick):
                t, eps, _ = snaps[i]
                x = (np.arange(len(eps)) + 0.5) * 100.0 / len(eps)
                ax.plot(x, eps[:, 0], color=COLORS[kind], ls="-" if kind == "sn" else "--", lw=1.1,
                        alpha=0.4 + 0.6 * (n + 1) / len(pick),
                        label=f"{LAW_NAMES[kind]}" if n == len(pick) - 1 else None)
                if kind == "sn":
                    scale, unit = _time_unit(t)
                    ax.annotate(f"{t * scale:.0f} {unit}", (x[-1], eps[-1, 0]), fontsize=6)
        ax.set_xlabel("x [mm]")
        ax.set_ylabel("strain [-]")
        ax.set_title(SCENARIOS[key].title + " (certified steps)", fontsize=9)
        ax.legend(fontsize=7)
    fig.tight_layout()
    return fig


def plot_punch(showcase, settings: Settings, path: Path):
    import matplotlib.pyplot as plt
    from matplotlib.collections import PolyCollection

    from ..case import load_case
    from ..simulation import build_mesh

    runs = [r for r in _runs(showcase, "punch_2d", step="certified") if r["kind"] in ("sn", "unconstrained")]
    if not runs:
        return None
    mesh, _ = build_mesh(load_case(SCENARIOS["punch_2d"].case({"type": "linear", "E": 1.0, "nu": 0.3, "density": 1.0},
                                                              "auto", settings)))
    polys = mesh.points[mesh.cells][:, :, :2]
    fig, axes = plt.subplots(1, len(runs), figsize=(4.6 * len(runs), 3.0), squeeze=False)
    size = [strain_norm(r["snapshots"][-1][1]) for r in runs]
    vmax = max(float(s.max()) for s in size)
    for ax, r, s in zip(axes[0], runs, size):
        pc = PolyCollection(polys, array=s, cmap="viridis", clim=(0, vmax), edgecolors="none")
        ax.add_collection(pc)
        ax.set_xlim(mesh.points[:, 0].min(), mesh.points[:, 0].max())
        ax.set_ylim(mesh.points[:, 1].min(), mesh.points[:, 1].max())
        ax.set_aspect("equal")
        ax.set_title(f"{LAW_NAMES[r['kind']]}: t = {r['snapshots'][-1][0] * 1e6:.0f} us", fontsize=9)
        ax.set_xlabel("x [mm]")
        ax.set_ylabel("y [mm]")
        fig.colorbar(pc, ax=ax, label="strain size sqrt(eps:eps) [-]", shrink=0.8)
    fig.tight_layout()
    return fig


def plot_rates(summary, path: Path):
    import matplotlib.pyplot as plt

    rates = [r for r in summary["rates"] if r["kind"] in ("sn", "unconstrained")]
    labels = [f"{r['scenario']}\n{r['step']}" for r in rates if r["kind"] == "sn"]
    x = np.arange(len(labels))
    fig, (a, b) = plt.subplots(1, 2, figsize=(11, 3.8))
    for k, kind in enumerate(("sn", "unconstrained")):
        rows = [r for r in rates if r["kind"] == kind]
        a.bar(x + (k - 0.5) * 0.38, [r["stable"] / r["n"] for r in rows], 0.38, color=COLORS[kind],
              label=LAW_NAMES[kind])
        cert = [r for r in rows if r["step"] == "certified"]
        med = np.array([r["steps"]["median"] for r in cert])
        err = np.array([[r["steps"]["median"] - r["steps"]["min"], r["steps"]["max"] - r["steps"]["median"]]
                        for r in cert]).T
        xb = np.arange(len(cert))
        b.bar(xb + (k - 0.5) * 0.38, med, 0.38, yerr=err, color=COLORS[kind], label=LAW_NAMES[kind], capsize=3)
    a.set_xticks(x, labels, fontsize=6.5)
    a.set_ylabel(f"stable runs / {summary['seeds']} seeds")
    a.set_ylim(0, 1.05)
    a.legend(fontsize=7)
    b.set_xticks(np.arange(len(SCENARIOS)), list(SCENARIOS), fontsize=7)
    b.set_ylabel("steps at the certified dt (median, min-max)")
    b.legend(fontsize=7)
    fig.tight_layout()
    return fig


def plot_sweep(summary, path: Path):
    """Bound and steps of the SN and the unconstrained networks of each size; ``None`` without a sweep."""
    import matplotlib.pyplot as plt

    rows = summary["sweep"]["rows"]
    if not rows:
        return None
    fig, (a, b) = plt.subplots(1, 2, figsize=(11, 3.8))
    n = np.array([r["parameters"] for r in rows], dtype=float)
    for kind in ("sn", "unconstrained"):
        a.scatter(n, [r[f"{kind}_bound"] for r in rows], color=COLORS[kind], label=f"{LAW_NAMES[kind]}: certified L")
        a.scatter(n, [r[f"{kind}_largest_tangent"] for r in rows], color=COLORS[kind], marker="x",
                  label=f"{LAW_NAMES[kind]}: largest tangent found")
        b.scatter(n, [r[f"{kind}_steps"] for r in rows], color=COLORS[kind], label=LAW_NAMES[kind])
    for r in rows:
        a.annotate(f"{r['depth']}x{r['width']}", (r["parameters"], r["unconstrained_bound"]), fontsize=6)
    for ax in (a, b):
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("network parameters")
        ax.legend(fontsize=7)
    a.set_ylabel("stiffness [MPa]")
    b.set_ylabel(f"steps for {SCENARIOS[summary['sweep']['scenario']].title}")
    fig.tight_layout()
    return fig


def plot_all(summary, showcase, settings: Settings, out: Path) -> list[Path]:
    """Write every figure into ``out``; return the paths."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    makers = {"fits.png": lambda p: plot_fits(showcase, p), "energy.png": lambda p: plot_energy(showcase, p),
              "waves.png": lambda p: plot_waves(showcase, settings, p),
              "punch.png": lambda p: plot_punch(showcase, settings, p), "rates.png": lambda p: plot_rates(summary, p),
              "sweep.png": lambda p: plot_sweep(summary, p)}
    written = []
    for name, make in makers.items():
        fig = make(out / name)
        if fig is not None:
            written.append(_save(fig, out / name))
            plt.close(fig)
    return written
