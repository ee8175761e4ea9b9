"""Compatibility: model files written before the issue-9 refactor still load, evaluate to the same stresses
and carry the same certificate; ``snsurrogate info`` reads them."""

import json
from pathlib import Path

import pytest
import torch

import snsurrogate
from snsurrogate.cli import main

DATA = Path(__file__).parent / "data"
OLD = sorted(DATA.glob("model_format1_*.json"))


def test_the_reference_files_are_there():
    assert len(OLD) == 2


@pytest.mark.parametrize("ref_path", OLD, ids=lambda p: p.stem)
def test_old_model_file_loads_and_evaluates_as_when_written(ref_path):
    ref = json.loads(ref_path.read_text())
    model = snsurrogate.load(DATA / ref["file"])
    assert model.stress_unit == ref["stress_unit"]
    assert model.lipschitz_bound == ref["lipschitz_bound"]  # re-checked from the stored weights on load
    x = torch.tensor(ref["strain"], dtype=model.dtype)
    with torch.no_grad():
        y = model(x)
    assert torch.equal(y, torch.tensor(ref["stress"], dtype=model.dtype))
    assert float(snsurrogate.lipschitz_bound(model.network)) == pytest.approx(ref["lipschitz_bound"], rel=1e-12)


@pytest.mark.parametrize("ref_path", OLD, ids=lambda p: p.stem)
def test_info_reads_an_old_model_file(ref_path, capsys):
    ref = json.loads(ref_path.read_text())
    assert main(["info", str(DATA / ref["file"]), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["lipschitz_bound"] == pytest.approx(ref["lipschitz_bound"], rel=1e-12)
