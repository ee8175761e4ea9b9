"""fit(data, options, **overrides): FitOptions, the keyword arguments, and the shared training loop."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

import snsurrogate
from snsurrogate import FitOptions
from snsurrogate.errors import DataError, TrainingError
from snsurrogate.training import READ_OPTIONS

DATA = Path(__file__).resolve().parents[1] / "data"
CUBIC = DATA / "synthetic_cubic_1d.csv"
COLUMNS = dict(strain=["strain"], stress=["stress_MPa"])
TINY = dict(hidden=(8,), epochs=5, polish_epochs=2)


def test_fit_options_are_frozen_with_the_documented_defaults():
    opts = FitOptions()
    with pytest.raises(dataclasses.FrozenInstanceError):
        opts.epochs = 3  # type: ignore[misc]
    assert (opts.lipschitz, opts.margin, opts.hidden, opts.activation) == ("auto", 1.1, (32, 32, 32), "groupsort")
    assert (opts.optimizer, opts.epochs, opts.polish_epochs, opts.lr) == ("adam+lbfgs", 1000, 200, 1e-2)
    assert (opts.batch_size, opts.val_fraction, opts.patience, opts.seed) == (None, 0.15, None, 0)
    assert (opts.float64, opts.device, opts.zero_origin, opts.progress, opts.unconstrained) == (
        False, "auto", True, False, False)
    assert FitOptions(hidden=[16, 16]).hidden == (16, 16)
    assert hash(FitOptions(hidden=[16, 16])) == hash(FitOptions(hidden=(16, 16)))


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(lipschitz=0.0), "positive number"),
        (dict(optimizer="sgd"), "unknown optimizer"),
        (dict(val_fraction=0.95), "val_fraction"),
        (dict(epochs=0), "epochs and polish_epochs"),
        (dict(hidden="wide"), "hidden"),
    ],
)
def test_fit_options_check_their_values(kwargs, message):
    with pytest.raises(TrainingError, match=message):
        FitOptions(**kwargs)


def test_options_object_and_overrides():
    eps = np.linspace(-0.02, 0.02, 40)
    opts = FitOptions(hidden=(8,), epochs=20, polish_epochs=5, seed=1, device="cpu")
    a = snsurrogate.fit((eps, 1000 * eps), opts, stress_unit="MPa")
    b = snsurrogate.fit((eps, 1000 * eps), stress_unit="MPa", **dataclasses.asdict(opts))
    assert a.summary["rmse"] == b.summary["rmse"] and a.summary["seed"] == 1
    c = snsurrogate.fit((eps, 1000 * eps), opts, stress_unit="MPa", optimizer="adam", seed=2)
    assert (c.summary["optimizer"], c.summary["seed"], c.summary["hidden"]) == ("adam", 2, [8])
    assert opts.seed == 1  # the options object is not changed
    with pytest.raises(TypeError, match="options must be a FitOptions"):
        snsurrogate.fit((eps, 1000 * eps), {"epochs": 3})


@pytest.mark.parametrize(
    "name, nearest",
    [("epoch", "epochs"), ("learning_rate", "lr"), ("hiden", "hidden"), ("delimeter", "delimiter"),
     ("stres_unit", "stress_unit"), ("polish", "polish_epochs")],
)
def test_an_unknown_keyword_names_the_nearest_option(name, nearest):
    eps = np.linspace(0, 0.01, 20)
    with pytest.raises(TypeError, match=rf"unexpected keyword argument '{name}'; did you mean '{nearest}'\?"):
        snsurrogate.fit((eps, 100 * eps), **{name: 1})


def test_every_read_curves_option_is_accepted_with_a_path():
    assert set(READ_OPTIONS) == {"stress", "strain", "stretch", "stress_unit", "strain_unit", "delimiter",
                                 "decimal", "branch", "min_rows", "skip_rows", "keep_fracture"}  # issue 10: +2
    eps = np.linspace(0, 0.01, 20)
    for name in ("delimiter", "decimal", "strain", "stretch", "skip_rows"):
        with pytest.raises(TypeError, match=rf"{name}=, an option of reading a CSV file, but data is arrays"):
            snsurrogate.fit((eps, 100 * eps), **{name: ","})
    ds = snsurrogate.Dataset.from_arrays(eps, 100 * eps, stress_unit="MPa")
    with pytest.raises(TypeError, match="but data is a Dataset"):
        snsurrogate.fit(ds, stress_unit="MPa")


def test_fit_reads_a_csv_with_a_decimal_comma(tmp_path):
    path = tmp_path / "euro.csv"
    rows = "".join(f"{i / 1000:.4f};{2000 * i / 1000 * (1 + (i / 50) ** 2):.3f}\n".replace(".", ",") for i in range(30))
    path.write_text("Dehnung;Spannung_MPa\n" + rows)
    with pytest.raises(DataError, match="--decimal ,"):
        snsurrogate.fit(path, strain=["Dehnung"], stress=["Spannung_MPa"], delimiter=";", **TINY)
    model = snsurrogate.fit(path, strain=["Dehnung"], stress=["Spannung_MPa"], delimiter=";", decimal=",",
                            min_rows=30, **TINY)
    assert model.summary["n_points"] == 30 and model.stress_unit == "MPa"
    assert model.summary["data_file"] == "euro.csv"
    with pytest.raises(DataError, match="found 30 data rows; at least 31"):
        snsurrogate.fit(str(path), strain=["Dehnung"], stress=["Spannung_MPa"], delimiter=";", decimal=",",
                        min_rows=31, **TINY)


def test_fit_reads_a_path_with_branch_and_stretch():
    model = snsurrogate.fit(DATA / "synthetic_cyclic_1d.csv", **COLUMNS, branch="loading", **TINY)
    assert model.summary["n_points"] == 101
    model = snsurrogate.fit(DATA / "treloar1944_uniaxial_tension.csv", stretch="stretch",
                            stress=["nominal_stress_MPa"], **TINY)
    assert model.metadata["columns"]["strain_input"] == "stretch"


# Measured before the refactor (commit a56fe47, the three optimizer branches of _train) on this machine
# (torch 2.x, CPU): rmse [MPa] and certified bound [MPa per unit strain] of small seeded fits of
# data/synthetic_cubic_1d.csv. The shared loop reproduced every one of them bit for bit, together with
# epochs run, best epoch, stop reason and a hash of the weights.
REFERENCE = {
    "adam+lbfgs": (dict(hidden=(16, 16), epochs=150, polish_epochs=20, seed=7),
                   55.13627100765408, 28160.989167483418, 170, 166),
    "adam": (dict(hidden=(16, 16), epochs=150, optimizer="adam", seed=7), 40.57161566539399, 28161.041582610364,
             150, 150),
    "lbfgs": (dict(hidden=(16, 16), epochs=30, optimizer="lbfgs", seed=7), 71.31879246501914, 28160.98898114906,
              30, 14),
    "adam-minibatch": (dict(hidden=(16, 16), epochs=60, optimizer="adam", batch_size=32, seed=7),
                       24.764863804950917, 28161.015388170683, 60, 42),
    "early-stop-float64": (dict(hidden=(8,), epochs=300, polish_epochs=30, patience=5, seed=2, float64=True),
                           27.00131221551511, 28161.06995893934, 44, 39),
}


@pytest.mark.parametrize("case", list(REFERENCE))
def test_the_shared_training_loop_reproduces_the_fits_of_before(case):
    kwargs, rmse, bound, epochs_run, best_epoch = REFERENCE[case]
    model = snsurrogate.fit(snsurrogate.read_curves(CUBIC, **COLUMNS), device="cpu", **kwargs)
    s = model.summary
    assert (s["epochs_run"], s["best_epoch"]) == (epochs_run, best_epoch)
    # bit for bit on the machine they were measured on; other CPUs and torch builds may round differently
    assert s["rmse"] == pytest.approx(rmse, rel=1e-4)
    assert s["lipschitz_bound"] == pytest.approx(bound, rel=1e-6)
