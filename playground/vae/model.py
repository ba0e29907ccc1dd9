"""The VAE: an encoder q(z|x[,y]) = N(mu, diag sigma^2), a decoder p(x|z[,y]) and the standard normal prior.

Encoders and decoders are MLPs or small conv nets; the decoder is Bernoulli (logits per pixel) or Gaussian
with a learned variance per pixel. All log-densities are in nats and summed over pixels / latent dims.
"""

from __future__ import annotations

import math

import torch
import torch.nn as nn
import torch.nn.functional as F

from playground.vae.config import VAEConfig

LOG_2PI = math.log(2 * math.pi)
MIN_LOGVAR = -7.0   # decoder variance floor (sigma ~ 0.03): keeps constant pixels from an infinite density


def gaussian_kl(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """KL(N(mu, exp(logvar)) || N(0, 1)) per dimension, closed form."""
    return 0.5 * (mu.pow(2) + logvar.exp() - 1.0 - logvar)


def normal_log_prob(x: torch.Tensor, mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """log N(x; mu, exp(logvar)) elementwise."""
    return -0.5 * (LOG_2PI + logvar + (x - mu).pow(2) * torch.exp(-logvar))


def _conv_sizes(res: int) -> list[int]:
    """Spatial sizes through stride-2 convs (kernel 3, padding 1) until <= 4: e.g. 32 -> 16 -> 8 -> 4."""
    sizes = [res]
    while sizes[-1] > 4:
        sizes.append((sizes[-1] + 1) // 2)
    return sizes


class MLPEncoder(nn.Module):
    def __init__(self, in_dim: int, cond: int, hidden: int, latent: int):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(in_dim + cond, hidden), nn.SiLU(), nn.Linear(hidden, hidden), nn.SiLU())
        self.head = nn.Linear(hidden, 2 * latent)

    def forward(self, x: torch.Tensor, c: torch.Tensor | None) -> torch.Tensor:
        h = x.flatten(1)
        if c is not None:
            h = torch.cat([h, c], 1)
        return self.head(self.net(h))


class MLPDecoder(nn.Module):
    def __init__(self, shape: tuple[int, int, int], cond: int, hidden: int, latent: int, out_per_pixel: int):
        super().__init__()
        self.shape, self.k = shape, out_per_pixel
        n = shape[0] * shape[1] * shape[2]
        self.net = nn.Sequential(nn.Linear(latent + cond, hidden), nn.SiLU(), nn.Linear(hidden, hidden), nn.SiLU(),
                                 nn.Linear(hidden, out_per_pixel * n))

    def forward(self, z: torch.Tensor, c: torch.Tensor | None) -> torch.Tensor:
        h = z if c is None else torch.cat([z, c], 1)
        c_, hh, ww = self.shape
        return self.net(h).view(-1, self.k * c_, hh, ww)


class ConvEncoder(nn.Module):
    def __init__(self, shape: tuple[int, int, int], cond: int, hidden: int, latent: int):
        super().__init__()
        sizes = _conv_sizes(shape[1])
        n = len(sizes) - 1
        top = max(8, hidden // 4)
        chans = [shape[0]] + [max(8, top >> (n - 1 - i)) for i in range(n)]
        layers: list[nn.Module] = []
        for a, b in zip(chans[:-1], chans[1:]):
            layers += [nn.Conv2d(a, b, 3, stride=2, padding=1), nn.SiLU()]
        self.conv = nn.Sequential(*layers)
        flat = chans[-1] * sizes[-1] ** 2
        self.head = nn.Sequential(nn.Linear(flat + cond, hidden), nn.SiLU(), nn.Linear(hidden, 2 * latent))

    def forward(self, x: torch.Tensor, c: torch.Tensor | None) -> torch.Tensor:
        h = self.conv(x).flatten(1)
        if c is not None:
            h = torch.cat([h, c], 1)
        return self.head(h)


class ConvDecoder(nn.Module):
    def __init__(self, shape: tuple[int, int, int], cond: int, hidden: int, latent: int, out_per_pixel: int):
        super().__init__()
        self.sizes = _conv_sizes(shape[1])[::-1]   # e.g. 4, 8, 16, 32
        n = len(self.sizes) - 1
        top = max(8, hidden // 4)
        self.chans = [max(8, top >> i) for i in range(n + 1)]
        self.fc = nn.Sequential(nn.Linear(latent + cond, hidden), nn.SiLU(),
                                nn.Linear(hidden, self.chans[0] * self.sizes[0] ** 2), nn.SiLU())
        self.convs = nn.ModuleList(nn.Conv2d(a, b, 3, padding=1) for a, b in zip(self.chans[:-1], self.chans[1:]))
        self.out = nn.Conv2d(self.chans[-1], out_per_pixel * shape[0], 3, padding=1)

    def forward(self, z: torch.Tensor, c: torch.Tensor | None) -> torch.Tensor:
        h = z if c is None else torch.cat([z, c], 1)
        h = self.fc(h).view(-1, self.chans[0], self.sizes[0], self.sizes[0])
        for conv, s in zip(self.convs, self.sizes[1:]):
            h = F.silu(conv(F.interpolate(h, size=(s, s), mode="nearest")))
        return self.out(h)


class VAE(nn.Module):
    def __init__(self, cfg: VAEConfig, shape: tuple[int, int, int], num_classes: int | None = None):
        super().__init__()
        self.cfg = cfg
        self.shape = tuple(int(s) for s in shape)
        self.latent = cfg.latent_dim
        self.num_classes = int(num_classes) if cfg.conditional and num_classes else 0
        if cfg.conditional and not self.num_classes:
            from playground.errors import PlaygroundError

            raise PlaygroundError(f"a conditional VAE needs labelled data; {cfg.dataset} has no labels")
        k = 1 if cfg.decoder == "bernoulli" else 2
        cond = self.num_classes
        if cfg.arch == "mlp":
            n = self.shape[0] * self.shape[1] * self.shape[2]
            self.encoder = MLPEncoder(n, cond, cfg.hidden, cfg.latent_dim)
            self.decoder = MLPDecoder(self.shape, cond, cfg.hidden, cfg.latent_dim, k)
        else:
            self.encoder = ConvEncoder(self.shape, cond, cfg.hidden, cfg.latent_dim)
            self.decoder = ConvDecoder(self.shape, cond, cfg.hidden, cfg.latent_dim, k)

    # --- pieces ---------------------------------------------------------------------------------------
    def onehot(self, y: torch.Tensor | None, n: int) -> torch.Tensor | None:
        if not self.num_classes:
            return None
        if y is None:
            raise ValueError("this conditional VAE needs labels")
        y = torch.as_tensor(y, dtype=torch.long).reshape(-1)
        if y.numel() == 1 and n > 1:
            y = y.expand(n)
        return F.one_hot(y, self.num_classes).float()

    def encode(self, x: torch.Tensor, y: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """Posterior mean and log-variance, each (N, latent)."""
        h = self.encoder(x, self.onehot(y, len(x)))
        mu, logvar = h.chunk(2, dim=1)
        return mu, logvar.clamp(-12.0, 8.0)

    def decoder_params(self, z: torch.Tensor, y: torch.Tensor | None = None
                       ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Bernoulli: (logits, None). Gaussian: (mean, log-variance)."""
        out = self.decoder(z, self.onehot(y, len(z)))
        if self.cfg.decoder == "bernoulli":
            return out, None
        c = self.shape[0]
        mean, raw = out[:, :c], out[:, c:]
        return torch.sigmoid(mean), MIN_LOGVAR + F.softplus(raw - MIN_LOGVAR)

    def decode(self, z: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        """The decoder's mean image in [0, 1] (N, C, H, W)."""
        a, _ = self.decoder_params(z, y)
        return torch.sigmoid(a) if self.cfg.decoder == "bernoulli" else a

    def log_px(self, x: torch.Tensor, z: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        """log p(x|z) summed over pixels, (N,)."""
        a, logvar = self.decoder_params(z, y)
        if logvar is None:
            return -F.binary_cross_entropy_with_logits(a, x, reduction="none").flatten(1).sum(1)
        return normal_log_prob(x, a, logvar).flatten(1).sum(1)

    # --- objectives -----------------------------------------------------------------------------------
    def elbo_terms(self, x: torch.Tensor, y: torch.Tensor | None = None,
                   generator: torch.Generator | None = None) -> dict[str, torch.Tensor]:
        """One-sample reconstruction term, closed-form KL per dim, per image."""
        mu, logvar = self.encode(x, y)
        eps = torch.randn(mu.shape, generator=generator, dtype=mu.dtype)
        z = mu + eps * torch.exp(0.5 * logvar)
        recon = self.log_px(x, z, y)
        kl_dims = gaussian_kl(mu, logvar)
        return {"recon": recon, "kl": kl_dims.sum(1), "kl_dims": kl_dims, "mu": mu, "logvar": logvar}

    def loss(self, x: torch.Tensor, y: torch.Tensor | None = None, beta: float | None = None,
             generator: torch.Generator | None = None) -> tuple[torch.Tensor, dict[str, float]]:
        """Negative beta-ELBO averaged over the batch, and its terms as floats."""
        t = self.elbo_terms(x, y, generator)
        b = self.cfg.kl_weight if beta is None else beta
        loss = -(t["recon"] - b * t["kl"]).mean()
        recon, kl = float(t["recon"].detach().mean()), float(t["kl"].detach().mean())
        return loss, {"loss": float(loss.detach()), "recon": recon, "kl": kl, "elbo": recon - kl}

    @torch.no_grad()
    def log_weights(self, x: torch.Tensor, k: int, y: torch.Tensor | None = None,
                    generator: torch.Generator | None = None, chunk: int = 4096) -> tuple[torch.Tensor, torch.Tensor]:
        """Importance log-weights log p(x, z_k) - log q(z_k|x) for k samples per image: (N, K), and the
        matching log p(x|z_k) (N, K)."""
        mu, logvar = self.encode(x, y)
        n = len(x)
        std = torch.exp(0.5 * logvar)
        logw, logpx = [], []
        per = max(1, chunk // max(1, n))   # samples per pass, bounded memory
        for start in range(0, k, per):
            kk = min(per, k - start)
            eps = torch.randn((kk, n, self.latent), generator=generator, dtype=mu.dtype)
            z = mu + eps * std                                              # (kk, n, D)
            xs = x.unsqueeze(0).expand(kk, *x.shape).reshape(kk * n, *x.shape[1:])
            ys = None if y is None else torch.as_tensor(y).reshape(1, -1).expand(kk, n).reshape(-1)
            lp = self.log_px(xs, z.reshape(kk * n, -1), ys).view(kk, n)
            log_prior = normal_log_prob(z, torch.zeros_like(z), torch.zeros_like(z)).sum(-1)
            log_q = normal_log_prob(z, mu, logvar.expand_as(z)).sum(-1)
            logw.append((lp + log_prior - log_q).T)
            logpx.append(lp.T)
        return torch.cat(logw, 1), torch.cat(logpx, 1)


def build_model(cfg: VAEConfig, shape: tuple[int, int, int], num_classes: int | None = None) -> VAE:
    """A fresh model whose initial weights depend only on cfg.seed (the global RNG is left untouched)."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(cfg.seed)
        return VAE(cfg, shape, num_classes)


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())
