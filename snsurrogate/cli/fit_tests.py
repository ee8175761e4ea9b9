"""``snsurrogate fit --test MODE=FILE ...``: one hyperelastic law fitted to several test curves jointly.

The options of this form are added to ``fit`` by :func:`add_args`; :func:`run` reads the curves (the
columns named by ``--stretch``/``--shear``/``--volume`` and ``--stress``, or per test in a ``--tests`` TOML
fit file), fits (:func:`snsurrogate.hyperelastic.fit_tests`), prints a per-mode table and the certificate,
and writes MODEL.pt, MODEL.json (with ``"modes"``) and MODEL.png (one panel per mode) as one set.
"""

from __future__ import annotations

import argparse

from ..errors import DataError

#: Options of the single-curve fit that mean nothing for a test-mode fit, with their defaults.
SINGLE_CURVE_ONLY = {"lipschitz": "auto", "law": "auto", "keep_fracture": False, "optimizer": "adam+lbfgs"}
#: Options that only an ``--unconstrained`` test-mode fit (an MLP trained by Adam) uses, with their defaults.
UNCONSTRAINED_ONLY = {"hidden": None, "epochs": None, "seed": 0, "activation": None, "lr": 1e-2}


def _pair(text: str) -> tuple[str, str]:
    mode, sep, value = text.partition("=")
    if not sep or not mode or not value:
        raise argparse.ArgumentTypeError(f"expected MODE=VALUE (e.g. uniaxial=ut.csv), got {text!r}")
    return mode.strip(), value.strip()


def add_args(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group(
        "test modes (one 3-D isotropic hyperelastic law fitted to several tests jointly)",
        "MODE is uniaxial, equibiaxial, pure_shear, biaxial, simple_shear or volumetric. Stretches are "
        "dimensionless (or --strain COL: engineering strain, stretch = 1 + strain); stresses nominal (force "
        "per undeformed area) unless --cauchy, in the data's unit.")
    g.add_argument("--test", type=_pair, action="append", default=[], metavar="MODE=FILE",
                   help="a test curve to fit (repeat for several); the columns come from --stretch (two for "
                        "biaxial: lambda_1, lambda_2), --shear (simple_shear: amount of shear) or --volume "
                        "(volumetric: volume ratio J), and --stress (two for biaxial)")
    g.add_argument("--tests", metavar="FIT.toml", help="a TOML fit file instead: per-test files, columns, "
                                                        "weights and measures (see the README)")
    g.add_argument("--predict", type=_pair, action="append", default=[], metavar="MODE=FILE",
                   help="a test curve to predict, not fit: its R² and RMSE are reported (repeatable)")
    g.add_argument("--shear", metavar="COL", help="amount-of-shear column γ of a simple_shear test")
    g.add_argument("--volume", metavar="COL", help="volume-ratio column J of a volumetric test (pressure in "
                                                    "--stress, Cauchy, > 0 in compression)")
    g.add_argument("--weight", type=_pair, action="append", default=[], metavar="MODE=W",
                   help="multiply a mode's residuals by W (default 1 each; modes are already balanced: each "
                        "mode's residuals are divided by its mean square stress)")
    g.add_argument("--relative", action="store_true", help="relative residuals (each row divided by its stress)")
    g.add_argument("--cauchy", action="store_true", help="the stress columns are Cauchy (true) stress")
    g.add_argument("--bulk-modulus", type=float, metavar="K",
                   help="small-strain bulk modulus K [stress unit of the data]; default: fitted to a volumetric "
                        "test if given, else K = 1000 mu (nearly incompressible, nu = 0.4995)")
    g.add_argument("--smoothing", type=float, default=None, metavar="BETA",
                   help="ridge penalty of the convex fit (dimensionless; default 1e-10)")
    g.add_argument("--knots", type=int, default=None, help="knots of the stretch-energy dictionary (default 40)")


def wants_tests(args: argparse.Namespace) -> bool:
    return bool(args.test or args.tests)


def _check_args(args: argparse.Namespace) -> None:
    if args.csv is not None:
        raise DataError(f"give either a CSV file (one curve, a small-strain law) or --test/--tests (test modes, a "
                        f"hyperelastic law), not both: got {args.csv!r} and --test")
    if args.test and args.tests:
        raise DataError("give the tests either as --test MODE=FILE or in a --tests fit file, not both")
    for name, default in SINGLE_CURVE_ONLY.items():
        if getattr(args, name, default) != default:
            flag = "--" + name.replace("_", "-")
            raise DataError(f"{flag} is an option of a single-curve fit; a test-mode fit is a convex least-squares "
                            "problem whose certified bound follows from the data (it is printed)")
    if not args.unconstrained:
        for name, default in UNCONSTRAINED_ONLY.items():
            if getattr(args, name, default) != default:
                raise DataError(f"--{name} applies to an --unconstrained test-mode fit only (the certified fit is a "
                                "convex least-squares problem: no network widths, epochs or seed)")
    elif args.activation == "groupsort":
        raise DataError("an --unconstrained test-mode fit needs a smooth activation: --activation tanh (default) or "
                        "softplus")


def _specs(args: argparse.Namespace):
    from ..hyperelastic.fitfile import TestSpec, read_fit_file

    if args.tests:
        tests, predictions = read_fit_file(args.tests)
        return tests, predictions + [_spec(args, m, f, TestSpec) for m, f in args.predict]
    return [_spec(args, m, f, TestSpec) for m, f in args.test], [_spec(args, m, f, TestSpec) for m, f in args.predict]


def _spec(args, mode: str, path: str, cls):
    weights = dict(args.weight)
    try:
        weight = float(weights.get(mode, 1.0))
    except ValueError:
        raise DataError(f"--weight {mode}={weights[mode]}: expected a number > 0") from None
    plain = mode not in ("simple_shear", "volumetric")
    stretch = tuple(args.stretch or ()) if plain else ()
    strain = tuple(args.strain or ()) if plain else ()
    return cls(mode, path, stretch, tuple(args.stress or ()), args.shear if mode == "simple_shear" else None,
               args.volume if mode == "volumetric" else None, args.stress_unit,
               "cauchy" if args.cauchy else "nominal", weight, args.delimiter, args.skip_rows, strain,
               args.strain_unit, args.branch)


def run(args: argparse.Namespace) -> int:
    from ..hyperelastic import HyperelasticOptions, fit_tests
    from ..hyperelastic.modes import FIT_MODES
    from ..hyperelastic.report import describe, write_outputs

    _check_args(args)
    tests, predictions = _specs(args)
    for mode, _ in args.weight:
        if mode not in {t.mode for t in tests}:
            raise DataError(f"--weight {mode}=...: no fitted test has mode {mode!r} (modes: {', '.join(FIT_MODES)})")
    curves = [t.read() for t in tests]
    predict_curves = [t.read() for t in predictions]
    for c in curves + predict_curves:
        for note in c.notes:
            print(f"note: {c.source}: {note}")
    kw = {k: v for k, v in (("smoothing", args.smoothing), ("knots", args.knots)) if v is not None}
    if args.unconstrained:
        kw.update({k: v for k, v in (("hidden", tuple(args.hidden) if args.hidden else None), ("epochs", args.epochs),
                                     ("activation", args.activation)) if v is not None})
        kw.update(unconstrained=True, seed=args.seed, lr=args.lr)
    try:
        options = HyperelasticOptions(bulk_modulus=args.bulk_modulus, relative=args.relative, **kw)
    except ValueError as exc:
        raise DataError(str(exc)) from None
    result = fit_tests(curves, options, predict_curves)
    paths = write_outputs(result, curves, predict_curves, args.out)
    print(describe(result))
    print(f"wrote {', '.join(map(str, paths))}")
    return 0


__all__ = ["add_args", "run", "wants_tests"]
