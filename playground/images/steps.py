"""One training step of an image run: the GAN step under any objective of playground.objectives, and the VAE's.

The losses come from the objective's record (per-sample D and G losses, averaged over the batch); what else
depends on the objective is read from its fields: a gradient penalty (`penalty`) or weight clipping (`clip`).
A step draws its randomness from the trainer's per-step generator, always in the same order (real batch,
noise, interpolation weights), which is what makes a resumed run bit-for-bit the uninterrupted one.
"""

from __future__ import annotations

import math
from contextlib import AbstractContextManager, nullcontext

import torch
import torch.nn.functional as F

from playground.images import models as M
from playground.images.augment import augmented
from playground.objectives import Objective
from playground.penalties import gradient_norm_penalty, interpolates, interpolation_weights


def critic_with_penalty(D, real: torch.Tensor, fake: torch.Tensor, alpha: torch.Tensor,
                        autocast: AbstractContextManager | None = None, scaler=None,
                        memory_format: torch.memory_format = torch.contiguous_format):
    """(D(real), D(fake), WGAN-GP penalty at interpolates) from ONE forward of D over [real, fake, interpolates].

    Under float16 loss scaling the input gradient is taken of the scaled output and unscaled, so that it does
    not underflow; the penalty itself is computed in float32."""
    B = real.shape[0]
    interp = interpolates(real, fake, alpha).requires_grad_(True)
    x = torch.cat([real, fake.to(real.dtype), interp]).contiguous(memory_format=memory_format)
    with autocast or nullcontext():
        out = D(x).float()
    d_real, d_fake, d_interp = out[:B], out[B:2 * B], out[2 * B:]
    if scaler is not None and scaler.is_enabled():
        (g,) = torch.autograd.grad(scaler.scale(d_interp.sum()), interp, create_graph=True)
        g = g / scaler.get_scale()
    else:
        (g,) = torch.autograd.grad(d_interp.sum(), interp, create_graph=True)
    return d_real, d_fake, gradient_norm_penalty(g.float())


def discriminator_loss(obj: Objective, D, real: torch.Tensor, fake: torch.Tensor, *, gp_weight: float = 0.0,
                       alpha: torch.Tensor | None = None, autocast: AbstractContextManager | None = None,
                       scaler=None, memory_format: torch.memory_format = torch.contiguous_format
                       ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """D's loss, the batch mean of the objective's per-sample loss (+ gp_weight * penalty where the objective
    has one; `alpha` are then the interpolation weights), and the raw outputs for logging."""
    parts: dict[str, torch.Tensor] = {}
    if obj.penalty == "gradient_penalty":
        d_real, d_fake, gp = critic_with_penalty(D, real, fake, alpha, autocast, scaler, memory_format)
        loss = obj.d_loss(d_real, d_fake).mean() + gp_weight * gp
        parts["gp"] = gp.detach()
    else:
        with autocast or nullcontext():
            d_real, d_fake = D(real).float(), D(fake).float()
        loss = obj.d_loss(d_real, d_fake).mean()
    parts["d_real"], parts["d_fake"] = d_real.detach().mean(), d_fake.detach().mean()
    return loss, parts


def generator_loss(obj: Objective, D, fake: torch.Tensor, autocast: AbstractContextManager | None = None
                   ) -> torch.Tensor:
    """G's loss: the batch mean of the objective's per-sample generator loss at D(fake)."""
    with autocast or nullcontext():
        out = D(fake).float()
    return obj.g_loss(out).mean()


@torch.no_grad()
def clip_weights(params: list[torch.Tensor], bound: float) -> None:
    """The original WGAN's crude Lipschitz bound: every weight of the critic clamped to [-bound, bound]."""
    for p in params:
        p.clamp_(-bound, bound)


def with_labels(net, y: torch.Tensor | None):
    """`net` as a function of its input alone, conditioned on classes y (None: `net` itself). A batch k times
    as long as y (D over [real, fake, interpolates]) gets y repeated k times."""
    if y is None:
        return net
    return lambda x: net(x, y.repeat(len(x) // len(y)))


def gan_step(tr) -> dict[str, torch.Tensor]:
    """cfg.d_steps discriminator updates, then one generator update (through the plain D, its weights frozen,
    so DDP reduces no D gradients). With one D step, one G forward serves both updates (as in DCGAN).

    A conditional GAN draws its fakes with the real batch's classes (so they follow the data's p(y)), and D
    judges every image with its class. With `augment`, D sees every image (real, fake, interpolate) through
    its own random transform (playground.images.augment), G's gradient flowing through it."""
    cfg, obj = tr.cfg, tr.objective
    G_raw, D_raw = tr.nets["G"], tr.nets["D"]
    B = cfg.batch_size
    fake = None
    out: dict[str, torch.Tensor] = {}
    tr.d_requires_grad(True)
    for _ in range(cfg.d_steps):
        real, y = tr.images.labelled_batch(B, tr.gen)
        y = y if cfg.is_conditional else None
        G, D = with_labels(tr.train_nets["G"], y), augmented(with_labels(tr.train_nets["D"], y), cfg.augment, tr.gen)
        z = tr.noise(B)
        if cfg.d_steps == 1:
            with tr.autocast():
                fake = G(z)
            fake_d = fake.detach()
        else:
            with torch.no_grad(), tr.autocast():
                fake_d = with_labels(G_raw, y)(z)
        alpha = interpolation_weights(real, tr.gen) if obj.penalty == "gradient_penalty" else None
        d_loss, parts = discriminator_loss(obj, D, real, fake_d, gp_weight=cfg.gp_weight, alpha=alpha,
                                           autocast=tr.autocast(), scaler=tr.scalers["D"],
                                           memory_format=tr.memory_format)
        tr.update("D", d_loss)
        if obj.clip:
            clip_weights(tr.d_params, cfg.clip)
    out.update(parts)
    out["d_loss"] = d_loss.detach()
    tr.d_requires_grad(False)
    if fake is None:
        with tr.autocast():
            fake = G(tr.noise(B))
    g_loss = generator_loss(obj, augmented(with_labels(D_raw, y), cfg.augment, tr.gen), fake, tr.autocast())
    tr.update("G", g_loss)
    tr.d_requires_grad(True)
    out["g_loss"] = g_loss.detach()
    return out


def vae_step(tr) -> dict[str, torch.Tensor]:
    """One Adam step on the negative ELBO of a batch in [0, 1] (Bernoulli decoder)."""
    x = tr.images.batch(tr.cfg.batch_size, tr.gen, unit=True)
    eps = tr.noise(x.shape[0])
    with tr.autocast():
        logits, mu, logvar = tr.train_nets["vae"](x, eps)
    loss, rec, kl = M.vae_loss(logits, x, mu, logvar, tr.cfg.kl_weight)
    tr.update("vae", loss)
    return {"loss": loss.detach(), "rec": rec.detach(), "kl": kl.detach()}


def _unit_batch(tr) -> tuple[torch.Tensor, torch.Tensor | None]:
    x, y = tr.images.labelled_batch(tr.cfg.batch_size, tr.gen, unit=True)
    return x, (y if tr.cfg.is_conditional else None)


def pixelcnn_step(tr) -> dict[str, torch.Tensor]:
    """One Adam step on the exact negative log-likelihood of a batch of {0, 1} images (nats per image)."""
    x, y = _unit_batch(tr)
    with tr.autocast():
        logits = tr.train_nets["pixelcnn"](x, y)
    nll = F.binary_cross_entropy_with_logits(logits.float(), x, reduction="none").flatten(1).sum(1).mean()
    tr.update("pixelcnn", nll)
    return {"nll": nll.detach(), "bits_per_dim": nll.detach() / (x[0].numel() * math.log(2.0))}


def denoiser_step(tr) -> dict[str, torch.Tensor]:
    """One Adam step on the diffusion model's noise-prediction MSE, or flow matching's velocity regression."""
    x, y = _unit_batch(tr)
    with tr.autocast():
        loss = tr.train_nets["denoiser"](x, tr.gen, y)   # forward = loss (so DDP averages its gradients)
    tr.update("denoiser", loss.float())
    return {"loss": loss.detach().float()}


STEPS = {"gan": gan_step, "vae": vae_step, "pixelcnn": pixelcnn_step, "denoiser": denoiser_step}
