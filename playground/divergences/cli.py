"""`python -m playground divergence ...` and `python -m playground fit ...`: the divergence lab headless.

`fit` takes its settings from `DivergenceConfig` (flags, defaults and bounds generated from the fields, so the
CLI and the page agree by construction); only what is not a config field is written here: `--divergence` (one
name; the config holds lists), `--path`, `--json`, and `divergence`'s `--p`/`--q`/`--alpha`. JSON output is
standard JSON: an infinite divergence is null there (`playground.numerics`), and `inf` in the text output.
"""

from __future__ import annotations

import argparse
import math

from playground.configs import add_arguments, choices, from_args
from playground.divergences.config import DivergenceConfig
from playground.errors import PlaygroundError

FIT_FIELDS = ("target", "components", "restarts", "seed", "param2d")     # flags generated from the config
FAMILIES = tuple(dict.fromkeys(choices(DivergenceConfig, "family") + choices(DivergenceConfig, "family2d")))


def _finite_alpha(text: str) -> float:
    try:
        a = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not math.isfinite(a) or abs(a) > 50:
        raise argparse.ArgumentTypeError(f"alpha must be a finite number in [-50, 50], got {text!r}")
    return a


def register(sub: argparse._SubParsersAction) -> None:
    d = sub.add_parser("divergence", help="every divergence between two 1D densities, in nats",
                       description="Print kl, rkl, js, hellinger2, tv, pearson, neyman, jeffreys, w1, "
                                   "gan_value_optimal_d (and alpha_<a> per --alpha) between p and q. "
                                   "Infinite values print as inf (null in --json).")
    d.add_argument("--p", required=True, help='target p: a formula like "0.3*N(-2,0.5)+0.7*N(1.5,1)" '
                   "(N(mean,std); U(low,high) parts allowed) or a preset name")
    d.add_argument("--q", required=True, help='model q: a formula like "N(0,1)" or a preset name')
    d.add_argument("--alpha", type=_finite_alpha, action="append", default=[],
                   help="also print the α-divergence alpha_<value> (repeatable)")
    d.add_argument("--json", action="store_true", help="print one JSON object")
    d.set_defaults(func=_divergence)

    f = sub.add_parser("fit", help="fit a model to a target by minimising a divergence, from several starts",
                       description="Multi-start fit; prints the global best and every distinct local minimum. "
                                   "--target: a 1D formula or preset (lecture, symmetric, ...), or a 2D target "
                                   "(two_blobs, ring, correlated; --param2d sets its shape).")
    add_arguments(f, DivergenceConfig, only=FIT_FIELDS)
    f.add_argument("--param", dest="param2d", type=str, help="old name of --param2d")
    f.add_argument("--divergence", required=True, help="kl, rkl, js, hellinger2, tv, pearson, neyman, "
                   "jeffreys, w1 or alpha:<value>")
    default = DivergenceConfig()
    f.add_argument("--family", default=None, choices=FAMILIES,
                   help=f"1D: gaussian or mixture (--components Gaussians), default {default.family}; "
                        f"2D: gaussian (full covariance) or gaussian_diag, default {default.family2d}")
    f.add_argument("--path", action="store_true", help="also print the best run's optimisation path")
    f.add_argument("--json", action="store_true", help="print one JSON object")
    f.set_defaults(func=_fit)

    ls = sub.add_parser("landscape", help="a divergence of N(μ, σ) from a 1D target over a (μ, σ) grid: the "
                                          "landscape view's local minima, optionally its grid as CSV")
    add_arguments(ls, DivergenceConfig, only=("target", "landscape", "restarts", "seed"))
    ls.add_argument("--csv", help="also write the grid (mu, sigma, value) to this CSV file")
    ls.add_argument("--json", action="store_true", help="print one JSON object")
    ls.set_defaults(func=_landscape)

    g = sub.add_parser("gan-link", help="the GAN link view: the game's value at the optimal D for p and q, "
                                        "and −log 4 + 2·JS(p‖q)")
    g.add_argument("--p", required=True, help="target p: a 1D formula or preset")
    g.add_argument("--q", required=True, help="model q: a 1D formula")
    g.add_argument("--csv", help="also write p, q and D* on the view's grid to this CSV file")
    g.add_argument("--saturation-csv", help="also write the generator's losses and gradients against D's logit "
                                            "(minimax vs non-saturating) to this CSV file")
    g.add_argument("--json", action="store_true", help="print one JSON object")
    g.set_defaults(func=_gan_link)

    a = sub.add_parser("alpha", help="the α-family view: the best Gaussian for D_α at one α, at the landmark α "
                                     "values (reverse KL, Hellinger, KL), and the sweep over α in [−1, 2]")
    add_arguments(a, DivergenceConfig, only=("target", "alpha", "seed"))
    a.add_argument("--csv", help="also write the sweep (alpha, mu, sigma, value) to this CSV file")
    a.add_argument("--json", action="store_true", help="print one JSON object")
    a.set_defaults(func=_alpha)


def _landscape(args: argparse.Namespace) -> int:
    from playground.cli import emit
    from playground.divergences import snapshots, tables

    cfg = from_args(DivergenceConfig, args)
    snap = snapshots.landscape_snapshot(cfg.target, cfg.landscape, cfg.restarts, cfg.seed)
    _write(args.csv, tables.landscape_csv(snap))
    emit({"target": cfg.target, "divergence": cfg.landscape, "label": snap["label"],
          "minima": tables.landscape_table(snap), "grid": [len(snap["mus"]), len(snap["sigmas"])],
          "csv": args.csv}, args.json)
    return 0


def _gan_link(args: argparse.Namespace) -> int:
    from playground.cli import emit
    from playground.divergences import snapshots, tables

    snap = snapshots.gan_view(args.p, args.q)
    _write(args.csv, tables.gan_csv(snap))
    _write(args.saturation_csv, tables.saturation_csv(snap))
    emit({"p": args.p, "q": args.q, "value_optimal_d": snap["value"], "identity": snap["identity"],
          "js": snap["js"], "csv": args.csv, "saturation_csv": args.saturation_csv}, args.json)
    return 0


def _alpha(args: argparse.Namespace) -> int:
    import numpy as np

    from playground.cli import emit
    from playground.divergences import snapshots, tables

    cfg = from_args(DivergenceConfig, args)
    snap = snapshots.alpha_snapshot(cfg.target, round(cfg.alpha, 4), seed=cfg.seed)     # as the page rounds it
    _write(args.csv, tables.alpha_csv(snap))

    def fit(f):
        return None if f is None else {"alpha": f["alpha"], "label": f["label"], **f["params"], "value": f["value"]}

    sweep = snap["sweep"]
    emit({"target": cfg.target, "alpha": round(cfg.alpha, 4), "fit": fit(snap["current"]),
          "landmarks": [fit(f) for f in snap["landmarks"]], "errors": snap["errors"],
          "sweep": [dict(zip(("alpha", "mu", "sigma", "value"), row))
                    for row in zip(*(np.asarray(sweep[k]).tolist() for k in ("alpha", "mu", "sigma", "value")))],
          "csv": args.csv}, args.json)
    return 0


def _write(path: str | None, text: str) -> None:
    if path:
        with open(path, "w") as f:
            f.write(text)


def _divergence(args: argparse.Namespace) -> int:
    from playground.cli import emit
    from playground.divergences.densities import resolve_target_1d
    from playground.divergences.measures import all_divergences

    p, q = resolve_target_1d(args.p), resolve_target_1d(args.q)
    emit(all_divergences(p, q, args.alpha), args.json)
    return 0


def fit_config(args: argparse.Namespace) -> tuple[DivergenceConfig, bool]:
    """The config `fit`'s flags describe, and whether the target is 2D: a 2D name goes to `target2d`, and
    --family and --divergence to the 1D or the 2D fields."""
    from playground.divergences.densities import TARGETS_2D

    ns = argparse.Namespace(**vars(args))
    name = (args.target or "").strip()
    is_2d = name in TARGETS_2D
    if is_2d:
        if args.family == "mixture":
            raise PlaygroundError("the mixture family is for 1D targets; use gaussian or gaussian_diag in 2D")
        ns.target, ns.target2d, ns.family, ns.family2d = None, name, None, args.family
        ns.divergences2d = [args.divergence]
    else:
        if args.family == "gaussian_diag":
            raise PlaygroundError("gaussian_diag is for 2D targets (two_blobs, ring, correlated); use gaussian")
        if args.param2d is not None:
            raise PlaygroundError("--param2d applies to the 2D targets only")
        ns.divergences = [args.divergence]
    return from_args(DivergenceConfig, ns), is_2d


def _fit(args: argparse.Namespace) -> int:
    from playground.cli import emit
    from playground.divergences.densities import resolve_target_1d, target_2d
    from playground.divergences.fit import fit_1d
    from playground.divergences.fit2d import fit_2d

    cfg, is_2d = fit_config(args)
    if is_2d:
        res = fit_2d(target_2d(cfg.target2d, cfg.param2d), cfg.divergences2d[0], cfg.family2d,
                     restarts=cfg.restarts, seed=cfg.seed, record_path=args.path)
    else:
        res = fit_1d(resolve_target_1d(cfg.target), cfg.divergences[0], cfg.family, components=cfg.components,
                     restarts=cfg.restarts, seed=cfg.seed, record_path=args.path)
    out = res.to_dict()
    if args.path:
        out["path"] = res.params_path()
        out["path_values"] = res.runs[res.best.run].values
    emit(out, args.json)
    return 0
