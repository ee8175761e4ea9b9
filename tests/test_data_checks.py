"""The checks of snsurrogate.data.checks run on any Dataset: arrays get the same hysteresis, conflict,
NaN and shape checks as a CSV file, with array rows (0-based) where a file has lines."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

import snsurrogate
from snsurrogate.data import Dataset, read_curves
from snsurrogate.errors import DataError

# virgin loading 0..0.05 (rows 0-5), unloading (6-8), reloading to 0.05 (9-11), loading past it (12-16)
CYCLE_STRAIN = [0.0, 0.01, 0.02, 0.03, 0.04, 0.05, 0.045, 0.04, 0.035, 0.04, 0.045, 0.05, 0.06, 0.07, 0.08, 0.09, 0.1]


def cycle():
    e = np.asarray(CYCLE_STRAIN)
    s = 300.0 * np.tanh(e / 0.03)
    s[6:12] = 300.0 * np.tanh(0.05 / 0.03) - 5000.0 * (0.05 - e[6:12])
    return e, s


def curve(n=12):
    e = 0.01 * np.arange(n)
    return e, 300.0 * np.tanh(e / 0.03)


def array_error(strain, stress, parts, **kwargs) -> DataError:
    with pytest.raises(DataError) as info:
        Dataset.from_arrays(strain, stress, **kwargs)
    message = str(info.value)
    for part in parts:
        assert part in message, f"{part!r} not in {message!r}"
    return info.value


def test_from_arrays_makes_a_checked_dataset():
    e, s = curve()
    ds = Dataset.from_arrays(e, s, stress_unit="mpa")
    assert (ds.n_points, ds.d_in, ds.d_out) == (12, 1, 1)
    assert ds.strain.shape == (12, 1) and ds.strain.dtype == np.float64
    np.testing.assert_array_equal(ds.strain[:, 0], e)
    assert ds.stress_unit == "MPa" and ds.strain_unit == "-"
    assert ds.strain_columns == ("strain_0",) and ds.stress_columns == ("stress_0",)
    assert ds.source == "<arrays>" and ds.row_label == "row" and ds.checked_branch == "all"
    np.testing.assert_array_equal(ds.line_numbers, np.arange(12))
    assert len(ds.sha256) == 64
    assert Dataset.from_arrays(e, s, stress_unit="MPa").sha256 == ds.sha256
    assert Dataset.from_arrays(e, s + 1, stress_unit="MPa").sha256 != ds.sha256


def test_from_arrays_units_and_names():
    e, s = curve()
    ds = Dataset.from_arrays(100 * e, s, strain_unit="%", strain_names=["eps_pct"], stress_names="sig",
                             stress_unit="kPa")
    np.testing.assert_allclose(ds.strain[:, 0], e, rtol=1e-12, atol=1e-15)
    assert ds.strain_unit == "%" and ds.strain_columns == ("eps_pct",) and ds.stress_columns == ("sig",)
    assert any("divided by 100" in note for note in ds.notes)
    ds = Dataset.from_arrays(1.0 + e, s, strain_unit="stretch", stress_unit="MPa")
    np.testing.assert_allclose(ds.strain[:, 0], e, atol=1e-15)
    assert ds.strain_unit == "stretch"
    ds = Dataset.from_arrays(e, s)
    assert ds.stress_unit == "unspecified" and any("no stress unit" in note for note in ds.notes)
    array_error(e, s, ["unknown strain unit 'mm'"], strain_unit="mm")
    bad = 1.0 + e
    bad[4] = 0.0
    err = array_error(bad, s, ["<arrays>: column 'strain_0'", "stretch 0 at row 4 is not positive"],
                      strain_unit="stretch")
    assert err.line is None


def test_a_hysteresis_loop_given_as_arrays_is_rejected():
    e, s = cycle()
    err = array_error(e, s, ["<arrays>: column 'strain_0': the strain reverses: unloading starts at row 6",
                             "reaches 0.05 at row 5", "goes back to 0.045 at row 6", 'branch="loading"'],
                      stress_unit="MPa")
    assert "--branch" not in str(err) and err.line is None and err.column == "strain_0"
    array_error(-e, -s, ["compression"], stress_unit="MPa")
    ds = Dataset.from_arrays(e, s, stress_unit="MPa", branch="loading")
    np.testing.assert_array_equal(ds.line_numbers, [0, 1, 2, 3, 4, 5, 12, 13, 14, 15, 16])
    assert ds.checked_branch == "loading"
    assert any("dropped 6 rows" in note and "rows 6-11" in note for note in ds.notes)


def test_a_conflicting_pair_given_as_arrays_is_rejected():
    e, s = curve()
    e = np.insert(e, 5, e[4])
    s = np.insert(s, 5, s[4] + 40.0)
    err = array_error(e, s, ["<arrays>: conflicting stresses at nearly the same strain: row 4 has strain_0 = 0.04",
                             "and row 5 has strain_0 = 0.04"], stress_unit="MPa")
    assert err.line is None
    rng = np.random.default_rng(4)
    eps = rng.uniform(-0.01, 0.01, size=(14, 3))
    sig = eps @ np.diag([1000.0, 800.0, 400.0])
    eps = np.vstack([eps, eps[2] * (1 + 1e-5)])
    sig = np.vstack([sig, sig[2] + [0.0, 3.0, 0.0]])
    array_error(eps, sig, ["row 2 has (exx, eyy, gxy) = (", "row 14 has"], strain_names=["exx", "eyy", "gxy"])


@pytest.mark.parametrize(
    ("strain", "stress", "parts"),
    [
        (np.zeros((12, 2)), np.zeros((12, 1)), ["got 2 strain columns", "expected 1 (uniaxial), 3"]),
        (np.zeros((12, 1)), np.zeros((11, 1)), ["shapes (12, 1) and (11, 1)"]),
        (np.zeros((12, 1, 1)), np.zeros((12, 1)), ["(n, d) arrays"]),
        ([["a"]], [[1.0]], ["arrays of numbers"]),
    ],
)
def test_badly_shaped_arrays_are_rejected(strain, stress, parts):
    array_error(strain, stress, parts)


@pytest.mark.parametrize(("value", "kind"), [(np.nan, "NaN"), (np.inf, "infinite")])
def test_nonfinite_arrays_are_located(value, kind):
    e, s = curve()
    s[7] = value
    err = array_error(e, s, [f"<arrays>: column 'stress_0': {kind} value at row 7"])
    assert err.column == "stress_0"


def test_too_few_rows_and_constant_strain_in_arrays():
    e, s = curve(5)
    array_error(e, s, ["too few data rows: found 5 data rows; at least 10"])
    assert Dataset.from_arrays(e, s, min_rows=5).n_points == 5
    array_error(np.full(12, 0.02), np.arange(12.0), ["column 'strain_0'", "all 12 values are equal (0.02)"])
    array_error(np.zeros((12, 1)), np.zeros((12, 1)), ["all 12 values are equal (0)"])
    array_error(*curve(), ["branch must be 'all' or 'loading'"], branch="up")


def test_check_runs_on_a_dataset_built_directly_and_is_idempotent():
    e, s = cycle()
    ds = Dataset(e[:, None], s[:, None], ("strain",), ("stress_MPa",), "MPa", "-", "test.csv", "0" * 64,
                 np.arange(3, 20), (), ())
    assert ds.checked_branch is None
    with pytest.raises(DataError, match=r"test.csv:9: column 'strain': the strain reverses: unloading starts at li"):
        ds.check()
    kept = ds.check(branch="loading")
    again = kept.check(branch="loading")
    assert again.n_points == kept.n_points == 11
    assert again.notes == (*kept.notes, "branch='loading': no unloading found; all rows kept")
    assert again.check(branch="loading").notes == again.notes  # no note is repeated
    e, s = curve()
    ds = Dataset.from_arrays(-e, -s, stress_unit="MPa")
    assert any("compression" in note for note in ds.notes)
    assert ds.check().notes == ds.notes  # the compression note is not repeated


def test_fit_checks_arrays_like_a_csv():
    e, s = cycle()
    with pytest.raises(DataError, match=r"<arrays>: column 'strain_0': the strain reverses: unloading starts at row 6"):
        snsurrogate.fit((e, s), stress_unit="MPa", hidden=(8,), epochs=5)
    e, s = curve()
    e, s = np.insert(e, 5, e[4]), np.insert(s, 5, s[4] + 40.0)
    with pytest.raises(DataError, match=r"conflicting stresses at nearly the same strain: row 4 has"):
        snsurrogate.fit((e, s), stress_unit="MPa", hidden=(8,), epochs=5)
    e, s = cycle()
    model = snsurrogate.fit((e, s), stress_unit="MPa", branch="loading", hidden=(8,), epochs=5, polish_epochs=2,
                            min_rows=5)
    assert model.summary["n_points"] == 11
    assert any("loading envelope" in note for note in model.metadata["data"]["notes"])


def test_fit_checks_a_dataset_that_was_not_checked(tmp_path):
    e, s = cycle()
    ds = Dataset(e[:, None], s[:, None], ("strain",), ("stress_MPa",), "MPa", "-", "hand.csv", "0" * 64,
                 np.arange(17), (), ())
    with pytest.raises(DataError, match="the strain reverses"):
        snsurrogate.fit(ds, hidden=(8,), epochs=5)
    model = snsurrogate.fit(ds, branch="loading", hidden=(8,), epochs=5, polish_epochs=2)
    assert model.summary["n_points"] == 11
    # a checked data set is used as it is; changing it with dataclasses.replace keeps the mark
    path = tmp_path / "c.csv"
    path.write_text("strain,stress_MPa\n" + "".join(f"{a!r},{b!r}\n" for a, b in zip(e.tolist(), s.tolist())))
    read = read_curves(path, strain=["strain"], stress=["stress_MPa"], branch="loading")
    assert read.checked_branch == "loading"
    assert dataclasses.replace(read, stress=read.stress * 2).checked_branch == "loading"
    assert snsurrogate.fit(read, hidden=(8,), epochs=5, polish_epochs=2).summary["n_points"] == 11
