"""Lockstep: every family, the GAN included, trains on the same target batches step for step."""

import torch

from playground.families.config import FamilyConfig
from playground.families.lockstep import Lockstep
from playground.families.setup import PRESETS

SMALL = {"batch_size": 64, "steps": 20, "width": 16, "layers": 1}


def _spy_batches(ls: Lockstep, ticks: int) -> list[list[torch.Tensor]]:
    """Per model, the real batch it trained on at each tick: for a gradient-trained family the batch its loss
    was computed on; for the GAN, what its discriminator judged as real (D's first input of each step)."""
    seen: list[list[torch.Tensor]] = [[] for _ in ls.trainers]
    d_inputs: list[list[torch.Tensor]] = [[] for _ in ls.trainers]
    for i, tr in enumerate(ls.trainers):
        if tr.model.family == "gan":
            tr.model.D.register_forward_pre_hook(lambda mod, args, i=i: d_inputs[i].append(args[0].detach().clone()))
        else:
            orig = tr.model.training_loss
            tr.model.training_loss = lambda b, g, orig=orig, i=i: (seen[i].append(b.detach().clone()), orig(b, g))[1]
    for _ in range(ticks):
        for calls in d_inputs:
            calls.clear()
        ls.tick()
        for i, calls in enumerate(d_inputs):
            if calls:
                seen[i].append(calls[0])
    return seen


def test_every_family_in_a_lockstep_consumes_the_same_batches():
    cfgs = [FamilyConfig(model=m, **SMALL) for m in ("flow", "flow_matching", "diffusion", "gan")]
    seen = _spy_batches(Lockstep(cfgs), ticks=4)
    assert all(len(s) == 4 for s in seen)
    for other in seen[1:]:
        for a, b in zip(seen[0], other):
            assert torch.equal(a, b)
    assert not torch.equal(seen[0][0], seen[0][1])            # a fresh batch each tick


def test_a_packed_gan_sees_only_the_ticks_batch():
    """The PacGAN lesson beside a flow: D judges 2 x batch samples, every one a row of the shared batch, each row
    exactly twice."""
    gan = PRESETS["gan_pack"].configs()[1]
    flow = FamilyConfig(model="flow", **{k: getattr(gan, k) for k in ("dist", "seed", "batch_size", "steps")})
    seen = _spy_batches(Lockstep([flow, gan]), ticks=1)
    batch, packed = seen[0][0], seen[1][0]
    rows = packed.reshape(-1, 2)                                 # packs of 2 samples -> samples
    assert rows.shape == (2 * len(batch), 2)
    match = (rows[:, None, :] == batch[None, :, :]).all(-1)       # (rows, batch rows)
    assert match.any(1).all()                                    # every sample D saw is a row of the batch
    assert (match.sum(0) == 2).all()                             # each batch row used exactly twice


def test_batch_stream_is_not_a_shifted_copy_of_a_models_noise_stream():
    """Seeded alike, two torch generators give the same raw stream: the noise a model draws would be the
    noise inside the target's samples, shifted. The lockstep's batch generator must be a different stream."""
    ls = Lockstep([FamilyConfig(model="flow_matching", **SMALL)])

    def raw(gen: torch.Generator) -> set[int]:
        g = torch.Generator()
        g.set_state(gen.get_state())
        return set(torch.randint(2**31, (4096,), generator=g).tolist())

    shared = raw(ls.rng) & raw(ls.trainers[0].rng)
    assert len(shared) < 5           # independent streams: about 4096^2 / 2^31 = 0.008 common values expected


def test_advance_trains_in_train_mode_and_leaves_eval_mode_like_ticks():
    """advance() switches the modes once per slice: it must train exactly as the same number of ticks, with every
    module in train mode during the steps and in eval mode (for the views) after."""
    cfgs = [FamilyConfig(model=m, **SMALL) for m in ("vae", "diffusion", "gan")]
    by_ticks, by_advance = Lockstep(cfgs), Lockstep(cfgs)
    modes = []
    tr = by_advance.trainers[0]
    orig = tr.model.training_loss
    tr.model.training_loss = lambda b, g: (modes.append(all(m.training for m in tr.model.modules())), orig(b, g))[1]
    for _ in range(5):
        by_ticks.tick()
    assert by_advance.advance(1e9, max_ticks=2) == 2           # two slices: the second starts from eval mode
    assert by_advance.advance(1e9, max_ticks=3) == 3
    assert modes == [True] * 5
    for a, b in zip(by_ticks.trainers, by_advance.trainers):
        assert not any(m.training for m in b.model.modules())
        for pa, pb in zip(a.model.parameters(), b.model.parameters()):
            assert torch.equal(pa, pb)
