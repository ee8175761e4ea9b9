"""How much time step the certified bounds cost, and how long they take to compute.

Prints, measured in one run:

1. time-step efficiency ``dt / dt_true`` of the element, nodal (Gershgorin) and global (Lanczos) bounds
   and of the certified step (the larger of element and nodal), per element type (bar2, tri3, quad4,
   tet4, hex8) on uniform and jittered meshes, for LinearElastic with nu = 0.3 and nu = 0
   (the bounds in the law's own stiffness metric, ``C_bar = C``, :mod:`fem.metric`); ``sqrt(M_p / L)`` is what
   the Euclidean metric ``L = ||C||_2`` would lose by ``||C||_2`` exceeding the P-wave
   modulus ``M_p`` (stability.md §4);
2. the same for spectrally normalized networks fitted with ``snsurrogate.fit`` to the bundled data: a
   plane-strain law (data/synthetic_plane_strain.csv) on quad4/tri3, and 1-D laws (Al 6061-T6 tension,
   Treloar rubber) on bar2. ``dt_true`` is taken at the reference state (tangent at zero strain) and at the
   stiffest data state (a uniform strain field at the data point with the largest ``||C_t||``);
3. with ``--big``: seconds to compute each bound for ~10^6 elements (quad4 1000x1000, hex8 100^3), each
   size in a fresh process (peak memory reported), with ``--threads`` torch threads.

Issue targets beside the figures: element bound >= 0.6 and best certified >= 0.8 of ``dt_true`` on uniform
meshes; element and nodal bounds in <= 10 s for 10^6 elements on 2 CPU cores.

    python benchmarks/stability_bounds.py [--threads 2] [--epochs 300] [--skip-fits]
    python benchmarks/stability_bounds.py --big [--big-only] [--big-slow]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import torch

from fem import LinearElastic, Mesh, generate
from fem.kinematics import geometry
from fem.stability import critical_time_step

DATA = Path(__file__).resolve().parents[1] / "data"
SCRIPT = "python benchmarks/stability_bounds.py"
E, RHO = 200e3, 7.85e-9  # MPa, t/mm^3
TARGET_ELEMENT, TARGET_BEST = 0.6, 0.8


# -- meshes --------------------------------------------------------------------------------------------
def bar(n: int, jitter: float, seed: int = 0) -> Mesh:
    mesh = generate.line(float(n), n)
    if jitter == 0:
        return mesh
    pts = mesh.points.copy()
    pts[1:-1, 0] += np.random.default_rng(seed).uniform(-jitter, jitter, n - 1)
    return Mesh(pts, mesh.cells, "bar2")


def make_mesh(element: str, jitter: bool) -> Mesh:
    """The moderate meshes of blocks 1 and 2: bar2 200, tri3/quad4 20x20, tet4/hex8 8^3."""
    if element == "bar2":
        return bar(200, 0.3 if jitter else 0.0)
    if element in ("tri3", "quad4"):
        return generate.rectangle(20.0, 20.0, 20, 20, element=element, jitter=0.2 if jitter else 0.0, seed=0)
    return generate.box(8.0, 8.0, 8.0, 8, 8, 8, element=element, jitter=0.15 if jitter else 0.0, seed=0)


def uniform_strain_field(mesh: Mesh, eps: np.ndarray) -> np.ndarray:
    """Displacement ``u = H x`` whose engineering Voigt strain is ``eps`` everywhere (H symmetric)."""
    d = mesh.dim
    if d == 1:
        H = np.array([[eps[0]]])
    elif d == 2:
        H = np.array([[eps[0], eps[2] / 2], [eps[2] / 2, eps[1]]])
    else:
        H = np.array([[eps[0], eps[5] / 2, eps[4] / 2], [eps[5] / 2, eps[1], eps[3] / 2],
                      [eps[4] / 2, eps[3] / 2, eps[2]]])
    return mesh.points @ H.T


# -- printing ------------------------------------------------------------------------------------------
HEADER = (f"{'mesh':<8} {'mesh kind':<9} {'cells':>7} {'el/true':>8} {'nod/true':>8} {'glob/true':>9} "
          f"{'cert/true':>9} {'cert by':>7}")


def ratios(report, dt_ref: float | None = None) -> tuple[float, float, float, float]:
    ref = report.dt_true if dt_ref is None else dt_ref
    return (report.dt_element / ref, report.dt_nodal / ref, report.dt_global / ref, report.dt_certified / ref)


def row(element: str, kind: str, cells: int, report, dt_ref: float | None = None) -> str:
    el, nod, glob, cert = ratios(report, dt_ref)
    return (f"{element:<8} {kind:<9} {cells:>7} {el:>8.3f} {nod:>8.3f} {glob:>9.3f} {cert:>9.3f} "
            f"{report.certified_method:>7}")


def mark(report, uniform: bool) -> str:
    if not uniform:
        return ""
    el, _, _, cert = ratios(report)
    ok_el = "ok" if el >= TARGET_ELEMENT else "MISS"
    ok_best = "ok" if cert >= TARGET_BEST else "MISS"
    return f"  element>={TARGET_ELEMENT}: {ok_el:<4} best>={TARGET_BEST}: {ok_best}"


# -- block 1: linear elasticity --------------------------------------------------------------------------
def linear_block() -> None:
    print("== 1. time-step efficiency dt/dt_true, LinearElastic (metric: its own stiffness), free meshes, "
          "reference state")
    print(f"   reproduce: {SCRIPT} --skip-fits")
    print(f"   targets on uniform meshes: element >= {TARGET_ELEMENT}, best certified >= {TARGET_BEST}")
    for nu in (0.3, 0.0):
        print(f"-- nu = {nu}  (2-D: plane strain; sqrt(M_p/L) = what ||C||_2 > P-wave modulus would cost in the "
              "Euclidean metric)")
        print(HEADER + f" {'sqrt(Mp/L)':>10}")
        for element in ("bar2", "tri3", "quad4", "tet4", "hex8"):
            for jitter in (False, True):
                mesh = make_mesh(element, jitter)
                mode = {1: "1d", 2: "plane_strain", 3: "3d"}[mesh.dim]
                mat = LinearElastic(E, nu, RHO, mode=mode)
                report = critical_time_step(mesh, mat)
                tight = math.sqrt(mat.p_wave_modulus / mat.lipschitz_bound)
                kind = "jittered" if jitter else "uniform"
                print(row(element, kind, mesh.n_cells, report) + f" {tight:>10.3f}" + mark(report, not jitter))


# -- block 2: fitted networks ----------------------------------------------------------------------------
PLANE = dict(strain=["exx", "eyy", "gxy"], stress=["sxx_MPa", "syy_MPa", "sxy_MPa"])
ONE_D = {
    "al6061t6_uniaxial_tension_CA-RD-01.csv": (dict(strain=["engineering_strain"],
                                                    stress=["engineering_stress_MPa"]), 2.7e-9),
    "treloar1944_uniaxial_tension.csv": (dict(stretch="stretch", stress=["nominal_stress_MPa"]), 1.1e-9),
}


def fitted(name: str, columns: dict, epochs: int):
    import snsurrogate

    data = snsurrogate.read_curves(DATA / name, **columns)
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = snsurrogate.fit(data, epochs=epochs, device="cpu", seed=0)
    seconds = time.perf_counter() - t0
    strain = torch.as_tensor(np.asarray(data.strain), dtype=torch.float64)
    return model, strain, seconds


def stiffest(material, strain: torch.Tensor) -> tuple[np.ndarray, float, float]:
    """The data strain with the largest tangent norm, that norm, and the norm at zero strain."""
    C = material.tangent(strain)
    norms = torch.linalg.matrix_norm(C, 2)
    i = int(torch.argmax(norms))
    C0 = material.tangent(torch.zeros(1, strain.shape[1], dtype=torch.float64))
    return strain[i].numpy(), float(norms[i]), float(torch.linalg.matrix_norm(C0, 2)[0])


def network_block(epochs: int) -> None:
    from snsurrogate.material import as_material

    print()
    print(f"== 2. time-step efficiency, SN networks fitted with snsurrogate.fit (epochs={epochs}, seed 0, defaults)")
    print(f"   reproduce: {SCRIPT} --epochs {epochs}")
    print("   ref = dt_true at zero strain; stiff = dt_true at the stiffest data state (uniform strain field)")
    cases = [("synthetic_plane_strain.csv", PLANE, 1e-9, ("quad4", "tri3"))]
    cases += [(name, cols, rho, ("bar2",)) for name, (cols, rho) in ONE_D.items()]
    for name, cols, rho, elements in cases:
        model, strain, seconds = fitted(name, cols, epochs)
        mat = as_material(model, rho)
        eps_star, c_max, c_0 = stiffest(mat, strain)
        L = mat.lipschitz_bound
        print(f"-- {name}: fit {seconds:.1f} s, L_cert = {L:.6g}, ||C_t(0)|| = {c_0:.6g} (L/that = {L / c_0:.3g}), "
              f"largest ||C_t|| over the data = {c_max:.6g} (L/that = {L / c_max:.3g}) at strain "
              f"{np.array2string(eps_star, precision=4)}")
        print(HEADER + f" {'cert/true@stiff':>15} {'el/true@stiff':>13}")
        for element in elements:
            for jitter in (False, True):
                mesh = make_mesh(element, jitter)
                report = critical_time_step(mesh, mat)
                at_stiff = critical_time_step(mesh, mat, methods=("element", "true"),
                                              state=uniform_strain_field(mesh, eps_star))
                kind = "jittered" if jitter else "uniform"
                extra = (f" {report.dt_certified / at_stiff.dt_true:>15.3f} "
                         f"{report.dt_element / at_stiff.dt_true:>13.3f}")
                print(row(element, kind, mesh.n_cells, report) + extra + mark(report, not jitter))


# -- block 3: timings at 10^6 elements ------------------------------------------------------------------
def one(element: str, n: int, methods: list[str], threads: int) -> dict:
    """Time mesh, geometry and each bound on one mesh (run in a fresh process by ``big_block``)."""
    import resource

    torch.set_num_threads(threads)
    out: dict = {"element": element, "n": n}
    t0 = time.perf_counter()
    if element in ("quad4", "tri3"):
        mesh = generate.rectangle(float(n), float(n), n, n, element=element)
    else:
        mesh = generate.box(float(n), float(n), float(n), n, n, n, element=element)
    out["cells"], out["dofs"] = mesh.n_cells, mesh.n_nodes * mesh.dim
    out["mesh_s"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    geom = geometry(mesh)
    out["geometry_s"] = time.perf_counter() - t0
    mat = LinearElastic(E, 0.3, RHO, mode="plane_strain" if mesh.dim == 2 else "3d")
    for method in methods:
        t0 = time.perf_counter()
        report = critical_time_step(mesh, mat, methods=(method,) if method in ("element", "nodal")
                                    else ("element", method), geom=geom)
        wall = time.perf_counter() - t0
        if method not in ("element", "nodal"):
            wall -= report.bounds["element"].seconds  # the element bound is required alongside
        b = report.bounds[method]
        out[method] = {"dt": b.dt, "seconds": b.seconds, "wall": wall, "where": b.where}
    out["peak_rss_gib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    return out


def run_one(element: str, n: int, methods: list[str], threads: int, timeout: float) -> dict | str:
    env = dict(os.environ, OMP_NUM_THREADS=str(threads), OPENBLAS_NUM_THREADS=str(threads),
               MKL_NUM_THREADS=str(threads))
    cmd = [sys.executable, __file__, "--one", element, str(n), ",".join(methods), "--threads", str(threads)]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env)
    except subprocess.TimeoutExpired:
        return f"timed out after {timeout:.0f} s"
    if proc.returncode != 0:
        tail = (proc.stderr.strip().splitlines() or ["(no message)"])[-1]
        return f"failed (exit {proc.returncode}: {tail[:160]})"
    return json.loads(proc.stdout.strip().splitlines()[-1])


def big_block(threads: int, slow: bool, timeout: float) -> None:
    print()
    print(f"== 3. seconds per bound at ~10^6 elements, LinearElastic nu=0.3, {threads} torch threads, "
          "each mesh in a fresh process")
    print(f"   reproduce: {SCRIPT} --big --big-only --threads {threads}" + (" --big-slow" if slow else ""))
    print("   Bound.seconds = the method's own timer; wall = the whole call (nodal: includes assembling G,")
    print("   which Bound.seconds leaves out; global/true: element bound subtracted). Target: element and nodal")
    print("   <= 10 s each.")
    print(f"{'mesh':<16} {'cells':>8} {'dofs':>8} {'mesh s':>7} {'geom s':>7} {'method':<8} {'Bound.s':>8} "
          f"{'wall s':>8} {'dt':>11} {'<=10s':>5} {'peak GiB':>8}")
    plans = [("quad4", [1000], ["element", "nodal", "global", "true"]),
             ("hex8", [100, 80, 63], ["element", "nodal"] + (["global", "true"] if slow else []))]
    for element, sizes, methods in plans:
        for n in sizes:
            res = run_one(element, n, methods, threads, timeout)
            label = f"{element} {n}^{2 if element == 'quad4' else 3}"
            if isinstance(res, str):
                print(f"{label:<16} {res}; trying a smaller size")
                continue
            for k, method in enumerate(methods):
                b = res[method]
                ok = "" if method not in ("element", "nodal") else ("ok" if b["wall"] <= 10 else "MISS")
                head = (f"{label:<16} {res['cells']:>8} {res['dofs']:>8} {res['mesh_s']:>7.1f} "
                        f"{res['geometry_s']:>7.1f}") if k == 0 else " " * 50
                tail = f" {res['peak_rss_gib']:>8.1f}" if k == 0 else ""
                print(f"{head} {method:<8} {b['seconds']:>8.2f} {b['wall']:>8.2f} {b['dt']:>11.4e} {ok:>5}{tail}")
            if element == "hex8" and not slow:
                print(" " * 50 + " global, true: not run at this size (add --big-slow)")
            break


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--epochs", type=int, default=300, help="Adam epochs of each fit (block 2)")
    p.add_argument("--skip-fits", action="store_true", help="leave out block 2 (the fitted networks)")
    p.add_argument("--big", action="store_true", help="also block 3: timings at 10^6 elements (minutes)")
    p.add_argument("--big-only", action="store_true", help="block 3 alone (implies --big)")
    p.add_argument("--big-slow", action="store_true", help="block 3: global and true bounds for hex8 too")
    p.add_argument("--timeout", type=float, default=900.0, help="seconds allowed per mesh in block 3")
    p.add_argument("--one", nargs=3, metavar=("ELEMENT", "N", "METHODS"), help=argparse.SUPPRESS)
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    if args.one:
        element, n, methods = args.one
        print(json.dumps(one(element, int(n), methods.split(","), args.threads)))
        return
    t0 = time.perf_counter()
    print(f"torch {torch.__version__}, {args.threads} threads, {os.cpu_count()} CPUs visible")
    if not args.big_only:
        linear_block()
        if not args.skip_fits:
            network_block(args.epochs)
    if args.big or args.big_only:
        big_block(args.threads, args.big_slow, args.timeout)
    print(f"\ntotal {time.perf_counter() - t0:.1f} s")


if __name__ == "__main__":
    main()
