"""The frame schedule, the history records and the observer dispatch of a run (fem.schedule)."""

import math

import pytest

from fem.errors import InputError
from fem.schedule import DEFAULT_FRAMES, Observer, Observers, ProgressBar, Schedule


def test_output_every_writes_multiples_and_the_last_step():
    assert sorted(Schedule(10, output_every=3).frames) == [3, 6, 9, 10]
    assert sorted(Schedule(9, output_every=3).frames) == [3, 6, 9]
    assert sorted(Schedule(2, output_every=5).frames) == [2]
    assert sorted(Schedule(7, output_every=1).frames) == list(range(1, 8))


def test_n_frames_are_evenly_spaced_with_the_last_at_the_end():
    assert sorted(Schedule(100, n_frames=4).frames) == [25, 50, 75, 100]
    assert sorted(Schedule(10, n_frames=3).frames) == [4, 7, 10]
    s = Schedule(1000)
    assert len(s.frames) == DEFAULT_FRAMES and max(s.frames) == 1000 and min(s.frames) == 50
    assert sorted(Schedule(1000, n_frames=0).frames) == sorted(s.frames)  # 0 / None: the default


def test_more_frames_than_steps_writes_every_step_once():
    assert sorted(Schedule(5, n_frames=50).frames) == [1, 2, 3, 4, 5]
    assert sorted(Schedule(1, n_frames=3).frames) == [1]


@pytest.mark.parametrize("n, k", [(7, 3), (1234, 20), (20001, 19), (3, 2)])
def test_the_schedule_is_the_former_formula(n, k):
    assert Schedule(n, n_frames=k).frames == {math.ceil(i * n / k) for i in range(1, k + 1)}
    assert Schedule(n, n_frames=k).is_frame(n)


@pytest.mark.parametrize("n, points", [(10, 20000), (50_000, 20000), (40_000, 20000), (7, 3), (1, 1)])
def test_records_every_record_th_step_and_the_last(n, points):
    s = Schedule(n, history_points=points)
    assert s.record == max(1, n // points)
    recorded = [k for k in range(1, n + 1) if s.records(k)]
    assert recorded[-1] == n
    assert all(k % s.record == 0 for k in recorded[:-1])
    assert s.n_records == 1 + len(recorded)


@pytest.mark.parametrize("kwargs", [{"output_every": 0}, {"output_every": 2.5}, {"n_frames": -1},
                                    {"history_points": 0}])
def test_bad_values_are_refused(kwargs):
    with pytest.raises(InputError):
        Schedule(10, **kwargs)


def test_observers_call_only_the_methods_an_object_has():
    calls = []

    class Frames:
        def frame(self, step, t, u, v, eps, sig):
            calls.append(("frame", step))

    class All(Observer):
        def history(self, history):
            calls.append(("history", len(history)))

    assert not Observers([Frames(), object()]).wants_progress
    assert not Observers([All()]).wants_progress  # the do-nothing defaults are not called
    obs = Observers([Frames(), All(), object()])
    assert obs.wants_frames
    obs.start(3, 0.1)
    obs.frame(2, 0.2, None, None, None, None)
    obs.history({"time": []})
    obs.progress(100, 1.0)
    obs.close()
    assert calls == [("frame", 2), ("history", 1)]


def test_close_reaches_every_observer_even_if_one_fails():
    closed = []

    class Bad:
        def close(self):
            raise OSError("disk full")

    class Good:
        def close(self):
            closed.append(True)

    with pytest.raises(OSError, match="disk full"):
        Observers([Bad(), Good()]).close()
    assert closed == [True]


def test_the_progress_bar_is_an_observer():
    bar = ProgressBar()
    obs = Observers([bar])
    assert obs.wants_progress
    obs.start(250, 1e-3)
    obs.progress(100, 0.1)
    obs.progress(200, 0.2)
    assert bar.bar.n == 200
    obs.close()
    assert bar.bar is None
