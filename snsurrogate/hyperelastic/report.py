"""What ``snsurrogate fit --test ...`` writes and prints: ``MODEL.json`` (with ``"modes"``), one plot panel per
mode, and the summary lines; the three files are one set (:func:`snsurrogate.report.write_set`)."""

from __future__ import annotations

import io
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch

from .curves import TestCurve
from .fitting import FitResult, predict


def summary_document(result: FitResult) -> dict:
    """``MODEL.json``: a ``units`` table, then the fit summary (``modes``, ``predicted``, bound, moduli, ...),
    the tests and the certificate audit."""
    law = result.law
    u = law.stress_unit
    return {
        "units": {
            "rmse": u, "max_error": u, "r2": "-",
            "lipschitz_bound": (f"{u} (bound of w''(lambda), per unit stretch)" if law.constrained else
                                f"{u} (unconstrained: |w''(lambda)| <= lipschitz_bound / lambda)"),
            "tangent_lower_bound": f"{u} (lower bound of w''; null: none)", "largest_w2_data": u,
            "largest_w2_at": "stretch [-]", "smallest_w2": f"{u} (autograd, data range and 10x beyond)",
            "tightness": ("- (lipschitz_bound / largest_w2_data)" if law.constrained else
                          "- (lipschitz_bound / largest lambda |w''| over the data)"),
            "stretch_range": "stretch [-]",
            "shear_modulus": u, "bulk_modulus": u, "kappa": f"{u} (U(J) = kappa/2 (J - 1)^2)",
            "seconds": "s (wall time)",
        },
        **law.summary,
        "tests": law.metadata.get("tests", []),
        "predict_tests": law.metadata.get("predict_tests", []),
        "certificate": law.metadata.get("certificate", {}),
    }


def _curve_panel(ax, law, curve: TestCurve, fitted: bool, metrics) -> None:
    u = law.stress_unit
    y = curve.stress.reshape(curve.n_points, -1)
    style = "-" if fitted else "--"
    what = "fit" if fitted else "prediction (not fitted)"
    if curve.x.ndim == 1:
        lo, hi = float(curve.x.min()), float(curve.x.max())
        pad = 0.05 * (hi - lo)
        grid = np.linspace(max(lo - pad, 1e-3) if curve.mode != "simple_shear" else lo - pad, hi + pad, 300)
        model = predict(law, TestCurve(curve.mode, grid, np.zeros_like(grid), measure=curve.measure,
                                       stress_unit=u)) if curve.mode != "volumetric" else law.pressure(
            torch.from_numpy(grid)).numpy()
        ax.plot(grid, model, style, color="C0", lw=1.6, label=what, zorder=1)
        ax.plot(curve.x, y[:, 0], "o", ms=4, mfc="white", color="C1", label=f"data ({Path(curve.source).name})",
                zorder=2)
        ax.set_xlabel({"simple_shear": "amount of shear γ [-]", "volumetric": "volume ratio J [-]"}.get(
            curve.mode, "stretch λ [-]"))
    else:  # biaxial: several series (λ₁ held, λ₂ varied, ...) in one file: measured against the law
        p = predict(law, curve)
        for j, name in enumerate(("P₁₁", "P₂₂")):
            ax.plot(y[:, j], p[:, j], "o", ms=4, mfc="white", color=f"C{j}", label=f"{name}, {what}")
        lim = [float(min(y.min(), p.min())), float(max(y.max(), p.max()))]
        ax.plot(lim, lim, "k-", lw=0.8, label="measured = law")
        ax.set_xlabel(f"measured {curve.measure} stress [{u}]")
    measure = "pressure" if curve.mode == "volumetric" else f"{curve.measure} stress"
    ax.set_ylabel(f"{measure} [{u}]" if curve.x.ndim == 1 else f"{measure} of the law [{u}]")
    m = metrics[curve.mode]
    ax.set_title(f"{curve.mode.replace('_', ' ')} ({'fitted' if fitted else 'predicted'}): "
                 f"R² {m.r2:.4f}, RMSE {m.rmse:.3g} {u}", fontsize=9)
    ax.legend(fontsize=7)
    ax.grid(alpha=0.3)


def plot_png(result: FitResult, curves: Sequence[TestCurve], predict_curves: Sequence[TestCurve] = ()) -> bytes:
    """One panel per test curve (data against the law, fitted or predicted) and a panel of ``w''(λ)`` against
    the certified bound; PNG bytes (150 dpi)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import matplotlib.ticker

    law = result.law
    items = [(c, True) for c in curves] + [(c, False) for c in predict_curves]
    n = len(items) + 1
    cols = min(3, n)
    rows = -(-n // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(4.6 * cols, 3.7 * rows), constrained_layout=True, squeeze=False)
    flat = list(axes.ravel())
    for ax, (c, fitted) in zip(flat, items):
        _curve_panel(ax, law, c, fitted, result.modes if fitted else result.predicted)
    ax = flat[len(items)]
    lo, hi = law.summary["stretch_range"]
    lam = np.geomspace(lo / 3, hi * 3, 600)
    w2 = law.d2w(torch.from_numpy(lam)).numpy()
    if law.constrained:
        ax.loglog(lam, w2, color="C0", lw=1.6, label="w''(λ) of the fitted law")
        ax.axhline(law.lipschitz_bound, color="C3", ls="--", lw=1.2,
                   label=f"certified bound L = {law.lipschitz_bound:.4g}")
    else:
        ax.loglog(lam, np.abs(w2), color="C0", lw=1.6, label="|w''(λ)| of the fitted law")
        soft = w2 < 0
        if soft.any():
            ax.loglog(lam[soft], -w2[soft], ".", color="C1", ms=2, label="where w'' < 0 (softening)")
        ax.loglog(lam, law.lipschitz_bound / lam, color="C3", ls="--", lw=1.2,
                  label=f"certified |w''| <= L/λ, L = {law.lipschitz_bound:.4g}")
    ax.axvspan(lo, hi, color="0.92", zorder=-1, label="stretches the tests reach")
    ax.set_xlabel("principal stretch λ [-]")
    ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())  # minor labels of a short log range overlap
    ax.set_ylabel(f"w''(λ) [{law.stress_unit}]")
    ax.set_title(f"curvature against the bound (tightness {law.summary['tightness']:.3f})", fontsize=9)
    ax.legend(fontsize=7)
    for extra in flat[n:]:
        extra.axis("off")
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=150)
    plt.close(fig)
    return buf.getvalue()


def network_text(law) -> str:
    """What ``w'`` is, in words."""
    a = law.arch
    if law.constrained:
        return f"a {a.hidden[0]}-ridge convex network ({a.activation})"
    return f"an unconstrained {'x'.join(map(str, a.hidden))} {a.activation} MLP of ln λ"


def bound_text(law) -> str:
    """The certified curvature bound of ``law`` and what it means, in words."""
    u = law.stress_unit
    if law.constrained:
        return (f"{law.lipschitz_bound:.6g} {u}: {law.tangent_lower_bound:.6g} <= w''(λ) <= L at every stretch "
                "(energy convex in each stretch: never softening)")
    smallest = law.summary.get("smallest_w2", float("nan"))
    return (f"{law.lipschitz_bound:.6g} {u}: |w''(λ)| <= L / λ at every stretch (product of the layer norms); no "
            f"lower bound: unconstrained, smallest w'' found {smallest:.4g} {u}"
            + (" (SOFTENS)" if smallest < 0 else ""))


def describe(result: FitResult) -> str:
    """The lines ``fit`` prints: per-mode fit, the certificate and the moduli."""
    law, s = result.law, result.law.summary
    u = law.stress_unit
    tests = law.metadata.get("tests", [])
    how = (f"{s['ridges']} ridges" if law.constrained else
           f"UNCONSTRAINED {'x'.join(map(str, s['hidden']))} {s['activation']} MLP, {s['epochs']} Adam epochs, seed "
           f"{s['seed']}")
    lines = [f"fitted a hyperelastic law to {len(tests)} test curve(s), {sum(t['n_points'] for t in tests)} points, "
             f"in {result.seconds:.2f} s ({how}; {s['residuals']} residuals; {result.iterations} "
             "lateral-stretch passes)",
             f"  {'mode':<14}{'':9}{'points':>7}  {'R²':>8}  {'RMSE':>10}  {'max error':>10}  [{u}]"]
    for tag, table in (("fitted", result.modes), ("predicted", result.predicted)):
        for mode, m in table.items():
            lines.append(f"  {mode:<14}{tag:<9}{m.n:>7}  {m.r2:>8.5f}  {m.rmse:>10.4g}  {m.max_error:>10.4g}")
    lo, hi = s["stretch_range"]
    lines += [
        f"  certified bound L         {bound_text(law)}",
        f"  largest w'' over the data {s['largest_w2_data']:.6g} {u} at λ = {s['largest_w2_at']:.4g} (autograd, "
        f"stretches {lo:.4g} .. {hi:.4g}); tightness = {s['tightness']:.4f}",
        f"  3-D certificate           λ_max(∂P/∂F) <= a(F) checked at {law.metadata['certificate']['states']} random "
        f"deformations (worst ratio {law.metadata['certificate']['worst_state_ratio']:.6f})",
        f"  small-strain moduli       μ = {law.shear_modulus:.6g} {u}, K = {law.bulk_modulus:.6g} {u} "
        f"(κ = {law.kappa:.6g} {u}; {s['bulk_modulus_source']})",
    ]
    lines += [f"  note: {n}" for n in s.get("notes", [])]
    lines += [f"warning: {w}" for w in result.warnings]
    return "\n".join(lines)


def info_rows(law, path: str) -> list[tuple[str, str]]:
    """``(label, text)`` rows of ``snsurrogate info`` for a hyperelastic law."""
    s, u, cert = law.summary, law.stress_unit, law.metadata.get("certificate", {})
    rows = [("file", path),
            ("model", f"hyperelastic law W = Σ w(λ_i) + κ/2 (J - 1)², w' {network_text(law)}, {law.dtype}"
             .replace("torch.", "")),
            ("certified bound", f"{bound_text(law)} (re-checked on loading against autograd)"),
            ("largest w'' over data", f"{cert.get('largest_w2_data', float('nan')):.6g} {u} (tightness "
                                      f"{cert.get('tightness', float('nan')):.4f})"),
            ("moduli", f"μ = {law.shear_modulus:.6g} {u}, K = {law.bulk_modulus:.6g} {u}, κ = {law.kappa:.6g} {u} "
                       f"({s.get('bulk_modulus_source', '?')})")]
    for tag, key in (("fitted", "modes"), ("predicted", "predicted")):
        for mode, m in s.get(key, {}).items():
            rows.append((f"{mode} ({tag})", f"R² {m['r2']:.5f}, RMSE {m['rmse']:.4g} {u}, {m['n']} values"))
    for t in law.metadata.get("tests", []):
        rows.append(("test data", f"{t['mode']}: {t['file']} ({t['measure']} stress; SHA-256 {t['sha256']})"))
    rows.append(("written by", f"snsurrogate {law.metadata.get('package_version')}"))
    return rows


def write_outputs(result: FitResult, curves: Sequence[TestCurve], predict_curves: Sequence[TestCurve],
                  out: str | os.PathLike[str]) -> tuple[Path, Path, Path]:
    """Write ``MODEL.pt``, ``MODEL.png`` and ``MODEL.json`` as one set."""
    from ..modelfile import to_bytes
    from ..report import remove_stale_temporaries, write_set
    from ..version import __version__

    result.law.metadata["package_version"] = __version__
    remove_stale_temporaries(out)
    return write_set(out, to_bytes(result.law), plot_png(result, curves, predict_curves), summary_document(result))


__all__ = ["bound_text", "describe", "info_rows", "network_text", "plot_png", "summary_document", "write_outputs"]
