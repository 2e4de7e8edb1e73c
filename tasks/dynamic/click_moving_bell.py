"""click_moving_bell: press the button of a desk bell riding on a cart that slides across the table."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import torch

from ahabench.envs.adapter import register_robotwin_task
from ahabench.tasks.dynamic.carriers import CARRIER_LIFT, Carrier, PlateGeom, build_plate
from ahabench.tasks.dynamic.motion import predict
from ahabench.tasks.dynamic.moving_table import MovingTableEnv
from ahabench.tasks.dynamic.servo import DT, ReplanningExpert
from ahabench.tasks.robotwin.bell import BellGeom, build_bell

GEOM = BellGeom()
CART = PlateGeom(half_x=0.07, half_y=0.07, rim_h=0.0)
#: Cart start: x in X_RANGE, |y| in Y_START (the side is drawn), heading to the other side.
X_RANGE, Y_START = (-0.06, 0.04), (0.42, 0.52)
#: How far below the knob's resting top the closed fingertips are sent, and how far the closed fingertips reach
#: below the TCP frame (both as in click_bell).
PRESS_BELOW_TOP = 0.012
FINGERTIP_BELOW_TCP = 0.0095
HOVER = 0.06
#: Ticks the fingertips are held down on the knob (the arm's PD lag included) before a missed press rises again.
PRESS_TICKS = 10


@register_robotwin_task("click_moving_bell", max_steps=200, suite="dynamic")
class ClickMovingBellEnv(MovingTableEnv):
    """
    Description:
        Press the button on top of the desk bell while its cart slides past.
    Randomizations:
        The cart's start x in [-0.06, 0.04] and side (|y| in [0.42, 0.52], left or right), heading to the other side;
        its motion (level 1 constant velocity, 2 polynomial path, 3 chaotic) at ``BASE_SPEED`` x ``speed`` m/s
        (0.18 m/s by default); the bell's yaw on the cart in [-pi, pi).
    Success:
        The bell's button has been pushed down at least 6 mm at some step of the episode (latched, as in
        click_bell).
    """

    BASE_SPEED = 0.18
    INSTRUCTIONS_SEEN = (
        "Ring the bell on the moving cart.",
        "Press the button of the sliding bell.",
        "Click the bell as it passes by, coming from the {side}.",
    )
    INSTRUCTIONS_UNSEEN = (
        "Tap the service bell while its cart glides across the table.",
        "Hit the moving bell's button once.",
    )

    def _load_scene(self, options: dict):
        super()._load_scene(options)
        self.cart = self.add_task_actor(build_plate(self.scene, "cart", CART, (0.45, 0.3, 0.2)))
        self.bell = self.add_task_actor(build_bell(self.scene, "bell", GEOM))
        self._rung = torch.zeros(1, dtype=torch.bool)

    def _initialize_episode(self, env_idx: torch.Tensor, options: dict):
        super()._initialize_episode(env_idx, options)
        rng = self._episode_rng
        side = 1.0 if rng.uniform() < 0.5 else -1.0
        start = (rng.uniform(*X_RANGE), side * rng.uniform(*Y_START))
        traj = self.make_trajectory(start, -side)
        z = self.table_top_z + CARRIER_LIFT
        self.add_carrier(Carrier(self.cart, traj, z))
        # The bell is a fixed-root articulation: it follows the same path, its root set every substep.
        self.add_carrier(Carrier(self.bell, traj, z + CART.top, yaw=rng.uniform(-np.pi, np.pi)))
        self.bell.set_qpos(torch.zeros((1, 1)))
        self.bell.set_qvel(torch.zeros((1, 1)))
        self._rung = torch.zeros(1, dtype=torch.bool)
        self._side = side

    def instruction_fields(self) -> dict[str, str]:
        return {"side": "left" if self._side > 0 else "right"}

    def button_depth(self) -> torch.Tensor:
        """How far the button is pushed in (m, >= 0), batched."""
        return (-self.bell.get_qpos()[:, 0]).clamp(min=0.0)

    def evaluate(self) -> dict:
        pressed = self.button_depth() >= GEOM.press_depth
        self._rung = self._rung | pressed.cpu()
        return dict(button_pressed=pressed, rung=self._rung.clone(), success=self._rung.clone())

    def expert(self) -> Iterator[np.ndarray]:
        yield from _BellExpert(self)


class _BellExpert(ReplanningExpert):
    """Closed fingers as a pad: track the knob from above, descend onto it, hold, rise; retry after a miss."""

    def __init__(self, env: ClickMovingBellEnv):
        super().__init__(env)
        self.arm: int | None = None
        self.phase = "approach"
        self.down_since: int | None = None

    def knob(self, t: float) -> np.ndarray:
        """Predicted centre of the knob's top face at time ``t`` (s)."""
        env = self.env
        c = env.carriers[1]
        t0 = env.sim_time
        p = env.bell.pose.p[0].cpu().numpy().astype(np.float64) + [0.0, 0.0, GEOM.button_top]
        return predict(p, c.velocity(t0), c.acceleration(t0), t - t0, env.level)

    def observe(self) -> None:
        env = self.env
        if self.arm is None:
            y_soon = self.knob(env.sim_time + 1.2)[1]
            self.arm = 0 if y_soon >= 0 else 1
            self.yaw = self.closing_yaw(self.arm)
        p_cmd, _ = self.tcp(self.arm)
        press_z = self.knob(env.sim_time)[2] - PRESS_BELOW_TOP + FINGERTIP_BELOW_TCP
        # How long the applied targets have held the fingertips down at the knob (read at observation instants
        # only, so it never trusts a plan whose ticks may not have run): long enough without a ring is a miss.
        if p_cmd[2] < press_z + 0.004:
            self.down_since = self.now if self.down_since is None else self.down_since
            self.phase = "press"
        else:
            self.down_since = None
            self.phase = "approach" if self.phase != "rise" or p_cmd[2] > press_z + HOVER - 0.01 else "rise"

    def plan_tick(self, tick: int) -> None:
        arm = self.arm
        self.set_gripper(arm, True)  # closed fingers make a flat pad
        k = self.knob(self.time_of(tick))
        press_z = k[2] - PRESS_BELOW_TOP + FINGERTIP_BELOW_TCP
        p_tcp, _ = self.tcp(arm)
        speed = float(np.linalg.norm(self.env.carriers[1].velocity(self.env.sim_time)))
        if self.phase == "approach":
            # Alignment of the commanded TCP with where it was aimed last tick (the knob moves meanwhile).
            err = float(np.linalg.norm(p_tcp[:2] - self.knob(self.time_of(tick - 1))[:2]))
            z = press_z + HOVER * float(np.clip((err - 0.005) / 0.03, 0.0, 1.0))
            if err < 0.005 and p_tcp[2] < press_z + 0.003:
                self.phase, self.down_since = "press", tick
        elif self.phase == "press":
            z = press_z
            if tick - self.down_since >= PRESS_TICKS:
                self.phase = "rise"
        else:  # rise to hover height, then approach again
            z = press_z + HOVER
            if p_tcp[2] > press_z + HOVER - 0.01:
                self.phase = "approach"
        self.move(arm, np.array([k[0], k[1], z]), self.yaw, extra_lin=speed * DT * 1.5)
