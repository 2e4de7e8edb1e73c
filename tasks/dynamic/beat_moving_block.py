"""beat_moving_block: grasp a hammer by its handle and strike a block sliding across the table."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import torch

from ahabench.envs.adapter import register_robotwin_task
from ahabench.tasks.dynamic.carriers import CARRIER_LIFT, Carrier, PlateGeom, build_plate
from ahabench.tasks.dynamic.grasping import ALIGNED, GraspingExpert
from ahabench.tasks.dynamic.motion import Region, predict
from ahabench.tasks.dynamic.moving_table import MovingTableEnv
from ahabench.tasks.dynamic.servo import DT
from ahabench.tasks.robotwin.objects import HammerGeom, build_hammer
from ahabench.tasks.robotwin.poses import place_actor, quat_apply, rot3, yaw_of

GEOM = HammerGeom()
#: The block is itself the carrier: a kinematic 5 cm cube gliding just above the table.
BLOCK = PlateGeom(half_x=0.025, half_y=0.025, half_h=0.025)
#: Where the grasp sits on the handle, from its centre toward the head: over the hammer's centre of mass (the
#: steel head outweighs the handle three to one), so the fast servo's accelerations do not pitch it in the grip.
GRASP_ALONG_HANDLE = 0.08
#: Success tolerances (as in beat_block_hammer): head centre within 2 cm of the block's centre in xy, touching.
XY_TOL = 0.02
CONTACT_FORCE_N = 0.05
#: Head height above the block's top while lining up (m), and how far below the top the strike aims.
HOVER = 0.07
STRIKE_BELOW = 0.006
#: TCP speed (m/s) with the hammer in hand (slower than empty-handed: a fast swing pitches it in the grip), and
#: the hammer's angular speed (rad/s) below which it counts as settled in the hand.
CARRY_SPEED = 0.4
SETTLED_RAD_S = 0.5
#: Ticks the head is held down before a strike without success counts as a miss and rises again.
STRIKE_TICKS = 10


@register_robotwin_task("beat_moving_block", max_steps=250, suite="dynamic")
class BeatMovingBlockEnv(MovingTableEnv):
    """
    Description:
        Grasp the hammer by its handle and strike the sliding block's top with the hammer's head.
    Randomizations:
        The side (left / right arm) is drawn; the hammer lies at x in [-0.22, -0.16] (its head clear of the
        block's path), |y| in [0.12, 0.26] on that side, yaw within +-0.35 rad of pointing away from the robots;
        the block starts at x in [0.06, 0.12], |y| in [0.45, 0.52] on the same side, heading to the other side;
        its motion (level 1 constant velocity, 2 polynomial path, 3 chaotic) at ``BASE_SPEED`` x ``speed`` m/s
        (0.12 m/s by default).
    Success:
        - the head's centre is within 2 cm of the block's centre in xy (``head_over_block``);
        - the hammer touches the block (``hammer_touches_block``, a contact force > 0.05 N).
    """

    BASE_SPEED = 0.12
    #: The block's centre stays in front of the hammer (x >= 0.04) on every level.
    MOTION_REGION = Region(0.04, 0.16, -0.6, 0.6)
    INSTRUCTIONS_SEEN = (
        "Pick up the hammer with the {arm} arm and hit the moving block.",
        "Use the hammer to strike the sliding red block.",
        "Grab the hammer by its handle and beat the block as it passes.",
    )
    INSTRUCTIONS_UNSEEN = (
        "Take the hammer and bring its head down on the gliding cube.",
        "With the {arm} hand, lift the hammer and tap the moving block.",
    )

    def _load_scene(self, options: dict):
        super()._load_scene(options)
        self.hammer = self.add_task_actor(build_hammer(self.scene, "hammer", GEOM))
        self.block = self.add_task_actor(build_plate(self.scene, "block", BLOCK, (0.85, 0.15, 0.15)))

    def _initialize_episode(self, env_idx: torch.Tensor, options: dict):
        super()._initialize_episode(env_idx, options)
        rng = self._episode_rng
        self.side = 1.0 if rng.uniform() < 0.5 else -1.0
        place_actor(self.hammer, rng.uniform(-0.22, -0.16), self.side * rng.uniform(0.12, 0.26), self.table_top_z,
                    rng.uniform(-0.35, 0.35))
        start = (rng.uniform(0.06, 0.12), self.side * rng.uniform(0.45, 0.52))
        self.add_carrier(Carrier(self.block, self.make_trajectory(start, -self.side), self.table_top_z + CARRIER_LIFT))

    def instruction_fields(self) -> dict[str, str]:
        return {"arm": "left" if self.side > 0 else "right"}

    def head_position(self) -> torch.Tensor:
        """(N, 3) world position of the hammer head's centre."""
        hc = torch.as_tensor(GEOM.head_center, dtype=torch.float32, device=self.device)
        return self.hammer.pose.p + quat_apply(self.hammer.pose.q, hc)

    def evaluate(self) -> dict:
        head = self.head_position()
        centre = self.block.pose.p  # its origin is its bottom face: compare in xy only
        over = torch.linalg.norm(head[:, :2] - centre[:, :2], dim=1) <= XY_TOL
        force = torch.linalg.norm(self.scene.get_pairwise_contact_forces(self.hammer, self.block), dim=1)
        touching = force > CONTACT_FORCE_N
        return {"head_over_block": over, "hammer_touches_block": touching, "success": over & touching}

    def expert(self) -> Iterator[np.ndarray]:
        yield from _HammerExpert(self)


class _HammerExpert(GraspingExpert):
    """Pick the hammer by the handle (:class:`GraspingExpert`), lift it, carry the head above the block's
    predicted centre, strike down while keeping pace, rise and strike again after a miss."""

    def __init__(self, env: BeatMovingBlockEnv):
        super().__init__(env, env.hammer)
        self.down_since: int | None = None
        self.striking = self.settled = False
        self.head_offset = np.zeros(3)

    def object_at(self, t: float) -> np.ndarray:
        # The grasp point on the handle (the hammer lies still until picked).
        h = self.env.hammer.pose
        p = h.p[0].cpu().numpy().astype(np.float64)
        return p + rot3(yaw_of(h.q[0].cpu().numpy())) @ np.array([GRASP_ALONG_HANDLE, 0.0, GEOM.handle_half_w])

    def grasp_z(self) -> float:
        return self.env.table_top_z + GEOM.handle_half_w

    def choose_arm(self) -> int:
        return 0 if self.env.side > 0 else 1

    def grasp_yaw(self) -> float:
        # Fingers close across the handle: the handle's yaw +- pi/2, whichever is nearer the wrist's rest angle.
        hyaw = yaw_of(self.env.hammer.pose.q[0].cpu().numpy())
        rest = self.closing_yaw(self.arm)
        return min((hyaw + s * np.pi / 2 + n * np.pi for s in (1, -1) for n in (-1, 0, 1)), key=lambda a: abs(a - rest))

    def block_at(self, t: float) -> np.ndarray:
        """Predicted centre of the block's top face at time ``t``."""
        env = self.env
        c = env.carriers[0]
        t0 = env.sim_time
        p = predict(c.position(t0), c.velocity(t0), c.acceleration(t0), t - t0, env.level)
        return p + [0.0, 0.0, BLOCK.top]

    def observe_carry(self) -> None:
        env = self.env
        # Head offset from the TCP: measured from the real TCP while the hammer is held (it may sit a little
        # askew in the fingers); before that, the offset the planned grasp point will give.
        head = env.head_position()[0].cpu().numpy().astype(np.float64)
        if env.closed_steps[self.arm] > 0 and bool(env.arms[self.arm].is_grasping(env.hammer)[0]):
            self.head_offset = head - env.arms[self.arm].tcp.pose.p[0].cpu().numpy().astype(np.float64)
        else:
            self.head_offset = head - self.object_at(env.sim_time)
        strike_z = self.block_at(env.sim_time)[2] + GEOM.head_half[2] - STRIKE_BELOW
        # Strike only with a hammer at rest in the hand: a swinging head makes the measured offset wrong by
        # centimetres, and a head landing on the block's edge levers the hammer out of the fingers.
        self.settled = float(env.hammer.angular_velocity[0].norm()) < SETTLED_RAD_S
        p_cmd, _ = self.tcp(self.arm)
        # How long the applied targets have held the head down at strike height (read at observation instants).
        if env.closed_steps[self.arm] > 0 and p_cmd[2] + self.head_offset[2] < strike_z + 0.004:
            self.down_since = self.now if self.down_since is None else self.down_since
            self.striking = self.now - self.down_since < STRIKE_TICKS
        else:
            self.down_since, self.striking = None, False

    def done(self) -> bool:
        return False  # the episode ends at the strike; until then keep trying

    def carry_tick(self, tick: int, p_tcp: np.ndarray) -> None:
        arm = self.arm
        target = self.block_at(self.time_of(tick))
        head_z_hover = target[2] + GEOM.head_half[2] + HOVER
        head_now = p_tcp + self.head_offset
        if head_now[2] < head_z_hover - 0.03 and self.down_since is None and not self.striking and \
                np.linalg.norm(head_now[:2] - target[:2]) > 0.03:
            # Lift straight up first (off the table, or back up after a miss).
            self.move(arm, np.array([p_tcp[0], p_tcp[1], head_z_hover - self.head_offset[2]]), self.yaw)
            return
        err = float(np.linalg.norm(head_now[:2] - self.block_at(self.time_of(tick - 1))[:2]))
        strike_z = target[2] + GEOM.head_half[2] - STRIKE_BELOW
        if self.down_since is not None and not self.striking:
            z = strike_z + HOVER  # a miss: rise before lining up again
            if head_now[2] > strike_z + HOVER - 0.01:
                self.down_since = None
        else:
            z = strike_z + HOVER * float(np.clip((err - ALIGNED) / 0.03, 0.0, 1.0))
            if self.down_since is None and not self.settled:
                z = strike_z + HOVER
            if self.down_since is None and err < ALIGNED and head_now[2] < strike_z + 0.003:
                self.down_since, self.striking = tick, True
            if self.down_since is not None and tick - self.down_since >= STRIKE_TICKS:
                self.striking = False
        goal = np.array([target[0], target[1], z]) - self.head_offset
        speed = float(np.linalg.norm(self.env.carriers[0].velocity(self.env.sim_time)))
        self.move(arm, goal, self.yaw, extra_lin=speed * DT * 1.5, max_speed=CARRY_SPEED)
