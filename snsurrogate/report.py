"""What ``snsurrogate fit`` writes beside the model: the summary ``MODEL.json`` and the plot ``MODEL.png``.

Output names: ``--out PATH`` gives the stem ``PATH`` without a ``.pt`` suffix; the model file is
``STEM.pt``, the summary ``STEM.json``, the plot ``STEM.png``. Every file is written atomically.
"""

from __future__ import annotations

import io
import json
import os
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402

from fem.atomic import write_bytes, write_text  # noqa: E402

from .model import SurrogateModel  # noqa: E402


def output_paths(out: str | os.PathLike[str]) -> tuple[Path, Path, Path]:
    """``(model, summary, plot)`` paths for ``--out``: ``STEM.pt``, ``STEM.json``, ``STEM.png``."""
    out = Path(out)
    stem = out.with_suffix("") if out.suffix == ".pt" else out
    return stem.with_name(stem.name + ".pt"), stem.with_name(stem.name + ".json"), stem.with_name(stem.name + ".png")


def summary_document(model: SurrogateModel) -> dict:
    """The summary written to ``MODEL.json``: the fit summary plus a ``units`` table for its keys."""
    s = model.summary
    unit = model.stress_unit
    doc = {
        "units": {
            "lipschitz_bound": f"{unit} per unit strain",
            "lipschitz_empirical": f"{unit} per unit strain",
            "lipschitz_target": f"{unit} per unit strain",
            "steepest_data_slope": f"{unit} per unit strain",
            "rmse": unit,
            "rmse_validation": unit,
            "lipschitz_empirical_at": "strain [-] (engineering Voigt)",
            "seconds": "s (wall time)",
            "r2": "-",
            "tightness": "- (lipschitz_bound / lipschitz_empirical)",
            "at_bound": "- (true when the largest tangent found is within 2 % of the bound)",
        },
        **s,
        "columns": model.metadata.get("columns", {}),
        "data_notes": model.metadata.get("data", {}).get("notes", []),
    }
    return doc


def write_summary(model: SurrogateModel, path: str | os.PathLike[str]) -> None:
    """Write :func:`summary_document` as JSON, atomically."""
    write_text(path, json.dumps(summary_document(model), indent=2, sort_keys=False) + "\n")


def plot_fit(model: SurrogateModel, strain: np.ndarray, stress: np.ndarray, path: str | os.PathLike[str]) -> None:
    """Plot data against the fit, and the tangent against the certified bound; write a PNG atomically.

    One strain component: stress-strain curve (data points, fitted law over the data range and 10 %
    beyond) and the tangent ``d sigma / d eps`` along it. Several: measured against predicted stress
    for each component, and ``||C_t||_2`` at every data point.
    """
    strain = np.asarray(strain, np.float64)
    stress = np.asarray(stress, np.float64)
    net = model.network
    dtype = model.dtype
    unit = model.stress_unit
    bound = model.lipschitz_bound
    s = model.summary
    label = "spectrally normalized" if model.constrained else "unconstrained"
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4.2), constrained_layout=True)
    if model.d_in == 1:
        lo, hi = strain.min(), strain.max()
        pad = 0.1 * (hi - lo)
        # uniform samples plus every data strain and its midpoints: steep, narrow parts stay resolved
        xs = np.sort(strain[:, 0])
        grid = np.unique(np.concatenate((np.linspace(lo - pad, hi + pad, 600), xs, 0.5 * (xs[1:] + xs[:-1]))))
        g = torch.as_tensor(grid[:, None], dtype=dtype)
        with torch.no_grad():
            pred = net(g).double().numpy()
        tan = model.tangent(g).double().numpy()[:, :, 0]
        for j in range(model.d_out):
            name = model.stress_columns[j] if j < len(model.stress_columns) else f"stress {j}"
            ax1.plot(strain[:, 0], stress[:, j], "o", ms=3, alpha=0.6, label=f"data: {name}")
            ax1.plot(grid, pred[:, j], "-", lw=1.8, label=f"fit ({label})")
            ax2.plot(grid, tan[:, j], "-", lw=1.5, label=f"tangent d{name}/dε")
        ax1.axvspan(lo, hi, color="0.93", zorder=-1, label="data range")
        ax2.axvspan(lo, hi, color="0.93", zorder=-1)
        ax1.set_xlabel("engineering strain [-]")
        ax2.set_xlabel("engineering strain [-]")
        if tan.min() < -0.25 * bound:  # strongly softening: show the lower side of the bound too
            ax2.axhline(-bound, color="C3", ls="--", lw=1)
    else:
        x = torch.as_tensor(strain, dtype=dtype)
        with torch.no_grad():
            pred = net(x).double().numpy()
        for j in range(model.d_out):
            name = model.stress_columns[j] if j < len(model.stress_columns) else f"stress {j}"
            ax1.plot(stress[:, j], pred[:, j], ".", ms=3, alpha=0.6, label=name)
        lim = [stress.min(), stress.max()]
        ax1.plot(lim, lim, "k-", lw=0.8)
        ax1.set_xlabel(f"measured stress [{unit}]")
        ax1.set_ylabel(f"fitted stress [{unit}]")
        norms = torch.linalg.matrix_norm(model.tangent(x).double(), ord=2).numpy()
        ax2.plot(np.linalg.norm(strain, axis=1), norms, ".", ms=3, label="‖C_t‖₂ at the data points")
        ax2.set_xlabel("‖strain‖ (engineering Voigt) [-]")
    if model.d_in == 1:
        ax1.set_ylabel(f"stress [{unit}]")
    ax2.axhline(bound, color="C3", ls="--", lw=1.2, label=f"certified bound L = {bound:.4g}")
    emp = s.get("lipschitz_empirical")
    if emp:
        ax2.axhline(emp, color="C2", ls=":", lw=1.2, label=f"largest tangent found = {emp:.4g}")
    ax2.set_ylabel(f"tangent stiffness [{unit} per unit strain]")
    r2, rmse = s.get("r2"), s.get("rmse")
    if r2 is not None and rmse is not None:
        ax1.set_title(f"{s.get('data_file', '')}: RMSE {rmse:.4g} {unit}, R² {r2:.4f}", fontsize=10)
    tightness = s.get("tightness") or float("nan")
    ax2.set_title(f"tangent against the certified bound (tightness {tightness:.3g})", fontsize=10)
    ax1.legend(fontsize=8)
    ax2.legend(fontsize=8)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110)
    plt.close(fig)
    write_bytes(path, buf.getvalue())
