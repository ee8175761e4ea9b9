"""A rubber plate with a hole pulled to stretch 3, with the law fitted to Treloar's three test modes.

    python examples/rubber_plate_hole.py [OUT_DIR] [--end SECONDS]

Fits the hyperelastic law to ``data/treloar1944_*.csv`` (uniaxial, equibiaxial, pure shear), writes it as
``OUT_DIR/rubber.pt`` beside a copy of ``examples/finite_strain/plate_hole_treloar.toml`` and runs that case
through ``snsurrogate.simulate`` (total Lagrangian quad4 elements, the step recomputed at every state). Prints
the run, the time-step range and the largest principal stretch. ``--end`` shortens the run (the far edge then
moves less). Units: mm, s, t, MPa.
"""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path

import numpy as np

import snsurrogate
from snsurrogate.simulation import describe

ROOT = Path(__file__).resolve().parents[1]
CASE = ROOT / "examples" / "finite_strain" / "plate_hole_treloar.toml"
FILES = {"uniaxial": "treloar1944_uniaxial_tension.csv", "equibiaxial": "treloar1944_equibiaxial_tension.csv",
         "pure_shear": "treloar1944_pure_shear.csv"}


def run(out: str | Path = "out/rubber_plate_hole", end: float | None = None) -> dict:
    """Fit, write, simulate; return the summary with ``largest_stretch`` and ``edge_displacement_mm``."""
    import tomllib

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    curves = [snsurrogate.read_test(ROOT / "data" / f, m, stretch=["stretch"], stress=["nominal_stress_MPa"])
              for m, f in FILES.items()]
    snsurrogate.fit_tests(curves).law.save(out / "rubber.pt")
    case = tomllib.loads(CASE.read_text())
    if end is not None:
        case["time"]["end"] = end
    shutil.copy(CASE, out / CASE.name)
    res = snsurrogate.simulate(snsurrogate.load_case(case, base_dir=out), out / "run", progress=False,
                               name=CASE.name)
    s = dict(res.summary)
    import meshio

    frame = meshio.read(sorted((out / "run" / "frames").glob("*.vtu"))[-1])
    s["largest_stretch"] = float(np.max(frame.cell_data["principal_stretch"][0]))
    s["edge_displacement_mm"] = float(np.max(frame.point_data["displacement"][:, 0]))
    return s


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("out", nargs="?", default="out/rubber_plate_hole")
    p.add_argument("--end", type=float, default=None, help="end time [s] (default: the case's 2 ms)")
    a = p.parse_args()
    s = run(a.out, a.end)
    print(describe(s))
    print(f"far edge moved {s['edge_displacement_mm']:.4g} mm (stretch {1 + s['edge_displacement_mm'] / 10.0:.3g}); "
          f"largest principal stretch {s['largest_stretch']:.3g}")
