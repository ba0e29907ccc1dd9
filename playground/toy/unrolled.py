"""The unrolled discriminator (Metz et al. 2017): G is scored by D after k more (look-ahead) updates of D,
and its gradient flows through those updates, so G feels how D would answer its move.

The look-ahead runs on a copy of D's parameters through `torch.func.functional_call`; D itself is untouched.
Each inner update is differentiable: Adam's rule (continuing from the real optimiser's moments when D trains
with Adam) or plain SGD otherwise, with sqrt(v̂ + ε²) in place of sqrt(v̂) + ε so the rule stays smooth where a
gradient is exactly zero. The look-ahead uses D's adversarial loss only: no penalties, clipping or noise.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

ParamDict = dict[str, torch.Tensor]


def moments_from(opt: torch.optim.Optimizer, named: ParamDict) -> dict | None:
    """Adam's (exp_avg, exp_avg_sq, step) per parameter name, or None before the first step / for others."""
    if not isinstance(opt, torch.optim.Adam):
        return None
    out = {}
    for name, p in named.items():
        st = opt.state.get(p)
        if not st:
            return None
        out[name] = (st["exp_avg"], st["exp_avg_sq"], float(st["step"]))
    return out


def unroll(params: ParamDict, d_loss: Callable[[ParamDict, int], torch.Tensor], steps: int, lr: float,
           rule: str = "adam", betas: tuple[float, float] = (0.5, 0.999), eps: float = 1e-8,
           moments: dict | None = None) -> ParamDict:
    """D's parameters after `steps` differentiable updates; `d_loss(params, i)` is D's loss on look-ahead
    batch i. The result depends on the initial parameters and on whatever `d_loss` depends on (G's samples),
    with the graph kept so that a loss of the result can be differentiated through every update."""
    names = list(params)
    if rule == "adam":
        b1, b2 = betas
        if moments is not None:
            m = [moments[n][0].detach() for n in names]
            v = [moments[n][1].detach() for n in names]
            t = moments[names[0]][2]
        else:
            m = [torch.zeros_like(params[n]) for n in names]
            v = [torch.zeros_like(params[n]) for n in names]
            t = 0.0
    cur = dict(params)
    for i in range(steps):
        loss = d_loss(cur, i)
        grads = torch.autograd.grad(loss, [cur[n] for n in names], create_graph=True, allow_unused=True)
        grads = [torch.zeros_like(cur[n]) if g is None else g for n, g in zip(names, grads)]
        if rule == "adam":
            t += 1
            m = [b1 * mi + (1 - b1) * g for mi, g in zip(m, grads)]
            v = [b2 * vi + (1 - b2) * g * g for vi, g in zip(v, grads)]
            c1, c2 = 1 - b1**t, 1 - b2**t
            cur = {n: cur[n] - lr * (mi / c1) / torch.sqrt(vi / c2 + eps * eps) for n, mi, vi in zip(names, m, v)}
        else:
            cur = {n: cur[n] - lr * g for n, g in zip(names, grads)}
    return cur
