"""Tests of snsurrogate.data.read_curves: reading experimental stress–strain CSV files."""

from __future__ import annotations

import hashlib
import time
from pathlib import Path

import numpy as np
import pytest

from snsurrogate.data import Dataset, checks, read_curves
from snsurrogate.errors import DataError

AL = "al6061t6_uniaxial_tension_CA-RD-01.csv"
TRELOAR = "treloar1944_uniaxial_tension.csv"


ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"  # ../shared/data beside the repository, where present


def real_file(name: str) -> Path:
    for folder in (ROOT / "data", SHARED):
        if (folder / name).is_file():
            return folder / name
    pytest.skip(f"{name} not available")


def write(tmp_path: Path, text: str | bytes, name: str = "data.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode("utf-8") if isinstance(text, str) else text)
    return path


def table(header: str, rows, fmt: str = "{:.10g}", sep: str = ",") -> str:
    lines = [header]
    for row in rows:
        lines.append(sep.join(v if isinstance(v, str) else fmt.format(float(v)) for v in row))
    return "\n".join(lines) + "\n"


def curve(n: int = 12):
    """A monotonic tension curve: strain 0 .. 0.01 (n - 1), stress in MPa."""
    e = 0.01 * np.arange(n)
    return e, 300.0 * np.tanh(e / 0.03)


def good_file(tmp_path: Path, n: int = 12, name: str = "data.csv") -> Path:
    e, s = curve(n)
    return write(tmp_path, table("strain,stress_MPa", zip(e, s, strict=True)), name)


def data_error(path, parts, **kwargs) -> DataError:
    """Call read_curves, expect a DataError whose message contains every one of parts."""
    with pytest.raises(DataError) as info:
        read_curves(path, **kwargs)
    message = str(info.value)
    for part in parts:
        assert part in message, f"{part!r} not in {message!r}"
    return info.value


# ---------------------------------------------------------------------------------------------
# real files


def test_aluminium_file_in_mpa():
    path = real_file(AL)
    ds = read_curves(path, strain=["engineering_strain"], stress=["engineering_stress_MPa"])
    assert isinstance(ds, Dataset)
    assert (ds.n_points, ds.d_in, ds.d_out) == (300, 1, 1)
    assert ds.strain.shape == (300, 1) and ds.stress.shape == (300, 1)
    assert ds.strain.dtype == np.float64 and ds.stress.dtype == np.float64
    assert ds.strain[0, 0] == 1.76066066615022e-06 and ds.stress[0, 0] == 1.710954661
    assert ds.strain[-1, 0] == 0.170369371771812 and ds.stress[-1, 0] == 249.7116374318
    assert ds.stress_unit == "MPa" and ds.strain_unit == "-"
    assert ds.strain_columns == ("engineering_strain",)
    assert ds.stress_columns == ("engineering_stress_MPa",)
    assert ds.line_numbers[0] == 3 and ds.line_numbers[-1] == 302
    assert ds.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert ds.source == str(path)
    assert len(ds.comments) == 1 and ds.comments[0].startswith("SOURCE: github.com/sandialabs/matcal")
    assert any("'MPa'" in note and "engineering_stress_MPa" in note for note in ds.notes)
    assert any("dimensionless" in note for note in ds.notes)


def test_aluminium_file_in_ksi():
    path = real_file(AL)
    ds = read_curves(path, strain=["engineering_strain"], stress=["engineering_stress_ksi_original"])
    assert ds.n_points == 300 and ds.stress_unit == "ksi"
    assert ds.stress[0, 0] == pytest.approx(0.24815299338760693)
    assert ds.stress_columns == ("engineering_stress_ksi_original",)


def test_treloar_file_from_stretch():
    path = real_file(TRELOAR)
    ds = read_curves(path, stretch="stretch", stress=["nominal_stress_MPa"])
    assert (ds.n_points, ds.d_in, ds.d_out) == (25, 1, 1)
    assert ds.strain[0, 0] == 0.0 and ds.stress[0, 0] == 0.0
    assert ds.strain[-1, 0] == pytest.approx(6.6) and ds.stress[-1, 0] == 6.31764
    assert ds.strain_unit == "stretch" and ds.stress_unit == "MPa"
    assert ds.strain_columns == ("stretch",)
    assert ds.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert ds.comments[0].startswith("SOURCE: github.com/Computational-Micromechanics-Laboratory")


# ---------------------------------------------------------------------------------------------
# reading and conversions


def test_stretch_conversion(tmp_path):
    lam = 1.0 + 0.1 * np.arange(12)
    path = write(tmp_path, table("stretch,P [kPa]", zip(lam, 5 * (lam - lam**-2), strict=True)))
    ds = read_curves(path, stretch="stretch", stress=["P [kPa]"])
    np.testing.assert_allclose(ds.strain[:, 0], lam - 1.0, rtol=0, atol=1e-12)
    assert ds.strain_unit == "stretch" and ds.stress_unit == "kPa"
    assert any("stretch - 1" in note for note in ds.notes)


@pytest.mark.parametrize("name", ["strain_%", "strain [%]", "strain_percent", "Strain (pct)"])
def test_percent_from_column_name(tmp_path, name):
    e, s = curve()
    path = write(tmp_path, table(f'"{name}",stress_MPa', zip(100 * e, s, strict=True)))
    ds = read_curves(path, strain=[name], stress=["stress_MPa"])
    np.testing.assert_allclose(ds.strain[:, 0], e, rtol=1e-12, atol=1e-15)
    assert ds.strain_unit == "%"
    assert any("percent" in note and "divided by 100" in note for note in ds.notes)


def test_percent_from_argument(tmp_path):
    e, s = curve()
    path = write(tmp_path, table("eps,stress_MPa", zip(100 * e, s, strict=True)))
    ds = read_curves(path, strain=["eps"], stress=["stress_MPa"], strain_unit="%")
    np.testing.assert_allclose(ds.strain[:, 0], e, rtol=1e-12, atol=1e-15)
    assert ds.strain_unit == "%"
    ds = read_curves(path, strain=["eps"], stress=["stress_MPa"], strain_unit="mm/mm")
    np.testing.assert_allclose(ds.strain[:, 0], 100 * e)
    assert ds.strain_unit == "-"


def test_multicolumn_plane_voigt(tmp_path):
    rng = np.random.default_rng(1)
    eps = rng.uniform(-0.01, 0.01, size=(15, 3))
    c = np.array([[1000.0, 300.0, 0.0], [300.0, 1000.0, 0.0], [0.0, 0.0, 350.0]])
    sig = eps @ c.T
    rows = [[*e, *s, 7.0] for e, s in zip(eps, sig, strict=True)]
    header = '"exx","eyy","gxy","sxx [MPa]","syy [MPa]","sxy [MPa]",temperature'
    path = write(tmp_path, "# plane test\n" + table(header, rows, fmt="{!r}"))
    ds = read_curves(path, strain=["exx", "eyy", "gxy"], stress=["sxx [MPa]", "syy [MPa]", "sxy [MPa]"])
    assert (ds.n_points, ds.d_in, ds.d_out) == (15, 3, 3)
    np.testing.assert_array_equal(ds.strain, eps)
    np.testing.assert_array_equal(ds.stress, sig)
    assert ds.stress_unit == "MPa"
    assert ds.strain_columns == ("exx", "eyy", "gxy")
    np.testing.assert_array_equal(ds.line_numbers, np.arange(3, 18))


def test_six_strain_columns_and_stress_count_differs(tmp_path):
    rng = np.random.default_rng(2)
    eps = rng.uniform(-0.01, 0.01, size=(12, 6))
    energy_like = np.sum(eps**2, axis=1, keepdims=True) * 1e3
    header = "e11,e22,e33,g23,g13,g12,s_GPa"
    path = write(tmp_path, table(header, np.hstack([eps, energy_like]), fmt="{!r}"))
    ds = read_curves(path, strain=["e11", "e22", "e33", "g23", "g13", "g12"], stress=["s_GPa"])
    assert (ds.d_in, ds.d_out, ds.stress_unit) == (6, 1, "GPa")


def test_format_details(tmp_path):
    # BOM, CRLF, comments anywhere, blank lines, quoted names with spaces and a comma, whitespace
    # around names and cells, an extra column that is ignored
    text = (
        "\ufeff# provenance: test rig 3\r\n"
        "\r\n"
        '  strain , "stress, engineering [MPa]" , note\r\n'
        "  # first comment after the header\r\n"
        + "".join(f" {0.01 * k} ,  {10.0 * k + 1} , ok\r\n" for k in range(6))
        + "\r\n#   unloading would start here  \r\n"
        + "".join(f"{0.01 * k},{10.0 * k + 1},ok\r\n" for k in range(6, 12))
    )
    path = write(tmp_path, text)
    ds = read_curves(path, strain="strain", stress="stress, engineering [MPa]")
    assert ds.n_points == 12
    assert ds.stress_unit == "MPa"
    np.testing.assert_allclose(ds.stress[:, 0], 10.0 * np.arange(12) + 1)
    expected_lines = list(range(5, 11)) + list(range(13, 19))
    np.testing.assert_array_equal(ds.line_numbers, expected_lines)
    assert ds.comments == (
        "provenance: test rig 3",
        "first comment after the header",
        "unloading would start here",
    )


@pytest.mark.parametrize(
    ("delimiter", "sep"),
    [(";", ";"), ("\t", "\t"), ("tab", "\t"), ("\\t", "\t"), (" ", "   "), ("whitespace", " \t ")],
)
def test_other_delimiters(tmp_path, delimiter, sep):
    e, s = curve()
    path = write(tmp_path, table(sep.join(["strain", "stress_MPa"]), zip(e, s, strict=True), sep=sep))
    ds = read_curves(path, strain=["strain"], stress=["stress_MPa"], delimiter=delimiter)
    np.testing.assert_allclose(ds.strain[:, 0], e)
    np.testing.assert_allclose(ds.stress[:, 0], s)


@pytest.mark.parametrize(
    ("name", "unit"),
    [
        ("stress_MPa", "MPa"),
        ("stress [MPa]", "MPa"),
        ("stress (kPa)", "kPa"),
        ("Stress/GPa", "GPa"),
        ("sigma_Pa", "Pa"),
        ("load_psi", "psi"),
        ("stress ksi original", "ksi"),
        ("stress [N/mm2]", "N/mm^2"),
        ("stress_N/mm^2", "N/mm^2"),
        ("pressure [bar]", "bar"),
        ("stress_mpa", "MPa"),
    ],
)
def test_stress_unit_from_name(tmp_path, name, unit):
    e, s = curve()
    path = write(tmp_path, table(f'strain,"{name}"', zip(e, s, strict=True)))
    ds = read_curves(path, strain=["strain"], stress=[name])
    assert ds.stress_unit == unit
    assert any(f"'{unit}'" in note and name in note for note in ds.notes)


def test_stress_unit_given(tmp_path):
    e, s = curve()
    path = write(tmp_path, table("strain,sigma,stress_ksi", zip(e, s, s, strict=True)))
    ds = read_curves(path, strain=["strain"], stress=["sigma"], stress_unit="mpa")
    assert ds.stress_unit == "MPa"
    assert not any("taken from the column" in note for note in ds.notes)
    ds = read_curves(path, strain=["strain"], stress=["stress_ksi"], stress_unit="MPa")
    assert ds.stress_unit == "MPa"
    assert any("'stress_ksi'" in note and "ksi" in note for note in ds.notes)


def test_exact_duplicate_rows_are_fine(tmp_path):
    e, s = curve()
    rows = list(zip(e, s, strict=True))
    rows.insert(4, rows[3])
    rows.insert(0, rows[0])
    ds = read_curves(
        write(tmp_path, table("strain,stress_MPa", rows)), strain=["strain"], stress=["stress_MPa"]
    )
    assert ds.n_points == 14


def test_steep_elastic_branch_is_not_a_conflict(tmp_path):
    # elastic slope E = 200 GPa sampled every 1e-4 up to yield, then hardening to strain 0.2: pairs
    # 4 samples apart are within 2e-3 (scaled) in strain and differ by > 0.05 (scaled) in stress, yet
    # the curve is single-valued
    e = np.concatenate([np.linspace(0.0, 0.002, 21), np.linspace(0.004, 0.2, 99)])
    s = np.minimum(200e3 * e, 400.0 + 500.0 * e)
    es, ss = e / e.max(), s / s.max()
    near = np.abs(es[:, None] - es[None, :]) < 2e-3
    assert np.any(near & (np.abs(ss[:, None] - ss[None, :]) > 0.05))  # a fixed tolerance would flag it
    path = write(tmp_path, table("strain,stress_MPa", zip(e, s, strict=True)))
    assert read_curves(path, strain=["strain"], stress=["stress_MPa"]).n_points == 120


def test_large_file_is_fast(tmp_path):
    n = 100_000
    rng = np.random.default_rng(3)
    e = np.linspace(0.0, 0.2, n) + rng.normal(0.0, 1e-7, n)
    s = np.minimum(70e3 * e, 280.0 + 200.0 * e)
    lines = "".join(f"{a!r},{b!r}\n" for a, b in zip(e.tolist(), s.tolist(), strict=True))
    path = write(tmp_path, "strain,stress_MPa\n" + lines)
    start = time.perf_counter()
    ds = read_curves(path, strain=["strain"], stress=["stress_MPa"])
    assert time.perf_counter() - start < 10.0  # linear-ish; a quadratic pass would take minutes
    assert ds.n_points == n


# ---------------------------------------------------------------------------------------------
# single-valuedness: reversals and loading branch

# comment (1), header (2), virgin loading 0..0.05 (3-8), unloading (9-11), comment (12),
# reloading to the previous maximum 0.05 (13-15), virgin loading past it (16-20)
CYCLE_STRAIN = [
    0.0,
    0.01,
    0.02,
    0.03,
    0.04,
    0.05,
    0.045,
    0.04,
    0.035,
    0.04,
    0.045,
    0.05,
    0.06,
    0.07,
    0.08,
    0.09,
    0.1,
]
KEPT_LINES = [3, 4, 5, 6, 7, 8, 16, 17, 18, 19, 20]


def cycle_file(tmp_path: Path, sign: float = 1.0) -> Path:
    def virgin(x):
        return 300.0 * np.tanh(x / 0.03)

    lines = ["# loading-unloading-reloading", "strain,stress_MPa"]
    for k, x in enumerate(CYCLE_STRAIN):
        if k == 9:
            lines.append("# reloading")
        stress = virgin(x) if k < 6 or k > 11 else virgin(0.05) - 5000.0 * (0.05 - x)
        lines.append(f"{float(sign * x)!r},{float(sign * stress)!r}")
    return write(tmp_path, "\n".join(lines) + "\n", "cycle.csv")


@pytest.mark.parametrize("sign", [1.0, -1.0])
def test_reversal_is_an_error(tmp_path, sign):
    path = cycle_file(tmp_path, sign)
    err = data_error(
        path,
        ["cycle.csv:9:", "column 'strain'", "unloading starts at line 9", "line 8", "--branch loading"],
        strain=["strain"],
        stress=["stress_MPa"],
    )
    assert (err.line, err.column) == (9, "strain")
    assert ("tension" if sign > 0 else "compression") in str(err)


@pytest.mark.parametrize("sign", [1.0, -1.0])
def test_loading_branch_keeps_envelope(tmp_path, sign):
    path = cycle_file(tmp_path, sign)
    ds = read_curves(path, strain=["strain"], stress=["stress_MPa"], branch="loading")
    np.testing.assert_array_equal(ds.line_numbers, KEPT_LINES)
    expected = [sign * CYCLE_STRAIN[line - 3 - (line > 12)] for line in KEPT_LINES]
    np.testing.assert_allclose(ds.strain[:, 0], expected)
    assert any("dropped 6 rows" in note and "lines 9-11, 13-15" in note for note in ds.notes)
    assert any("compression" in note for note in ds.notes) == (sign < 0)


def test_loading_branch_too_few_rows_kept(tmp_path):
    path = cycle_file(tmp_path)
    data_error(
        path,
        ["cycle.csv", "found 11 rows kept by branch='loading' (of 17 read)", "at least 12"],
        strain=["strain"],
        stress=["stress_MPa"],
        branch="loading",
        min_rows=12,
    )


def test_compression_loading_is_accepted(tmp_path):
    e, s = curve()
    path = write(tmp_path, table("strain,stress_MPa", zip(-e, -s, strict=True)))
    ds = read_curves(path, strain=["strain"], stress=["stress_MPa"])
    assert ds.n_points == 12 and ds.strain[-1, 0] == pytest.approx(-0.11)
    assert any("compression" in note for note in ds.notes)


@pytest.mark.parametrize(("retreat", "ok"), [(0.0009, True), (0.0011, False)])
def test_noise_level_wiggles_are_kept(tmp_path, retreat, ok):
    # strain range 0.1, so the noise tolerance is 0.001
    e = list(np.linspace(0.0, 0.1, 21))
    e.insert(8, e[7] - retreat)  # line 10: a small step back after line 9
    e.insert(15, e[14] - retreat / 2)
    s = 300.0 * np.tanh(np.asarray(e) / 0.03)
    path = write(tmp_path, table("strain,stress_MPa", zip(e, s, strict=True)))
    if ok:
        for branch in ("all", "loading"):
            ds = read_curves(path, strain=["strain"], stress=["stress_MPa"], branch=branch)
            assert ds.n_points == 23
            assert not any("dropped" in note for note in ds.notes)
    else:
        # a step back by more than the tolerance whose stress lies on the curve is not hysteresis: the rows
        # are sorted by strain (until issue 10 this was rejected as unloading at line 10)
        ds = read_curves(path, strain=["strain"], stress=["stress_MPa"])
        assert ds.n_points == 23 and np.all(np.diff(ds.strain[:, 0]) >= 0)
        assert any("rows were not in test order: sorted by strain (1 reversal, the first at line 10" in note
                   for note in ds.notes)
        # the same step back with an elastic unloading (stress 5% of the maximum below the curve) is unloading
        s[8] -= 0.06 * 300.0  # line 10, the step back
        path = write(tmp_path, table("strain,stress_MPa", zip(e, s, strict=True)))
        err = data_error(
            path, ["data.csv:10:", "unloading starts at line 10"], strain=["strain"], stress=["stress_MPa"]
        )
        assert err.line == 10


# ---------------------------------------------------------------------------------------------
# single-valuedness: conflicting stresses


def test_conflict_one_strain_column(tmp_path):
    e, s = curve()
    rows = [list(r) for r in zip(e, s, strict=True)]
    rows.insert(5, [e[4], s[4] + 40.0])  # line 7: same strain as line 6, 40 MPa more (max ~300)
    path = write(tmp_path, table("strain,stress_MPa", rows))
    err = data_error(
        path,
        ["data.csv:7:", "conflicting stresses", "line 6", "line 7"],
        strain=["strain"],
        stress=["stress_MPa"],
    )
    assert err.line == 7


@pytest.mark.parametrize("dense_path", [False, True])
def test_conflict_three_strain_columns(tmp_path, monkeypatch, dense_path):
    if dense_path:
        monkeypatch.setattr(checks, "_EXACT_PAIR_LIMIT", 0)
    rng = np.random.default_rng(4)
    eps = rng.uniform(-0.01, 0.01, size=(14, 3))
    sig = eps @ np.diag([1000.0, 800.0, 400.0])
    rows = [[*a, *b] for a, b in zip(eps, sig, strict=True)]
    rows.append([*(eps[2] * (1 + 1e-5)), *(sig[2] + np.array([0.0, 3.0, 0.0]))])  # line 17 vs line 5
    path = write(tmp_path, "# two paths\n" + table("exx,eyy,gxy,sxx_MPa,syy_MPa,sxy_MPa", rows, fmt="{!r}"))
    kwargs = {"strain": ["exx", "eyy", "gxy"], "stress": ["sxx_MPa", "syy_MPa", "sxy_MPa"]}
    err = data_error(
        path, ["data.csv:17:", "conflicting stresses", "line 5 has (exx, eyy, gxy)", "line 17"], **kwargs
    )
    assert err.line == 17
    for branch in ("all",):
        path = write(
            tmp_path, "# two paths\n" + table("exx,eyy,gxy,sxx_MPa,syy_MPa,sxy_MPa", rows[:-1], fmt="{!r}")
        )
        assert read_curves(path, branch=branch, **kwargs).n_points == 14


def test_conflict_checked_on_loading_branch(tmp_path):
    e = [0.0, 0.01, 0.02, 0.03, 0.03, 0.04, 0.05, 0.06, 0.07, 0.08, 0.09, 0.1]
    s = [300.0 * np.tanh(x / 0.03) for x in e]
    s[4] += 50.0  # line 6 conflicts with line 5
    path = write(tmp_path, table("strain,stress_MPa", zip(e, s, strict=True)))
    data_error(
        path, ["data.csv:6:", "line 5", "line 6"], strain=["strain"], stress=["stress_MPa"], branch="loading"
    )


# ---------------------------------------------------------------------------------------------
# errors: files


def test_missing_file(tmp_path):
    data_error(tmp_path / "nope.csv", ["nope.csv", "no such file"], strain=["e"], stress=["s_MPa"])


def test_directory_instead_of_file(tmp_path):
    data_error(tmp_path, [str(tmp_path), "is a directory"], strain=["e"], stress=["s_MPa"])


@pytest.mark.parametrize(
    ("text", "phrase"),
    [("", "the file is empty"), ("# only\n\n  # comments\n", "only comments and blank lines")],
)
def test_no_header(tmp_path, text, phrase):
    data_error(write(tmp_path, text), ["data.csv", "no header line", phrase], strain=["e"], stress=["s_MPa"])


def test_undecodable_file(tmp_path):
    path = write(tmp_path, b"# strain in \xb5m/m\nstrain,stress_MPa\n0,0\n")
    err = data_error(
        path, ["data.csv:1:", "not valid UTF-8", "0xb5"], strain=["strain"], stress=["stress_MPa"]
    )
    assert err.line == 1
    path = write(tmp_path, b"strain,stress_MPa\n0,0\n1,2\n\xff\xd8\xff\xe0", "latin.csv")
    data_error(path, ["latin.csv:4:", "not valid UTF-8"], strain=["strain"], stress=["stress_MPa"])


def test_binary_and_utf16_files(tmp_path):
    path = write(tmp_path, b"strain,stress_MPa\n0,0\n\x00\x01\x02", "bin.csv")
    data_error(path, ["bin.csv:3:", "binary"], strain=["strain"], stress=["stress_MPa"])
    path = write(tmp_path, "strain,stress_MPa\n0,0\n".encode("utf-16"), "u16.csv")
    data_error(path, ["u16.csv", "UTF-16"], strain=["strain"], stress=["stress_MPa"])


# ---------------------------------------------------------------------------------------------
# errors: header and columns


def test_misspelt_column(tmp_path):
    path = write(tmp_path, "# c\nengineering_strain,engineering_stress_MPa,temp\n0,0\n")
    err = data_error(
        path,
        [
            "data.csv:2:",
            "column 'engineering_stres_MPa'",
            "did you mean 'engineering_stress_MPa'?",
            "The columns are: 'engineering_strain', 'engineering_stress_MPa', 'temp'",
        ],
        strain=["engineering_strain"],
        stress=["engineering_stres_MPa"],
    )
    assert (err.line, err.column) == (2, "engineering_stres_MPa")
    data_error(
        path,
        ["column 'Engineering_Strain'", "did you mean 'engineering_strain'?"],
        strain=["Engineering_Strain"],
        stress=["engineering_stress_MPa"],
    )
    err = data_error(
        path, ["column 'xyz'", "The columns are"], strain=["xyz"], stress=["engineering_stress_MPa"]
    )
    assert "did you mean" not in str(err)


def test_header_commented_out(tmp_path):
    e, s = curve()
    path = tmp_path / "saved.csv"
    np.savetxt(path, np.c_[e, s], delimiter=",", header="strain,stress_MPa")  # writes '# strain,...'
    err = data_error(
        path,
        ["saved.csv:2:", "looks like data", "remove the '#' on line 1"],
        strain=["strain"],
        stress=["stress_MPa"],
    )
    assert err.line == 2


def test_duplicate_header_names(tmp_path):
    path = write(tmp_path, "strain,stress_MPa,strain\n0,0,0\n")
    err = data_error(
        path,
        ["data.csv:1:", "duplicate column name 'strain' (columns 1 and 3)"],
        strain=["strain"],
        stress=["stress_MPa"],
    )
    assert err.column == "strain"


@pytest.mark.parametrize(
    ("sep", "hint"),
    [(";", "--delimiter ';' (API: delimiter=';')"), ("\t", "--delimiter '\\t'"), ("  ", "--delimiter ' '")],
)
def test_wrong_delimiter(tmp_path, sep, hint):
    e, s = curve()
    path = write(
        tmp_path, "# c\n" + table(sep.join(["strain", "stress_MPa"]), zip(e, s, strict=True), sep=sep)
    )
    err = data_error(path, ["data.csv:2:", "single column", hint], strain=["strain"], stress=["stress_MPa"])
    assert err.line == 2


def test_wrong_field_count(tmp_path):
    e, s = curve()
    lines = table("strain,stress_MPa", zip(e, s, strict=True)).splitlines()
    lines[4] = "0.031,100,7"  # line 5
    path = write(tmp_path, "\n".join(lines) + "\n")
    err = data_error(
        path,
        ["data.csv:5:", "row has 3 fields but the header has 2"],
        strain=["strain"],
        stress=["stress_MPa"],
    )
    assert err.line == 5


# ---------------------------------------------------------------------------------------------
# errors: cells


@pytest.mark.parametrize(
    ("cell", "phrase"),
    [
        ("abc", "cannot read 'abc' as a number"),
        ("", "empty cell"),
        ("nan", "NaN value 'nan'"),
        ("inf", "infinite value 'inf'"),
        ("-Infinity", "infinite value '-Infinity'"),
    ],
)
def test_bad_cells(tmp_path, cell, phrase):
    e, s = curve()
    rows = [[repr(a), repr(b)] for a, b in zip(e.tolist(), s.tolist(), strict=True)]
    rows[6][1] = cell  # line 8
    path = write(tmp_path, "strain,stress_MPa,other\n" + "\n".join(f"{a},{b},x" for a, b in rows))
    err = data_error(
        path, ["data.csv:8:", "column 'stress_MPa'", phrase], strain=["strain"], stress=["stress_MPa"]
    )
    assert (err.line, err.column) == (8, "stress_MPa")


def test_bad_cell_in_unselected_column_is_ignored(tmp_path):
    e, s = curve()
    path = write(
        tmp_path, "strain,stress_MPa,other\n" + "".join(f"{a},{b},n/a\n" for a, b in zip(e, s, strict=True))
    )
    assert read_curves(path, strain=["strain"], stress=["stress_MPa"]).n_points == 12


def test_decimal_comma(tmp_path):
    e, s = curve()
    text = "strain;stress_MPa\n" + "".join(
        f"{a:.3f};{b:.2f}\n".replace(".", ",") for a, b in zip(e, s, strict=True)
    )
    err = data_error(
        write(tmp_path, text),
        ["data.csv:2:", "column 'strain'", "'0,000'", "decimal comma", "'0.000'"],
        strain=["strain"],
        stress=["stress_MPa"],
        delimiter=";",
    )
    assert err.line == 2


def test_nonfinite_reported_before_later_row_error(tmp_path):
    path = write(tmp_path, "strain,stress_MPa\n0,0\n0.1,nan\n0.2,1,9\n")
    data_error(path, ["data.csv:3:", "NaN"], strain=["strain"], stress=["stress_MPa"])


def test_nonpositive_stretch(tmp_path):
    path = write(
        tmp_path, "stretch,P_MPa\n1,0\n1.1,0.1\n0,0.2\n" + "".join(f"{1.2 + k / 10},{k}\n" for k in range(10))
    )
    err = data_error(
        path,
        ["data.csv:4:", "column 'stretch'", "stretch 0 is not positive"],
        stretch="stretch",
        stress=["P_MPa"],
    )
    assert (err.line, err.column) == (4, "stretch")


def test_too_few_rows(tmp_path):
    path = good_file(tmp_path, n=5)
    data_error(
        path,
        ["data.csv", "too few data rows: found 5 data rows", "at least 10"],
        strain=["strain"],
        stress=["stress_MPa"],
    )
    assert read_curves(path, strain=["strain"], stress=["stress_MPa"], min_rows=5).n_points == 5
    path = write(tmp_path, "strain,stress_MPa\n", "header_only.csv")
    data_error(path, ["header_only.csv", "found 0 data rows"], strain=["strain"], stress=["stress_MPa"])


def test_constant_strain_column(tmp_path):
    rng = np.random.default_rng(5)
    eps = rng.uniform(-0.01, 0.01, size=(12, 3))
    eps[:, 2] = 0.0
    rows = [[*a, *(a * 1000)] for a in eps]
    path = write(tmp_path, table("exx,eyy,gxy,sxx_MPa,syy_MPa,sxy_MPa", rows, fmt="{!r}"))
    err = data_error(
        path,
        ["data.csv", "column 'gxy'", "all 12 values are equal (0)", "unconstrained"],
        strain=["exx", "eyy", "gxy"],
        stress=["sxx_MPa", "syy_MPa", "sxy_MPa"],
    )
    assert err.column == "gxy"
    path = write(tmp_path, table("strain,stress_MPa", [(0.02, k) for k in range(12)]), "flat.csv")
    data_error(
        path,
        ["flat.csv", "column 'strain'", "all 12 values are equal (0.02)"],
        strain=["strain"],
        stress=["stress_MPa"],
    )


# ---------------------------------------------------------------------------------------------
# errors: units and options


def test_stress_unit_not_inferable(tmp_path):
    e, s = curve()
    path = write(tmp_path, table("strain,sigma,psi,stress_bar", zip(e, s, s, s, strict=True)))
    for name in ("sigma", "psi", "stress_bar"):
        err = data_error(
            path,
            ["data.csv:1:", f"column '{name}'", "--stress-unit", "stress_unit="],
            strain=["strain"],
            stress=[name],
        )
        assert err.column == name


def test_stress_units_disagree(tmp_path):
    e, s = curve()
    path = write(tmp_path, table("strain,s1_MPa,s2_kPa,s3", zip(e, s, s, s, strict=True)))
    data_error(
        path,
        ["data.csv:1:", "different units", "'s1_MPa' in MPa", "'s2_kPa' in kPa"],
        strain=["strain"],
        stress=["s1_MPa", "s2_kPa"],
    )
    data_error(path, ["column 's3'", "--stress-unit"], strain=["strain"], stress=["s1_MPa", "s3"])


def test_strain_unit_errors(tmp_path):
    path = good_file(tmp_path)
    data_error(
        path,
        ["unknown strain unit 'mm'", "'-', '1', 'mm/mm', '%'"],
        strain=["strain"],
        stress=["stress_MPa"],
        strain_unit="mm",
    )
    data_error(
        path,
        ["strain_unit='%' cannot be used with a stretch column"],
        stretch="strain",
        stress=["stress_MPa"],
        strain_unit="%",
    )
    e, s = curve()
    path = write(tmp_path, table("disp_mm,strain_ue,stress_MPa", zip(e, e, s, strict=True)), "u.csv")
    data_error(path, ["u.csv:1:", "column 'disp_mm'", "length"], strain=["disp_mm"], stress=["stress_MPa"])
    data_error(
        path, ["u.csv:1:", "column 'strain_ue'", "microstrain"], strain=["strain_ue"], stress=["stress_MPa"]
    )
    assert read_curves(path, strain=["disp_mm"], stress=["stress_MPa"], strain_unit="-").strain_unit == "-"


def test_option_errors(tmp_path):
    path = good_file(tmp_path)
    base = {"stress": ["stress_MPa"]}
    data_error(path, ["data.csv", "exactly one of strain", "got neither"], **base)
    data_error(path, ["exactly one of strain", "got both"], strain=["strain"], stretch="strain", **base)
    data_error(
        path,
        ["got 2 strain columns", "expected 1 (uniaxial), 3 (plane Voigt", "or 6"],
        strain=["strain", "x"],
        **base,
    )
    data_error(
        path,
        ["column 'strain' is selected both as strain and as stress"],
        strain=["strain"],
        stress=["strain"],
    )
    data_error(
        path,
        ["column 'stress_MPa' is selected twice"],
        strain=["strain"],
        stress=["stress_MPa", "stress_MPa"],
    )
    data_error(path, ["branch must be 'all' or 'loading', got 'up'"], strain=["strain"], branch="up", **base)
    data_error(
        path,
        ["branch='loading'", "needs one strain column; got 3"],
        strain=["a", "b", "c"],
        branch="loading",
        **base,
    )
    data_error(path, ["min_rows must be a positive integer"], strain=["strain"], min_rows=0, **base)
    data_error(path, ["delimiter must be one character"], strain=["strain"], delimiter=",,", **base)


# ----------------------------------------------------------------------------------------------
# decimal commas and units rows (exports from spreadsheets and test machines)


def test_decimal_comma_with_semicolon_delimiter(tmp_path):
    path = tmp_path / "euro.csv"
    rows = "".join(f"{i / 1000:.4f};{2 * i:.2f}\n".replace(".", ",") for i in range(12))
    path.write_text("Dehnung;Spannung_MPa\n" + rows)
    with pytest.raises(DataError, match="--decimal ,"):
        read_curves(path, strain=["Dehnung"], stress=["Spannung_MPa"], delimiter=";")
    data = read_curves(path, strain=["Dehnung"], stress=["Spannung_MPa"], delimiter=";", decimal=",")
    assert data.strain[5, 0] == pytest.approx(0.005)
    assert data.stress[5, 0] == pytest.approx(10.0)
    with pytest.raises(DataError, match="needs another field separator"):
        read_curves(path, strain=["Dehnung"], stress=["Spannung_MPa"], decimal=",")
    with pytest.raises(DataError, match="decimal must be"):
        read_curves(path, strain=["Dehnung"], stress=["Spannung_MPa"], delimiter=";", decimal=":")


def test_a_units_row_gives_the_units(tmp_path):
    path = tmp_path / "export.csv"
    rows = "".join(f"{i / 10:.2f},{2 * i:.1f}\n" for i in range(12))
    path.write_text("Strain,Stress\n%,MPa\n" + rows)
    data = read_curves(path, strain=["Strain"], stress=["Stress"])
    assert data.stress_unit == "MPa"
    assert data.strain_unit == "%"
    assert data.n_points == 12
    assert data.strain[3, 0] == pytest.approx(0.003)  # 0.3 % -> 0.003
    assert int(data.line_numbers[0]) == 3
    assert any("units row" in note for note in data.notes)


def test_a_units_row_with_a_length_or_an_unknown_unit_is_rejected(tmp_path):
    rows = "".join(f"{i / 10:.2f},{2 * i:.1f}\n" for i in range(12))
    path = tmp_path / "length.csv"
    path.write_text("Strain,Stress\nmm,MPa\n" + rows)
    with pytest.raises(DataError, match=r"length.csv:2: column 'Strain': the units row gives 'mm'"):
        read_curves(path, strain=["Strain"], stress=["Stress"])
    path = tmp_path / "unknown.csv"
    path.write_text("Strain,Stress\nmm/mm,furlongs\n" + rows)
    with pytest.raises(DataError, match=r"unknown.csv:2: .*'furlongs' is not a stress unit"):
        read_curves(path, strain=["Strain"], stress=["Stress"])
