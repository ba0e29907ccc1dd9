"""The amortisation gap: fit q to one image by itself and see how much of the ELBO gap the encoder left.

log p(x) − ELBO(encoder's q) = [ELBO(best Gaussian) − ELBO(encoder's q)]   the amortisation gap
                             + [log p(x) − ELBO(best Gaussian)]            the Gaussian family's gap
Per-example inference (`optimise_q`) starts from the encoder's mean and log-variance and climbs the ELBO by
Adam on the reparameterised Monte Carlo estimate, as stochastic variational inference does; each report
carries the ELBO of the current q by Gauss–Hermite quadrature (posterior.elbo_gauss_hermite: exact to far below
the numbers shown, whatever the grid's cells). `best_gaussian` finds the family's optimum deterministically
(the target the optimisation is heading for): on the grid, then polished on the same quadrature.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator

import numpy as np
import torch
from scipy.optimize import minimize

from playground.errors import PlaygroundError
from playground.vae.posterior import PosteriorGrid, _dtype, elbo_gauss_hermite, elbo_on_grid, encoder_q, label_tensor


def optimise_q(model, x, pg: PosteriorGrid, y=None, steps: int = 300, samples: int = 16, lr: float = 0.05,
               seed: int = 0, every: int = 10) -> Iterator[dict]:
    """Adam on the ELBO of q = N(mu, diag exp(logvar)) for image x, from the encoder's q. Yields a report every
    `every` steps (and at step 0 and the last): step, mu, logvar, the step's MC estimate, the ELBO by quadrature
    and the gap. The learning rate decays to a tenth (cosine) so the last steps settle."""
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
        elbo = elbo_gauss_hermite(model, x, y, m, lv)
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


def best_gaussian(pg: PosteriorGrid, start=None, elbo: Callable[[np.ndarray, np.ndarray], float] | None = None
                  ) -> dict:
    """The diagonal Gaussian with the largest ELBO: L-BFGS over mean and log-variance on the grid (from `start` or
    the posterior's moments), its log-variance kept above that of a single cell, which the grid resolves; then,
    given `elbo` (mean, log-variance) -> ELBO of this image by quadrature (elbo_of), polished on it with the
    log-variance free down to the encoder's floor, since a posterior can be narrower than the grid's cells."""
    if start is None:
        m, S = pg.moments()
        start = np.concatenate([m, np.log(np.diag(S))])
    h = max(pg.xs[1] - pg.xs[0], pg.ys[1] - pg.ys[0])
    lo_lv = 2 * math.log(h)
    lo, hi = pg.box[0::2], pg.box[1::2]
    box = [(lo[0], hi[0]), (lo[1], hi[1])]
    start = np.clip(np.asarray(start, dtype=np.float64), [b[0] for b in box] + [lo_lv] * 2,
                    [b[1] for b in box] + [8.0] * 2)
    res = minimize(lambda p: -elbo_on_grid(pg, p[:2], p[2:]), start, method="L-BFGS-B",
                   bounds=box + [(lo_lv, 8.0)] * 2)
    if elbo is not None:
        res = minimize(lambda p: -elbo(p[:2], p[2:]), res.x, method="L-BFGS-B", bounds=box + [(-12.0, 8.0)] * 2,
                       options={"eps": 1e-4})           # steps above the float32 decoder's rounding
    mu, lv = res.x[:2], res.x[2:]
    value = elbo(mu, lv) if elbo is not None else elbo_on_grid(pg, mu, lv)
    return {"mu": mu, "logvar": lv, "elbo": value, "gap": pg.log_px - value}


def elbo_of(model, x, y=None) -> Callable[[np.ndarray, np.ndarray], float]:
    """(mean, log-variance) -> the ELBO of image x by Gauss–Hermite quadrature, for best_gaussian and gaps."""
    return lambda mu, logvar: elbo_gauss_hermite(model, x, y, mu, logvar)


def gaps(pg: PosteriorGrid, optimised: dict, best: dict,
         elbo: Callable[[np.ndarray, np.ndarray], float] | None = None) -> dict:
    """The split of the encoder's gap (nats): amortisation (best Gaussian − encoder) and family
    (log p(x) − best Gaussian); `closed` is how much of the amortisation gap the optimisation removed. The
    encoder's ELBO by `elbo` (elbo_of) when given, else on the grid."""
    encoder = (elbo or (lambda m, lv: elbo_on_grid(pg, m, lv)))(pg.mu_q, pg.logvar_q)
    amort = best["elbo"] - encoder
    return {"log_px": pg.log_px, "elbo_encoder": encoder, "elbo_optimised": optimised["elbo"],
            "elbo_best_gaussian": best["elbo"], "amortisation_gap": amort, "family_gap": best["gap"],
            "closed": (optimised["elbo"] - encoder) / amort if amort > 1e-9 else 1.0}
