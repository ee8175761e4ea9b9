"""Run an explicit finite-element simulation described by a TOML case file.

The case names the mesh (generated or read from a file), the material (linear, cubic, or a fitted
model with its certified bound), boundary and initial conditions, the end time and the time step
(dt = "auto": a safety factor times the certified element-by-element step). The output folder gets
results.pvd and frames/ (open results.pvd in ParaView), history.csv (energies and probe
displacements) and summary.json.

Before the run it prints the planned steps and an estimate of the time; a run of more than 1e8
steps or longer than an estimated 24 h is refused (usually an end time or dt in the wrong unit)
unless --allow-long-run.

The outputs are one set: they are written into DIR.incomplete-<pid>/ (marked by a file INCOMPLETE),
summary.json last, and that folder then replaces DIR. DIR/summary.json exists if and only if DIR
holds a complete run; a killed run leaves the earlier DIR as it was, and the next run clears what it
left. A DIR that holds other files than a run's is refused, never emptied.

Exit status: 0 for a stable run, 1 when the run became unstable (its outputs up to that step are
written), 2 for a problem with the case (the message names the file and the key) or the output folder.

Example:
  snsurrogate simulate examples/cases/bar_impact.toml --out out/bar_impact
"""

from __future__ import annotations

import argparse
import sys

HELP = "run an explicit simulation from a TOML case file"


def add_args(p: argparse.ArgumentParser) -> None:
    from ..case import schema_reference

    p.epilog = "case file reference:\n" + schema_reference(width=96)
    p.add_argument("case", metavar="CASE.toml", help="case file (TOML)")
    p.add_argument("--out", required=True, metavar="DIR", help="output folder (created)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument("--allow-long-run", action="store_true",
                   help="run even above 1e8 steps or an estimated 24 h")


def run(args: argparse.Namespace) -> int:
    from fem.errors import FemError

    from ..simulation import describe, simulate

    said: set[str] = set()

    def report(line: str) -> None:
        said.add(line)
        print(line, flush=True)

    try:
        sim = simulate(args.case, args.out, progress=False if args.quiet else None,
                       allow_long_run=True if args.allow_long_run else None, report=report)
    except FemError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:  # an output folder that cannot be written
        print(f"error: {args.out}: cannot write the outputs: {exc.strerror or exc}", file=sys.stderr)
        return 2
    s = sim.summary
    for w in s["warnings"]:
        if f"warning: {w}" not in said:  # the law's warnings were printed before the run
            print(f"warning: {w}")
    print(describe(s))
    print(f"wrote {sim.out_dir / 'results.pvd'} ({s['frames']} frames in {sim.out_dir / 'frames'}), "
          f"{sim.out_dir / 'history.csv'}, {sim.summary_path}")
    return 0 if sim.stable else 1
