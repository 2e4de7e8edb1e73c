"""Visual tokenizer (conv VAE) and instruction encoder."""

from __future__ import annotations

import pytest
import torch

from ahabench.policies.wam.config import make_config
from ahabench.policies.wam.text import BOS, EOS, PAD, ByteTokenizer, TextEncoder
from ahabench.policies.wam.tokenizer import VisualTokenizer

torch.set_num_threads(1)


def _mosaics(n: int, seed: int = 0) -> torch.Tensor:
    """Flat-coloured rectangles on a grey background: structured, learnable images."""
    g = torch.Generator().manual_seed(seed)
    img = torch.full((n, 96, 80, 3), 120, dtype=torch.uint8)
    for i in range(n):
        for _ in range(3):
            y, x = torch.randint(0, 80, (1,), generator=g).item(), torch.randint(0, 64, (1,), generator=g).item()
            img[i, y : y + 16, x : x + 16] = torch.randint(0, 256, (3,), generator=g, dtype=torch.uint8)
    return img


def test_vae_shapes_and_errors():
    torch.manual_seed(0)
    vae = VisualTokenizer(make_config("tiny"))
    lat = vae.encode(_mosaics(2))
    assert lat.shape == (2, 8, 12, 10)
    assert vae.encode(_mosaics(1)[0]).shape == (8, 12, 10)
    assert vae.decode(lat).shape == (2, 96, 80, 3)
    with pytest.raises(ValueError, match="64, 80, 3"):
        vae.encode(torch.zeros(1, 64, 80, 3, dtype=torch.uint8))


def test_vae_training_reduces_reconstruction_error_and_stats_normalise():
    torch.manual_seed(0)
    vae = VisualTokenizer(make_config("tiny"))
    data = _mosaics(4)
    opt = torch.optim.Adam(vae.parameters(), lr=3e-3)
    recs = []
    for _ in range(12):
        loss, stats = vae.loss(data)
        opt.zero_grad()
        loss.backward()
        opt.step()
        recs.append(stats["vae_rec"])
    assert recs[-1] < 0.5 * recs[0], recs
    vae.set_latent_stats(data)
    lat = vae.encode(data)
    assert lat.mean(dim=(0, 2, 3)).abs().max() < 1e-3
    assert torch.allclose(lat.std(dim=(0, 2, 3)), torch.ones(8), atol=1e-3)
    # decode undoes the normalisation: round trip through normalised latents == raw decoder output
    mu, _ = vae.moments(data[:1])
    raw = vae.decoder(mu).permute(0, 2, 3, 1).add(1).div(2).clamp(0, 1)
    assert torch.allclose(vae.decode(lat[:1]), raw, atol=1e-4)


def test_byte_tokenizer_is_deterministic_and_truncates():
    tok = ByteTokenizer(8)
    ids, mask = tok(["Ab", "a long instruction"])
    assert ids[0].tolist() == [BOS, ord("a") + 3, ord("b") + 3, EOS, PAD, PAD, PAD, PAD]
    assert mask[0].tolist() == [True] * 4 + [False] * 4
    assert ids[1, -1].item() == EOS and mask[1].all()
    assert torch.equal(tok(["Ab"])[0], ByteTokenizer(8)(["ab "])[0])
    with pytest.raises(ValueError, match="max_len"):
        ByteTokenizer(1)


def test_text_encoder_shapes_and_sensitivity():
    torch.manual_seed(0)
    cfg = make_config("tiny")
    enc = TextEncoder(cfg)
    feats, mask = enc(["stack the blocks", "lift the peg"])
    assert feats.shape == (2, cfg.text_len, cfg.text_dim) and mask.shape == (2, cfg.text_len)
    assert not torch.allclose(feats[0, :4], feats[1, :4])
