"""A run's outputs are one set: a rerun replaces the whole folder, a killed run (real processes, ``kill -9``)
leaves the earlier complete run or a marked incomplete folder beside it, never a mix; user files are never
deleted; the history's kinetic energy at t = 0 is explained; dict cases get a useful name."""

from __future__ import annotations

import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest
import torch

import fem.output as fem_output
from fem.atomic import remove_stale_temporaries, write_text
from fem.errors import InputError
from fem.output import MARKER, RunFolder, is_run_folder
from snsurrogate.cli import main
from snsurrogate.simulation import simulate

ROOT = Path(__file__).resolve().parents[1]

BAR = """\
[units]
length = "mm"
time = "s"
stress = "MPa"

[mesh]
generate = "line"
length = 10.0
divisions = {divisions}

[material]
type = "linear"
E = 200000.0
density = 7.85e-9

[[boundary]]
name = "clamp"
type = "fixed"
nodes = {{ group = "left" }}

[[boundary]]
name = "pull"
type = "velocity"
nodes = {{ group = "right" }}
value = [100.0]

[time]
end = {end}

[output]
frames = {frames}
progress = false
"""


def bar(tmp_path: Path, frames: int, end: float = 2.0e-6, divisions: int = 10, name: str = "bar.toml") -> Path:
    path = tmp_path / name
    path.write_text(BAR.format(frames=frames, end=end, divisions=divisions))
    return path


def dead_pid() -> int:
    """The pid of a process that has ended."""
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def listed_frames(out: Path) -> set[str]:
    return set(re.findall(r'file="([^"]+)"', (out / "results.pvd").read_text()))


def frames_on_disk(out: Path) -> set[str]:
    return {f"frames/{p.name}" for p in (out / "frames").iterdir()}


def assert_complete(out: Path) -> dict:
    """``out`` holds one complete run: a summary, a history, and exactly the frames the collection lists."""
    s = json.loads((out / "summary.json").read_text())
    assert (out / "history.csv").is_file() and not (out / MARKER).exists()
    assert frames_on_disk(out) == listed_frames(out) and len(listed_frames(out)) == s["frames"]
    assert not list(out.rglob(".*.tmp"))
    return s


def siblings(out: Path) -> list[Path]:
    return sorted(p for p in out.parent.iterdir() if p.name.startswith(out.name + "."))


def test_a_rerun_replaces_the_whole_set(tmp_path):
    out = tmp_path / "run"
    first = simulate(bar(tmp_path, frames=12), out)
    assert assert_complete(out)["frames"] == 13 and first.out_dir == out
    second = simulate(bar(tmp_path, frames=3), out)
    s = assert_complete(out)
    assert s["frames"] == 4 == second.summary["frames"]  # no frame of the first run is left
    assert siblings(out) == []  # nor any staging folder


def test_an_output_folder_with_user_files_is_refused_and_kept(tmp_path, capsys):
    out = tmp_path / "results"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    with pytest.raises(InputError, match="not a run folder") as info:
        simulate(bar(tmp_path, frames=2), out)
    assert info.value.parameter == "out_dir"
    assert (out / "notes.txt").read_text() == "mine" and sorted(p.name for p in out.iterdir()) == ["notes.txt"]
    assert siblings(out) == []
    rc = main(["simulate", str(bar(tmp_path, frames=2)), "--out", str(out), "--quiet"])
    err = capsys.readouterr().err
    assert rc == 2 and "not a run folder" in err and "nothing was written" in err and "Traceback" not in err
    (out / "notes.txt").unlink()
    (out / "frames").mkdir()
    (out / "frames" / "picture.png").write_bytes(b"x")  # not a frame either
    assert not is_run_folder(out)
    (out / "frames" / "picture.png").unlink()
    assert is_run_folder(out)  # an empty frames folder: nothing to lose
    simulate(bar(tmp_path, frames=2), out)
    assert_complete(out)


def test_the_next_run_removes_what_killed_runs_left(tmp_path):
    out = tmp_path / "run"
    simulate(bar(tmp_path, frames=2), out)
    pid = dead_pid()
    stale = tmp_path / f"run.incomplete-{pid}"
    (stale / "frames").mkdir(parents=True)
    (stale / MARKER).write_text("{}")
    (stale / "frames" / "frame_00000000.vtu").write_text("partial")
    (tmp_path / f"run.replaced-{pid}").mkdir()
    tmp = out / f".summary.json.{pid}.abcd1234.tmp"
    tmp.write_text("{")
    other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])  # a run in progress elsewhere
    try:
        running = tmp_path / f"run.incomplete-{other.pid}"
        running.mkdir()
        simulate(bar(tmp_path, frames=3), out)
        assert assert_complete(out)["frames"] == 4
        assert not stale.exists() and not (tmp_path / f"run.replaced-{pid}").exists()
        assert siblings(out) == [running]  # that of a live process is left alone
    finally:
        other.kill()
        other.wait()


def test_temporaries_of_running_processes_are_kept(tmp_path):
    mine = tmp_path / f".a.txt.{os.getpid()}.x1y2.tmp"
    gone = tmp_path / f".a.txt.{dead_pid()}.x1y2.tmp"
    other = tmp_path / ".a.txt.tmp"  # not a name this module writes
    for p in (mine, gone, other):
        p.write_text("")
    assert remove_stale_temporaries(tmp_path) == [gone]
    assert mine.exists() and other.exists()
    write_text(tmp_path / "b.txt", "b")
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([mine.name, other.name, "b.txt"])


def test_a_crash_between_the_two_renames_is_recovered(tmp_path, monkeypatch):
    """Without an atomic exchange the swap is two renames; a crash between them leaves no ``out`` but a
    complete new run and the earlier one beside it: the next run puts the new one in place."""
    out = tmp_path / "run"
    simulate(bar(tmp_path, frames=2), out)
    monkeypatch.setattr(fem_output, "_exchange", lambda a, b: False)
    real_rename, calls = os.rename, []

    def crash_on_second(a, b):
        calls.append((a, b))
        if len(calls) == 2:
            raise KeyboardInterrupt  # the process dies here
        real_rename(a, b)

    monkeypatch.setattr(os, "rename", crash_on_second)
    with pytest.raises(KeyboardInterrupt):
        simulate(bar(tmp_path, frames=5), out)
    monkeypatch.setattr(os, "rename", real_rename)
    assert not out.exists()
    pid, gone = os.getpid(), dead_pid()  # make the leftovers those of a process that has ended
    for kind in ("incomplete", "replaced"):
        os.rename(tmp_path / f"run.{kind}-{pid}", tmp_path / f"run.{kind}-{gone}")
    assert (tmp_path / f"run.incomplete-{gone}" / "summary.json").is_file()  # complete, and newer
    folder = RunFolder(out)
    assert folder.recovered == tmp_path / f"run.incomplete-{gone}"
    assert assert_complete(out)["frames"] == 6  # the newer complete run is in place
    assert siblings(out) == [folder.staging]
    shutil.rmtree(folder.staging)


def test_an_interrupted_run_leaves_the_earlier_one_and_a_marked_incomplete_folder(tmp_path, monkeypatch):
    out = tmp_path / "run"
    before = assert_complete(simulate(bar(tmp_path, frames=2), out).out_dir)

    def interrupted(self, step, t, *args):
        if step > 0:
            raise KeyboardInterrupt

    monkeypatch.setattr(fem_output.OutputWriter, "frame", interrupted)
    with pytest.raises(KeyboardInterrupt):
        simulate(bar(tmp_path, frames=5), out)
    assert assert_complete(out) == before
    (staging,) = siblings(out)
    marker = json.loads((staging / MARKER).read_text())
    assert staging.name == f"run.incomplete-{os.getpid()}" and not (staging / "summary.json").exists()
    assert marker["pid"] == os.getpid() and marker["status"].startswith("stopped: KeyboardInterrupt")
    assert marker["case"].endswith("bar.toml")


# ---------------------------------------------------------------------------------------------- kill -9
def _state(out: Path) -> dict[str, bytes]:
    return {str(p.relative_to(out)): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}


def _check_after_kill(out: Path, old: dict[str, bytes]) -> str:
    """The invariant after a ``kill -9``: ``out`` is the earlier run untouched or a new complete run, and
    every sibling is a folder named incomplete whose summary, if any, sits beside all its frames."""
    assert out.is_dir(), "no output folder"  # the exchange is atomic: out is always there
    if _state(out) == old:
        what = "old"
    else:
        s = assert_complete(out)
        assert s["frames"] == 31 and (out / "summary.json").read_bytes() != old["summary.json"]
        what = "new"
    for sib in siblings(out):
        assert re.fullmatch(r"run\.(incomplete|replaced)-\d+", sib.name), sib.name
        if (sib / "summary.json").exists():  # complete: just before the swap, or the earlier run being deleted
            assert listed_frames(sib) <= frames_on_disk(sib)
        else:
            assert not (sib / "results.pvd").exists() or listed_frames(sib) <= frames_on_disk(sib) | {""}
    return what


def test_kill_9_at_random_instants_never_leaves_a_mix(tmp_path):
    case = bar(tmp_path, frames=30, end=2.0e-5, divisions=40)  # about 2,300 steps and 31 frames
    template = tmp_path / "template"
    simulate(bar(tmp_path, frames=4, name="old.toml"), template)
    old = _state(template)
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    cmd = [sys.executable, "-m", "snsurrogate", "simulate", str(case), "--quiet", "--out"]
    rng = random.Random(10)

    def trial(k: int, delay: float | None, record: dict) -> None:
        out = tmp_path / f"t{k}" / "run"
        shutil.copytree(template, out)
        t0 = time.monotonic()
        proc = subprocess.Popen(cmd + [str(out)], env=env, cwd=tmp_path, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
        staged = None
        while proc.poll() is None and staged is None:  # wait until the run writes
            if siblings(out):
                staged = time.monotonic()
            time.sleep(0.002)
        if delay is not None and proc.poll() is None:
            time.sleep(delay)
            proc.send_signal(signal.SIGKILL)
        proc.wait()
        record.update(k=k, staged=staged, done=time.monotonic(), start=t0, rc=proc.returncode, out=out)

    t0 = time.perf_counter()
    simulate(case, tmp_path / "scratch")  # how long the writing lasts, here
    writing = 1.5 * (time.perf_counter() - t0) + 0.1
    delays = [None] + [rng.uniform(0, writing) for _ in range(6)]  # one run is let finish
    records = [{} for _ in delays]
    for wave in (range(0, 4), range(4, len(delays))):  # a few at a time: each start imports torch
        threads = [threading.Thread(target=trial, args=(k, delays[k], records[k])) for k in wave]
        for th in threads:
            th.start()
        for th in threads:
            th.join(120)
    assert records[0]["rc"] == 0 and _check_after_kill(records[0]["out"], old) == "new"
    seen, cut = [], 0
    for r in records:
        seen.append(_check_after_kill(r["out"], old))
        if r["rc"] == -signal.SIGKILL and seen[-1] == "old" and r["staged"] is not None:
            assert siblings(r["out"]), "a run killed while writing left no marked incomplete folder"
            cut += 1
            assert all((s / MARKER).is_file() or (s / "summary.json").is_file() for s in siblings(r["out"]))
        simulate(case, r["out"])  # the next run clears what the killed one left
        assert assert_complete(r["out"])["frames"] == 31 and siblings(r["out"]) == []
    assert cut >= 1, seen  # most kills fall while the run writes


# ---------------------------------------------------------------------------------------------- small ones
def test_a_dict_case_is_named_after_its_output_folder_or_as_asked(tmp_path):
    import tomllib

    raw = tomllib.loads(bar(tmp_path, frames=2).read_text())
    assert simulate(raw, tmp_path / "bar_pull").summary["case"] == "bar_pull"
    assert json.loads((tmp_path / "bar_pull" / "summary.json").read_text())["case"] == "bar_pull"
    s = simulate(raw, tmp_path / "x", name="pull test").summary
    assert s["case"] == "pull test"
    assert simulate(bar(tmp_path, frames=2), tmp_path / "y").summary["case"] == str(tmp_path / "bar.toml")


def test_the_kinetic_energy_at_t0_under_a_load_is_the_central_difference_one_and_explained(tmp_path):
    text = bar(tmp_path, frames=2).read_text().replace('type = "velocity"', 'type = "force"').replace(
        "value = [100.0]", "value = [50.0]")
    case = tmp_path / "pulled.toml"
    case.write_text(text)
    res = simulate(case, tmp_path / "out")
    lines = (tmp_path / "out" / "history.csv").read_text().splitlines()
    assert lines[1] == fem_output.KINETIC_NOTE and "negative" in lines[1] and lines[2].startswith("time,kinetic")
    k0 = float(lines[3].split(",")[1])
    # independently: 1/2 v0.M v0 - dt^2/8 a0.M a0 with v0 = 0 and a0 = M^-1 f at the loaded node
    from snsurrogate.case import load_case
    from snsurrogate.case.build import build

    solver = build(load_case(case)).solver
    dt, m = res.summary["dt"], solver.m_dof
    a0 = torch.zeros_like(m)
    a0[-1] = 50.0 / m[-1]
    assert k0 < 0 and k0 == pytest.approx(float(-dt**2 / 8 * (a0 * m * a0).sum()), rel=1e-9)
    assert res.summary["energy_error"] < 1e-9  # the balance closes on that form, unchanged
    assert np.isclose(res.history["kinetic"][0], k0, rtol=1e-9)
