"""Fit a neural stress-strain law to columns of a CSV file.

Writes three files for --out STEM (a trailing .pt is dropped): STEM.pt (the model: weights,
scalings, columns and units, certified bound, data SHA-256), STEM.json (summary: lipschitz_bound,
lipschitz_empirical, rmse, r2, n_points, seconds, ...) and STEM.png (data against the fit, and the
tangent against the bound). They are one set: STEM.json is written last and records the SHA-256 of
the STEM.pt and STEM.png it belongs with; a fit that is stopped while writing leaves either the
previous set or a STEM.json that says "incomplete" ('snsurrogate info STEM.pt' tells which). A file
that cannot be written (full disk) is an error (exit status 2) that leaves the previous set as it was.

Example:
  snsurrogate fit data/al6061t6_uniaxial_tension_CA-RD-01.csv \\
      --strain engineering_strain --stress engineering_stress_MPa --out models/al6061

Test modes (one 3-D isotropic hyperelastic law fitted to several tests jointly; MODEL.json holds
"modes": {"uniaxial": {"r2": ..., "rmse": ...}, ...}):
  snsurrogate fit --test uniaxial=data/treloar1944_uniaxial_tension.csv \\
      --test equibiaxial=data/treloar1944_equibiaxial_tension.csv \\
      --test pure_shear=data/treloar1944_pure_shear.csv \\
      --stretch stretch --stress nominal_stress_MPa --out rubber
"""

from __future__ import annotations

import argparse
import math
import warnings
from typing import TYPE_CHECKING, Any

import numpy as np

from ..lipschitz_target import DEFAULT_MARGIN
from . import fit_tests
from .options import HIDDEN_HELP, Widths

if TYPE_CHECKING:
    from ..training import FitOptions

HELP = "fit a certified neural stress-strain law to a CSV file"


def _lipschitz(text: str) -> float | str:
    if text == "auto":
        return text
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected 'auto' or a positive number, got {text!r}") from None
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"expected 'auto' or a positive number, got {text!r}")
    return value


def add_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("csv", metavar="CSV", nargs="?",
                   help="data file: '#' comment lines, a header row, numeric columns (or --test MODE=FILE ...)")
    cols = p.add_argument_group("columns and units")
    src = cols.add_mutually_exclusive_group()
    src.add_argument("--strain", nargs="+", metavar="COL",
                     help="strain column(s): 1 (uniaxial), 3 (plane: xx yy xy) or 6 (3D: xx yy zz yz xz xy), "
                          "engineering shear; dimensionless unless --strain-unit says %%")
    src.add_argument("--stretch", nargs="+", action="extend", metavar="COL",
                     help="a stretch column instead (strain = stretch - 1); with --test, two for a biaxial test")
    cols.add_argument("--stress", nargs="+", action="extend", metavar="COL", help="stress column(s)")
    cols.add_argument("--stress-unit", metavar="UNIT",
                      help="unit of the stress columns (e.g. MPa); needed unless the column names carry it")
    cols.add_argument("--strain-unit", metavar="UNIT", help="unit of the strain columns: - (default) or %%")
    cols.add_argument("--delimiter", default=",", help="field separator (default ',')")
    cols.add_argument("--decimal", default=".", choices=(".", ","),
                      help="decimal separator (default '.'); ',' needs --delimiter ';'")
    cols.add_argument("--branch", choices=("all", "loading"), default="all",
                      help="'loading': keep only the loading envelope of a test with unloading (default: all)")
    cols.add_argument("--skip-rows", type=int, default=0, metavar="N",
                      help="leave out the first N lines (a test machine's preamble before the header; default 0)")
    cols.add_argument("--keep-fracture", action="store_true",
                      help="keep the rows after a fracture at the end of a tensile test (a sudden final load "
                           "drop; default: they are dropped, with a note naming the lines)")
    law = p.add_argument_group("the law")
    law.add_argument("--lipschitz", type=_lipschitz, default="auto", metavar="auto|VALUE",
                     help="target Lipschitz constant L in stress unit per unit strain (the certified bound of "
                          "the tangent stiffness); 'auto' = margin x steepest smoothed data slope (default)")
    law.add_argument("--margin", type=float, default=DEFAULT_MARGIN,
                     help=f"margin of --lipschitz auto (default {DEFAULT_MARGIN})")
    law.add_argument("--unconstrained", action="store_true",
                     help="no spectral normalization (for comparison); the bound is still certified, but loose")
    law.add_argument("--law", choices=("auto", "potential", "mlp"), default="auto",
                     help="potential: stress = gradient of a learned convex energy (symmetric tangent, certified "
                          "m I <= C_t <= L I, never softening); mlp: a strain -> stress MLP (for 2-D/3-D data its "
                          "tangent is not symmetric and its step bound does not imply stability); auto (default): "
                          "potential for 2-D/3-D data, mlp in 1-D")
    law.add_argument("--ridges", type=int, default=64, help="number of ridges of a potential law (default 64)")
    law.add_argument("--hidden", action=Widths, default=None, help=f"{HIDDEN_HELP} (default 32,32,32)")
    law.add_argument("--activation", choices=("groupsort", "tanh", "softplus"), default=None,
                     help="groupsort (default: gradient-norm preserving, tightest bound), tanh or softplus (an "
                          "--unconstrained test-mode fit: tanh, the default, or softplus)")
    law.add_argument("--no-zero-origin", dest="zero_origin", action="store_false",
                     help="do not force zero stress at zero strain")
    tr = p.add_argument_group("training")
    tr.add_argument("--epochs", type=int, default=None,
                    help="epochs of Adam (of L-BFGS with --optimizer lbfgs) (default 1000; 3000 for an "
                         "--unconstrained test-mode fit)")
    tr.add_argument("--polish-epochs", type=int, default=200,
                    help="epochs of L-BFGS after Adam with --optimizer adam+lbfgs (default 200; "
                         "--optimizer adam for none)")
    tr.add_argument("--lr", type=float, default=1e-2, help="initial Adam learning rate (default 1e-2)")
    tr.add_argument("--optimizer", choices=("adam+lbfgs", "adam", "lbfgs"), default="adam+lbfgs",
                    help="adam+lbfgs (default: Adam, then an L-BFGS polish), adam or lbfgs")
    tr.add_argument("--batch-size", type=int, default=None, help="mini-batch size (default: full batch up to 4096)")
    tr.add_argument("--val-fraction", type=float, default=0.15, help="validation share (default 0.15)")
    tr.add_argument("--patience", type=int, default=None,
                    help="early-stopping patience in epochs (default max(200, epochs/4))")
    tr.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    tr.add_argument("--float64", action="store_true", help="train and store in double precision")
    tr.add_argument("--device", default="auto", help="auto (CUDA if present), cpu or cuda (default auto)")
    tr.add_argument("--quiet", action="store_true", help="no progress bar")
    fit_tests.add_args(p)
    p.add_argument("--out", required=True, metavar="MODEL", help="output stem: writes MODEL.pt, MODEL.json, MODEL.png")


def fit_options(args: argparse.Namespace) -> FitOptions:
    """The :class:`~snsurrogate.training.FitOptions` that the parsed flags ask for."""
    import dataclasses

    from ..errors import TrainingError
    from ..training import DEFAULT_HIDDEN, FitOptions

    polish_epochs = args.polish_epochs
    if polish_epochs < 1:
        if args.optimizer == "adam+lbfgs":
            raise TrainingError(f"--polish-epochs must be at least 1, got {polish_epochs}; to train without the "
                                "L-BFGS polish, use --optimizer adam")
        # unused by --optimizer adam or lbfgs: the default, so that FitOptions accepts it
        polish_epochs = next(f.default for f in dataclasses.fields(FitOptions) if f.name == "polish_epochs")
    return FitOptions(lipschitz=args.lipschitz, margin=args.margin, unconstrained=args.unconstrained,
                      hidden=args.hidden or DEFAULT_HIDDEN, activation=args.activation or "groupsort",
                      zero_origin=args.zero_origin, optimizer=args.optimizer,
                      epochs=1000 if args.epochs is None else args.epochs, polish_epochs=polish_epochs, lr=args.lr,
                      batch_size=args.batch_size, val_fraction=args.val_fraction, patience=args.patience,
                      seed=args.seed, float64=args.float64, device=args.device, progress=not args.quiet,
                      law=args.law, ridges=args.ridges)


def read_options(args: argparse.Namespace) -> dict[str, Any]:
    """Keyword arguments of :func:`~snsurrogate.data.read_curves` that the parsed flags ask for."""
    return dict(strain=args.strain, stretch=args.stretch, stress=args.stress, stress_unit=args.stress_unit,
                strain_unit=args.strain_unit, delimiter=args.delimiter, decimal=args.decimal, branch=args.branch,
                skip_rows=args.skip_rows, keep_fracture=args.keep_fracture)


def _check_single(args: argparse.Namespace) -> None:
    from ..errors import DataError

    if args.csv is None:
        raise DataError("no data: give a CSV file (one curve) or test curves with --test MODE=FILE "
                        "(or --tests FIT.toml)")
    if args.strain is None and args.stretch is None:
        raise DataError("name the strain column(s) with --strain or a stretch column with --stretch")
    if args.stretch is not None and len(args.stretch) != 1:
        raise DataError(f"a single-curve fit takes one --stretch column, got {len(args.stretch)}: "
                        f"{', '.join(args.stretch)} (two stretch columns are a biaxial test: --test biaxial=FILE)")
    if not args.stress:
        raise DataError("name the stress column(s) with --stress")
    given = [f"--{k.replace('_', '-')}" for k in ("predict", "weight", "shear", "volume") if getattr(args, k)]
    given += [f for f, v in (("--relative", args.relative), ("--cauchy", args.cauchy),
                             ("--bulk-modulus", args.bulk_modulus)) if v]
    if given:
        raise DataError(f"{', '.join(given)}: option(s) of a test-mode fit (--test MODE=FILE)")
    args.stretch = args.stretch[0] if args.stretch else None


def run(args: argparse.Namespace) -> int:
    from ..data import read_curves
    from ..report import remove_stale_temporaries, write_outputs
    from ..training import fit

    if fit_tests.wants_tests(args):
        return fit_tests.run(args)
    _check_single(args)
    remove_stale_temporaries(args.out)  # what a killed run to the same --out left
    data = read_curves(args.csv, **read_options(args))
    for note in data.notes:
        print(f"note: {note}")
    options = fit_options(args)  # after the notes, as before FitOptions checked the options itself
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", RuntimeWarning)
        model = fit(data, options)
    for w in caught:
        print(f"warning: {w.message}")
    model_path, json_path, png_path = write_outputs(model, data.strain, data.stress, args.out)
    print(describe_fit(model))
    print(f"wrote {model_path}, {json_path}, {png_path}")
    return 0


def law_lines(model) -> list[str]:
    """The kind, lower bound, symmetry and softening lines of ``fit`` and ``info``."""
    from ..softening import model_softening

    u, s = model.stress_unit, model.summary
    if model.kind == "potential":
        lines = [f"  kind                      potential: stress = d energy / d strain, symmetric tangent, "
                 f"certified {model.tangent_lower_bound:.6g} <= eigenvalues <= {model.lipschitz_bound:.6g} {u} "
                 "at every strain (never softening)"]
        if model.d_in > 1:
            from ..potential import potential_stiffness_bound

            lam = np.linalg.eigvalsh(potential_stiffness_bound(model.network).numpy())
            lines.append(f"  stiffness bound           C_t <= C_bar = (s_sigma/s_eps) V^T V at every strain, "
                         f"eigenvalues {', '.join(f'{x:.4g}' for x in lam)} {u} (the metric of the time-step bounds)")
    elif model.d_in > 1:
        lines = ["  kind                      mlp: the tangent is NOT symmetric, so the certified step bound does "
                 "not imply stability (complex modes grow at any dt); refit with --law potential"]
    else:
        lines = ["  kind                      mlp (1-D: symmetric); no certified lower bound: it may soften"]
    if model.d_in == 1:
        e0 = initial_modulus(model)
        lines.append(f"  initial modulus           {e0:.6g} {u} per unit strain (the tangent at zero strain); a 1-D "
                     "law is nonlinear elastic: it unloads along its loading curve (no plasticity, no damage)")
    soft = s.get("data_softening") or {}
    if soft.get("softens"):
        lines.append(f"  data                      {_soft_text(soft, u)}")
    law = model_softening(model)
    if law is not None and law.softens:
        lines.append(f"  warning: the fitted law   {law.describe(u)} (searched the data range and 3x beyond); "
                     "a negative tangent grows at any time step")
    return lines


def initial_modulus(model) -> float:
    """The fitted 1-D law's tangent ``d stress / d strain`` at zero strain [stress unit per unit strain]."""
    import torch

    return float(model.tangent(torch.zeros(1, 1, dtype=model.dtype))[0, 0, 0])


def _soft_text(d: dict, unit: str) -> str:
    from ..softening import Softening

    return Softening.from_dict(d).describe(unit)


def describe_fit(model) -> str:
    """A few lines on a fitted model: data, fit error, certified bound and tightness."""
    s = model.summary
    u = model.stress_unit
    how = "spectrally normalized" if model.constrained else "unconstrained"
    hidden = "x".join(str(w) for w in s["hidden"])
    net = (f"potential, {hidden} ridges" if model.kind == "potential" else f"mlp, {s['activation']} {hidden}")
    lines = [
        f"fitted {s['n_points']} points of {s['data_file']} in {s['seconds']:.1f} s "
        f"({how} {net}, {s['epochs_run']} epochs on {s['device']}; {s['stop_reason']})",
        f"  fit error                 RMSE {s['rmse']:.4g} {u}, R² {s['r2']:.5f} (all {s['n_points']} points)",
        f"  certified bound L         {s['lipschitz_bound']:.6g} {u} per unit strain (exact spectral norms)",
        *law_lines(model),
    ]
    sample = s.get("training_sample")
    if sample and not str(sample).startswith("all"):
        lines.append(f"  trained on                {sample}")
    if s.get("lipschitz_target") is not None:
        lines.append(f"  Lipschitz target          {s['lipschitz_target']:.6g} {u} per unit strain "
                     f"({s['lipschitz_rule']})")
    lines.append(f"  largest tangent found     {s['lipschitz_empirical']:.6g} {u} per unit strain "
                 f"(tightness L / found = {s['tightness']:.3f})")
    if s.get("at_bound") and model.constrained:
        lines.append("  note: the fitted tangent reaches the bound: where the data are steeper than L the fit is "
                     "limited by it; check the plot, and raise --lipschitz or --margin if it should follow them")
    return "\n".join(lines)
