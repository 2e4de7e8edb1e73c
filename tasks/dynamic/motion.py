"""Carrier trajectories of the ``dynamic`` suite, after DOMINO's motion levels.

A trajectory is the planar path (x, y) of a carrier's centre over one episode, a pure function of
(episode seed, level, speed): it is sampled once, at reset, at the physics rate, and then only looked up, so the
world moves identically whatever the policy does or how long it thinks.

- level 1: constant velocity along a straight line;
- level 2: polynomial path: the same mean velocity along y plus a cubic polynomial sway in x and a quadratic
  speed-up/slow-down along y;
- level 3: chaotic: the heading and speed change at seeded random instants, smoothed by a first-order filter
  (so a carried object is accelerated gently enough to stay on its carrier), reflected at the region's edges.

``speed`` scales every velocity; the levels share one nominal speed per task (``Trajectory.base_speed``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: Seed stream tag of the motion draw: independent of the task's object-placement stream.
MOTION_STREAM = 7919
LEVELS = (1, 2, 3)


@dataclass(frozen=True)
class Region:
    """Where a carrier's centre may go: x in [x_lo, x_hi], y in [y_lo, y_hi] (world, m)."""

    x_lo: float
    x_hi: float
    y_lo: float
    y_hi: float


class Trajectory:
    """A sampled planar path: ``position(t)``, ``velocity(t)``, ``acceleration(t)`` for t >= 0 seconds.

    start: (x, y) at t = 0.
    heading: +1 to move towards +y, -1 towards -y (the nominal direction of travel).
    base_speed: nominal speed (m/s) at ``speed`` 1.
    duration: seconds to sample (the episode's length; beyond it the path holds its last velocity).
    dt: sample period (the physics step).
    """

    def __init__(self, seed: int, level: int, speed: float, start: tuple[float, float], heading: float,
                 base_speed: float, region: Region, duration: float, dt: float):
        if level not in LEVELS:
            raise ValueError(f"motion level must be one of {LEVELS}, got {level!r}")
        if not speed >= 0.0:
            raise ValueError(f"motion speed must be >= 0, got {speed!r}")
        self.level, self.speed, self.dt = int(level), float(speed), float(dt)
        self.region = region
        n = int(np.ceil(duration / dt)) + 2
        t = np.arange(n) * dt
        v = base_speed * speed
        # One stream per (seed, level): changing the speed rescales the same path shape instead of redrawing it.
        rng = np.random.default_rng([int(seed), MOTION_STREAM, int(level)])
        x0, y0 = float(start[0]), float(start[1])
        if level == 1:
            xy = np.stack([np.full(n, x0), y0 + heading * v * t], axis=1)
        elif level == 2:
            xy = self._polynomial(rng, t, x0, y0, heading, v, duration)
        else:
            xy = self._chaotic(rng, n, x0, y0, heading, v)
        self._xy = xy
        # Central differences: the velocity a carrier actually has between two samples.
        self._v = np.gradient(xy, dt, axis=0)
        self._a = np.gradient(self._v, dt, axis=0)

    # ------------------------------------------------------------------ the three levels
    def _polynomial(self, rng: np.random.Generator, t: np.ndarray, x0: float, y0: float, heading: float,
                    v: float, duration: float) -> np.ndarray:
        # Normalised time u in [0, 1] over the episode. x sways by a cubic through x0 (at most ~9 cm); y advances
        # at the nominal mean speed with a quadratic term: faster at one end of the episode, slower at the other.
        u = np.clip(t / duration, 0.0, 1.0)
        a2, a3 = rng.uniform(-1.0, 1.0, size=2)
        sway = 0.06 * (a2 * u**2 + a3 * (u**3 - 1.5 * u**2))
        x = np.clip(x0 + sway, self.region.x_lo, self.region.x_hi)
        c = rng.uniform(-0.35, 0.35)
        y = y0 + heading * v * duration * (u + c * (u**2 - u))
        return np.stack([x, y], axis=1)

    def _chaotic(self, rng: np.random.Generator, n: int, x0: float, y0: float, heading: float, v: float) -> np.ndarray:
        r, dt = self.region, self.dt
        xy = np.empty((n, 2))
        pos = np.array([x0, y0])
        cmd = np.array([0.0, heading * v])
        vel = cmd.copy()
        next_change = 0.0
        tau = 0.15  # s: velocity filter; keeps accelerations under ~1.5 m/s^2 at speed 1
        for i in range(n):
            t = i * dt
            if t >= next_change:
                # New heading within +-60 deg of the nominal direction and a new speed in [0.5, 1.5] x nominal.
                ang = rng.uniform(-np.pi / 3, np.pi / 3)
                s = v * rng.uniform(0.5, 1.5)
                cmd = s * np.array([np.sin(ang), heading * np.cos(ang)])
                next_change = t + rng.uniform(0.4, 1.0)
            vel += (cmd - vel) * min(1.0, dt / tau)
            pos = pos + vel * dt
            # Reflect at the region's x edges (the y direction is the direction of travel and is not bounded).
            if pos[0] < r.x_lo or pos[0] > r.x_hi:
                pos[0] = np.clip(pos[0], r.x_lo, r.x_hi)
                vel[0], cmd[0] = -vel[0], -cmd[0]
            xy[i] = pos
        return xy

    # ------------------------------------------------------------------ lookups
    def _index(self, t: float) -> tuple[int, float]:
        f = max(0.0, float(t)) / self.dt
        i = int(np.floor(f))
        if i >= len(self._xy) - 1:
            return len(self._xy) - 2, 1.0 + (f - (len(self._xy) - 2))
        return i, f - i

    def position(self, t: float) -> np.ndarray:
        """(x, y) at time ``t`` (s); past the sampled duration, extrapolated at the last velocity."""
        i, w = self._index(t)
        return (1.0 - w) * self._xy[i] + w * self._xy[i + 1]

    def velocity(self, t: float) -> np.ndarray:
        i, w = self._index(t)
        w = min(w, 1.0)
        return (1.0 - w) * self._v[i] + w * self._v[i + 1]

    def acceleration(self, t: float) -> np.ndarray:
        i, w = self._index(t)
        w = min(w, 1.0)
        return (1.0 - w) * self._a[i] + w * self._a[i + 1]

    def samples(self) -> np.ndarray:
        """(n, 2) copy of every sampled position (tests compare paths with it)."""
        return self._xy.copy()


def predict(p: np.ndarray, v: np.ndarray, a: np.ndarray, dt: float, level: int) -> np.ndarray:
    """Where something at ``p`` with velocity ``v`` and acceleration ``a`` will be after ``dt`` seconds, as the
    experts predict it: constant acceleration on levels 1-2 (exact on 1, close on 2's smooth polynomial),
    constant velocity on level 3 (its next random change cannot be predicted)."""
    if level >= 3:
        return p + v * dt
    return p + v * dt + 0.5 * a * dt * dt
