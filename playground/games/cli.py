"""`python -m playground games ...`: the GAN games page headless, with the same configs and defaults.

    python -m playground games play [--preset NAME] [--game dirac --method alternating --lr 0.1 ...] [--json]
    python -m playground games wasserstein [--shape gaussian --width 0.5 --theta 2 ...] [--json]

`play` runs the two-player game (GameConfig; a lesson preset first, flags over it) and prints where the players
end, |z| at the start and the end, the running average's end and the closed-form law the page states, if any;
`--path` adds every iterate. `wasserstein` prints JS, KL both ways and W1 at the shift θ, the logistic D's
fitted line and the push each generator loss gives (WassersteinConfig).
"""

from __future__ import annotations

import argparse

import numpy as np

from playground.configs import add_arguments, from_args, to_dict
from playground.errors import PlaygroundError
from playground.games.bilinear import GameConfig, norm_law, run_game
from playground.games.presets import GAME_PRESETS
from playground.games.wasserstein import WassersteinConfig, critic_view, divergence_curves


def _finite(v: np.ndarray) -> list:
    return [float(a) if np.isfinite(a) else None for a in np.ravel(v)]


def play(cfg: GameConfig, with_path: bool = False) -> dict:
    """The game's outcome as the page's plane and |z| plot show it."""
    r = run_game(cfg)
    ok = np.isfinite(r["path"]).all(axis=1)
    last = int(np.flatnonzero(ok)[-1])
    out = {"config": to_dict(cfg), "steps_run": last, "diverged": last < cfg.steps,
           "end": _finite(r["path"][last]), "average_end": _finite(r["average"][last]),
           "norm_start": float(r["norm"][0]), "norm_end": float(r["norm"][last]), "law": norm_law(cfg)}
    if with_path:
        out["path"] = [_finite(p) for p in r["path"][:last + 1]]
    return out


def wasserstein(cfg: WassersteinConfig) -> dict:
    """The 'why Wasserstein' view at the config's θ: the divergences and what each discriminator tells G."""
    curves = divergence_curves(cfg.shape, cfg.width, np.array([cfg.theta]))
    view = critic_view(cfg)
    return {"config": to_dict(cfg), **{k: _finite(curves[k])[0] for k in ("js", "kl", "rkl", "w1")},
            "logistic_d": {"a": float(view["a"]), "b": float(view["b"])},
            "generator_gradient": view["push_at_fake"]}


def _play(args: argparse.Namespace) -> dict:
    base = GameConfig()
    if args.preset:
        if args.preset not in GAME_PRESETS:
            raise PlaygroundError(f"unknown preset {args.preset!r}; choose one of {', '.join(GAME_PRESETS)}")
        base = GAME_PRESETS[args.preset].config(GameConfig)
    return play(from_args(GameConfig, args, base), args.path)


def _wasserstein(args: argparse.Namespace) -> dict:
    return wasserstein(from_args(WassersteinConfig, args))


def register(sub: argparse._SubParsersAction) -> None:
    from playground.cli import emit

    games = sub.add_parser("games", help="the GAN games page headless: the two-player game and why Wasserstein")
    cmds = games.add_subparsers(dest="command", required=True, metavar="<play|wasserstein>")
    p = cmds.add_parser("play", help="run the bilinear game or the Dirac GAN (the page's defaults)")
    add_arguments(p, GameConfig)
    p.add_argument("--preset", help=f"a lesson to start from: {', '.join(GAME_PRESETS)} (flags override it)")
    p.add_argument("--path", action="store_true", help="also print every iterate")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=lambda a: emit(_play(a), a.json))
    w = cmds.add_parser("wasserstein", help="JS, KL and W1 at a shift, and the generator gradient of each D")
    add_arguments(w, WassersteinConfig)
    w.add_argument("--json", action="store_true", help="print one JSON object")
    w.set_defaults(func=lambda a: emit(_wasserstein(a), a.json))
