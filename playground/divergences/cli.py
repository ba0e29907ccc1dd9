"""`python -m playground divergence ...` and `python -m playground fit ...`: the divergence lab headless.

JSON output is standard JSON: an infinite divergence is null there (JSON has no infinity; the policy of
`playground.numerics`), and `inf` in the text output.
"""

from __future__ import annotations

import argparse
import math

from playground.errors import PlaygroundError


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
                                   "1D targets: formulas or presets (lecture, symmetric, ...); 2D targets: "
                                   "two_blobs, ring, correlated.")
    f.add_argument("--target", required=True, help="a 1D formula or preset, or a 2D target name")
    f.add_argument("--divergence", required=True, help="kl, rkl, js, hellinger2, tv, pearson, neyman, "
                   "jeffreys, w1 or alpha:<value>")
    f.add_argument("--family", default="gaussian", choices=["gaussian", "mixture", "gaussian_diag"],
                   help="gaussian (1D or 2D full covariance), mixture (1D, --components Gaussians) or "
                        "gaussian_diag (2D diagonal covariance)")
    f.add_argument("--components", type=int, default=2, help="Gaussians in the mixture family (default 2)")
    f.add_argument("--restarts", type=int, default=10, help="number of starts (default 10)")
    f.add_argument("--seed", type=int, default=0, help="seed of the random starts (default 0)")
    f.add_argument("--param", type=float, default=None,
                   help="2D targets: separation (two_blobs), radius (ring) or correlation (correlated)")
    f.add_argument("--path", action="store_true", help="also print the best run's optimisation path")
    f.add_argument("--json", action="store_true", help="print one JSON object")
    f.set_defaults(func=_fit)


def _divergence(args: argparse.Namespace) -> int:
    from playground.cli import emit
    from playground.divergences.densities import resolve_target_1d
    from playground.divergences.measures import all_divergences

    p, q = resolve_target_1d(args.p), resolve_target_1d(args.q)
    emit(all_divergences(p, q, args.alpha), args.json)
    return 0


def _fit(args: argparse.Namespace) -> int:
    from playground.cli import emit
    from playground.divergences.densities import TARGETS_2D, resolve_target_1d, target_2d
    from playground.divergences.fit import fit_1d, fit_2d

    name = args.target.strip()
    if name in TARGETS_2D:
        if args.family == "mixture":
            raise PlaygroundError("the mixture family is for 1D targets; use gaussian or gaussian_diag in 2D")
        res = fit_2d(target_2d(name, args.param), args.divergence, args.family, restarts=args.restarts,
                     seed=args.seed, record_path=args.path)
    else:
        if args.family == "gaussian_diag":
            raise PlaygroundError("gaussian_diag is for 2D targets (two_blobs, ring, correlated); use gaussian")
        if args.param is not None:
            raise PlaygroundError("--param applies to the 2D targets only")
        res = fit_1d(resolve_target_1d(name), args.divergence, args.family, components=args.components,
                     restarts=args.restarts, seed=args.seed, record_path=args.path)
    out = res.to_dict()
    if args.path:
        out["path"] = res.params_path()
        out["path_values"] = res.runs[res.best.run].values
    emit(out, args.json)
    return 0
