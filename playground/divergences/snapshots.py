"""What each view of the divergence lab shows, as plain numbers: the page caches these and hands them to `plots`.

Each function takes plain values (formulas, names, numbers), so the page can cache it by its arguments and the
CLI or a notebook gets the same numbers.
"""

from __future__ import annotations

import math

import numpy as np

from playground.divergences import measures as M
from playground.divergences.densities import Density1D, resolve_target_1d, target_2d
from playground.divergences.fit import alpha_sweep, family_1d, fit_1d, landscape_1d
from playground.divergences.fit2d import factorised_fits, fit_2d
from playground.divergences.gan_link import gan_snapshot, saturation_curves

LANDMARKS = ((-1.0, "neyman", "Neyman χ² (α = −1)"), (0.0, "rkl", "reverse KL (α = 0)"),
             (0.5, "hellinger2", "Hellinger (α = ½)"), (1.0, "kl", "KL (α = 1)"),
             (2.0, "pearson", "Pearson χ² (α = 2)"))


def display_grid(target: Density1D, extra: list[Density1D] = (), n: int = 500) -> np.ndarray:
    lo, hi = target.extent(4.0)
    for d in extra:
        a, b = d.extent(3.0)
        lo, hi = min(lo, a), max(hi, b)
    span = hi - lo
    lo, hi = max(lo, target.extent(4.0)[0] - span), min(hi, target.extent(4.0)[1] + span)
    x = np.linspace(lo, hi, n)
    # Put the ends of uniform parts on the grid, so their jumps draw as vertical edges.
    jumps = M.jump_points(target)
    if len(jumps):
        x = np.unique(np.concatenate([x, jumps - 1e-9, jumps + 1e-9]))
    return x


def fits_snapshot(target_text: str, names: list[str], family: str = "gaussian", components: int = 2,
                  restarts: int = 12, seed: int = 0) -> dict:
    """Fit every named divergence; densities on a display grid, paths, parameters, minima and the matrix of
    every divergence measured at every fit."""
    target = resolve_target_1d(target_text)
    fam = family_1d(family, components)
    results, errors = {}, {}
    for name in names:
        try:
            results[name] = fit_1d(target, name, fam, restarts=restarts, seed=seed)
        except Exception as e:  # noqa: BLE001 - shown next to the plot (e.g. "infinite for every Gaussian")
            errors[name] = str(e)
    best_q = {n: r.model.density(r.best.theta) for n, r in results.items()}
    x = display_grid(target, list(best_q.values()))
    fits = []
    for name, r in results.items():
        run = r.runs[r.best.run]
        div = M.parse_divergence(name)
        fits.append({
            "name": name, "label": div.label, "q": best_q[name].prob(x), "formula": best_q[name].formula(),
            "path_q": [r.model.density(t).prob(x) for t in run.path], "params": r.best.params,
            "value": r.best.value, "path_values": list(run.values),
            "minima": [{**m.params, "value": m.value, "count": m.count} for m in r.minima],
            "restarts": len(r.runs), "converged": sum(rr.converged for rr in r.runs),
            "measured": {k: v for k, v in M.all_divergences(target, best_q[name]).items()},
        })
    return {"x": x, "p": target.prob(x), "fits": fits, "errors": errors, "target": target.formula(),
            "mean": target.mean(), "std": target.std()}


def landscape_snapshot(target_text: str, name: str, restarts: int = 12, seed: int = 0, n_mu: int = 81,
                       n_sigma: int = 61) -> dict:
    """The divergence of N(μ, σ) from the target over a (μ, σ) grid, with every start's path and the minima."""
    target = resolve_target_1d(target_text)
    res = fit_1d(target, name, "gaussian", restarts=restarts, seed=seed)
    lo, hi = target.extent(2.5)
    scales = np.where(target.is_gaussian, target.scales, target.scales / math.sqrt(12))
    s_lo, s_hi = 0.3 * float(scales.min()), 2.5 * target.std()
    pts = [m.params for m in res.minima]
    for pp in pts:
        lo, hi = min(lo, pp["mu"] - 0.5), max(hi, pp["mu"] + 0.5)
        s_lo, s_hi = min(s_lo, pp["sigma"] / 1.5), max(s_hi, pp["sigma"] * 1.5)
    mus = np.linspace(lo, hi, n_mu)
    sigmas = np.exp(np.linspace(math.log(s_lo), math.log(s_hi), n_sigma))
    values = landscape_1d(target, name, mus, sigmas)
    paths = []
    for r in res.runs:
        ps = [res.model.params(t) for t in r.path]
        paths.append((np.array([q["mu"] for q in ps]), np.array([q["sigma"] for q in ps])))
    minima = [(m.params["mu"], m.params["sigma"], m.value, m.count) for m in res.minima]
    return {"mus": mus, "sigmas": sigmas, "values": values, "paths": paths, "minima": minima,
            "label": M.parse_divergence(name).label}


def alpha_snapshot(target_text: str, alpha: float, restarts: int = 6, seed: int = 0,
                   sweep_points: int = 25) -> dict:
    """The best single-Gaussian fit at α, the fits at the landmark α values, and the sweep over [−1, 2]."""
    target = resolve_target_1d(target_text)
    sweep_alphas = np.unique(np.concatenate([np.linspace(-1.0, 2.0, sweep_points), [alpha]]))
    sweep = alpha_sweep(target, sweep_alphas, restarts=2, seed=seed)
    fits, errors = [], {}
    for a, name, label in ((alpha, "alpha", f"α = {alpha:g}"),) + LANDMARKS:
        try:
            r = fit_1d(target, M.Divergence(f"alpha:{a:.15g}", "alpha", float(a)), "gaussian",
                       restarts=restarts, seed=seed, record_path=False)
            fits.append({"alpha": a, "name": name, "label": label, "density": r.model.density(r.best.theta),
                         "params": r.best.params, "value": r.best.value, "n_minima": len(r.minima)})
        except Exception as e:  # noqa: BLE001 - shown next to the plot
            errors[label] = str(e)
    x = display_grid(target, [f["density"] for f in fits])
    for f in fits:
        f["q"] = f.pop("density").prob(x)
    return {"x": x, "p": target.prob(x), "current": fits[0] if fits and fits[0]["name"] == "alpha" else None,
            "landmarks": [f for f in fits if f["name"] != "alpha"], "sweep": sweep, "errors": errors}


def fit2d_snapshot(target_name: str, param: float, family: str, names: list[str], restarts: int = 12,
                   seed: int = 0, n: int = 121) -> dict:
    """2D Gaussian fits for each divergence over the target's density on a display grid."""
    target = target_2d(target_name, param)
    fits, errors = [], {}
    for name in names:
        try:
            r = fit_2d(target, name, family, restarts=restarts, seed=seed, record_path=False)
            fits.append({"name": name, "label": M.parse_divergence(name).label, **r.best.params,
                         "value": r.best.value, "n_minima": len(r.minima)})
        except Exception as e:  # noqa: BLE001 - shown next to the plot
            errors[name] = str(e)
    lo, hi = target.box(3.5)
    for f in fits:
        sd = np.sqrt(np.diag(np.asarray(f["cov"])))
        lo = np.minimum(lo, np.asarray(f["mean"]) - 2.2 * sd)
        hi = np.maximum(hi, np.asarray(f["mean"]) + 2.2 * sd)
    xs, ys = np.linspace(lo[0], hi[0], n), np.linspace(lo[1], hi[1], n)
    dens = np.exp(target.log_prob(np.stack(np.meshgrid(xs, ys, indexing="xy"), axis=-1)))
    out = {"xs": xs, "ys": ys, "density": dens, "fits": fits, "errors": errors,
           "target_mean": target.mean().tolist(), "target_cov": target.cov().tolist()}
    if target_name == "correlated":
        out["closed_form"] = factorised_fits(rho=param)
    return out


def gan_view(target_text: str, q_text: str) -> dict:
    """p, q, D*, the game's value computed directly and through the JS identity, and the saturation curves."""
    p, q = resolve_target_1d(target_text), resolve_target_1d(q_text)
    snap = gan_snapshot(p, q)
    js = M.divergence(p, q, "js")
    snap["js"] = js
    snap["identity"] = -math.log(4.0) + 2.0 * js
    snap["curves"] = saturation_curves()
    return snap
