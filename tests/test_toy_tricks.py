"""The stabilisation toolbox: each trick's formula on tiny nets against a hand computation, and the trainer
applying it (the gradients its step leaves behind equal those of the hand-written loss)."""

import copy
import dataclasses

import numpy as np
import pytest
import torch
from torch import nn

from playground.objectives import get_objective
from playground.toy.config import ToyConfig
from playground.toy.lab import LabSession, LabView
from playground.toy.nets import MinibatchStd, hidden_part, make_discriminator, sample_noise
from playground.toy.trainer import ToyGAN
from playground.toy.tricks import (ParameterAverage, ema_update, feature_matching_loss, instance_noise_std, pack,
                                   pack_copies)
from playground.toy.unrolled import unroll

SMALL = ToyConfig(g_width=16, d_width=16, g_layers=2, d_layers=2, batch_size=32, r1=0.0)


def tiny_d() -> nn.Sequential:
    """D(x) = v·relu(Wx + b) + c with hand-set weights."""
    d = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1))
    with torch.no_grad():
        d[0].weight.copy_(torch.tensor([[1.0, -1.0], [0.5, 2.0], [-1.5, 0.25]]))
        d[0].bias.copy_(torch.tensor([0.1, -0.2, 0.3]))
        d[2].weight.copy_(torch.tensor([[1.0, -2.0, 0.5]]))
        d[2].bias.fill_(0.05)
    return d


def test_feature_matching_loss_is_the_squared_distance_of_mean_last_hidden_features():
    d = tiny_d()
    real = np.array([[0.0, 1.0], [1.0, -1.0], [2.0, 0.5]])
    fake = np.array([[0.5, 0.5], [-1.0, 0.0]])
    w, b = d[0].weight.detach().numpy(), d[0].bias.detach().numpy()
    feats = lambda x: np.maximum(x @ w.T + b, 0.0)           # noqa: E731 - the last hidden layer by hand
    expected = np.sum((feats(real).mean(0) - feats(fake).mean(0)) ** 2)
    f = hidden_part(d)
    got = feature_matching_loss(f(torch.tensor(real, dtype=torch.float32)), f(torch.tensor(fake, dtype=torch.float32)))
    assert got.item() == pytest.approx(expected, rel=1e-6)
    # the hidden part stops before the minibatch-std feature and the output layer, and keeps D's names
    dm = make_discriminator(2, 2, 8, "relu", False, minibatch_std=True)
    assert not any(isinstance(m, MinibatchStd) for m in hidden_part(dm))
    assert set(dict(hidden_part(dm).named_parameters())) <= set(dict(dm.named_parameters()))


def test_minibatch_std_appends_the_mean_population_std_and_freezes_it_for_single_points():
    layer = MinibatchStd()
    h = torch.tensor([[1.0, 0.0], [3.0, 0.0], [5.0, 3.0]], requires_grad=True)
    out = layer(h)
    std = np.sqrt(np.array([8 / 3, 2.0]) + 1e-8)            # population variances of the two columns
    assert out.shape == (3, 3)
    np.testing.assert_allclose(out[:, 2].detach().numpy(), std.mean(), rtol=1e-6)
    np.testing.assert_allclose(out[:, :2].detach().numpy(), h.detach().numpy())
    layer.eval()                                              # a single point sees the last training batch's
    np.testing.assert_allclose(layer(torch.zeros(1, 2))[0, 2].item(), std.mean(), rtol=1e-6)
    layer.train()
    collapsed = torch.ones(4, 2, requires_grad=True)          # zero spread: the gradient stays finite
    layer(collapsed)[:, 2].sum().backward()
    assert torch.isfinite(collapsed.grad).all()


def test_packing_concatenates_consecutive_samples_and_d_sees_m_times_the_width():
    x = torch.arange(12.0).reshape(6, 2)
    p = pack(x, 3)
    assert p.shape == (2, 6)
    np.testing.assert_array_equal(p[1].numpy(), np.arange(6.0, 12.0))
    assert pack(x, 1) is x
    with pytest.raises(ValueError):
        pack(x, 4)
    np.testing.assert_array_equal(pack_copies(torch.tensor([[1.0, 2.0]]), 3).numpy(), [[1, 2, 1, 2, 1, 2]])
    gan = ToyGAN(dataclasses.replace(SMALL, pack=3))
    assert gan.D[0].in_features == 6
    seen = []
    gan.D.register_forward_pre_hook(lambda mod, args: seen.append(tuple(args[0].shape)))
    gan.step_d()
    assert seen[:2] == [(32, 6), (32, 6)]                    # batch_size packs of 3 samples, real and fake
    assert gan.d_output(np.zeros((5, 2))).shape == (5,)      # single points: packs of copies
    assert gan.sample_gradients(np.zeros((5, 2))).shape == (5, 2)


@pytest.mark.parametrize("loss", ["nonsaturating", "minimax", "least_squares"])
@pytest.mark.parametrize("alpha", [1.0, 0.9, 0.7])
def test_label_smoothed_optimum_is_alpha_p_over_p_plus_q(loss, alpha):
    """Maximise the pointwise objective numerically: p·(−loss on a real) + q·(−loss on a fake) over D's raw
    output, for several density pairs, and compare what D then displays with α p/(p+q)."""
    obj = get_objective(loss)
    raw = torch.linspace(-12, 12, 200_001, dtype=torch.float64)
    for p, q in [(0.3, 0.7), (2.0, 0.5), (1.0, 1.0), (0.05, 1.5)]:
        real_part = obj.smoothed_d_loss(raw, torch.full_like(raw, -1e9 if obj.sigmoid_output else 0.0), alpha)
        fake_part = obj.smoothed_d_loss(torch.full_like(raw, 1e9 if obj.sigmoid_output else alpha), raw, alpha)
        best = raw[torch.argmin(p * real_part + q * fake_part)].item()
        shown = obj.display(np.array([best]))[0]
        assert shown == pytest.approx(alpha * p / (p + q), abs=1e-3)
        assert obj.optimal_display(np.log([p]), np.log([q]), alpha)[0] == pytest.approx(alpha * p / (p + q))
    # and the hand-written smoothed BCE
    if obj.sigmoid_output:
        r, f = torch.tensor([0.3]), torch.tensor([-0.4])
        hand = -alpha * torch.log(torch.sigmoid(r)) - (1 - alpha) * torch.log(1 - torch.sigmoid(r)) \
            - torch.log(1 - torch.sigmoid(f))
        assert obj.smoothed_d_loss(r, f, alpha).item() == pytest.approx(hand.item(), rel=1e-6)


def test_label_smoothing_in_the_step_and_the_1d_view():
    a = ToyGAN(dataclasses.replace(SMALL, real_label=0.8))
    b = ToyGAN(dataclasses.replace(SMALL, real_label=0.8))
    real = b.target.sample(32, b.rng)
    with torch.no_grad():
        fake = b.G(sample_noise(32, 2, "gaussian", b.rng))
    hand = (-0.8 * torch.log(torch.sigmoid(b.D(real))) - 0.2 * torch.log(1 - torch.sigmoid(b.D(real)))
            - torch.log(1 - torch.sigmoid(b.D(fake)))).mean()
    assert a.step_d().item() == pytest.approx(hand.item(), rel=1e-5)
    snap = LabSession(dataclasses.replace(SMALL, dist="bimodal1d", latent_dim=1, real_label=0.8)).snapshot()
    np.testing.assert_allclose(snap["d_star_smooth"], 0.8 * snap["d_star"], rtol=1e-12)
    assert LabSession(dataclasses.replace(SMALL, dist="bimodal1d", latent_dim=1)).snapshot()["d_star_smooth"] is None


ONE_D = dataclasses.replace(SMALL, dist="bimodal1d", latent_dim=1)


def _densities_1d(session, snap):
    """The 1D target's density on the snapshot's grid blurred by N(0, var), from the mixture's own parameters:
    a Gaussian mixture blurred is the mixture with every variance plus var."""
    from scipy.stats import norm

    t, xs = session.gan.target, snap["xs"]
    means, stds = t.means[:, 0], t.stds[:, 0]
    return xs, lambda var: sum(w * norm.pdf(xs, m, np.sqrt(s**2 + var)) for w, m, s in zip(t.weights, means, stds))


def test_the_1d_optimum_of_a_packed_d_is_p_to_the_m_over_p_to_the_m_plus_q_to_the_m():
    session = LabSession(dataclasses.replace(ONE_D, pack=3, real_label=0.9))
    snap = session.snapshot()
    xs, p = _densities_1d(session, snap)
    p, q = p(0.0), snap["q"]
    inside = (p > 1e-3) & (q > 1e-3)
    hand = p[inside] ** 3 / (p[inside] ** 3 + q[inside] ** 3)
    np.testing.assert_allclose(snap["d_star"][inside], hand, rtol=1e-9)
    np.testing.assert_allclose(snap["d_star_smooth"][inside], 0.9 * hand, rtol=1e-9)
    assert snap["d_star_label"] == "optimal D*, 3 copies of x: p³/(p³+q³)"


def test_the_1d_optimum_under_instance_noise_uses_the_blurred_densities():
    from playground.toy.fields import kde_1d

    session = LabSession(dataclasses.replace(ONE_D, instance_noise=0.5, instance_noise_steps=100))
    session.gan.train(25)
    snap = session.snapshot()
    sigma = 0.5 * (1 - session.gan.step / 100)
    assert 0 < sigma < 0.5
    xs, p = _densities_1d(session, snap)
    p_sigma = p(sigma**2)                                    # a Gaussian mixture blurred: variances add
    fake = session.gan.sample(ONE_D.eval_samples, seed=2024)
    q_sigma = kde_1d(fake, xs, blur=sigma)
    inside = (p_sigma > 1e-3) & (q_sigma > 1e-3)
    np.testing.assert_allclose(snap["d_star"][inside], (p_sigma / (p_sigma + q_sigma))[inside], rtol=2e-3)
    assert snap["d_star_label"] == f"optimal D*(x) = p/(p+q), p and q blurred by σ = {sigma:.2f}"
    # the drawn densities stay the unblurred ones
    np.testing.assert_allclose(snap["p"], p(0.0), rtol=1e-9, atol=1e-12)
    off = LabSession(ONE_D).snapshot()
    assert off["d_star_label"] == "optimal D*(x) = p/(p+q)"


def test_blurred_density_and_the_blurred_kde_are_gaussian_convolutions():
    from scipy.stats import norm

    from playground.toy.fields import blurred_density, kde_1d

    xs = np.linspace(-4, 4, 401)
    out = blurred_density(lambda x: norm.logpdf(x[:, 0], 0.5, 0.3), xs, 0.4)
    np.testing.assert_allclose(out, norm.pdf(xs, 0.5, 0.5), atol=1e-4)     # 0.3² + 0.4² = 0.5²
    z = np.random.default_rng(0).normal(size=20000)
    np.testing.assert_allclose(kde_1d(z, xs, blur=1.0), norm.pdf(xs, 0, np.sqrt(2)), atol=5e-3)


def test_the_2d_heatmap_of_a_packed_d_says_what_d_is_asked():
    from playground.toy.plots import field_figure_2d as field_figure

    snap = LabSession(dataclasses.replace(SMALL, pack=3)).snapshot()
    assert "D asked about 3 copies of each point" in field_figure(snap)["layout"]["title"]["text"]
    assert "copies" not in field_figure(LabSession(SMALL).snapshot())["layout"]["title"]["text"]


def test_no_pointwise_optimum_is_drawn_with_the_minibatch_std_feature():
    from playground.toy.plots import field_figure_1d

    snap = LabSession(dataclasses.replace(ONE_D, minibatch_std=True)).snapshot()
    assert snap["d_star"] is None and "whole batch" in snap["d_star_note"]
    fig = field_figure_1d(snap)
    assert not [t for t in fig["data"] if "D*" in str(t.get("name"))]
    assert "whole batch" in fig["layout"]["title"]["text"]


def test_historical_average_penalty_and_its_gradient():
    theta = torch.tensor([1.0, 2.0], requires_grad=True)
    avg = ParameterAverage([theta])
    history = [[1.0, 2.0]]
    for value in ([3.0, 0.0], [2.0, 5.0]):
        with torch.no_grad():
            theta.copy_(torch.tensor(value))
        avg.update()
        history.append(value)
    np.testing.assert_allclose(avg.mean[0].numpy(), np.mean(history, axis=0))
    with torch.no_grad():
        theta.copy_(torch.tensor([0.5, -1.0]))
    expected = np.sum((np.array([0.5, -1.0]) - np.mean(history, axis=0)) ** 2)
    assert avg.penalty().item() == pytest.approx(expected)
    (auto,) = torch.autograd.grad(3.0 * avg.penalty(), theta)
    theta.grad = torch.zeros(2)
    assert avg.add_gradient(3.0) == pytest.approx(3.0 * expected)
    torch.testing.assert_close(theta.grad, auto)


def test_trainer_adds_the_averaging_gradient_to_each_players_step():
    cfg = dataclasses.replace(SMALL, hist_avg=0.5)
    a, b = ToyGAN(cfg), ToyGAN(dataclasses.replace(cfg, hist_avg=0.0))
    b.train(3)
    a.train(3)       # not the same run (a is penalised), so compare against a's own average
    means = [m.clone() for m in a._avg_d.mean]
    b.D.load_state_dict(a.D.state_dict())
    b.G.load_state_dict(a.G.state_dict())
    b.rng.set_state(a.rng.get_state())
    a.d_opt.step = b.d_opt.step = lambda: None
    a.step_d()
    b.step_d()
    for pa, pb, m in zip(a.D.parameters(), b.D.parameters(), means):
        torch.testing.assert_close(pa.grad, pb.grad + 2 * 0.5 * (pa.detach() - m), rtol=1e-5, atol=1e-7)
    assert a._avg_d.count == 3 * cfg.d_steps + 2          # the initial value, every update, this (no-op) one


def test_instance_noise_schedule_and_what_d_sees():
    assert instance_noise_std(0.5, 0, 100) == 0.5
    assert instance_noise_std(0.5, 25, 100) == pytest.approx(0.375)
    assert instance_noise_std(0.5, 100, 100) == 0.0 and instance_noise_std(0.5, 500, 100) == 0.0
    assert instance_noise_std(0.5, 10**6, 0) == 0.5 and instance_noise_std(0.0, 3, 100) == 0.0
    cfg = dataclasses.replace(SMALL, instance_noise=0.4, instance_noise_steps=10)
    a, b = ToyGAN(cfg), ToyGAN(cfg)
    a.step = b.step = 5                                       # half-way: std 0.2
    seen = []
    a.D.register_forward_pre_hook(lambda mod, args: seen.append(args[0].detach().clone()))
    a.step_d()
    real = b.target.sample(32, b.rng)
    with torch.no_grad():
        fake = b.G(sample_noise(32, 2, "gaussian", b.rng))
    real = real + 0.2 * torch.randn(real.shape, generator=b.rng)
    fake = fake + 0.2 * torch.randn(fake.shape, generator=b.rng)
    torch.testing.assert_close(seen[0], real)
    torch.testing.assert_close(seen[1], fake)
    a.step = b.step = 10                                      # annealed away: nothing drawn, as with it off
    plain = ToyGAN(SMALL)
    plain.rng.set_state(a.rng.get_state())
    a.step_d()
    plain.step_d()
    assert a.rng.get_state().equal(plain.rng.get_state())


def test_ema_update_by_hand_and_the_lab_shows_the_average():
    net, ema = nn.Linear(2, 1), nn.Linear(2, 1)
    e0, p0 = ema.weight.detach().clone(), net.weight.detach().clone()
    ema_update(ema, net, 0.9)
    torch.testing.assert_close(ema.weight.detach(), 0.9 * e0 + 0.1 * p0)
    session = LabSession(dataclasses.replace(SMALL, g_ema=0.9))
    gan = session.gan
    before = copy.deepcopy(gan.G_ema.state_dict())
    gan.train(1)
    g_now = gan.G.state_dict()
    for k, v in gan.G_ema.state_dict().items():
        torch.testing.assert_close(v, 0.9 * before[k] + 0.1 * g_now[k])
    z = sample_noise(10, 2, "gaussian", torch.Generator().manual_seed(12345))
    with torch.no_grad():
        np.testing.assert_allclose(gan.sample(10), gan.G_ema(z).numpy(), rtol=1e-6)
    # the display process redraws from the EMA's weights
    view = LabView(session.cfg)
    snap = view.snapshot(session.state())
    np.testing.assert_allclose(snap["fake"], gan.generate(session.z_show), rtol=1e-6)
    gan.apply(dataclasses.replace(gan.cfg, g_ema=0.0))
    assert gan.G_ema is None and gan.display_G is gan.G


def test_unrolled_gradient_matches_finite_differences_of_the_unrolled_objective():
    """F(θ_G) = −log D_K(G(z)) with D_K = D after K differentiable Adam steps on batches that contain G's
    samples; autograd's gradient through the unrolling against central differences, in float64."""
    torch.manual_seed(0)
    g = nn.Linear(1, 2).double()
    d = nn.Sequential(nn.Linear(2, 4), nn.Tanh(), nn.Linear(4, 1)).double()
    real = [torch.randn(6, 2, dtype=torch.float64) + 1 for _ in range(3)]
    zs = [torch.randn(6, 1, dtype=torch.float64) for _ in range(4)]
    bce = get_objective("nonsaturating")

    def objective() -> torch.Tensor:
        def d_loss(params, i):
            call = torch.func.functional_call
            return bce.d_loss(call(d, params, (real[i],)), call(d, params, (g(zs[i]),))).mean()

        params = unroll(dict(d.named_parameters()), d_loss, 3, lr=0.05, rule="adam", betas=(0.5, 0.999))
        return bce.g_loss(torch.func.functional_call(d, params, (g(zs[3]),))).mean()

    grads = torch.autograd.grad(objective(), list(g.parameters()))
    h = 1e-6
    for p, grad in zip(g.parameters(), grads):
        fd = torch.zeros_like(p)
        for i in range(p.numel()):
            with torch.no_grad():
                p.view(-1)[i] += h
            up = objective().item()
            with torch.no_grad():
                p.view(-1)[i] -= 2 * h
            down = objective().item()
            with torch.no_grad():
                p.view(-1)[i] += h
            fd.view(-1)[i] = (up - down) / (2 * h)
        torch.testing.assert_close(grad, fd, rtol=1e-5, atol=1e-8)
    # the look-ahead matters: without it (K = 0) the gradient differs
    no_look = torch.autograd.grad(bce.g_loss(d(g(zs[3]))).mean(), list(g.parameters()))
    assert not torch.allclose(no_look[0], grads[0])


def test_unrolled_step_leaves_d_untouched_and_trains_g():
    gan = ToyGAN(dataclasses.replace(SMALL, unrolled_steps=2))
    gan.train(2)
    d0 = [p.detach().clone() for p in gan.D.parameters()]
    g0 = [p.detach().clone() for p in gan.G.parameters()]
    gan.step_g()
    assert all(torch.equal(a, b) for a, b in zip(d0, gan.D.parameters()))
    assert not all(torch.equal(a, b) for a, b in zip(g0, gan.G.parameters()))


def test_feature_matching_step_gradient_equals_the_hand_written_loss():
    cfg = dataclasses.replace(SMALL, feature_matching=True)
    a, b = ToyGAN(cfg), ToyGAN(cfg)
    fake = b.G(sample_noise(32, 2, "gaussian", b.rng))
    real = b.target.sample(32, b.rng)
    ref = feature_matching_loss(b.D_features(real), b.D_features(fake))
    a.g_opt.step = lambda: None
    assert a.step_g().item() == pytest.approx(ref.item(), rel=1e-5)
    grads = torch.autograd.grad(ref, list(b.G.parameters()))
    for p, gr in zip(a.G.parameters(), grads):
        torch.testing.assert_close(p.grad, gr, rtol=1e-4, atol=1e-7)


def test_every_toggle_is_off_by_default_and_the_toolbox_is_live():
    from playground.toy.config import LIVE_FIELDS

    d = ToyConfig()
    assert (d.feature_matching, d.minibatch_std, d.real_label, d.instance_noise, d.hist_avg, d.unrolled_steps,
            d.pack, d.g_ema) == (False, False, 1.0, 0.0, 0.0, 0, 1, 0.0)
    assert {"feature_matching", "real_label", "instance_noise", "hist_avg", "unrolled_steps", "g_ema"} <= LIVE_FIELDS
    assert not {"pack", "minibatch_std"} & LIVE_FIELDS       # they change D's shape: a reset
    gan = ToyGAN(SMALL)
    gan.train(2)
    on = dataclasses.replace(gan.cfg, feature_matching=True, real_label=0.9, instance_noise=0.1, hist_avg=1.0,
                             unrolled_steps=1, g_ema=0.99)
    gan.apply(on)
    gan.train(2)
    _, dl, gl = gan.losses()
    assert np.isfinite(dl).all() and np.isfinite(gl).all()


def test_gan_lab_page_toolbox_widgets_apply_live_or_reset(shared_lab_worker):
    """The toolbox widgets on the GAN lab page: a live toggle keeps the model, packing resets it, the URL
    follows, and label smoothing draws the smoothed optimum beside D* on a 1D target."""
    import json
    from pathlib import Path

    from streamlit.testing.v1 import AppTest

    shared_lab_worker.reset(ToyConfig())
    at = AppTest.from_file(str(Path(__file__).resolve().parents[1] / "app/views/gan_lab.py"), default_timeout=60)
    at.session_state["toy_lab"] = shared_lab_worker
    at.run()
    assert any("feature matching" in c.value.lower() or "G matches" in c.value for c in at.caption)
    at.button(key="toy_step_both").click().run()
    at.checkbox(key="toy_feature_matching").check().run()
    assert at.session_state["toy_lab"] is shared_lab_worker and shared_lab_worker.cfg.feature_matching
    assert shared_lab_worker.stats()["step"] == 1                         # live: not reset
    assert at.query_params["feature_matching"] in ("1", ["1"])
    at.number_input(key="toy_pack").set_value(2).run()
    assert shared_lab_worker.cfg.pack == 2 and shared_lab_worker.stats()["step"] == 0   # reset
    at.selectbox(key="toy_dist").set_value("bimodal1d").run()
    at.number_input(key="toy_real_label").set_value(0.8).run()
    args = json.loads(at.get("component_instance")[0].proto.json_args)
    names = [t.get("name") for t in args["figures"]["field"]["data"]]
    assert "smoothed D* = α·p²/(p²+q²)" in names and "optimal D*, 2 copies of x: p²/(p²+q²)" in names
    assert not at.exception


def test_fix_presets_are_the_mode_collapse_start_plus_one_fix():
    from playground.configs import changed_fields
    from playground.toy.presets import FIXES, LESSON_PAIRS, PRESETS

    start = PRESETS["mode_collapse_ring8"].config(ToyConfig)
    for name, (off, on) in LESSON_PAIRS.items():
        assert off == "mode_collapse_ring8"
        fixed = PRESETS[on].config(ToyConfig)
        assert changed_fields(start, fixed) == set(FIXES[name][2]) and fixed.seed == start.seed


@pytest.mark.slow
@pytest.mark.parametrize("fix", ["ttur", "pack"])
def test_a_fix_preset_covers_modes_the_collapsed_start_misses(fix):
    """Seed 0 after 1,000 steps: the start covers none of the 8 modes (tests/test_toy_presets.py checks it
    stays at <= 2 for 2,000 steps); these fixes cover at least 4, as their lessons say."""
    from playground.toy.metrics import evaluate
    from playground.toy.presets import PRESETS

    gan = ToyGAN(PRESETS[f"fix_{fix}"].config(ToyConfig))
    gan.train(1000)
    assert evaluate(gan.target, gan.sample(2500, seed=0))["modes_covered"] >= 4


def test_with_minibatch_std_the_arrows_include_the_push_through_the_batch_statistic():
    """The arrows are −∇ of the generator loss of the shown points judged as one batch, as in training (the
    heatmap keeps the last training batch's statistic, and the arrows do not overwrite it)."""
    gan = ToyGAN(dataclasses.replace(SMALL, minibatch_std=True))
    gan.train(3)
    x = gan.generate(sample_noise(64, 2, "gaussian", torch.Generator().manual_seed(0)))
    stat = [m for m in gan.D.modules() if isinstance(m, MinibatchStd)][0]
    before = stat.batch_std.clone()
    arrows = gan.sample_gradients(x)
    assert torch.equal(stat.batch_std, before)
    twin = copy.deepcopy(gan.D).train()                    # the training-mode D: statistic from the batch
    for m in twin.modules():                               # (spectral norm is off in SMALL: nothing else moves)
        assert not isinstance(m, nn.BatchNorm1d)
    xt = torch.as_tensor(x, dtype=torch.float32).requires_grad_(True)
    (g,) = torch.autograd.grad(gan.g_loss_fn(twin(xt)).sum(), xt)
    np.testing.assert_allclose(arrows, -g.numpy(), rtol=1e-4, atol=1e-7)
    xe = torch.as_tensor(x, dtype=torch.float32).requires_grad_(True)
    gan.D.eval()
    (ge,) = torch.autograd.grad(gan.g_loss_fn(gan.D(xe)).sum(), xe)
    gan.D.train()
    assert np.abs(arrows + ge.numpy()).max() > 1e-6          # the batch's term is there: eval mode differs
