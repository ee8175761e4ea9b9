"""Known unit names of [units]: consistency of the system, plausible densities, single-step runs."""

from __future__ import annotations

import json
import tomllib

import pytest

from snsurrogate.case import load_case
from snsurrogate.case.units import UNITS, consistency_problem, density_warning, name_of
from snsurrogate.cli import main
from snsurrogate.errors import CaseFileError
from snsurrogate.simulation import simulate

BAR = """[units]
length = "mm"
time = "s"
mass = "t"
stress = "MPa"

[mesh]
generate = "line"
length = 10.0
divisions = 5

[material]
type = "linear"
E = 1000.0
density = 1.0e-9

[[boundary]]
type = "fixed"
nodes = { group = "left" }

[time]
end = 1.0e-4

[output]
frames = 2
progress = false
"""


def units(**given) -> dict:
    return {k: given.get(k) for k in ("length", "time", "mass", "stress", "force", "energy")}


@pytest.mark.parametrize("system", [
    dict(length="mm", time="s", mass="t", stress="MPa", force="N", energy="mJ"),
    dict(length="m", time="s", mass="kg", stress="Pa", force="N", energy="J"),
    dict(length="mm", time="ms", mass="kg", stress="GPa", force="kN", energy="J"),
    dict(length="mm", time="ms", mass="g", stress="MPa", force="N", energy="N mm"),
    dict(length="mm", time="\u00b5s", mass="mg", stress="GPa", force="kN", energy="J"),
    dict(length="m", time="s", mass="t", stress="kPa", force="kN", energy="kJ"),
])
def test_consistent_systems_pass(system):
    assert consistency_problem(units(**system)) is None


def test_the_issue_s_inconsistent_set_names_the_fitting_unit():
    key, message = consistency_problem(units(length="m", stress="MPa", mass="t", time="s"))
    assert key == "stress"
    assert "with these the stress unit must be 'kPa'" in message and "'MPa' is not consistent" in message


def test_force_and_energy_are_checked():
    assert consistency_problem(units(length="mm", stress="MPa", force="kN"))[0] == "force"
    key, message = consistency_problem(units(length="mm", stress="MPa", force="N", energy="J"))
    assert key == "energy" and "must be 'mJ'" in message
    assert consistency_problem(units(length="mm", stress="MPa", energy="mJ")) is None  # force from stress x length^2


def test_unknown_names_are_not_checked():
    assert consistency_problem(units(length="in", time="s", mass="lbf s^2/in", stress="psi")) is None
    assert consistency_problem(units(length="mm", time="s", mass="t", stress="mpa")) is None  # exact names only


def test_micro_spellings_and_names():
    assert UNITS["length"]["um"] == UNITS["length"]["\u00b5m"] == UNITS["length"]["\u03bcm"] == 1e-6
    assert name_of("stress", 1e6) == "MPa" and name_of("mass", 1e3) == "t"


def test_an_inconsistent_case_is_refused_naming_the_key(tmp_path):
    raw = tomllib.loads(BAR.replace('length = "mm"', 'length = "m"'))
    with pytest.raises(CaseFileError, match=r"<case>: \[units\] stress: 'MPa' is not consistent with length 'm', "
                                            r"time 's', mass 't'.*must be 'kPa'"):
        load_case(raw)
    (tmp_path / "c.toml").write_text(BAR.replace('mass = "t"', 'mass = "t"\nforce = "kN"'))
    with pytest.raises(CaseFileError, match=r"c.toml: \[units\] force: 'kN' is not consistent .*must be 'N'"):
        load_case(tmp_path / "c.toml")


def test_the_cli_refuses_an_inconsistent_case(tmp_path, capsys):
    (tmp_path / "c.toml").write_text(BAR.replace('length = "mm"', 'length = "m"'))
    for argv in (["simulate", str(tmp_path / "c.toml"), "--out", str(tmp_path / "o")],
                 ["stability", str(tmp_path / "c.toml"), "--no-global"]):
        assert main(argv) == 2
        err = capsys.readouterr().err
        assert "[units] stress:" in err and "'kPa'" in err


def test_density_warning():
    u = units(length="mm", mass="t")
    assert density_warning(7.85e-9, u) is None
    w = density_warning(1150.0, u)
    assert "[material] density: 1150 t/mm^3 is 1.15e+15 kg/m^3" in w and "plausible" in w
    assert density_warning(1150.0, units(length="m", mass="kg")) is None
    assert "1e-09 kg/m^3" in density_warning(1e-9, units(length="m", mass="kg"))
    assert density_warning(1150.0, units(length="mm")) is None  # mass unit not given: nothing to check


def test_an_implausible_density_is_warned_in_the_summary_and_the_run_is_one_step(tmp_path, capsys):
    (tmp_path / "c.toml").write_text(BAR.replace("density = 1.0e-9", "density = 1150.0"))
    sim = simulate(tmp_path / "c.toml", tmp_path / "out")
    warnings = sim.summary["warnings"]
    assert any("[material] density: 1150 t/mm^3 is 1.15e+15 kg/m^3" in w for w in warnings), warnings
    assert any("[time] end:" in w and "single step" in w for w in warnings), warnings
    assert sim.summary["steps"] == 1
    assert json.loads(sim.summary_path.read_text())["warnings"] == warnings
    rc = main(["stability", str(tmp_path / "c.toml"), "--no-global"])
    out = capsys.readouterr().out
    assert rc == 0
    assert "warning: [material] density: 1150 t/mm^3" in out and "single step" in out


def test_a_plausible_case_has_no_unit_warnings(tmp_path):
    (tmp_path / "c.toml").write_text(BAR)
    sim = simulate(tmp_path / "c.toml", tmp_path / "out")
    assert not any("density" in w or "single step" in w for w in sim.summary["warnings"])
