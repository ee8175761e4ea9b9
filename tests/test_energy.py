"""The energy ledger (fem.energy): the balance error, the warning, runaway and non-finite detection."""

from types import SimpleNamespace

import numpy as np
import pytest
import torch

from fem.energy import ENERGY_KEYS, EnergyLedger, energy_balance_error
from fem.errors import InstabilityError


def test_balance_error_on_a_hand_made_history():
    history = {
        "time": np.array([0.0, 1.0, 2.0, 3.0]),
        "kinetic": np.array([10.0, 6.0, 2.0, 5.0]),
        "internal": np.array([0.0, 4.0, 7.0, 4.0]),
        "external": np.array([0.0, 0.0, 0.0, 2.0]),
        "damping": np.array([0.0, 0.0, 0.5, 1.0]),
    }
    # |k + wi + wd - k0 - we| = 0, 0, 0.5, 2; running max of max(k, |wi|, |we|, k0) = 10 throughout
    assert np.array_equal(energy_balance_error(history), np.array([0.0, 0.0, 0.05, 0.2]))
    history["internal"] = np.array([0.0, 4.0, 30.0, 4.0])  # the scale grows to 30 and stays
    assert energy_balance_error(history) == pytest.approx([0.0, 0.0, 22.5 / 30, 2.0 / 30])


def test_balance_error_is_zero_while_nothing_happened():
    zeros = np.zeros(3)
    history = {k: zeros for k in ENERGY_KEYS}
    assert np.array_equal(energy_balance_error(history), zeros)


def fake_state(n_dof=4, n_cons=1, **values):
    z, r = torch.zeros(n_dof, dtype=torch.float64), torch.zeros(n_cons, dtype=torch.float64)
    s = SimpleNamespace(u=z.clone(), v_half=z.clone(), v_prev=z.clone(), v_old=z.clone(), f_int=z.clone(),
                        f_int_prev=z.clone(), f_ext=z.clone(), f_ext_prev=z.clone(), react=r.clone(),
                        react_prev=r.clone(), eps=torch.zeros(2, 1, 1, dtype=torch.float64), dt=0.1, t=0.0, step=0)
    for k, v in values.items():
        getattr(s, k).copy_(torch.as_tensor(v, dtype=torch.float64))
    return s


def ledger(n_records=10, **kw):
    mass = torch.full((4,), 2.0, dtype=torch.float64)
    return EnergyLedger(mass, torch.tensor([0]), dt=0.1, alpha=kw.pop("alpha", 0.0), n_records=n_records, **kw)


def test_the_ledger_adds_the_works_of_a_step_like_the_formulas():
    led = ledger(alpha=3.0, probe_dofs=torch.tensor([1, 2]), probe_names=["u0_y", "u1_x"])
    s0 = fake_state(v_prev=[1.0, 1.0, 0.0, 0.0], v_half=[1.0, 1.0, 0.0, 0.0])
    led.start(s0)
    assert float(led.kin0) == 0.5 * 2.0 * 2.0
    s = fake_state(v_old=[1.0, 1.0, 0.0, 0.0], v_prev=[0.0, 1.0, 0.5, 0.0], v_half=[0.0, 0.5, 0.5, 0.0],
                   f_int_prev=[0.0, 1.0, 0.0, 0.0], f_int=[0.0, 3.0, 2.0, 0.0], f_ext=[0.0, 0.0, 4.0, 0.0],
                   react_prev=[1.0], react=[2.0], u=[0.0, 0.1, 0.2, 0.3])
    s.step, s.t = 1, 0.1
    led.update(s)
    led.record(s)
    half_dt = 0.05
    assert float(led.w_int) == pytest.approx(half_dt * (1.0 + 3.0 + 1.0))  # (f_prev + f) . v_{n-1/2}
    assert float(led.w_ext) == pytest.approx(half_dt * 2.0 + half_dt * 3.0 * 0.0)  # reactions on dof 0 (v = 0)
    m_v = np.array([0.0, 2.0, 1.0, 0.0])
    assert float(led.w_damp) == pytest.approx(3.0 * half_dt * (m_v @ [0, 1, 0.5, 0] + m_v @ [1, 1, 0, 0]))
    assert float(led.kin) == pytest.approx(0.5 * (m_v @ [0.0, 0.5, 0.5, 0.0]))
    h = led.history()
    assert list(h) == [*ENERGY_KEYS, "u0_y", "u1_x"] and np.array_equal(h["time"], [0.0, 0.1])
    assert h["u0_y"].tolist() == [0.0, 0.1] and h["u1_x"].tolist() == [0.0, 0.2]
    assert "u0_y" not in led.history(probes=False)


def test_a_balance_error_above_energy_warn_warns_once():
    led = ledger(energy_warn=0.01)
    led.start(fake_state(v_prev=[1.0, 0, 0, 0], v_half=[1.0, 0, 0, 0]))
    s = fake_state()
    s.step, s.t = 10, 1.0
    led.kin.fill_(1.5)  # 0.5 more kinetic energy than was put in, no work: 0.5 / 1.5 of the scale
    with pytest.warns(RuntimeWarning, match=r"energy balance off by 33 % at step 10 \(t = 1\): above 1 %"):
        led.check(s)
    led.check(s)  # no second warning
    assert led.worst == pytest.approx(1 / 3) and len(led.messages) == 1


@pytest.mark.parametrize("what, value", [("runaway energy", 5000.0), ("non-finite energy", float("nan"))])
def test_runaway_and_non_finite_energies_raise_a_located_instability(what, value):
    led = ledger(runaway=1000.0, energy_warn=1e30)
    led.start(fake_state(v_prev=[1.0, 0, 0, 0], v_half=[1.0, 0, 0, 0]))  # put in: 1
    s = fake_state()
    s.eps[1, 0, 0] = 0.5  # element 1 has the largest strain
    s.step, s.t = 20, 2.0
    led.record(s)
    led.w_int.fill_(value)
    with pytest.raises(InstabilityError, match=f"unstable at step 20 .*{what}.*element 1") as info:
        led.check(s)
    err = info.value
    assert (err.step, err.time, err.dt, err.element) == (20, 2.0, 0.1, 1)
    assert len(err.history["time"]) == 2 and set(err.history) == set(ENERGY_KEYS)
