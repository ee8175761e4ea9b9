"""Explicit-step throughput of fem, measured against what a step competes with.

Prints, measured in one run:
1-2. the linear elastic step (``ExplicitSolver.step`` in a loop: no set-up, output or ledger) for quad4, tri3,
   hex8 and tet4 meshes of about 10^3 to 10^6 elements, with the compiled kernel (:mod:`fem.fused`) and the torch
   path, its time per element (target: within +-10 % over the sizes) and each over one scipy CSR ``K @ u`` with
   the same assembled stiffness (target <= 3; moonshot <= 2);
3. with a spectrally normalized network as the material (plane strain, 3 -> 32x32x32 -> 3 MLP, and the default
   potential law), step time over the lean inference forward at the same number of integration points (target
   <= 1.2), and the network's own forward over the lean one (target >= 5, ``snsurrogate.inference``);
4. with ``--memory``: peak resident memory of a 10^6-element quad4 run, in a fresh process (target <= 4 GiB);
5. the certified element and nodal bounds (compiled, :mod:`fem.bound_kernels`) on the largest quad4 and hex8
   meshes, in a fresh process each: their time over one compiled step (target <= 10 steps each) and the peak
   resident memory of the bounds (mesh and geometry included; target <= 4 GiB).

    python benchmarks/fem_step.py [--max-elements 1000000] [--threads 2] [--memory] [--memory-only] [--bounds-only]
"""

from __future__ import annotations

import argparse
import math
import resource
import subprocess
import sys
import time

import numpy as np
import torch

from fem import ExplicitSolver, InitialVelocity, LinearElastic, generate
from fem.element_matrices import assemble, stiffness_matrices
from fem.kinematics import geometry

E, NU, RHO = 200e3, 0.3, 7.85e-9


def make_mesh(element: str, n_target: int):
    if element == "quad4":
        n = max(1, round(math.sqrt(n_target)))
        return generate.rectangle(1.0 * n, 1.0 * n, n, n, element="quad4")
    if element == "tri3":
        n = max(1, round(math.sqrt(n_target / 2)))
        return generate.rectangle(1.0 * n, 1.0 * n, n, n, element="tri3")
    if element == "tet4":
        n = max(1, round((n_target / 6) ** (1 / 3)))
        return generate.box(1.0 * n, 1.0 * n, 1.0 * n, n, n, n, element="tet4")
    n = max(1, round(n_target ** (1 / 3)))
    return generate.box(1.0 * n, 1.0 * n, 1.0 * n, n, n, n, element="hex8")


def solver_for(mesh, material=None, kernel: str = "auto"):
    mode = "plane_strain" if mesh.dim == 2 else "3d"
    mat = material or LinearElastic(E, NU, RHO, mode=mode)
    rng = np.random.default_rng(0)
    v0 = rng.normal(size=(mesh.n_nodes, mesh.dim)) * 1e-3
    return ExplicitSolver(mesh, mat, [], InitialVelocity(field=v0), kernel=kernel)


def step_seconds(solver, steps: int) -> float:
    """Seconds per ``ExplicitSolver.step``: the time loop only (no set-up, no output, no energy ledger)."""
    dt = 1e-9  # far below the critical step of these meshes: the timing does not depend on it
    s = solver.initial_state(dt)
    for _ in range(2):  # warm-up
        s = solver.step(s)
    t0 = time.perf_counter()
    for _ in range(steps):
        s = solver.step(s)
    return (time.perf_counter() - t0) / steps


def best_of(fn, repeats: int = 5) -> float:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def peak_gib() -> float:
    """This process' peak resident memory [GiB]: ``VmHWM`` of ``/proc/self/status`` (``ru_maxrss`` would carry
    the parent's peak across ``exec`` on Linux), else ``ru_maxrss``."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 2**20  # kB -> GiB
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20


def memory_child(n_elements: int) -> None:
    mesh = make_mesh("quad4", n_elements)
    solver = solver_for(mesh)
    step_seconds(solver, 5)
    print(f"{mesh.n_cells} {peak_gib():.3f}")


def bounds_child(element: str, n_elements: int) -> None:
    from fem.stability import critical_time_step

    small = make_mesh(element, 300)  # loads the compiled kernels from numba's disk cache: not counted
    critical_time_step(small, solver_for(small).material, methods=("element", "nodal"))
    mesh = make_mesh(element, n_elements)
    mat = solver_for(make_mesh(element, 1)).material
    g = geometry(mesh)
    t0 = time.perf_counter()
    el = critical_time_step(mesh, mat, methods=("element",), geom=g)
    t1 = time.perf_counter()
    nod = critical_time_step(mesh, mat, methods=("nodal",), geom=g)
    t2 = time.perf_counter()
    peak = peak_gib()
    del g
    step = step_seconds(solver_for(mesh, mat, kernel="compiled"), 5)
    print(f"{mesh.n_cells} {t1 - t0:.4f} {t2 - t1:.4f} {step:.5f} {peak:.3f} {el.dt_element:.6e} {nod.dt_nodal:.6e}")


def report_bounds(args) -> None:
    print("\n5. certified element and nodal bounds (compiled), fresh process each: time over one compiled step "
          "(target <= 10)\n   and peak memory of mesh, geometry and bounds (target <= 4 GiB)")
    print(f"{'element':>8} {'elements':>9} {'element s':>9} {'nodal s':>8} {'step s':>8} {'element/step':>12} "
          f"{'nodal/step':>10} {'peak GiB':>8}")
    for element in ("quad4", "hex8"):
        out = subprocess.run([sys.executable, __file__, "--bounds-child", element, str(args.max_elements),
                              "--threads", str(args.threads)], capture_output=True, text=True, check=True)
        n, te, tn, ts, peak = out.stdout.split()[:5]
        print(f"{element:>8} {n:>9} {float(te):>9.3f} {float(tn):>8.3f} {float(ts):>8.4f} "
              f"{float(te) / float(ts):>12.2f} {float(tn) / float(ts):>10.2f} {float(peak):>8.2f}")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--max-elements", type=int, default=1_000_000)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--memory", action="store_true")
    p.add_argument("--memory-only", action="store_true", help="only the peak-memory measurement")
    p.add_argument("--bounds-only", action="store_true", help="only the stability-bound timing (section 5)")
    p.add_argument("--memory-child", type=int, help=argparse.SUPPRESS)
    p.add_argument("--bounds-child", nargs=2, help=argparse.SUPPRESS)
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    if args.memory_child:
        memory_child(args.memory_child)
        return
    if args.bounds_child:
        bounds_child(args.bounds_child[0], int(args.bounds_child[1]))
        return
    print(f"torch {torch.__version__}, {args.threads} threads, float64, CPU")
    if args.memory_only:
        report_memory(args)
        return
    if args.bounds_only:
        report_bounds(args)
        return
    sizes = [n for n in (1_000, 10_000, 100_000, 1_000_000) if n <= args.max_elements]

    print("\n1-2. linear elastic step (ExplicitSolver.step, the loop only): compiled kernel (fem.fused) and torch")
    print("     path, each over one scipy CSR K @ u of the same assembled stiffness (target <= 3, moonshot <= 2)")
    print(f"{'element':>8} {'elements':>9} {'compiled ms':>11} {'ns/element':>10} {'torch ms':>9} {'K@u ms':>8} "
          f"{'compiled/K@u':>12} {'torch/K@u':>9}")
    for element in ("quad4", "tri3", "hex8", "tet4"):
        for n in sizes:
            mesh = make_mesh(element, n)
            if mesh.n_cells * mesh.cells.shape[1] ** 2 * mesh.dim**2 > 1.5e8:
                print(f"{element:>8} {mesh.n_cells:>9}   (K@u not assembled: the COO triplets would need over 3 GiB)")
                continue
            steps = max(3, min(200, int(2e6 / mesh.n_cells)))
            fast = step_seconds(solver_for(mesh, kernel="compiled"), steps)
            slow = step_seconds(solver_for(mesh, kernel="torch"), max(3, steps // 4))
            g = geometry(mesh)
            mat = solver_for(mesh).material
            K = assemble(g, stiffness_matrices(g, mat.C.expand(*g.wdetJ.shape, *mat.C.shape)))
            u = np.random.default_rng(1).normal(size=K.shape[0])
            kt = best_of(lambda K=K, u=u: K @ u)
            del K
            print(f"{element:>8} {mesh.n_cells:>9} {fast * 1e3:>11.3f} {fast / mesh.n_cells * 1e9:>10.1f} "
                  f"{slow * 1e3:>9.3f} {kt * 1e3:>8.3f} {fast / kt:>12.2f} {slow / kt:>9.2f}")

    print("\n3. neural material (SN, float64): step over the lean forward, network forward over the lean forward")
    import snsurrogate
    from snsurrogate.material import as_material

    rng = np.random.default_rng(2)
    eps = rng.uniform(-0.01, 0.01, (400, 3))
    c = LinearElastic(E, NU, RHO, mode="plane_strain").C.numpy()
    print(f"{'law':<10} {'elements':>9} {'points':>9} {'step ms':>9} {'lean ms':>9} {'network ms':>11} "
          f"{'step/lean':>9} {'net/lean':>9}")
    for law in ("mlp", "potential"):
        model = snsurrogate.fit((eps, eps @ c.T), stress_unit="MPa", epochs=50, polish_epochs=5, law=law)
        mat = as_material(model, RHO)
        for n in [s for s in sizes if s >= 10_000]:
            mesh = make_mesh("quad4", n)
            solver = solver_for(mesh, mat)
            steps = max(3, min(50, int(2e5 / mesh.n_cells)))
            s = step_seconds(solver, steps)
            x = torch.as_tensor(rng.uniform(-1e-3, 1e-3, (mesh.n_cells * 4, 3)))
            lean = best_of(lambda x=x, mat=mat: mat.stress(x))
            with torch.no_grad():
                net = best_of(lambda x=x, mat=mat: mat.network(x))
            print(f"{law:<10} {mesh.n_cells:>9} {mesh.n_cells * 4:>9} {s * 1e3:>9.3f} {lean * 1e3:>9.3f} "
                  f"{net * 1e3:>11.3f} {s / lean:>9.2f} {net / lean:>9.2f}")
            del solver

    if args.memory:
        report_memory(args)
    report_bounds(args)


def report_memory(args) -> None:
    n = args.max_elements
    out = subprocess.run([sys.executable, __file__, "--memory-child", str(n), "--threads", str(args.threads)],
                         capture_output=True, text=True, check=True).stdout.split()
    print(f"\n4. peak resident memory of a {out[0]}-element quad4 run (fresh process): {float(out[1]):.2f} GiB")


if __name__ == "__main__":
    main()
