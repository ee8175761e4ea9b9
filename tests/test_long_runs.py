"""Absurd runs are refused before they start (steps and estimated time, and the option that allows them),
every run states its plan, and the progress bar shows from the start and keeps up with slow steps."""

from __future__ import annotations

import math
import time
from pathlib import Path

import pytest

import fem
from fem.errors import InputError
from fem.explicit import MAX_SECONDS, MAX_STEPS, RunPlan, format_duration, progress_every
from snsurrogate.case import load_case
from snsurrogate.case.build import build
from snsurrogate.cli import main
from snsurrogate.errors import CaseFileError
from snsurrogate.simulation import choose_time_step, plan_run, simulate

PLATE = Path(__file__).resolve().parents[1] / "examples" / "cases" / "plate_impact.toml"


def plate(tmp_path: Path, **time_keys) -> Path:
    text = PLATE.read_text()
    for k, v in time_keys.items():
        lines = [ln for ln in text.splitlines() if not ln.startswith(f"{k} =")]
        i = lines.index("[time]")
        lines.insert(i + 1, f"{k} = {v}")
        text = "\n".join(lines) + "\n"
    path = tmp_path / "plate.toml"
    path.write_text(text)
    return path


@pytest.mark.parametrize("keys, steps", [({"end": "1e3"}, "1,313,512,125"), ({"dt": "1e-18"}, "30,000,000,000,000")])
def test_an_absurd_run_is_refused_before_it_starts_with_steps_time_and_the_option(keys, steps, tmp_path, capsys):
    path = plate(tmp_path, **keys)
    t0 = time.perf_counter()
    rc = main(["simulate", str(path), "--out", str(tmp_path / "out"), "--quiet"])
    assert time.perf_counter() - t0 < 30
    err = capsys.readouterr().err
    assert rc == 2 and "Traceback" not in err
    assert f"[time]: refused: planned {steps} steps of dt = " in err and " s/step" in err and "about " in err
    assert "more than 100,000,000 steps" in err and "longer than" in err and "--allow-long-run" in err
    assert not (tmp_path / "out").exists() and sorted(p.name for p in tmp_path.iterdir()) == ["plate.toml"]


def test_the_opt_in_lets_a_long_run_pass_the_check(tmp_path):
    setup = build(load_case(plate(tmp_path, end="1e3")))
    step = choose_time_step(setup.solver, setup.case.time)
    with pytest.raises(CaseFileError, match=r"\[time\]: refused: planned 1,313,512,125 steps"):
        plan_run(setup, step)
    plan = plan_run(setup, step, allow_long_run=True)
    assert plan.n_steps == 1_313_512_125 and plan.seconds_per_step > 0 and plan.too_long() is not None
    # the same opt-in in the case file: [time] allow_long_run = true
    path = plate(tmp_path, end="1e3")
    path.write_text(path.read_text().replace("[time]\n", "[time]\nallow_long_run = true\n"))
    case = load_case(path)
    assert case.time.allow_long_run is True
    setup = build(case)
    assert plan_run(setup, choose_time_step(setup.solver, case.time)).n_steps == 1_313_512_125


def test_every_run_prints_its_plan_first(tmp_path, capsys):
    rc = main(["simulate", str(PLATE), "--out", str(tmp_path / "out"), "--quiet"])
    out = capsys.readouterr().out
    assert rc == 0 and out.startswith("planned 40 steps of dt = 7.613e-07 s: about ")
    s = (tmp_path / "out" / "summary.json").read_text()
    assert '"planned_steps": 40' in s and '"estimated_seconds"' in s


def test_the_plan_measures_real_steps_and_leaves_the_solver_as_it_was():
    mesh = fem.generate.line(10.0, 20)
    solver = fem.ExplicitSolver(mesh, fem.materials.LinearElastic(200000.0, density=7.85e-9, mode="1d"),
                                [fem.boundary.Fixed(mesh.node_groups["left"])])
    dt = solver.time_step("auto").dt
    plan = solver.plan(1e-5, dt)
    assert plan.n_steps == fem.n_steps(1e-5, dt) and 0 < plan.seconds_per_step < 0.1
    assert plan.seconds == pytest.approx(plan.n_steps * plan.seconds_per_step)
    a = solver.run(1e-5, dt).u
    solver.plan(1e-5, dt)
    assert (solver.run(1e-5, dt).u == a).all()


def test_the_solver_refuses_more_steps_than_allowed():
    mesh = fem.generate.line(10.0, 4)
    solver = fem.ExplicitSolver(mesh, fem.materials.LinearElastic(200000.0, density=7.85e-9, mode="1d"))
    with pytest.raises(InputError, match=r"is 1,000 steps, more than the limit of 999") as info:
        solver.run(1e-3, 1e-6, max_steps=999)
    assert info.value.parameter == "t_end"
    assert solver.run(1e-3, 1e-6, max_steps=None).steps == 1000
    with pytest.raises(InputError, match="more than the limit of 100,000,000"):
        solver.run(1e3, 1e-6)


def test_thresholds_and_durations():
    assert MAX_STEPS == 10**8 and MAX_SECONDS == 86400.0
    assert RunPlan(10**8, 1e-6, 1e-4).too_long() is None  # at the limit: 10^8 steps, 2.8 h
    assert RunPlan(10**8 + 1, 1e-6, 1e-6).too_long() == "more than 100,000,000 steps"
    assert RunPlan(10**6, 1e-6, 0.1).too_long() == "longer than 24 h"
    assert RunPlan(10**6, 1e-6, 0.1).too_long(max_seconds=None) is None
    assert [format_duration(x) for x in (12.0, 320.0, 3 * 3600.0, 10.2 * 86400, 1e12, math.inf)] == [
        "12 s", "5.3 min", "3 h", "10.2 days", "3.2e+04 years", "forever"]
    text = RunPlan(4_399_577_551, 2.27e-10, 2.0e-4).describe("s")
    assert text == "planned 4,399,577,551 steps of dt = 2.27e-10 s: about 10.2 days at 0.0002 s/step"


def test_slow_steps_update_the_progress_bar_at_every_step():
    assert progress_every(1e-5) == 100 and progress_every(0.002) == 100 and progress_every(0.01) == 20
    assert progress_every(0.5) == 1 and progress_every(0.0) == 100 and progress_every(math.nan) == 100

    class Recorder(fem.schedule.Observer):
        def __init__(self):
            self.steps = []

        def progress(self, step, t):
            self.steps.append(step)

    mesh = fem.generate.line(10.0, 4)
    solver = fem.ExplicitSolver(mesh, fem.materials.LinearElastic(200000.0, density=7.85e-9, mode="1d"))
    rec = Recorder()
    solver.run(5e-6, 1e-6, observers=[rec], progress_every=1)
    assert rec.steps == [1, 2, 3, 4, 5]
    with pytest.raises(InputError, match="progress_every"):
        solver.run(5e-6, 1e-6, observers=[rec], progress_every=0)


def test_the_progress_bar_shows_at_the_start(tmp_path, capsys):
    simulate(PLATE, tmp_path / "out", progress=True)
    err = capsys.readouterr().err
    assert "simulate:   0%" in err and "0/40" in err
