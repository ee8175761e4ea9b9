"""Print what a model file holds: kind, architecture, columns and units, certified bound, fit summary.

Loading re-checks the file's checksum and certificate, so a corrupt or edited file is reported.
"""

from __future__ import annotations

import argparse
import json

HELP = "print what a model file holds (and re-check its certificate)"


def add_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("model", metavar="MODEL", help="model file written by 'snsurrogate fit'")
    p.add_argument("--json", action="store_true", help="print the full metadata as JSON")


def run(args: argparse.Namespace) -> int:
    from ..modelfile import load

    model = load(args.model)
    md = model.metadata
    if args.json:
        print(json.dumps(md, indent=2))
        return 0
    a = model.arch
    s = model.summary
    u = model.stress_unit
    cols = md.get("columns", {})
    data = md.get("data", {})
    kind = "spectrally normalized" if model.constrained else "unconstrained"
    rows = [
        ("file", args.model),
        ("model", f"{kind} MLP {a.d_in} -> {'x'.join(map(str, a.hidden))} -> {a.d_out}, {a.activation}, "
                  f"{model.dtype}".replace("torch.", "")),
        ("strain columns", f"{', '.join(cols.get('strain', []))} (input: {cols.get('strain_input', 'strain')}, "
                           "engineering strain [-])"),
        ("stress columns", f"{', '.join(cols.get('stress', []))} [{u}]"),
        ("scalings", f"strain scale {a.strain_scale:.6g} [-], stress scale {a.stress_scale:.6g} [{u}], "
                     f"first-layer gain {a.gains[0]:.6g}"),
        ("zero strain -> zero stress", "yes" if a.zero_origin else "no"),
        ("certified bound", f"{model.lipschitz_bound:.6g} {u} per unit strain (re-checked on loading)"),
    ]
    if md.get("lipschitz_target") is not None:
        rule = s.get("lipschitz_rule", "")
        rows.append(("Lipschitz target", f"{md['lipschitz_target']:.6g} {u} per unit strain ({rule})"))
    if s:
        rows += [
            ("largest tangent found", f"{s.get('lipschitz_empirical', float('nan')):.6g} {u} per unit strain "
                                      f"(tightness {s.get('tightness', float('nan')):.3f})"),
            ("fit", f"RMSE {s.get('rmse', float('nan')):.4g} {u}, R² {s.get('r2', float('nan')):.5f}, "
                    f"{s.get('n_points')} points, {s.get('epochs_run')} epochs, {s.get('seconds', 0):.1f} s"),
        ]
    rows += [
        ("training data", f"{data.get('source')} (SHA-256 {data.get('sha256')})"),
        ("strain range", f"{data.get('strain_min')} .. {data.get('strain_max')}"),
        ("written by", f"snsurrogate {md.get('package_version')}"),
    ]
    width = max(len(k) for k, _ in rows)
    for k, v in rows:
        print(f"{k:<{width}}  {v}")
    return 0
