"""The demo (``snsurrogate demo --quick``), run once, and the numbers it reports checked against the
mathematics they come from: certified steps, bounds re-computed from the saved models, blow-ups of
the exact law at its nominal step, and the files it promises."""

import json
import math
import os
import stat

import numpy as np
import pytest
import torch

import snsurrogate
from fem.stability import NONLINEAR_SAFETY
from snsurrogate.cli import main
from snsurrogate.demo.runs import energy_growth, strain_norm
from snsurrogate.demo.scenarios import BAR_END, SCENARIOS
from snsurrogate.demo.settings import QUICK

UMASK = os.umask(0o022)
os.umask(UMASK)


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo")
    status = main(["demo", "--out", str(out), "--quick", "--quiet"])
    return status, out, json.loads((out / "summary.json").read_text())


def test_demo_exit_status_and_claim(demo):
    status, _, s = demo
    assert status == 0
    sn = [r for r in s["runs"] if r["kind"] == "sn" and r["step"] == "certified"]
    assert len(sn) == s["seeds"] * len(SCENARIOS) == s["claim"]["sn_certified_runs"] - 2  # + plate, punch
    # the claim: no blow-up at the certified step; a run the true-energy monitor stops is counted apart
    assert all(r["stable"] or r["stopped_by"] == "energy_drift" for r in sn) and s["claim"]["holds"]
    assert s["claim"]["sn_certified_blowups"] == 0
    assert s["claim"]["sn_certified_drift_stops"] == sum(not r["stable"] for r in sn)


def test_the_finite_strain_comparison_is_run_and_reported(demo):
    _, out, s = demo
    block = s["finite_strain"]
    runs = block["runs"]
    assert [(r["kind"], r["seed"], r["case"], r["step"]) for r in runs] == [
        (kind, seed, case, step) for kind, seed in (("sn", None), ("unconstrained", 0)) for case in ("plate", "punch")
        for step in ("certified", "nominal")]
    assert block["stretch"] == QUICK.finite_stretch and block["depth"] == QUICK.finite_depth
    sn, nominal = runs[0], runs[1]
    assert sn["stable"] and sn["smallest_w2"] >= 0 and sn["dt_min"] < sn["dt_max"]  # the step follows the state
    at_rest = json.loads((out / "finite" / sn["out"] / "summary.json").read_text())["dt_certified"]  # F = I
    assert nominal["dt_min"] == nominal["dt_max"] == pytest.approx(0.9 * at_rest, rel=1e-12)
    for r in runs:
        saved = json.loads((out / "finite" / r["out"] / "summary.json").read_text())
        assert saved["stable"] == r["stable"] and saved["steps"] == r["steps"] and saved["kinematics"] == "finite"
    report = (out / "report.md").read_text()
    assert "## Finite strain: SN against unconstrained" in report and "unconstrained, seed 0" in report
    assert "| punch | SN |" in report and "punch" in block["description"]
    punch = [r for r in runs if r["case"] == "punch" and r["kind"] == "sn"][0]
    assert punch["stable"] and punch["dt_min"] < punch["dt_max"]


def test_time_steps_follow_the_certified_formula(demo):
    _, _, s = demo
    models = {(m["seed"], m["material"], m["kind"]): m for m in s["models"]}
    for r in s["runs"]:
        if r["step"] == "certified":
            assert r["dt_over_certified"] == pytest.approx(0.9)
        elif r["step"] == "auto":  # the default: every law of the demo is nonlinear
            assert r["long"] and r["dt_over_certified"] == pytest.approx(NONLINEAR_SAFETY)
        elif r["kind"] != "exact":  # nominal: the same formula with E0 in place of L
            m = models[r["seed"], r["material"], r["kind"]]
            ratio = math.sqrt(m["lipschitz_bound"] / m["nominal_stiffness"])
            assert r["dt_over_certified"] == pytest.approx(0.9 * ratio, rel=1e-9)
        if r["stable"]:
            assert r["steps"] == r["steps_planned"] and r["blowup_time"] is None
        else:
            assert r["steps"] < r["steps_planned"] and 0 < r["blowup_time"] < r["dt"] * r["steps_planned"]
            # a blow-up, or stopped by the true-energy monitor (drift above energy_stop = 10 %)
            assert r["energy_growth"] is None or r["energy_growth"] > 100 or r["energy_drift"] > 0.1, r


def test_stable_runs_create_no_energy(demo):
    _, _, s = demo
    for r in s["runs"]:
        if r["stable"]:
            assert r["energy_growth"] < 1.05, r  # the stored energy never exceeds what was put in


def test_exact_law_blows_up_at_its_nominal_step(demo):
    """Mechanics, not networks: the bar is loaded to |strain| ~ 0.08, where the exact tangent is 8.7x E0."""
    _, _, s = demo
    exact = [r for r in s["runs"] if r["kind"] == "exact"]
    assert {(r["scenario"], r["step"]) for r in exact} == {
        (k, st) for k in ("bar_tension", "bar_compression", "bar_vibration") for st in ("nominal", "certified")
    } | {("bar_vibration", "auto")}
    for r in exact:
        assert r["stable"] == (r["step"] != "nominal")


def test_recorded_bounds_match_the_saved_models(demo):
    _, out, s = demo
    for m in s["models"]:
        model = snsurrogate.load(out / m["file"])
        assert model.constrained == (m["kind"] == "sn")
        assert snsurrogate.lipschitz_bound(model) == pytest.approx(m["lipschitz_bound"], rel=1e-12)
        assert m["largest_tangent"] <= m["lipschitz_bound"] * (1 + 1e-9)
        assert m["nominal_stiffness"] <= m["lipschitz_bound"] * (1 + 1e-9)
        zero = torch.zeros(1, model.d_in, dtype=model.dtype)
        e0 = torch.linalg.matrix_norm(model.tangent(zero)[0].double(), ord=2).item()
        assert e0 == pytest.approx(m["nominal_stiffness"], rel=1e-5)
    for r in s["runs"]:
        if r["stable"] and r["kind"] != "exact":
            m = next(x for x in s["models"] if (x["seed"], x["material"], x["kind"]) ==
                     (r["seed"], r["material"], r["kind"]))
            assert r["largest_tangent_in_run"] <= m["lipschitz_bound"] * (1 + 1e-9)


def test_rates_count_the_runs(demo):
    _, _, s = demo
    for rate in s["rates"]:
        rows = [r for r in s["runs"] if (r["scenario"], r["kind"], r["step"]) ==
                (rate["scenario"], rate["kind"], rate["step"])]
        assert rate["n"] == len(rows) and rate["stable"] == sum(r["stable"] for r in rows)


def test_files_written(demo):
    _, out, s = demo
    report = (out / "report.md").read_text()
    assert s["claim"]["statement"] in report
    assert "| case | law | step | stable |" in report and "## Why" in report
    for name in ("fits.png", "energy.png", "waves.png", "punch.png", "rates.png", "sweep.png"):
        data = (out / name).read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 10_000
        assert stat.S_IMODE((out / name).stat().st_mode) == 0o666 & ~UMASK  # as open() would make it
    for r in s["runs"]:
        run = out / r["out"]
        assert (run / "results.pvd").is_file() and (run / "history.csv").is_file()
        assert json.loads((run / "summary.json").read_text())["stable"] == r["stable"]
    assert s["units"]["dt"] == "s" and s["unit_system"]["stress"] == "MPa"
    assert not list(out.rglob(".*.tmp"))  # no temporary file left behind


def test_long_runs_run_their_steps_and_report_the_true_energy(demo):
    """The free-vibration runs take ``long_steps`` certified steps; laws with an energy (the plane-strain
    potentials, the exact cubic law) are monitored on the true energy, the 1-D MLPs on the work balance; a
    stable run's recorded drift is below the solver's 10 % stop, and the report counts the runs above 1 %."""
    _, out, s = demo
    long = [r for r in s["runs"] if r["long"]]
    assert {r["scenario"] for r in long} == {"bar_vibration", "block_vibration"}
    for r in long:
        want = "potential" if r["material"] == "plane" or r["kind"] == "exact" else "work"
        assert r["energy_monitor"] == want, r
        if r["step"] != "nominal" and r["stopped_by"] != "energy_drift":  # drift stops: counted by the claim
            assert r["stable"] and r["steps"] == QUICK.long_steps, r
            assert json.loads((out / r["out"] / "summary.json").read_text())["energy_drift"] == r["energy_drift"]
        if r["stable"]:
            assert 0.0 <= r["energy_drift"] < 0.1
    for rate in (x for x in s["rates"] if x["long"]):
        key = (rate["scenario"], rate["kind"], rate["step"])
        rows = [r for r in long if (r["scenario"], r["kind"], r["step"]) == key]
        assert rate["drift_above_1_percent"] == sum(not r["stable"] or r["energy_drift"] > 0.01 for r in rows)
    for step in ("certified", "auto"):
        sn = [r for r in long if r["kind"] == "sn" and r["step"] == step]
        claim = s["claim"]["sn_long_runs"][step]
        assert claim["runs"] == len(sn) == 2 * s["seeds"]
        assert claim["clean"] == sum(r["stable"] and r["energy_drift"] <= 0.01 for r in sn)
    assert "## Long runs" in (out / "report.md").read_text()


def test_sweep_bounds_and_steps_follow_from_the_saved_models(demo):
    """The sweep's SN bound is the designed target whatever the size; the unconstrained bound is the product
    of the saved model's exact layer norms; the steps follow from dt ~ 1 / sqrt(L) on the bar mesh."""
    _, out, s = demo
    rec = s["sweep"]["records"]
    assert {(r["depth"], r["width"]) for r in rec} == {(d, w) for d in QUICK.sweep_depths for w in QUICK.sweep_widths}
    sn_bounds = {r["lipschitz_bound"] for r in rec if r["kind"] == "sn"}
    assert max(sn_bounds) == pytest.approx(min(sn_bounds), rel=1e-5)  # float32 weights, the same target
    for r in rec:
        model = snsurrogate.load(out / r["file"])
        assert len(model.network.linears) == r["depth"] + 1 and model.constrained == (r["kind"] == "sn")
        assert snsurrogate.lipschitz_bound(model) == pytest.approx(r["lipschitz_bound"], rel=1e-12)
        assert r["largest_tangent"] <= r["lipschitz_bound"] * (1 + 1e-9)
        assert r["steps"] == math.ceil(BAR_END / r["dt"] - 1e-9) and r["dt"] == pytest.approx(0.9 * r["dt_certified"])
    for row in s["sweep"]["rows"]:
        sn, unc = (next(r for r in rec if (r["depth"], r["width"], r["kind"]) == (row["depth"], row["width"], k))
                   for k in ("sn", "unconstrained"))
        assert sn["dt_certified"] / unc["dt_certified"] == pytest.approx(math.sqrt(row["bound_ratio"]), rel=1e-9)
    assert "## Network size" in (out / "report.md").read_text()


def test_strain_norm_counts_engineering_shear_once():
    assert strain_norm(np.array([[-0.3]]))[0] == pytest.approx(0.3)
    eps = np.array([[0.01, -0.02, 0.04]])  # exx, eyy, gxy = 2 exy
    assert strain_norm(eps)[0] == pytest.approx(math.sqrt(0.01**2 + 0.02**2 + 2 * 0.02**2))
    e3 = np.array([[0.01, 0.02, 0.03, 0.04, 0.05, 0.06]])
    tensor = np.array([[0.01, 0.03, 0.025], [0.03, 0.02, 0.02], [0.025, 0.02, 0.03]])
    assert strain_norm(e3)[0] == pytest.approx(np.linalg.norm(tensor))


def test_energy_growth():
    h = {"time": np.arange(3.0), "kinetic": np.array([0.0, 1.0, 0.5]), "internal": np.array([0.0, 1.0, 1.5]),
         "external": np.array([0.0, 2.0, 2.0])}
    assert energy_growth(h) == pytest.approx(1.0)
    h["internal"] = np.array([0.0, 1.0, np.inf])
    assert energy_growth(h) == math.inf


@pytest.mark.parametrize("argv, message", [
    (["--seeds", "0"], "expected a positive integer"),
    (["--hidden", "32", "x"], "expected a positive integer"),
])
def test_bad_arguments(tmp_path, capsys, argv, message):
    with pytest.raises(SystemExit) as exc:
        main(["demo", "--out", str(tmp_path), *argv])
    assert exc.value.code == 2
    assert message in capsys.readouterr().err


def test_the_claim_counts_drift_stops_apart_and_fails_on_a_blow_up():
    """The demo's claim is what the certificate proves (no blow-up at the certified step); a run the true-energy
    monitor stopped is counted and said, not hidden and not counted as a blow-up."""
    from snsurrogate.demo.report import _claim

    def run(stable, stopped_by=None, kind="sn", step="certified"):
        return {"kind": kind, "step": step, "stable": stable, "stopped_by": stopped_by, "long": True,
                "energy_drift": 0.0 if stable else 0.105}

    ok = _claim([run(True), run(False, "energy_drift"), run(True, kind="unconstrained")], [], QUICK)
    assert ok["holds"] and ok["sn_certified_drift_stops"] == 1 and ok["sn_certified_blowups"] == 0
    assert "1 were stopped by the true-energy monitor" in ok["statement"] and "0 blow-ups in 2 runs" in ok["statement"]
    bad = _claim([run(True), run(False, "blow-up")], [], QUICK)
    assert not bad["holds"] and bad["sn_certified_blowups"] == 1
    assert not _claim([run(False, "inversion")], [], QUICK)["holds"]
