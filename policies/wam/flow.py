"""Flow matching for both branches: noising, shifted time sampling and the Euler sampler (spec 7, 8).

x_s = (1 - s) x + s eps, target velocity v = eps - x; s = phi(u) = shift*u / (1 + (shift-1) u), shift 5.
Sampling integrates dx/ds = v from s = 1 (noise) to s = 0 on sigma = phi(linspace(1, 0, steps + 1)).
"""

from __future__ import annotations

from collections.abc import Callable

import torch


def phi(u: torch.Tensor, shift: float = 5.0) -> torch.Tensor:
    """Time shift: phi(u) = shift*u / (1 + (shift-1) u)."""
    return shift * u / (1.0 + (shift - 1.0) * u)


def sample_time(
    shape: tuple[int, ...], shift: float = 5.0, generator: torch.Generator | None = None, device=None
) -> torch.Tensor:
    """s = phi(u), u ~ U(0, 1)."""
    return phi(torch.rand(shape, generator=generator, device=device), shift)


def add_noise(x: torch.Tensor, eps: torch.Tensor, s: torch.Tensor) -> torch.Tensor:
    """x_s = (1 - s) x + s eps; s broadcasts from the left (shape (B,) or (B, F, ...))."""
    while s.dim() < x.dim():
        s = s[..., None]
    return (1.0 - s) * x + s * eps


def sigma_schedule(steps: int, shift: float = 5.0) -> torch.Tensor:
    """(steps + 1,) decreasing flow times from 1 to 0."""
    if steps < 1:
        raise ValueError(f"sampling steps must be >= 1, got {steps}")
    return phi(torch.linspace(1.0, 0.0, steps + 1), shift)


def euler_sample(
    velocity: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
    noise: torch.Tensor,
    steps: int,
    shift: float = 5.0,
    keep: tuple[int, ...] = (),
) -> tuple[torch.Tensor, dict[int, torch.Tensor]]:
    """Euler integration x <- x + v(x, sigma) (sigma_next - sigma).

    velocity(x, s) gets s as a (B,) tensor. Returns the final x and the states after each step index in
    ``keep`` (index k = state after k steps, at sigma[k]; k = 0 is the noise).
    """
    sigmas = sigma_schedule(steps, shift).tolist()
    x = noise
    states = {0: x} if 0 in keep else {}
    for i in range(steps):
        s = torch.full((x.shape[0],), sigmas[i], device=x.device, dtype=x.dtype)
        x = x + velocity(x, s) * (sigmas[i + 1] - sigmas[i])
        if i + 1 in keep:
            states[i + 1] = x
    return x, states
