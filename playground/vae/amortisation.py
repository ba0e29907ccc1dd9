"""The amortisation gap: fit q to one image by itself and see how much of the ELBO gap the encoder left.

log p(x) − ELBO(encoder's q) = [ELBO(best Gaussian) − ELBO(encoder's q)]   the amortisation gap
                             + [log p(x) − ELBO(best Gaussian)]            the Gaussian family's gap
Per-example inference (`optimise_q`) starts from the encoder's mean and log-variance and climbs the ELBO by
Adam on the reparameterised Monte Carlo estimate, as stochastic variational inference does; each report
carries the exact ELBO of the current q on the posterior grid. `best_gaussian` finds the family's optimum
deterministically on the same grid (the target the optimisation is heading for).
"""

from __future__ import annotations

import math
from collections.abc import Iterator

import numpy as np
import torch
from scipy.optimize import minimize

from playground.errors import PlaygroundError
from playground.vae.posterior import PosteriorGrid, _dtype, elbo_on_grid, encoder_q, label_tensor


def optimise_q(model, x, pg: PosteriorGrid, y=None, steps: int = 300, samples: int = 16, lr: float = 0.05,
               seed: int = 0, every: int = 10) -> Iterator[dict]:
    """Adam on the ELBO of q = N(mu, diag exp(logvar)) for image x, from the encoder's q. Yields a report every
    `every` steps (and at step 0 and the last): step, mu, logvar, the step's MC estimate and the grid's exact
    ELBO and gap. The learning rate decays to a tenth (cosine) so the last steps settle."""
    if not 1 <= steps <= 10_000 or not 1 <= samples <= 4096:
        raise PlaygroundError(f"steps must be in 1..10000 and samples in 1..4096 (got {steps}, {samples})")
    dt = _dtype(model)
    mu0, lv0 = encoder_q(model, x, y)
    mu = torch.tensor(mu0, dtype=dt, requires_grad=True)
    logvar = torch.tensor(lv0, dtype=dt, requires_grad=True)
    opt = torch.optim.Adam([mu, logvar], lr=lr)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda t: 0.1 + 0.45 * (1 + math.cos(math.pi * t / steps)))
    g = torch.Generator().manual_seed(int(seed))
    yt = label_tensor(model, y)
    xs = x.expand(samples, *x.shape[1:])

    def report(step: int, estimate: float) -> dict:
        m, lv = mu.detach().double().numpy().copy(), logvar.detach().double().numpy().copy()
        elbo = elbo_on_grid(pg, m, lv)
        return {"step": step, "mu": m, "logvar": lv, "elbo_mc": estimate, "elbo": elbo, "gap": pg.log_px - elbo}

    yield report(0, math.nan)
    for step in range(1, steps + 1):
        eps = torch.randn((samples, len(mu0)), generator=g, dtype=torch.float64).to(dt)
        z = mu + eps * torch.exp(0.5 * logvar)
        recon = model.log_px(xs, z, yt).mean()
        kl = 0.5 * (mu.pow(2) + logvar.exp() - 1.0 - logvar).sum()
        elbo = recon - kl
        # gradients of q's two vectors only: the model's own weights are left untouched
        gm, gl = torch.autograd.grad(-elbo, [mu, logvar])
        mu.grad, logvar.grad = gm, gl
        opt.step()
        sched.step()
        with torch.no_grad():
            logvar.clamp_(-12.0, 8.0)              # the encoder's own range
        if step % every == 0 or step == steps:
            yield report(step, float(elbo.detach()))


def best_gaussian(pg: PosteriorGrid, start=None) -> dict:
    """The diagonal Gaussian with the largest ELBO on the grid (L-BFGS over mean and log-variance, from `start`
    or the posterior's moments). Its log-variance is kept above that of a single cell, which the grid resolves."""
    if start is None:
        m, S = pg.moments()
        start = np.concatenate([m, np.log(np.diag(S))])
    h = max(pg.xs[1] - pg.xs[0], pg.ys[1] - pg.ys[0])
    lo_lv = 2 * math.log(h)
    lo, hi = pg.box[0::2], pg.box[1::2]
    bounds = [(lo[0], hi[0]), (lo[1], hi[1]), (lo_lv, 8.0), (lo_lv, 8.0)]
    res = minimize(lambda p: -elbo_on_grid(pg, p[:2], p[2:]), np.asarray(start, dtype=np.float64),
                   method="L-BFGS-B", bounds=bounds)
    mu, lv = res.x[:2], res.x[2:]
    elbo = elbo_on_grid(pg, mu, lv)
    return {"mu": mu, "logvar": lv, "elbo": elbo, "gap": pg.log_px - elbo}


def gaps(pg: PosteriorGrid, optimised: dict, best: dict) -> dict:
    """The split of the encoder's gap (nats): amortisation (best Gaussian − encoder) and family
    (log p(x) − best Gaussian); `closed` is how much of the amortisation gap the optimisation removed."""
    encoder = elbo_on_grid(pg, pg.mu_q, pg.logvar_q)
    amort = best["elbo"] - encoder
    return {"log_px": pg.log_px, "elbo_encoder": encoder, "elbo_optimised": optimised["elbo"],
            "elbo_best_gaussian": best["elbo"], "amortisation_gap": amort, "family_gap": best["gap"],
            "closed": (optimised["elbo"] - encoder) / amort if amort > 1e-9 else 1.0}
