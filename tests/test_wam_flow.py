"""Flow matching pieces: time shift, noising, schedule and the Euler sampler."""

from __future__ import annotations

import pytest
import torch

from ahabench.policies.wam.flow import add_noise, euler_sample, phi, sample_time, sigma_schedule


def test_time_shift_and_schedule():
    u = torch.tensor([0.0, 0.25, 0.5, 1.0])
    assert torch.allclose(phi(u), torch.tensor([0.0, 1.25 / 2.0, 2.5 / 3.0, 1.0]))
    sig = sigma_schedule(10)
    assert sig.shape == (11,) and sig[0] == 1.0 and sig[-1] == 0.0 and bool((sig[1:] < sig[:-1]).all())
    s = sample_time((10_000,), generator=torch.Generator().manual_seed(0))
    assert 0.0 <= s.min() and s.max() <= 1.0
    assert s.median() == pytest.approx(5 / 6, abs=0.02)  # phi(0.5): the shift puts most mass at high noise
    with pytest.raises(ValueError, match="steps"):
        sigma_schedule(0)


def test_add_noise_interpolates_and_velocity_target_is_exact():
    x, eps = torch.randn(3, 4, 5), torch.randn(3, 4, 5)
    s = torch.tensor([0.0, 0.5, 1.0])
    xs = add_noise(x, eps, s)
    assert torch.allclose(xs[0], x[0]) and torch.allclose(xs[2], eps[2])
    assert torch.allclose(xs[1], 0.5 * (x[1] + eps[1]))
    # the exact velocity field of a single point x0 is (x_s - x0) / s: Euler lands on x0 in any step count
    x0 = torch.randn(2, 16, 16)
    for steps in (1, 2, 10):
        out, states = euler_sample(lambda xt, st: (xt - x0) / st[:, None, None], torch.randn(2, 16, 16), steps,
                                   keep=(0, steps))
        assert torch.allclose(out, x0, atol=1e-5) and torch.equal(states[steps], out) and 0 in states
