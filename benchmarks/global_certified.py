"""The certified global step (``fem.inertia``): how close it is to the true critical step, and what it costs.

1. **Efficiency** ``dt_cert / dt_true`` for linear-elastic laws (the metric is the law's own stiffness, so the
   certified global bound is the exact critical step up to the shift ``1e-6`` and the rounding margin), against the
   element and nodal bounds, on uniform, jittered and scattered (Delaunay, with slivers) meshes of every element
   type, ν = 0, 0.3, 0.45, 0.49 (E = 70 GPa, ρ = 2.7e-9 t/mm³; units mm, s, MPa). ``dt_true`` by Lanczos on the
   assembled ``K`` (tol 1e-12; dense below 600 dofs).
2. **Cost** at 10⁴ .. 10⁶ quad4 and 10⁴ .. 10⁵ hex8 (unit cube elements, the geometric matrix): assembly,
   Lanczos, the factorization(s), peak memory of the process (``ru_maxrss``, each size in a fresh process), or the
   fallback when the predicted factor exceeds the budget.

    python benchmarks/global_certified.py [--cost] [--sizes 10000 100000 1000000] [--budget-gib 4]
"""

from __future__ import annotations

import argparse
import json
import math
import resource
import subprocess
import sys
import time

from fem import generate
from fem.kinematics import geometry
from fem.materials import LinearElastic
from fem.stability import critical_time_step

E, RHO = 70e3, 2.7e-9
NUS = (0.0, 0.3, 0.45, 0.49)


def meshes():
    """``(family, element, mesh)`` for the efficiency table (a few seeds of the random families)."""
    for element in ("tri3", "quad4"):
        yield "uniform", element, generate.rectangle(4.0, 2.0, 16, 8, element=element)
        for seed in range(3):
            yield "jittered 0.2", element, generate.rectangle(4.0, 2.0, 16, 8, element=element, jitter=0.2, seed=seed)
    for seed in range(3):
        yield "scattered", "tri3", generate.scattered(4.0, 2.0, 150, seed=seed)
    for element in ("tet4", "hex8"):
        yield "uniform", element, generate.box(2.0, 1.0, 1.0, 6, 3, 3, element=element)
        for seed in range(3):
            yield "jittered 0.12", element, generate.box(2.0, 1.0, 1.0, 6, 3, 3, element=element, jitter=0.12,
                                                         seed=seed)


def efficiency() -> None:
    rows: dict[tuple, list] = {}
    for family, element, mesh in meshes():
        mode = "plane_strain" if mesh.dim == 2 else "3d"
        for nu in NUS:
            r = critical_time_step(mesh, LinearElastic(E, nu, RHO, mode),
                                   methods=("element", "nodal", "global_certified", "true"))
            t = r.dt_true
            rows.setdefault((family, element, nu), []).append(
                (r.dt_element / t, r.dt_nodal / t, r.dt_global_certified / t))
    print("dt / dt_true for linear-elastic laws (min over seeds)")
    print(f"{'mesh':<14} {'element':<7} {'nu':>5} {'element':>8} {'nodal':>8} {'global certified':>17}")
    for (family, element, nu), vals in rows.items():
        e, n, g = (min(v[i] for v in vals) for i in range(3))
        print(f"{family:<14} {element:<7} {nu:>5g} {e:>8.3f} {n:>8.3f} {g:>17.6f}")
    worst = min(v[2] for vals in rows.values() for v in vals)
    print(f"smallest dt_global_certified / dt_true over all {sum(len(v) for v in rows.values())} cases: {worst:.6f}")


def cost_one(element: str, n: int, budget: float) -> dict:
    """One size, in this process (run by :func:`cost` in a fresh one): timings [s] and peak memory [GiB]."""
    from fem.inertia import certify_largest, predicted_factor_bytes
    from fem.stability import _mass_dofs, assembled_geometric, global_bound

    if element == "quad4":
        k = round(math.sqrt(n))
        mesh = generate.rectangle(1.0 * k, 1.0 * k, k, k)
    else:
        k = round(n ** (1 / 3))
        mesh = generate.box(1.0 * k, 1.0 * k, 1.0 * k, k, k, k)
    geom = geometry(mesh)
    t0 = time.perf_counter()
    G = assembled_geometric(geom)
    mass = _mass_dofs(geom, 1.0)
    t1 = time.perf_counter()
    out = {"element": element, "cells": mesh.n_cells, "dofs": G.shape[0], "assemble_s": t1 - t0,
           "predicted_gib": predicted_factor_bytes(G.shape[0], geom.dim) / 2**30}
    _, lam = global_bound(G, mass, 1.0)
    t2 = time.perf_counter()
    cert = certify_largest(G, mass, lam, dim=geom.dim, max_bytes=budget)
    t3 = time.perf_counter()
    out.update({"lanczos_s": t2 - t1, "certify_s": t3 - t2, "tries": cert.tries,
                "certified_over_estimate": None if cert.bound is None else cert.bound / lam,
                "relative_margin": None if cert.bound is None else cert.margin / cert.bound,
                "fallback": cert.reason or None,
                "peak_gib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / 2**30})
    return out


def cost(sizes, budget: float) -> None:
    print(f"\ncost (budget {budget / 2**30:g} GiB for the factor; each size in a fresh process)")
    print(f"{'element':<7} {'cells':>9} {'dofs':>9} {'assemble':>9} {'Lanczos':>8} {'certify':>8} {'tries':>5} "
          f"{'pred GiB':>8} {'peak GiB':>8} {'margin':>8}  result")
    for element, ns in (("quad4", sizes), ("hex8", [n for n in sizes if n <= 100000])):
        for n in ns:
            res = subprocess.run([sys.executable, __file__, "--one", element, str(n), str(budget)],
                                 capture_output=True, text=True)
            if res.returncode:
                print(f"{element:<7} {n:>9,} failed: {res.stderr.strip().splitlines()[-1:]}")
                continue
            o = json.loads(res.stdout.strip().splitlines()[-1])
            margin = "n/a" if o["relative_margin"] is None else f"{o['relative_margin']:.1e}"
            result = o["fallback"] or f"certified, {o['certified_over_estimate'] - 1:.1e} above Lanczos"
            print(f"{element:<7} {o['cells']:>9,} {o['dofs']:>9,} {o['assemble_s']:>9.2f} {o['lanczos_s']:>8.2f} "
                  f"{o['certify_s']:>8.2f} {o['tries']:>5} {o['predicted_gib']:>8.2f} {o['peak_gib']:>8.2f} "
                  f"{margin:>8}  {result}")


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--one":
        print(json.dumps(cost_one(sys.argv[2], int(sys.argv[3]), float(sys.argv[4]))))
        return
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--cost", action="store_true", help="also measure the cost at large sizes (minutes)")
    p.add_argument("--sizes", type=int, nargs="+", default=[10000, 100000, 1000000])
    p.add_argument("--budget-gib", type=float, default=4.0)
    a = p.parse_args()
    efficiency()
    if a.cost:
        cost(a.sizes, a.budget_gib * 2**30)


if __name__ == "__main__":
    main()
