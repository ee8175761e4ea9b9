"""Meshes and runs that cannot fit in memory are refused before anything is allocated (issue 10, item 3)."""

import pytest

import fem
import fem.memory
from fem import generate
from fem.errors import InputError
from fem.kinematics import geometry


def test_an_absurd_grid_is_refused_with_the_figure_and_the_limit():
    with pytest.raises(InputError, match=r"100000x100000 grid of quad4 .* needs about .* GiB of memory, more than "
                                         r"the .* GiB available") as info:
        generate.rectangle(1.0, 1.0, 100000, 100000)
    assert info.value.parameter == "divisions"
    with pytest.raises(InputError, match="tet4"):
        generate.box(1.0, 1.0, 1.0, 10**5, 10**5, 10**5, element="tet4")
    with pytest.raises(InputError, match="bar2"):
        generate.line(1.0, 10**12)


def test_a_run_that_cannot_fit_is_refused_when_its_geometry_is_built(monkeypatch):
    mesh = generate.rectangle(1.0, 1.0, 20, 20)
    needed = fem.memory.run_bytes(mesh.n_nodes, mesh.n_cells, mesh.element)
    monkeypatch.setattr(fem.memory, "available_bytes", lambda: needed - 1)
    with pytest.raises(InputError, match=r"a run on 400 quad4 elements \(441 nodes\) needs about"):
        geometry(mesh)
    monkeypatch.setattr(fem.memory, "available_bytes", lambda: needed)
    assert geometry(mesh).cells.shape == (400, 4)


def test_the_estimate_grows_with_the_mesh_and_the_precision():
    el = fem.get_element("hex8")
    small, big = fem.memory.run_bytes(1000, 729, el), fem.memory.run_bytes(8000, 6859, el)
    assert 9 < big / small < 10
    assert fem.memory.run_bytes(1000, 729, el, itemsize=4) < small


def test_available_memory_is_known_here():
    free = fem.memory.available_bytes()
    assert free is None or free > 0


@pytest.mark.parametrize("command", ["simulate", "stability"])
def test_simulate_and_stability_refuse_an_absurd_mesh_with_a_located_message(tmp_path, capsys, command):
    from snsurrogate.cli import main

    case = tmp_path / "huge.toml"
    case.write_text('[mesh]\ngenerate = "rectangle"\nsize = [100.0, 50.0]\ndivisions = [100000, 100000]\n\n'
                    '[material]\ntype = "linear"\nE = 210000.0\nnu = 0.3\ndensity = 7.85e-9\n\n'
                    '[[boundary]]\ntype = "fixed"\nnodes = { group = "left" }\n\n[time]\nend = 1.0e-5\n')
    argv = [command, str(case)] + (["--out", str(tmp_path / "out")] if command == "simulate" else [])
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "huge.toml: [mesh] divisions: a 100000x100000 grid" in err and "GiB available" in err
    assert "Traceback" not in err and "MemoryError" not in err
    assert not (tmp_path / "out").exists()
