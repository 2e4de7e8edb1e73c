"""Decimated Panda visual meshes, built once and cached, so three cameras render fast on a CPU Vulkan device.

Software rendering (lavapipe) costs follow triangle count, not resolution: ManiSkill's Panda visual meshes carry
~150k triangles per arm, which makes three 64 px cameras cost tens of milliseconds per frame. We simplify each
*visual* mesh ~10x (collision meshes stay untouched, so physics and the motion planner are unchanged) and write
a copy of the robot description that points at the simplified meshes.

Vertices are welded before simplifying: glTF meshes duplicate vertices along UV/normal seams, and the simplifier
treats each seam as a border, leaving holes.

The cache lives under ``$AHABENCH_CACHE`` (default ``~/.cache/ahabench``), keyed by a hash of the source files and
of the settings here, so a change to either rebuilds it.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
from pathlib import Path

import numpy as np

logger = logging.getLogger(__name__)

#: Fraction of triangles removed from every visual mesh with more than MIN_FACES triangles.
TARGET_REDUCTION = 0.9
MIN_FACES = 300
_VERSION = "1"  # bump to invalidate caches when the procedure changes


def cache_dir() -> Path:
    """Root of ahabench's on-disk caches (created on demand)."""
    root = Path(os.environ.get("AHABENCH_CACHE", Path.home() / ".cache" / "ahabench"))
    root.mkdir(parents=True, exist_ok=True)
    return root


def _panda_source() -> Path:
    from mani_skill import PACKAGE_ASSET_DIR

    return Path(PACKAGE_ASSET_DIR) / "robots" / "panda" / "panda_v2.urdf"


def _simplify_glb(src: Path, dst: Path) -> tuple[int, int]:
    """Simplify every geometry of a glTF scene, keeping its materials and node transforms."""
    import fast_simplification
    import trimesh

    scene = trimesh.load(str(src), force="scene")
    before = after = 0
    for name, geom in list(scene.geometry.items()):
        before += len(geom.faces)
        if len(geom.faces) <= MIN_FACES:
            after += len(geom.faces)
            continue
        material = getattr(geom.visual, "material", None)
        welded = trimesh.Trimesh(vertices=geom.vertices.copy(), faces=geom.faces.copy(), process=False)
        welded.merge_vertices(merge_tex=True, merge_norm=True)
        points, faces = fast_simplification.simplify(
            welded.vertices.astype(np.float32), welded.faces.astype(np.int32), target_reduction=TARGET_REDUCTION
        )
        mesh = trimesh.Trimesh(vertices=points, faces=faces, process=True)
        if material is not None:
            # The textures of the Panda meshes are flat colours; without UVs the base colour still applies.
            mesh.visual = trimesh.visual.TextureVisuals(material=material)
        scene.geometry[name] = mesh
        after += len(faces)
    scene.export(str(dst))
    return before, after


def decimated_panda_urdf() -> str:
    """Path of a Panda URDF whose visual meshes are decimated; collision meshes are the package's own.

    The returned URDF is only for SAPIEN's loader (which accepts absolute mesh paths). The motion planner keeps
    using ManiSkill's original URDF: mplib 0.1.1 fails on absolute mesh paths.
    """
    src = _panda_source()
    text = src.read_text()
    visual_files = sorted(set(re.findall(r'filename="([^"]*meshes/visual/[^"]+)"', text)))
    h = hashlib.sha256((_VERSION + f"{TARGET_REDUCTION}:{MIN_FACES}").encode())
    h.update(str(src.resolve()).encode())  # the copy points at this install's collision meshes
    h.update(text.encode())
    for rel in visual_files:
        h.update((src.parent / rel).read_bytes())
    out = cache_dir() / f"panda_decimated_{h.hexdigest()[:16]}"
    urdf_out = out / "panda_v2.urdf"
    if urdf_out.exists():
        return str(urdf_out)

    tmp = out.with_name(out.name + f".tmp{os.getpid()}")
    (tmp / "visual").mkdir(parents=True, exist_ok=True)
    total_before = total_after = 0
    for rel in visual_files:
        b, a = _simplify_glb(src.parent / rel, tmp / "visual" / Path(rel).name)
        total_before, total_after = total_before + b, total_after + a

    def rewrite(m: re.Match) -> str:
        rel = m.group(1)
        if "/meshes/visual/" in "/" + rel:
            return f'filename="{out / "visual" / Path(rel).name}"'
        return f'filename="{(src.parent / rel).resolve()}"'

    (tmp / "panda_v2.urdf").write_text(re.sub(r'filename="([^"]+)"', rewrite, text))
    try:
        os.replace(tmp, out)  # atomic: concurrent builders race harmlessly
    except OSError:
        import shutil

        shutil.rmtree(tmp, ignore_errors=True)  # another process won the race
    logger.info("decimated Panda visual meshes: %d -> %d triangles (%s)", total_before, total_after, out)
    return str(urdf_out)
