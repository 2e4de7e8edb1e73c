"""Visual tokenizer: a small convolutional VAE over the camera mosaic.

(96, 80, 3) uint8 mosaic -> latent (C, 12, 10) at 8x spatial downsampling (tiny/small presets). Trained
on the suite's mosaics with its own loss (reconstruction + a small KL), before and separately from the
DiTs; the DiTs see *normalised* latents ``(mu - shift) / scale`` with per-channel statistics set by
:meth:`VisualTokenizer.set_latent_stats` after the VAE is trained.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ahabench.policies.wam.config import WAMConfig


def _norm(ch: int) -> nn.GroupNorm:
    return nn.GroupNorm(min(8, ch), ch)


class _Down(nn.Module):
    def __init__(self, cin: int, cout: int):
        super().__init__()
        self.net = nn.Sequential(
            nn.Conv2d(cin, cout, 3, stride=2, padding=1), _norm(cout), nn.SiLU(),
            nn.Conv2d(cout, cout, 3, padding=1), _norm(cout), nn.SiLU(),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


class _Up(nn.Module):
    def __init__(self, cin: int, cout: int):
        super().__init__()
        self.net = nn.Sequential(
            nn.Upsample(scale_factor=2, mode="nearest"),
            nn.Conv2d(cin, cout, 3, padding=1), _norm(cout), nn.SiLU(),
            nn.Conv2d(cout, cout, 3, padding=1), _norm(cout), nn.SiLU(),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


class VisualTokenizer(nn.Module):
    """Conv VAE: ``encode(mosaic) -> latents``, ``decode(latents) -> image``, ``loss(mosaic)``."""

    def __init__(self, cfg: WAMConfig):
        super().__init__()
        self.image_hw = cfg.image_hw
        self.channels = cfg.latent_channels
        w = cfg.vae_widths
        enc: list[nn.Module] = [nn.Conv2d(3, w[0], 3, padding=1), nn.SiLU()]
        prev = w[0]
        for ch in w:
            enc.append(_Down(prev, ch))
            prev = ch
        enc.append(nn.Conv2d(prev, 2 * cfg.latent_channels, 1))
        self.encoder = nn.Sequential(*enc)
        dec: list[nn.Module] = [nn.Conv2d(cfg.latent_channels, w[-1], 3, padding=1), nn.SiLU()]
        prev = w[-1]
        for ch in reversed(w):
            dec.append(_Up(prev, ch))
            prev = ch
        dec.append(nn.Conv2d(prev, 3, 3, padding=1))
        self.decoder = nn.Sequential(*dec)
        self.register_buffer("latent_shift", torch.zeros(cfg.latent_channels))
        self.register_buffer("latent_scale", torch.ones(cfg.latent_channels))

    # -- pixels <-> tensors -------------------------------------------------------------------------
    def to_input(self, mosaic: torch.Tensor) -> torch.Tensor:
        """uint8 (N, H, W, 3) -> float (N, 3, H, W) in [-1, 1]."""
        if tuple(mosaic.shape[-3:]) != (*self.image_hw, 3):
            raise ValueError(f"mosaic shape {tuple(mosaic.shape)} does not end in {(*self.image_hw, 3)}")
        x = mosaic.permute(0, 3, 1, 2).float().div(127.5).sub(1.0)
        return x.to(self.encoder[0].weight.dtype)

    def moments(self, mosaic: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """uint8 (N, H, W, 3) -> raw posterior mean and log-variance, each (N, C, h, w)."""
        mu, logvar = self.encoder(self.to_input(mosaic)).chunk(2, dim=1)
        return mu, logvar.clamp(-20.0, 10.0)

    def _normalise(self, mu: torch.Tensor) -> torch.Tensor:
        return (mu - self.latent_shift[:, None, None]) / self.latent_scale[:, None, None]

    @torch.no_grad()
    def encode(self, mosaic: torch.Tensor) -> torch.Tensor:
        """uint8 (..., H, W, 3) -> normalised latents (..., C, h, w) (posterior mean, deterministic)."""
        lead = mosaic.shape[:-3]
        mu, _ = self.moments(mosaic.reshape(-1, *mosaic.shape[-3:]))
        return self._normalise(mu).reshape(*lead, *mu.shape[1:])

    def decode(self, latents: torch.Tensor) -> torch.Tensor:
        """normalised latents (..., C, h, w) -> float image (..., H, W, 3) in [0, 1]."""
        lead = latents.shape[:-3]
        z = latents.reshape(-1, *latents.shape[-3:])
        z = z * self.latent_scale[:, None, None] + self.latent_shift[:, None, None]
        x = self.decoder(z).permute(0, 2, 3, 1).add(1.0).div(2.0).clamp(0.0, 1.0)
        return x.reshape(*lead, *x.shape[1:])

    def loss(self, mosaic: torch.Tensor, kl_weight: float = 1e-4) -> tuple[torch.Tensor, dict[str, float]]:
        """VAE loss on uint8 mosaics (N, H, W, 3): pixel MSE in [-1, 1] + kl_weight * KL(q || N(0, I))."""
        x = self.to_input(mosaic)
        mu, logvar = self.encoder(x).chunk(2, dim=1)
        logvar = logvar.clamp(-20.0, 10.0)
        z = mu + torch.randn_like(mu) * torch.exp(0.5 * logvar)
        recon = self.decoder(z)
        rec = F.mse_loss(recon, x)
        kl = 0.5 * (mu.pow(2) + logvar.exp() - 1.0 - logvar).mean()
        loss = rec + kl_weight * kl
        return loss, {"vae_rec": rec.item(), "vae_kl": kl.item()}

    @torch.no_grad()
    def set_latent_stats(self, mosaics: torch.Tensor) -> None:
        """Set per-channel shift/scale from raw posterior means of sample mosaics (N, H, W, 3)."""
        mu, _ = self.moments(mosaics)
        self.latent_shift.copy_(mu.mean(dim=(0, 2, 3)))
        self.latent_scale.copy_(mu.std(dim=(0, 2, 3)).clamp_min(1e-3))
