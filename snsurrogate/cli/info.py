"""Print what a model file holds: kind, architecture, columns and units, certified bound, fit summary.

Loading re-checks the file's checksum and certificate, so a corrupt or edited file is reported.
For a model written by 'snsurrogate fit', also checks that MODEL.json and MODEL.png beside it are
from the same fit (their SHA-256 is recorded in MODEL.json): "output set" says complete, incomplete
(a fit writing them was stopped), mixed (files of different runs) or unverified (an older version).

Exit status: 0, or 1 when the files beside the model are an incomplete or mixed set (the model file
itself is valid), 2 for a missing, corrupt or refused model file.
"""

from __future__ import annotations

import argparse
import json
import sys

HELP = "print what a model file holds (and re-check its certificate)"


def add_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("model", metavar="MODEL", help="model file written by 'snsurrogate fit'")
    p.add_argument("--json", action="store_true", help="print the full metadata as JSON")


def run(args: argparse.Namespace) -> int:
    from ..modelfile import load
    from ..report import output_set_status

    model = load(args.model)
    md = model.metadata
    outputs = output_set_status(args.model)
    status = 0 if outputs.ok else 1
    if not outputs.ok:
        print(f"warning: {args.model}: {outputs.status} output set: {outputs.message}", file=sys.stderr)
    if args.json:
        print(json.dumps({**md, "output_set": outputs.to_dict()}, indent=2))
        return status
    if model.kind == "hyperelastic":
        from ..hyperelastic.report import info_rows

        return _print(info_rows(model, args.model) + [("output set", f"{outputs.status}: {outputs.message}")], status)
    a = model.arch
    s = model.summary
    u = model.stress_unit
    cols = md.get("columns", {})
    data = md.get("data", {})
    how = "spectrally normalized" if model.constrained else "unconstrained"
    net = (f"potential {a.d_in} -> {a.hidden[0]} ridges ({a.activation}) -> energy" if model.kind == "potential"
           else f"MLP {a.d_in} -> {'x'.join(map(str, a.hidden))} -> {a.d_out}, {a.activation}")
    rows = [
        ("file", args.model),
        ("model", f"{how} {net}, {model.dtype}".replace("torch.", "")),
        ("strain columns", f"{', '.join(cols.get('strain', []))} (input: {cols.get('strain_input', 'strain')}, "
                           "engineering strain [-])"),
        ("stress columns", f"{', '.join(cols.get('stress', []))} [{u}]"),
        ("scalings", f"strain scale {a.strain_scale:.6g} [-], stress scale {a.stress_scale:.6g} [{u}], "
                     f"first-layer gain {a.gains[0]:.6g}"),
        ("zero strain -> zero stress", "yes" if a.zero_origin else "no"),
        ("certified bound", f"{model.lipschitz_bound:.6g} {u} per unit strain (re-checked on loading)"),
        ("tangent lower bound", "none (an MLP may soften)" if model.tangent_lower_bound is None else
         f"{model.tangent_lower_bound:.6g} {u} per unit strain (certified; never softening)"),
    ]
    rows += [(line[:28].strip(), line[28:].strip()) for line in law_lines(model)]
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
        ("strain range", _ranges(data.get("strain_min"), data.get("strain_max"), cols.get("strain", []))),
        ("written by", f"snsurrogate {md.get('package_version')}"),
        ("output set", f"{outputs.status}: {outputs.message}"),
    ]
    return _print(rows, status)


def _print(rows: list[tuple[str, str]], status: int) -> int:
    width = max(len(k) for k, _ in rows)
    for k, v in rows:
        print(f"{k:<{width}}  {v}")
    return status


def law_lines(model) -> list[str]:
    from .fit import law_lines as lines

    return lines(model)


def _ranges(lo, hi, names) -> str:
    """``0 .. 0.170369 [-]`` for one strain column; ``xx 0 .. 0.01, yy ... [-]`` for several."""
    lo = lo if isinstance(lo, list) else [lo]
    hi = hi if isinstance(hi, list) else [hi]

    def g(x) -> str:
        return f"{x:.6g}" if isinstance(x, (int, float)) else str(x)

    if len(lo) == 1 and len(hi) == 1:
        return f"{g(lo[0])} .. {g(hi[0])} [-] (engineering strain)"
    names = list(names) if len(names) == len(lo) else [f"component {i + 1}" for i in range(len(lo))]
    return ", ".join(f"{n} {g(a)} .. {g(b)}" for n, a, b in zip(names, lo, hi)) + " [-] (engineering strain)"
