"""The command line, driven through main(argv): outputs, messages, and bad input (exit 2, no traceback)."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch

import snsurrogate
from snsurrogate.cli import main

DATA = Path(__file__).resolve().parents[1] / "data"
AL = DATA / "al6061t6_uniaxial_tension_CA-RD-01.csv"
TRELOAR = DATA / "treloar1944_uniaxial_tension.csv"
QUICK = ["--epochs", "40", "--hidden", "8,8", "--quiet"]


def run(argv, capsys):
    rc = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return rc, out, err


def test_fit_writes_model_summary_and_plot(tmp_path, capsys):
    rc, out, err = run(["fit", AL, "--strain", "engineering_strain", "--stress", "engineering_stress_MPa",
                        *QUICK, "--out", tmp_path / "al.pt"], capsys)
    assert rc == 0, err
    for suffix in (".pt", ".json", ".png"):
        assert (tmp_path / f"al{suffix}").is_file()
    assert (tmp_path / "al.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    summary = json.loads((tmp_path / "al.json").read_text())
    for key in ("lipschitz_bound", "lipschitz_empirical", "rmse", "r2", "n_points", "seconds"):
        assert key in summary, key
    assert summary["n_points"] == 300
    assert summary["units"]["lipschitz_bound"] == "MPa per unit strain"
    assert summary["units"]["rmse"] == "MPa"
    assert summary["lipschitz_bound"] >= summary["lipschitz_empirical"]
    assert "stress unit 'MPa' taken from the column name" in out
    assert "certified bound L" in out and "MPa per unit strain" in out

    rc, out, err = run(["info", tmp_path / "al.pt"], capsys)
    assert rc == 0, err
    assert "spectrally normalized" in out and "engineering_stress_MPa [MPa]" in out
    assert f"{summary['lipschitz_bound']:.6g} MPa per unit strain" in out
    model = snsurrogate.load(tmp_path / "al.pt")
    e0 = float(model.tangent(torch.zeros(1, 1, dtype=model.dtype))[0, 0, 0])
    assert 0 < e0 <= summary["lipschitz_bound"] * (1 + 1e-9)
    assert "initial modulus" in out and f"{e0:.6g} MPa per unit strain (the tangent at zero strain)" in out
    assert "unloads along its loading curve" in out
    rc, out, _ = run(["info", tmp_path / "al.pt", "--json"], capsys)
    assert json.loads(out)["units"]["stress"] == "MPa"


def test_fit_from_a_stretch_column_unconstrained(tmp_path, capsys):
    rc, out, err = run(["fit", TRELOAR, "--stretch", "stretch", "--stress", "nominal_stress_MPa", "--unconstrained",
                        "--lipschitz", "5", *QUICK, "--out", tmp_path / "rubber"], capsys)
    assert rc == 0, err
    summary = json.loads((tmp_path / "rubber.json").read_text())
    assert summary["constrained"] is False and summary["n_points"] == 25
    assert "unconstrained" in out


def test_loading_branch_option_on_a_cyclic_test(tmp_path, capsys):
    cyclic = DATA / "synthetic_cyclic_1d.csv"
    rc, _, err = run(["fit", cyclic, "--strain", "strain", "--stress", "stress_MPa", *QUICK, "--out", tmp_path / "c"],
                     capsys)
    assert rc == 2
    assert "unloading starts at line" in err and "--branch loading" in err
    rc, out, err = run(["fit", cyclic, "--strain", "strain", "--stress", "stress_MPa", "--branch", "loading", *QUICK,
                        "--out", tmp_path / "c"], capsys)
    assert rc == 0, err
    assert json.loads((tmp_path / "c.json").read_text())["n_points"] == 101


def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text)
    return path


GOOD = "strain,stress_MPa\n" + "".join(f"{i / 1000},{2 * i}\n" for i in range(12))


@pytest.mark.parametrize(
    "make, columns, expected",
    [
        (lambda p: p / "missing.csv", ["strain", "stress_MPa"], ["missing.csv", "no such file"]),
        (lambda p: write(p, "typo.csv", GOOD), ["strian", "stress_MPa"], ["typo.csv", "did you mean 'strain'"]),
        (lambda p: write(p, "text.csv", GOOD.replace("0.005,10", "0.005,ten")), ["strain", "stress_MPa"],
         ["text.csv:7", "stress_MPa", "'ten'"]),
        (lambda p: write(p, "empty.csv", GOOD.replace("0.005,10", "0.005,")), ["strain", "stress_MPa"],
         ["empty.csv:7", "empty cell"]),
        (lambda p: write(p, "nan.csv", GOOD.replace("0.005,10", "0.005,nan")), ["strain", "stress_MPa"],
         ["nan.csv:7", "NaN"]),
        (lambda p: write(p, "semi.csv", GOOD.replace(",", ";")), ["strain", "stress_MPa"],
         ["semi.csv", "--delimiter ';'"]),
        (lambda p: write(p, "few.csv", "strain,stress_MPa\n0,0\n0.1,1\n"), ["strain", "stress_MPa"],
         ["few.csv", "too few data rows"]),
        (lambda p: write(p, "const.csv", "strain,stress_MPa\n" + "0.01,1\n" * 12), ["strain", "stress_MPa"],
         ["const.csv", "all 12 values are equal"]),
        (lambda p: write(p, "nounit.csv", GOOD.replace("stress_MPa", "sigma")), ["strain", "sigma"],
         ["nounit.csv", "--stress-unit"]),
    ],
)
def test_bad_input_gives_a_located_error_and_exit_status_2(tmp_path, capsys, make, columns, expected):
    path = make(tmp_path)
    out_stem = tmp_path / "model"
    (tmp_path / "model.pt").write_bytes(b"an earlier model")
    rc, out, err = run(["fit", path, "--strain", columns[0], "--stress", columns[1], *QUICK, "--out", out_stem], capsys)
    assert rc == 2
    assert err.startswith("error: ")
    assert "Traceback" not in err
    for fragment in expected:
        assert fragment in err, (fragment, err)
    assert (tmp_path / "model.pt").read_bytes() == b"an earlier model"  # nothing the user had is lost


def test_bad_options_are_usage_errors(tmp_path, capsys):
    with pytest.raises(SystemExit) as exc:
        main(["fit", str(AL), "--strain", "engineering_strain", "--stress", "engineering_stress_MPa",
              "--lipschitz", "steep", "--out", str(tmp_path / "m")])
    assert exc.value.code == 2
    assert "expected 'auto' or a positive number" in capsys.readouterr().err


def test_info_on_a_corrupt_model_is_a_clear_error(tmp_path, capsys):
    bad = write(tmp_path, "bad.pt", "garbage")
    rc, _, err = run(["info", bad], capsys)
    assert rc == 2 and "bad.pt" in err and "Traceback" not in err


def test_python_dash_m_entry_point():
    proc = subprocess.run([sys.executable, "-m", "snsurrogate", "--version"], capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0
    assert proc.stdout.startswith("snsurrogate ")


@pytest.mark.parametrize("hidden", [["8,8"], ["8", "8"], ["8,", "8"], ["8x8"]])
def test_hidden_widths_have_one_syntax_in_fit_and_demo(hidden):
    from snsurrogate.cli import build_parser

    fit_args = build_parser("fit").parse_args(["fit", "d.csv", "--strain", "e", "--stress", "s", "--hidden", *hidden,
                                               "--out", "m"])
    demo_args = build_parser("demo").parse_args(["demo", "--out", "o", "--hidden", *hidden])
    assert fit_args.hidden == demo_args.hidden == (8, 8)


def test_bad_hidden_widths_are_usage_errors(tmp_path, capsys):
    for bad in (["8,0"], ["8", "x"], ["eight"]):
        with pytest.raises(SystemExit) as exc:
            main(["fit", str(AL), "--strain", "engineering_strain", "--stress", "engineering_stress_MPa", "--hidden",
                  *bad, "--out", str(tmp_path / "m")])
        assert exc.value.code == 2
        assert "expected a positive integer for each width (like 32,32,32 or 32 32 32)" in capsys.readouterr().err


def test_polish_epochs_0_points_to_optimizer_adam(tmp_path, capsys):
    rc, _, err = run(["fit", AL, "--strain", "engineering_strain", "--stress", "engineering_stress_MPa",
                      "--polish-epochs", "0", *QUICK, "--out", tmp_path / "m"], capsys)
    assert rc == 2
    assert err == "error: --polish-epochs must be at least 1, got 0; to train without the L-BFGS polish, use " \
                  "--optimizer adam\n"
    assert not (tmp_path / "m.pt").exists()
    # with --optimizer adam there is no polish, and 0 is no error
    rc, _, err = run(["fit", AL, "--strain", "engineering_strain", "--stress", "engineering_stress_MPa",
                      "--polish-epochs", "0", "--optimizer", "adam", "--epochs", "5", "--hidden", "4", "--quiet",
                      "--out", tmp_path / "m"], capsys)
    assert rc == 0, err


@pytest.mark.parametrize("argv", [["--help"], ["fit", "--help"], ["info", "MODEL", "--json"]])
def test_a_closed_stdout_ends_quietly(tmp_path, argv):
    """``snsurrogate ... | head``: the reader went away before the output was written; no BrokenPipeError."""
    if argv[0] == "info":
        assert main(["fit", str(AL), "--strain", "engineering_strain", "--stress", "engineering_stress_MPa",
                     "--optimizer", "adam", "--epochs", "5", "--hidden", "4", "--quiet", "--out",
                     str(tmp_path / "m")]) == 0
        argv = ["info", str(tmp_path / "m.pt"), "--json"]
    proc = subprocess.Popen([sys.executable, "-m", "snsurrogate", *argv], cwd=Path(__file__).resolve().parents[1],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    proc.stdout.close()  # like `head` that has read enough
    err = proc.stderr.read().decode()
    proc.wait(timeout=120)
    assert "Traceback" not in err and "BrokenPipeError" not in err and "Exception ignored" not in err, err
    # 1 after a BrokenPipeError (the Python documentation's recipe); argparse itself ignores a failed write of --help
    assert proc.returncode == (1 if argv[0] == "info" else 0), err
