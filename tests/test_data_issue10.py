"""Issue 10 (reliability) on the data side: shuffled single-valued rows are sorted, not called
hysteresis; large curves are sub-sampled for training; a preamble before the header, a units row
that contradicts the options, a column named by its prefix, and post-fracture rows."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import snsurrogate
from snsurrogate.data import Dataset, read_curves
from snsurrogate.errors import DataError


def smooth(n=60, noise=0.5, seed=1):
    rng = np.random.default_rng(seed)
    e = np.linspace(0.0, 0.1, n)
    return e, 300.0 * np.tanh(e / 0.03) + rng.normal(0.0, noise, n) * (e > 0)


def write(tmp_path: Path, rows, header="strain,stress_MPa", name="data.csv", pre="") -> Path:
    path = tmp_path / name
    path.write_text(pre + header + "\n" + "".join(",".join(repr(float(v)) for v in r) + "\n" for r in rows))
    return path


# ---------------------------------------------------------------------------------------------
# rows not in test order


def test_shuffled_single_valued_file_is_sorted_with_a_note(tmp_path):
    e, s = smooth()
    perm = np.random.default_rng(3).permutation(e.size)
    path = write(tmp_path, zip(e[perm], s[perm], strict=True))
    ds = read_curves(path, strain=["strain"], stress=["stress_MPa"])
    assert ds.n_points == e.size
    np.testing.assert_array_equal(ds.strain[:, 0], e)
    np.testing.assert_array_equal(ds.stress[:, 0], s)
    np.testing.assert_array_equal(ds.line_numbers, 2 + np.argsort(perm))  # each row keeps its file line
    note = next(n for n in ds.notes if "not in test order" in n)
    assert note.startswith("rows were not in test order: sorted by strain (")
    assert "reversals, the first at line" in note
    assert ds.check().notes == ds.notes  # sorted once; checking again adds nothing


def test_shuffled_compression_and_arrays_and_fit(tmp_path):
    e, s = smooth()
    perm = np.random.default_rng(4).permutation(e.size)
    ds = Dataset.from_arrays(-e[perm], -s[perm], stress_unit="MPa")
    np.testing.assert_array_equal(ds.strain[:, 0], -e)  # sorted in the loading direction
    assert any("rows were not in test order: sorted by strain" in n and "row " in n for n in ds.notes)
    model = snsurrogate.fit((e[perm], s[perm]), stress_unit="MPa", hidden=(8,), epochs=5, polish_epochs=2)
    assert any("sorted by strain" in n for n in model.metadata["data"]["notes"])
    # branch="loading" on single-valued shuffled rows keeps every row, sorted
    assert Dataset.from_arrays(e[perm], s[perm], branch="loading").n_points == e.size


def test_real_hysteresis_keeps_the_unloading_message(tmp_path):
    e = np.r_[np.linspace(0, 0.05, 11), [0.045, 0.04, 0.035, 0.04, 0.045], np.linspace(0.05, 0.1, 11)]
    s = 300.0 * np.tanh(e / 0.03)
    s[11:16] = 300.0 * np.tanh(0.05 / 0.03) - 10000.0 * (0.05 - e[11:16])  # elastic unloading and reloading
    path = write(tmp_path, zip(e, s, strict=True))
    with pytest.raises(DataError, match=r"data\.csv:13: column 'strain': the strain reverses: unloading starts at li"):
        read_curves(path, strain=["strain"], stress=["stress_MPa"])
    with pytest.raises(DataError, match="the strain reverses: unloading starts at row 11"):
        Dataset.from_arrays(e, s)
    assert read_curves(path, strain=["strain"], stress=["stress_MPa"], branch="loading").n_points < e.size


def test_multiaxial_rows_have_no_test_order():
    rng = np.random.default_rng(5)
    eps = rng.uniform(-0.01, 0.01, size=(40, 3))  # any order: no reversal check, conflicts still checked
    sig = eps @ np.diag([1000.0, 800.0, 400.0])
    assert Dataset.from_arrays(eps, sig).n_points == 40


# ---------------------------------------------------------------------------------------------
# small ones: a column named by its prefix, units options against a units row


def test_a_missing_column_suggests_the_column_it_starts():
    from snsurrogate.data.table import _missing_column_message

    header = ["Time (s)", "Tensile stress (MPa)", "Tensile strain (Extension)"]
    assert "did you mean 'Tensile strain (Extension)'?" in _missing_column_message("Tensile strain", header)
    assert "did you mean 'Tensile stress (MPa)'?" in _missing_column_message("tensile stres", header)


def test_a_missing_column_in_a_file_suggests_the_prefixed_one(tmp_path):
    path = tmp_path / "m.csv"
    path.write_text("Tensile stress,Tensile strain (Extension)\n" + "".join(f"{i},{i / 100}\n" for i in range(12)))
    with pytest.raises(DataError, match=r"m.csv:1: column 'Tensile strain': .*mean 'Tensile strain \(Extension\)'"):
        read_curves(path, strain=["Tensile strain"], stress=["Tensile stress"], stress_unit="MPa")


ROWS = "".join(f"{i / 10:.2f},{2 * i:.1f}\n" for i in range(12))


def test_a_unit_option_that_contradicts_the_units_row_is_refused(tmp_path):
    path = tmp_path / "export.csv"
    path.write_text("Strain,Stress\n%,MPa\n" + ROWS)
    with pytest.raises(DataError) as info:
        read_curves(path, strain=["Strain"], stress=["Stress"], stress_unit="kPa")
    assert "export.csv:2: column 'Stress': the units row says 'MPa' but --stress-unit" in str(info.value)
    assert "'kPa'" in str(info.value) and (info.value.line, info.value.column) == (2, "Stress")
    with pytest.raises(DataError, match=r"export.csv:2: column 'Strain': the units row says '%' but --strain-unit"):
        read_curves(path, strain=["Strain"], stress=["Stress"], strain_unit="-")
    # the same unit spelled differently is no contradiction
    data = read_curves(path, strain=["Strain"], stress=["Stress"], stress_unit="mpa", strain_unit="%")
    assert data.stress_unit == "MPa" and data.strain_unit == "%"
    path.write_text("Strain,Stress\nmm/mm,N/mm2\n" + ROWS)
    assert read_curves(path, strain=["Strain"], stress=["Stress"], stress_unit="N/mm^2", strain_unit="1").n_points == 12


# ---------------------------------------------------------------------------------------------
# a preamble before the header


PREAMBLE = '"Sample report"\n"Specimen: A-17"\n"Operator","J. Doe"\n'


def test_a_quoted_preamble_gets_the_skip_rows_that_skips_it(tmp_path):
    e, s = smooth(20)
    path = write(tmp_path, zip(e, s, strict=True), header="Strain,Stress_MPa", pre=PREAMBLE)
    with pytest.raises(DataError) as info:
        read_curves(path, strain=["Strain"], stress=["Stress_MPa"])
    message = str(info.value)
    assert "data.csv:1: line 1 ('\"Sample report\"') is not the header" in message
    assert "the columns 'Strain', 'Stress_MPa' are in the header at line 4" in message
    assert "--skip-rows 3 (API: skip_rows=3)" in message and "delimiter" not in message
    ds = read_curves(path, strain=["Strain"], stress=["Stress_MPa"], skip_rows=3)
    assert ds.n_points == 20 and int(ds.line_numbers[0]) == 5
    # without the names in a later line: the first line with as many fields as the data rows
    path = write(tmp_path, zip(e, s, strict=True), header="eps,sig", pre='"Sample report"\n', name="b.csv")
    with pytest.raises(DataError, match=r"b.csv:1: .*line 1 has 1 field but the data rows have 2, first at line 2.*"
                                        r"--skip-rows 1"):
        read_curves(path, strain=["Strain"], stress=["Stress_MPa"])
    with pytest.raises(DataError, match=r"skip_rows must be a non-negative integer"):
        read_curves(path, strain=["eps"], stress=["sig"], stress_unit="MPa", skip_rows=-1)
    with pytest.raises(DataError, match=r"no header line: the file is empty after the 99 lines skipped"):
        read_curves(path, strain=["eps"], stress=["sig"], stress_unit="MPa", skip_rows=99)


def test_skip_rows_goes_through_fit(tmp_path):
    e, s = smooth(20)
    path = write(tmp_path, zip(e, s, strict=True), header="Strain,Stress_MPa", pre=PREAMBLE)
    model = snsurrogate.fit(path, strain=["Strain"], stress=["Stress_MPa"], skip_rows=3, hidden=(8,), epochs=5,
                            polish_epochs=2)
    assert model.summary["n_points"] == 20


# ---------------------------------------------------------------------------------------------
# post-fracture rows


def tensile(n=80):
    e = np.linspace(0.0, 0.2, n)
    return e, 300.0 * np.tanh(e / 0.01) - 200.0 * np.maximum(e - 0.15, 0.0) ** 2 / 0.05  # gradual necking


def test_post_fracture_rows_are_dropped_with_a_note(tmp_path):
    e, s = tensile()
    e = np.r_[e, 0.201, 0.202, 0.203]
    s = np.r_[s, 120.0, 4.0, 0.5]  # the specimen breaks: the load falls to nearly zero
    path = write(tmp_path, zip(e, s, strict=True))
    ds = read_curves(path, strain=["strain"], stress=["stress_MPa"])
    assert ds.n_points == 80
    note = next(n for n in ds.notes if n.startswith("fracture"))
    assert "dropped the last 3 rows (lines 82-84)" in note and "--keep-fracture" in note
    kept = read_curves(path, strain=["strain"], stress=["stress_MPa"], keep_fracture=True)
    assert kept.n_points == 83 and not any(n.startswith("fracture") for n in kept.notes)
    assert ds.check().notes == ds.notes
    arr = Dataset.from_arrays(-e, -s)  # compression sign conventions: the same rule
    assert arr.n_points == 80 and any("rows 80-82" in n for n in arr.notes)
    assert Dataset.from_arrays(e, s, keep_fracture=True).n_points == 83
    model = snsurrogate.fit((e, s), keep_fracture=True, hidden=(8,), epochs=5, polish_epochs=2)
    assert model.summary["n_points"] == 83
    with pytest.raises(DataError, match="keep_fracture must be True or False"):
        Dataset.from_arrays(e, s, keep_fracture="yes")


def test_gradual_softening_and_a_rising_end_are_not_fracture():
    e, s = tensile()
    assert Dataset.from_arrays(e, s).n_points == 80  # necking: about 1% of the peak per row
    e2 = np.linspace(0, 1, 30)
    assert Dataset.from_arrays(e2, e2 ** 3).n_points == 30  # rises to the end
    s2 = s.copy()
    s2[40] -= 100.0  # one bad row in the middle, the curve goes on: not a fracture at the end
    assert not any(n.startswith("fracture") for n in Dataset.from_arrays(e, s2).notes)
