"""``fit``'s three files are one set: write errors (full disk) leave the previous set, a kill at any instant
leaves the previous set, an explicitly incomplete one or the new one; ``info`` tells which; temporary
files of a killed run are removed by the next one."""

from __future__ import annotations

import errno
import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from snsurrogate import report
from snsurrogate.cli import main

ROOT = Path(__file__).resolve().parents[1]
AL = ROOT / "data" / "al6061t6_uniaxial_tension_CA-RD-01.csv"
TINY = ["--strain", "engineering_strain", "--stress", "engineering_stress_MPa", "--optimizer", "adam", "--epochs", "5",
        "--hidden", "4,4", "--quiet"]
SUFFIXES = (".pt", ".png", ".json")


def fit(out, capsys, *extra):
    rc = main(["fit", str(AL), *TINY, *extra, "--out", str(out)])
    o, e = capsys.readouterr()
    return rc, o, e


def snapshot(stem: Path) -> dict[str, bytes]:
    return {s: (stem.parent / (stem.name + s)).read_bytes() for s in SUFFIXES
            if (stem.parent / (stem.name + s)).exists()}


def temporaries(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp"))


@pytest.fixture(scope="module")
def previous(tmp_path_factory):
    """A folder with a complete set from an earlier fit (seed 0)."""
    folder = tmp_path_factory.mktemp("prev")
    assert main(["fit", str(AL), *TINY, "--out", str(folder / "m")]) == 0
    return folder


@pytest.mark.parametrize("failing", [1, 2, 3, 4])
def test_a_full_disk_at_each_write_is_an_error_that_keeps_the_previous_set(tmp_path, capsys, monkeypatch, previous,
                                                                          failing):
    for s in SUFFIXES:
        shutil.copy2(previous / f"m{s}", tmp_path / f"m{s}")
    before = snapshot(tmp_path / "m")
    calls = []
    real = report._write_file

    def full(tmp, data):
        calls.append(tmp)
        if len(calls) == failing:
            with open(tmp, "wb") as fh:  # a part of the bytes reached the disk
                fh.write(data[: len(data) // 2])
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(tmp))
        real(tmp, data)

    monkeypatch.setattr(report, "_write_file", full)
    rc, _, err = fit(tmp_path / "m", capsys, "--seed", "1")
    # writes: 1 the model, 2 the plot, 3 the summary (all to temporary files), 4 the 'incomplete' record
    name = {1: "m.pt", 2: "m.png", 3: "m.json", 4: "m.json"}[failing]
    assert rc == 2
    assert err == f"error: cannot write {tmp_path / name}: No space left on device\n", err
    assert snapshot(tmp_path / "m") == before  # the previous set, untouched
    assert temporaries(tmp_path) == []
    assert report.output_set_status(tmp_path / "m.pt").status == "complete"


def test_a_real_full_file_system(tmp_path, capsys):
    """A 64 KiB tmpfs: the model fits, the plot does not."""
    if os.geteuid() != 0 or not shutil.which("mount"):
        pytest.skip("needs root to mount a tmpfs")
    mnt = tmp_path / "small"
    mnt.mkdir()
    res = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(mnt)], capture_output=True)
    if res.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs: {res.stderr.decode(errors='replace').strip()}")
    try:
        rc, _, err = fit(mnt / "m", capsys)
        assert rc == 2
        assert err.startswith("error: cannot write ") and "No space left on device" in err, err
        assert "Traceback" not in err
        assert sorted(p.name for p in mnt.iterdir()) == []  # nothing half-written, no temporary files
    finally:
        subprocess.run(["umount", str(mnt)], check=False)


def test_info_tells_a_complete_set_from_a_mixed_or_incomplete_one(tmp_path, capsys, previous):
    for s in SUFFIXES:
        shutil.copy2(previous / f"m{s}", tmp_path / f"m{s}")
    assert main(["info", str(tmp_path / "m.pt")]) == 0
    out, err = capsys.readouterr()
    assert "output set                  complete: m.pt, m.json and m.png are one fit (SHA-256 checked)" in out
    assert err == ""
    assert "strain range                1.76066e-06 .. 0.170369 [-] (engineering strain)" in out

    # another run's plot beside it: mixed
    (tmp_path / "m.png").write_bytes((tmp_path / "m.png").read_bytes() + b"other run")
    assert main(["info", str(tmp_path / "m.pt")]) == 1
    out, err = capsys.readouterr()
    assert "mixed: files from different runs: m.png is not the file m.json was written with" in out
    assert err.startswith(f"warning: {tmp_path / 'm.pt'}: mixed output set")
    assert main(["info", str(tmp_path / "m.pt"), "--json"]) == 1
    assert json.loads(capsys.readouterr().out)["output_set"]["status"] == "mixed"

    # the record a killed fit leaves: incomplete
    report.write_text(tmp_path / "m.json", json.dumps({"output_set": {"status": "incomplete"}}))
    assert main(["info", str(tmp_path / "m.pt")]) == 1
    out, _ = capsys.readouterr()
    assert "incomplete: " in out and "did not finish" in out

    # a summary of an older version (no checksums): unverified, not an error; no summary: none
    (tmp_path / "m.json").write_text(json.dumps({"rmse": 1.0}))
    assert main(["info", str(tmp_path / "m.pt")]) == 0
    assert "unverified: m.json records no checksums" in capsys.readouterr().out
    (tmp_path / "m.json").unlink()
    assert main(["info", str(tmp_path / "m.pt")]) == 0
    assert "output set                  none: no m.json beside it" in capsys.readouterr().out


def test_the_next_fit_removes_temporary_files_of_a_killed_one(tmp_path, capsys):
    stale = [tmp_path / ".m.pt.a1b2c3d4.tmp", tmp_path / ".m.json.zz_9yy8x.tmp", tmp_path / ".m.png.00000000.tmp"]
    others = [tmp_path / ".other.pt.a1b2c3d4.tmp", tmp_path / ".m.pt.tmp", tmp_path / "notes.txt"]
    for p in stale + others:
        p.write_text("left by a killed run")
    rc, _, err = fit(tmp_path / "m", capsys)
    assert rc == 0, err
    assert not any(p.exists() for p in stale)
    assert all(p.exists() for p in others)  # only this set's temporaries, in fem.atomic's naming


KILLER = textwrap.dedent("""
    import json, os, random, signal, sys, time
    from pathlib import Path
    from snsurrogate import read_curves, fit, report
    from snsurrogate.report import output_paths, output_set_status

    out, csv, rounds = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3])
    data = read_curves(csv, strain="engineering_strain", stress="engineering_stress_MPa")
    models = [fit(data, optimizer="adam", epochs=5, hidden=(4, 4), seed=s, progress=False) for s in (0, 1)]
    pngs = [report.plot_png(m, data.strain, data.stress) for m in models]
    # In the children only: the plot is drawn once per model above, and every write and rename sleeps 20 ms,
    # so that random kill instants fall all over the (otherwise ~1 ms) writing phase.
    report.plot_png = lambda model, strain, stress: pngs[models.index(model)]
    real_write, real_replace = report._write_file, os.replace
    def slow_write(tmp, data_):
        time.sleep(0.02); real_write(tmp, data_); time.sleep(0.02)
    def slow_replace(a, b):
        time.sleep(0.02); real_replace(a, b); time.sleep(0.02)
    report._write_file = slow_write
    os.replace = slow_replace
    names = output_paths(out)

    def digest():
        return {p.suffix: (p.read_bytes() if p.exists() else None) for p in names}

    sets = []  # the complete sets, by model index
    for k in range(2):
        report.write_outputs(models[k], data.strain, data.stress, out)
        sets.append(digest())
    rng = random.Random(1)
    current, records = 1, []
    for i in range(rounds):
        new = 1 - current
        delay = rng.uniform(0.0, 0.30)
        pid = os.fork()
        if pid == 0:  # the child: write the other model's set, and be killed
            try:
                report.write_outputs(models[new], data.strain, data.stress, out)
            finally:
                os._exit(0)
        time.sleep(delay)
        os.kill(pid, signal.SIGKILL)
        _, status = os.waitpid(pid, 0)
        now = digest()
        left = sorted(p.name for p in out.parent.iterdir() if p.name.endswith(".tmp"))
        kind = ("old" if now == sets[current] else "new" if now == sets[new] else
                "incomplete" if now[".json"] is not None and b'"incomplete"' in now[".json"] else "MIX")
        state = output_set_status(names[0]).status
        records.append({"delay": delay, "killed": os.WIFSIGNALED(status), "kind": kind, "info": state,
                        "temporaries": left})
        if kind == "new":
            current = new
        elif kind == "incomplete":  # neither set is whole now: the next complete run repairs it, as a new fit would
            report.write_outputs(models[0], data.strain, data.stress, out)
            current = 0
            assert not [p for p in out.parent.iterdir() if p.name.endswith(".tmp")]
    report.write_outputs(models[0], data.strain, data.stress, out)  # a last, complete run
    final = {"info": output_set_status(names[0]).status,
             "temporaries": sorted(p.name for p in out.parent.iterdir() if p.name.endswith(".tmp"))}
    print(json.dumps({"records": records, "final": final}))
""")


def test_killing_fit_while_it_writes_never_leaves_a_mixed_set(tmp_path):
    """A real process is killed (SIGKILL) at random instants of its writing phase, 20 times: each time the files
    are the previous complete set, an incomplete one that says so, or the new complete set; ``info`` agrees; and
    the temporary files a kill leaves are gone after the next run."""
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    res = subprocess.run([sys.executable, "-c", KILLER, str(tmp_path / "m"), str(AL), "20"], cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr[-3000:]
    result = json.loads(res.stdout.strip().splitlines()[-1])
    records = result["records"]
    info_of = {"old": "complete", "new": "complete", "incomplete": "incomplete"}
    for r in records:
        assert r["kind"] != "MIX", r
        assert r["info"] == info_of[r["kind"]], r
    kinds = {r["kind"] for r in records}
    assert {"old", "incomplete"} <= kinds, records  # the kills did fall before and inside the commit
    assert sum(r["killed"] for r in records) >= len(records) - 3, records
    assert any(r["temporaries"] for r in records), records  # kills left temporary files ...
    # ... which the next run removed (the loop checks after each repair, here after a last complete run)
    assert result["final"] == {"info": "complete", "temporaries": []}, result["final"]
    assert temporaries(tmp_path) == []
