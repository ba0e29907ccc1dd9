"""The exact posterior of a 2-latent model on a grid: p(z|x) ∝ p(x|z) p(z), log p(x), the ELBO, its gap, IWAE.

Everything is in the log domain (float64 once it leaves the decoder). log p(x) is the midpoint rule over the
grid's cells; for a smooth integrand that vanishes at the box's edge this converges faster than any power of
the cell size (for a Gaussian of standard deviation σ on cells of width h, the relative error is about
2 exp(−2π²σ²/h²)), so a few cells per posterior standard deviation suffice.

Where the grid goes (so no mass is lost). A *scan* grid first covers the square [−R, R]² joined with the
encoder's q ± 6 sd. Outside [−R, R]² the posterior mass is at most

    P_prior(z ∉ [−R, R]²) · sup_z p(x|z) / p(x)   ≤   4 Φ(−R) · exp(S − log p_scan(x))

with S an upper bound of log p(x|z) over all z (0 for a Bernoulli decoder; the variance floor's peak for a
Gaussian one). The scan's own integral p_scan(x) chooses R (a coarse scan can miss a narrow posterior by nats
either way, so it only places the grids); the bound reported uses the fine grid's log p(x), so it holds up to
that quadrature's error. R starts at 8 and is raised until the bound is below `tol` (capped at R_MAX), at most
twice, rounded up to the ladder
8·2^(k/8): the scan grids then repeat from image to image, and a GridCache (playground.vae.likelihood) keeps the
decoder's terms on them, so a new image pays only for its fine grid and its importance samples. The *fine*
grid then covers the cells where the scan found posterior density within e^−20 of its peak, plus q ± 6 sd,
squared; the scan's mass outside it is measured. `truncation` reports both parts; their sum bounds the error of
log p(x) (in nats, for small masses, −log(1 − mass) ≈ mass).
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass

import numpy as np
import torch
from scipy.special import log_ndtr, ndtri_exp

from playground.ahead import EXITING, background_thread
from playground.errors import PlaygroundError
from playground.numerics import logsumexp
from playground.vae import likelihood
from playground.vae.likelihood import GridCache, label_tensor
from playground.vae.likelihood import model_dtype as _dtype  # noqa: F401  (estimators, amortisation use it)

LOG_2PI = math.log(2 * math.pi)
DEFAULT_KS = (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000)
# The inspector's settings, shared by the page and `python -m playground vae posterior` (same defaults).
DEFAULT_GRID, DEFAULT_SCAN, DEFAULT_SAMPLES = 100, 64, 20000
MAX_K = 5000
MAX_SAMPLES = 200_000
R_START, R_MAX = 8.0, 60.0
R_STEPS = 8                  # scan radii on the ladder R_START · 2^(k / R_STEPS)
Q_SDS = 6.0                  # the grid holds q ± 6 sd: q's mass outside is below 1e-8
KEEP_BELOW_PEAK = 20.0       # nats: scan cells this far below the peak density are left out of the fine grid
MIN_BLOCKS = 10              # fewer blocks of K weights than this: the delta-method standard error


@dataclass(frozen=True)
class PosteriorGrid:
    """The posterior of one image on an n x n grid of cell centres. Arrays are indexed [iy, ix]."""

    xs: np.ndarray              # (n,) cell centres along z0
    ys: np.ndarray              # (n,) cell centres along z1
    log_lik: np.ndarray         # (n, n) log p(x|z)
    log_joint: np.ndarray       # (n, n) log p(x|z) + log p(z)
    log_px: float               # log p(x) by quadrature
    mu_q: np.ndarray            # the encoder's q: mean (2,)
    logvar_q: np.ndarray        # and log-variance (2,)
    truncation: dict            # see the module docstring

    @property
    def cell_area(self) -> float:
        return float((self.xs[1] - self.xs[0]) * (self.ys[1] - self.ys[0]))

    @property
    def log_post(self) -> np.ndarray:
        """log p(z|x) as a density (n, n)."""
        return self.log_joint - self.log_px

    @property
    def box(self) -> tuple[float, float, float, float]:
        hx, hy = self.xs[1] - self.xs[0], self.ys[1] - self.ys[0]
        return (float(self.xs[0] - hx / 2), float(self.xs[-1] + hx / 2),
                float(self.ys[0] - hy / 2), float(self.ys[-1] + hy / 2))

    def points(self) -> np.ndarray:
        X, Y = np.meshgrid(self.xs, self.ys, indexing="xy")
        return np.stack([X, Y], -1)

    def moments(self) -> tuple[np.ndarray, np.ndarray]:
        """Mean (2,) and covariance (2, 2) of p(z|x) on the grid."""
        w = np.exp(self.log_post) * self.cell_area
        w = w / w.sum()
        P = self.points().reshape(-1, 2)
        m = (w.reshape(-1, 1) * P).sum(0)
        d = P - m
        return m, (w.reshape(-1, 1, 1) * d[:, :, None] * d[:, None, :]).sum(0)


# ---------------------------------------------------------------------------------------------- the model side
def check_2d(model) -> None:
    if int(model.latent) != 2:
        raise PlaygroundError(f"the exact posterior needs a model with 2 latent dimensions; this one has "
                              f"{model.latent}")


def test_image(model, test, index: int) -> tuple[torch.Tensor, int | None]:
    """Test image `index` (1, C, H, W) and its label (for a conditional model)."""
    if not 0 <= int(index) < len(test):
        raise PlaygroundError(f"--index {index} is outside 0..{len(test) - 1}")
    y = int(test.labels[index]) if getattr(model, "num_classes", 0) and test.labels is not None else None
    return test.images[int(index):int(index) + 1], y


@torch.no_grad()
def encoder_q(model, x, y=None) -> tuple[np.ndarray, np.ndarray]:
    """The encoder's q(z|x): mean and log-variance, each (2,) float64."""
    mu, logvar = model.encode(x, label_tensor(model, y))
    return mu[0].double().numpy(), logvar[0].double().numpy()


def log_likelihood(model, x, z: np.ndarray, y=None) -> np.ndarray:
    """log p(x|z) for each row of z (M, 2): float64 (M,) (see playground.vae.likelihood)."""
    return likelihood.log_likelihood(model, x, z, y)


def log_lik_sup(model, x=None) -> float:
    """An upper bound of log p(x|z) over every z: 0 for Bernoulli pixels (each term is ≤ 0), the variance
    floor's peak for a Gaussian decoder, the model's own for one that says (LinearGaussian)."""
    own = getattr(model, "log_lik_sup", None)
    if callable(own):
        return float(own(x))
    cfg = getattr(model, "cfg", None)
    if cfg is None or cfg.decoder == "bernoulli":
        return 0.0
    from playground.vae.model import MIN_LOGVAR

    return -0.5 * float(np.prod(model.shape)) * (LOG_2PI + MIN_LOGVAR)


def log_prior(z: np.ndarray) -> np.ndarray:
    return -0.5 * (z ** 2).sum(-1) - 0.5 * z.shape[-1] * LOG_2PI


def log_normal_diag(z: np.ndarray, mu, logvar) -> np.ndarray:
    mu, logvar = np.asarray(mu, dtype=np.float64), np.asarray(logvar, dtype=np.float64)
    return (-0.5 * (LOG_2PI + logvar + (z - mu) ** 2 * np.exp(-logvar))).sum(-1)


# ---------------------------------------------------------------------------------------------- the grid
def _centres(lo: float, hi: float, n: int) -> np.ndarray:
    h = (hi - lo) / n
    return lo + h * (np.arange(n) + 0.5)


def _joint_on(model, x, y, xs, ys, cache: GridCache | None = None) -> tuple[np.ndarray, np.ndarray]:
    X, Y = np.meshgrid(xs, ys, indexing="xy")
    P = np.stack([X.ravel(), Y.ravel()], 1)
    if cache is None:
        ll = log_likelihood(model, x, P, y).reshape(len(ys), len(xs))
    else:
        ll = cache.log_lik_grid(x, y, xs, ys)
    return ll, ll + log_prior(P).reshape(len(ys), len(xs))


def _on_ladder(radius: float) -> float:
    """The smallest R_START · 2^(k/R_STEPS) ≥ radius, at most R_MAX."""
    k = math.ceil(R_STEPS * math.log2(max(radius, R_START) / R_START) - 1e-9)
    return min(R_MAX, R_START * 2.0 ** (k / R_STEPS))


def _log_tail(radius: float) -> float:
    """log of a bound on P(z ∉ [−R, R]²) under N(0, I): the union bound 4 Φ(−R)."""
    return math.log(4.0) + float(log_ndtr(-radius))


def _scan_axes(radius: float, mu, sd, scan: int) -> tuple[np.ndarray, np.ndarray]:
    """The scan's cell centres: [−radius, radius]² joined with q ± Q_SDS sd."""
    lo, hi = np.minimum(-radius, mu - Q_SDS * sd), np.maximum(radius, mu + Q_SDS * sd)
    return _centres(lo[0], hi[0], scan), _centres(lo[1], hi[1], scan)


def _log_tail_bound(radius: float, sup: float, log_px_scan: float) -> float:
    """log of the bound on the posterior mass outside [−radius, radius]² (the module docstring)."""
    return _log_tail(radius) + sup - log_px_scan


def _wider_radius(radius: float, log_px_scan: float, sup: float, tol: float) -> float | None:
    """The ladder radius whose tail bound falls below `tol`, or None when `radius` already holds (or is R_MAX)."""
    if _log_tail_bound(radius, sup, log_px_scan) <= math.log(tol) or radius >= R_MAX:
        return None
    return _on_ladder(float(-ndtri_exp(math.log(tol) - math.log(4.0) - sup + log_px_scan)) + 0.5)


@torch.no_grad()
def warm_scans(model, images: torch.Tensor, labels=None, scan: int = 128, tol: float = 1e-6,
               cache: GridCache | None = None, chunk: int = 512) -> int:
    """Fill `cache` with the scan grids posterior_grid needs for `images` (a test split), so that choosing any of
    them later costs matrix-vector products only: the first scan's log p(x) of every image in one product per
    chunk, then the wider ladder radius each needs. Images whose q reaches past the radius get a box of their
    own and are left to miss. Returns the number of grids the cache had to compute."""
    check_2d(model)
    if cache is None or not likelihood.has_terms(model) or (getattr(model, "num_classes", 0) and labels is None):
        return 0
    before = cache.misses
    sup = log_lik_sup(model)
    groups = [(None, torch.arange(len(images)))] if not getattr(model, "num_classes", 0) else \
        [(int(c), torch.nonzero(labels == c).flatten()) for c in torch.unique(labels)]
    for y, idx in groups:
        yt = None if y is None else torch.full((len(idx),), y, dtype=torch.long)
        mu, logvar = model.encode(images[idx], yt)
        sd = np.exp(0.5 * logvar.double().numpy())
        mu = mu.double().numpy()
        radius = np.full(len(idx), R_START)
        for _ in range(2):
            wider = np.full(len(idx), np.nan)
            for r in np.unique(radius):
                if EXITING.is_set():                    # the interpreter is ending: stop at a clean point
                    return cache.misses - before
                rows = np.nonzero((radius == r) & (np.abs(mu) + Q_SDS * sd <= r).all(1))[0]
                if not len(rows):
                    continue
                sx, sy = _scan_axes(float(r), np.zeros(2), np.zeros(2), scan)   # these rows' q lie inside
                X, Y = np.meshgrid(sx, sy, indexing="xy")
                log_prior_scan = torch.from_numpy(log_prior(np.stack([X.ravel(), Y.ravel()], 1)))
                terms = cache.terms(sx, sy, y)
                log_cell = math.log((sx[1] - sx[0]) * (sy[1] - sy[0]))
                for s in range(0, len(rows), chunk):
                    part = rows[s:s + chunk]
                    joint = likelihood.contract_many(model, images[idx[part]], terms) + log_prior_scan[:, None]
                    log_px = (torch.logsumexp(joint, 0) + log_cell).numpy()
                    for i, lp in zip(part, log_px):
                        w = _wider_radius(float(r), float(lp), sup, tol)
                        wider[i] = np.nan if w is None else w
            if np.isnan(wider).all():
                break
            radius = wider
    return cache.misses - before


def warm_scans_behind(model, images: torch.Tensor, labels=None, scan: int = 128,
                      cache: GridCache | None = None) -> threading.Thread:
    """warm_scans on a daemon thread with one torch thread, so the page's first image does not wait for it."""
    def work() -> None:
        torch.set_num_threads(1)
        warm_scans(model, images, labels, scan=scan, cache=cache)

    return background_thread(work, "warm-scans")


def posterior_grid(model, x, y=None, n: int = 200, scan: int = 128, tol: float = 1e-6,
                   cache: GridCache | None = None) -> PosteriorGrid:
    """The posterior of image x (1, C, H, W) on an n x n grid placed as the module docstring says; `cache`
    (a GridCache of this model) only saves time: the numbers are the same without it."""
    check_2d(model)
    if not 16 <= int(n) <= 1000 or not 16 <= int(scan) <= 1000:
        raise PlaygroundError(f"grid sizes must be between 16 and 1000 (got {n} and {scan})")
    mu, logvar = encoder_q(model, x, y)
    sd = np.exp(0.5 * logvar)
    sup = log_lik_sup(model, x)
    wider = R_START
    for _ in range(2):                  # a second scan only if the first radius leaves too loose a bound
        radius = wider                  # the radius scanned (a third, wider one is not: its bound is reported)
        sx, sy = _scan_axes(radius, mu, sd, scan)
        _, scan_joint = _joint_on(model, x, y, sx, sy, cache)
        cell = (sx[1] - sx[0]) * (sy[1] - sy[0])
        log_px_scan = float(logsumexp(scan_joint.ravel())) + math.log(cell)
        wider = _wider_radius(radius, log_px_scan, sup, tol)
        if wider is None:
            break
    # the fine box: every scan cell within KEEP_BELOW_PEAK of the peak, one scan cell of margin, and q ± 6 sd
    keep = scan_joint >= scan_joint.max() - KEEP_BELOW_PEAK
    hx, hy = sx[1] - sx[0], sy[1] - sy[0]
    kx, ky = sx[keep.any(0)], sy[keep.any(1)]
    flo = np.minimum([kx.min() - 1.5 * hx, ky.min() - 1.5 * hy], mu - Q_SDS * sd)
    fhi = np.maximum([kx.max() + 1.5 * hx, ky.max() + 1.5 * hy], mu + Q_SDS * sd)
    centre, half = (flo + fhi) / 2, (fhi - flo).max() / 2          # square: equal cells on both axes
    flo, fhi = centre - half, centre + half
    inside = ((sx >= flo[0]) & (sx <= fhi[0]))[None, :] & ((sy >= flo[1]) & (sy <= fhi[1]))[:, None]
    outside = scan_joint[~inside]
    ring = np.concatenate([scan_joint[0], scan_joint[-1], scan_joint[1:-1, 0], scan_joint[1:-1, -1]])
    xs, ys = _centres(flo[0], fhi[0], int(n)), _centres(flo[1], fhi[1], int(n))
    log_lik, log_joint = _joint_on(model, x, y, xs, ys)
    log_px = float(logsumexp(log_joint.ravel())) + math.log((xs[1] - xs[0]) * (ys[1] - ys[0]))
    # both masses relative to the fine grid's p(x), the accurate one (the scan's can be off by nats)
    log_tail_bound = _log_tail_bound(radius, sup, log_px)
    log_outside = float(logsumexp(outside)) + math.log(cell) - log_px if outside.size else -math.inf
    lost = math.exp(min(log_tail_bound, 50.0)) + math.exp(min(log_outside, 50.0))
    truncation = {
        "radius": round(radius, 3),              # the widest radius scanned
        "log_tail_bound": log_tail_bound,        # log of the bound on the mass outside [−R, R]² (up to quadrature)
        "log_mass_outside_grid": log_outside,    # log of the scan's posterior mass outside the fine box
        "log_edge_mass": float(logsumexp(ring)) + math.log(cell) - log_px_scan,  # the scan's outer ring
        "error_bound_nats": -math.log1p(-min(lost, 0.5)) if lost < 0.5 else math.inf,
        "scan_log_px": log_px_scan,              # the coarse grid's own log p(x): a discretisation check
        "cells_per_sd": float(min(sd.min(), 1e9) / max(xs[1] - xs[0], ys[1] - ys[0])),
    }
    return PosteriorGrid(xs, ys, log_lik, log_joint, log_px, mu, logvar, truncation)


def elbo_on_grid(pg: PosteriorGrid, mu, logvar) -> float:
    """ELBO of q = N(mu, diag exp(logvar)) by quadrature: Σ w (log p(x, z) − log q(z)), w ∝ q on the cells.
    Then log p(x) − ELBO = Σ w (log q − log p(z|x)) = KL(q ‖ p(z|x)) on the same grid, exactly."""
    log_q = log_normal_diag(pg.points(), mu, logvar)
    w = np.exp(log_q - logsumexp(log_q.ravel()))
    return float((w * (pg.log_joint - log_q)).sum())


GH_NODES = 24             # Gauss–Hermite nodes per latent axis for the ELBO: 576 decoder passes


def elbo_gauss_hermite(model, x, y, mu, logvar, nodes: int = GH_NODES) -> float:
    """ELBO of q = N(mu, diag exp(logvar)) by Gauss–Hermite quadrature in q's own coordinates:
    E_q[log p(x|z)] on nodes² points z = mu + sd·t, minus KL(q ‖ N(0, I)) in closed form. Exact for a
    log-likelihood that is a polynomial of degree < 2·nodes in z (the linear-Gaussian decoder's is quadratic),
    and, unlike `elbo_on_grid`, it does not depend on the grid's cells, which can be wider than q's sd."""
    check_2d(model)
    t, w = np.polynomial.hermite_e.hermegauss(int(nodes))       # weights for e^(−t²/2): N(0, 1) up to a constant
    w = w / w.sum()
    mu, logvar = np.asarray(mu, dtype=np.float64), np.asarray(logvar, dtype=np.float64)
    t1, t2 = np.meshgrid(t, t, indexing="ij")
    z = mu + np.exp(0.5 * logvar) * np.stack([t1.ravel(), t2.ravel()], axis=1)
    expected = float(np.outer(w, w).ravel() @ log_likelihood(model, x, z, y))
    return expected - 0.5 * float((mu ** 2 + np.exp(logvar) - 1.0 - logvar).sum())


def gap_on_grid(pg: PosteriorGrid, mu, logvar) -> float:
    """KL(q ‖ p(z|x)) on the grid."""
    return pg.log_px - elbo_on_grid(pg, mu, logvar)


# ---------------------------------------------------------------------------------------------- IWAE
@torch.no_grad()
def log_weights(model, x, y=None, samples: int = 20000, seed: int = 0, mu=None, logvar=None) -> np.ndarray:
    """log w = log p(x, z) − log q(z) for `samples` draws z ~ q (the encoder's, or the given mean/log-var)."""
    if mu is None:
        mu, logvar = encoder_q(model, x, y)
    z = _draws(mu, logvar, samples, seed)
    return log_likelihood(model, x, z, y) + log_prior(z) - log_normal_diag(z, mu, logvar)


def _draws(mu, logvar, samples: int, seed: int) -> np.ndarray:
    """`samples` draws from N(mu, diag exp(logvar)), float64, from a generator seeded by `seed`."""
    mu, logvar = np.asarray(mu, dtype=np.float64), np.asarray(logvar, dtype=np.float64)
    g = torch.Generator().manual_seed(int(seed))
    eps = torch.randn((int(samples), len(mu)), generator=g, dtype=torch.float64).numpy()
    return mu + eps * np.exp(0.5 * logvar)


def check_ks(ks, samples: int) -> list[int]:
    ks = sorted({int(k) for k in ks})
    if not ks or ks[0] < 1 or ks[-1] > MAX_K:
        raise PlaygroundError(f"K must be between 1 and {MAX_K} (got {ks})")
    if not ks[-1] <= samples <= MAX_SAMPLES:
        raise PlaygroundError(f"samples must be between the largest K ({ks[-1]}) and {MAX_SAMPLES} (got {samples})")
    return ks


def iwae_from_weights(logw: np.ndarray, ks) -> list[dict]:
    """IWAE_K = E log (1/K) Σ_k w_k for each K, estimated from the disjoint blocks of K log-weights in `logw`
    (the mean over the blocks), with its Monte Carlo standard error: the blocks' spread when there are at least
    MIN_BLOCKS of them, else the delta method on all M weights, (Var w / (M (E w)²))^½, which is what the
    spread tends to for large K. Both understate the error when the weights are heavy-tailed (q narrower
    than p(z|x)): then a single estimate may land a few standard errors above log p(x)."""
    w = np.exp(logw - logw.max())
    delta_rel_var = float(w.var(ddof=1) / w.mean() ** 2) if len(w) > 1 else math.nan
    rows = []
    for k in check_ks(ks, len(logw)):
        blocks = len(logw) // k
        est = logsumexp(logw[:blocks * k].reshape(blocks, k), axis=1) - math.log(k)
        if blocks >= MIN_BLOCKS:
            se = float(est.std(ddof=1) / math.sqrt(blocks))
        else:
            se = math.sqrt(delta_rel_var / (blocks * k))
        rows.append({"k": k, "value": float(est.mean()), "se": se, "blocks": blocks})
    return rows


def iwae_bounds(model, x, y=None, ks=DEFAULT_KS, samples: int = 20000, seed: int = 0, mu=None,
                logvar=None) -> list[dict]:
    check_ks(ks, samples)
    return iwae_from_weights(log_weights(model, x, y, samples, seed, mu, logvar), ks)


# ---------------------------------------------------------------------------------------------- one report
def inspect(model, x, y=None, n: int = 200, ks=DEFAULT_KS, samples: int = 20000, seed: int = 0,
            scan: int = 128, cache: GridCache | None = None, parallel: bool = False) -> tuple[PosteriorGrid, dict]:
    """The grid and the numbers for one image: log p(x), ELBO, gap, the ELBO by Monte Carlo, IWAE for each K.
    With `cache` the scans reuse the decoder's terms from earlier images; with `parallel` the importance
    samples' decoder passes share a second core with the grid's (a thread beside the caller's; the CLI's
    --threads stays what it says). Neither changes a number, only the time."""
    check_ks(ks, samples)
    mu, logvar = encoder_q(model, x, y)
    z = _draws(mu, logvar, samples, seed)

    def grid() -> PosteriorGrid:
        return posterior_grid(model, x, y, n=n, scan=scan, cache=cache)

    if parallel:
        ll, pg = likelihood.log_likelihood_beside(model, x, z, y, grid, int(n) ** 2)
    else:
        pg = grid()
        ll = log_likelihood(model, x, z, y)
    logw = ll + log_prior(z) - log_normal_diag(z, mu, logvar)
    elbo = elbo_gauss_hermite(model, x, y, pg.mu_q, pg.logvar_q)     # q can be narrower than the grid's cells
    m, S = pg.moments()
    report = {
        "log_px": pg.log_px,
        "elbo": elbo,
        "gap": pg.log_px - elbo,
        "elbo_mc": float(logw.mean()), "elbo_mc_se": float(logw.std(ddof=1) / math.sqrt(len(logw))),
        "iwae": iwae_from_weights(logw, ks),
        "samples": int(samples),
        "q": {"mean": pg.mu_q.tolist(), "std": np.exp(0.5 * pg.logvar_q).tolist()},
        "posterior": {"mean": m.tolist(), "cov": S.tolist()},
        "grid": {"n": int(n), "box": list(pg.box)},
        "truncation": pg.truncation,
    }
    return pg, report


def two_latent_sources(sources: dict[str, dict]) -> dict[str, dict]:
    """The entries of sources.model_sources() whose model has 2 latent dimensions (by its card or run config)."""
    from playground.configs import renamed_keys
    from playground.runs.rundir import RunDir
    from playground.vae.config import VAEConfig

    out = {}
    for label, src in sources.items():
        try:
            cfg = (src.get("card") or {}).get("config") or (RunDir(src["run"]).config() if src.get("run") else {})
        except (PlaygroundError, OSError, ValueError):
            continue
        if isinstance(cfg, dict) and renamed_keys(VAEConfig, cfg).get("latent_dim") == 2:
            out[label] = src
    return out
