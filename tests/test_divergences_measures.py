"""Divergences by quadrature against closed forms, high-precision quad, symmetries, bounds, limits and infinities."""

import itertools
import math

import numpy as np
import pytest
from scipy import integrate

from playground.divergences import measures as M
from playground.divergences.densities import (
    Density1D,
    correlated,
    gaussian_2d,
    parse_density,
    resolve_target_1d,
)
from playground.errors import PlaygroundError

G = Density1D.gaussian
PAIRS = [(0.0, 1.0, 1.0, 2.0), (-3.0, 0.5, 2.0, 1.3), (1.0, 0.1, -1.0, 5.0), (0.0, 1.0, 4.0, 1.0), (0.3, 2.0, 0.3, 1.7)]
TOL = 1e-4      # the target; the quadrature actually reaches ~1e-12


def kl_gauss(m1, s1, m2, s2):
    return math.log(s2 / s1) + (s1**2 + (m1 - m2) ** 2) / (2 * s2**2) - 0.5


def tilted_integral(a, m1, s1, m2, s2):
    """∫ N(m1,s1)^a N(m2,s2)^(1−a), or inf where it diverges."""
    v = a * s2**2 + (1 - a) * s1**2
    if a / s1**2 + (1 - a) / s2**2 <= 0:
        return math.inf
    return s1 ** (1 - a) * s2**a / math.sqrt(v) * math.exp(-a * (1 - a) * (m1 - m2) ** 2 / (2 * v))


def alpha_gauss(a, m1, s1, m2, s2):
    i = tilted_integral(a, m1, s1, m2, s2)
    return math.inf if math.isinf(i) else (1 - i) / (a * (1 - a))


def close(value, exact, tol=TOL):
    if math.isinf(exact):
        return math.isinf(value) and value > 0
    return abs(value - exact) <= tol * max(1.0, abs(exact)) * (1e-6 if abs(exact) > 1e6 else 1)


@pytest.mark.parametrize("m1,s1,m2,s2", PAIRS)
def test_gaussian_closed_forms(m1, s1, m2, s2):
    p, q = G(m1, s1), G(m2, s2)
    d = M.all_divergences(p, q, alphas=[0.5, 1.5, -0.5, 0.25])
    bc = math.sqrt(2 * s1 * s2 / (s1**2 + s2**2)) * math.exp(-((m1 - m2) ** 2) / (4 * (s1**2 + s2**2)))
    exact = {
        "kl": kl_gauss(m1, s1, m2, s2), "rkl": kl_gauss(m2, s2, m1, s1),
        "jeffreys": kl_gauss(m1, s1, m2, s2) + kl_gauss(m2, s2, m1, s1),
        "hellinger2": 2 - 2 * bc,
        "pearson": tilted_integral(2.0, m1, s1, m2, s2) - 1, "neyman": tilted_integral(-1.0, m1, s1, m2, s2) - 1,
        **{f"alpha_{a:g}": alpha_gauss(a, m1, s1, m2, s2) for a in (0.5, 1.5, -0.5, 0.25)},
    }
    if s1 == s2:
        exact["w1"] = abs(m1 - m2)
        exact["tv"] = 2 * 0.5 * math.erfc(-abs(m1 - m2) / (2 * s1) / math.sqrt(2)) - 1   # 2Φ(|Δ|/2σ) − 1
    for k, v in exact.items():
        assert close(d[k], v), (k, d[k], v)


def _quad(f, p, q):
    pts = np.sort(M.breakpoints(p, q))
    lo, hi = pts[0] - 5, pts[-1] + 5
    edges = [lo, *[x for x in pts if lo < x < hi][::4], hi]
    return sum(integrate.quad(f, a, b, epsabs=1e-14, epsrel=1e-13, limit=200)[0] for a, b in itertools.pairwise(edges))


@pytest.mark.parametrize("fp,fq", [("0.3*N(-2,0.5)+0.7*N(1.5,1)", "N(0,1)"),
                                   ("0.7*N(-2,0.6)+0.3*N(2,0.6)", "N(-1.2,1.9)"),
                                   ("U(-2,2)", "N(0.5,1)")])
def test_js_tv_w1_against_high_precision_quad(fp, fq):
    p, q = parse_density(fp), parse_density(fq)

    def dens(d, x):
        return float(d.prob(np.array([x]))[0])

    def js(x):
        a, b = dens(p, x), dens(q, x)
        m = (a + b) / 2
        return 0.5 * ((a * math.log(a / m) if a > 0 else 0.0) + (b * math.log(b / m) if b > 0 else 0.0))

    assert abs(M.divergence(p, q, "js") - _quad(js, p, q)) < 1e-9
    assert abs(M.divergence(p, q, "tv") - _quad(lambda x: 0.5 * abs(dens(p, x) - dens(q, x)), p, q)) < 1e-9
    w1 = _quad(lambda x: abs(float(p.cdf(np.array([x]))[0] - q.cdf(np.array([x]))[0])), p, q)
    assert abs(M.divergence(p, q, "w1") - w1) < 1e-9


def test_symmetry_and_bounds():
    p, q = resolve_target_1d("lecture"), parse_density("N(0.5,0.8)")
    a, b = M.all_divergences(p, q), M.all_divergences(q, p)
    for k in ("js", "hellinger2", "tv", "w1", "jeffreys", "gan_value_optimal_d"):
        assert abs(a[k] - b[k]) < 1e-10, k
    assert abs(a["kl"] - b["rkl"]) < 1e-10 and abs(a["pearson"] - b["neyman"]) < 1e-8
    for d in (a, b):
        assert 0 <= d["js"] <= math.log(2) and 0 <= d["tv"] <= 1 and 0 <= d["hellinger2"] <= 2
    far = M.all_divergences(G(0, 0.1), G(50, 0.1))
    assert abs(far["js"] - math.log(2)) < 1e-12 and abs(far["tv"] - 1) < 1e-12 and far["js"] <= math.log(2)


def test_identical_densities_give_zero():
    p = resolve_target_1d("three_modes")
    for k, v in M.all_divergences(p, p, alphas=[0.3, 2.5]).items():
        if k != "gan_value_optimal_d":
            assert abs(v) < 1e-12, (k, v)


def test_alpha_limits_are_exact_and_continuous():
    p, q = resolve_target_1d("skewed"), parse_density("N(0.2,1.6)")
    kl, rkl = M.divergence(p, q, "kl"), M.divergence(p, q, "rkl")
    assert M.divergence(p, q, "alpha:1") == pytest.approx(kl, abs=1e-13)
    assert M.divergence(p, q, "alpha:0") == pytest.approx(rkl, abs=1e-13)
    for eps in (1e-3, 1e-6, 1e-9, 1e-12):
        assert abs(M.divergence(p, q, f"alpha:{1 - eps}") - kl) < 20 * eps + 1e-10
        assert abs(M.divergence(p, q, f"alpha:{1 + eps}") - kl) < 20 * eps + 1e-10
        assert abs(M.divergence(p, q, f"alpha:{eps}") - rkl) < 20 * eps + 1e-10
        assert abs(M.divergence(p, q, f"alpha:{-eps}") - rkl) < 20 * eps + 1e-10
    # Landmarks of the family.
    assert M.divergence(p, q, "alpha:0.5") == pytest.approx(2 * M.divergence(p, q, "hellinger2"), abs=1e-12)
    assert M.divergence(p, q, "alpha:2") == pytest.approx(M.divergence(p, q, "pearson") / 2, rel=1e-12)
    assert M.divergence(p, q, "alpha:-1") == pytest.approx(M.divergence(p, q, "neyman") / 2, rel=1e-12)


def test_infinite_divergences_are_inf_not_nan():
    d = M.all_divergences(parse_density("U(0,1)"), parse_density("U(2,3)"), alphas=[0.5, 2.0, -1.0])
    for k in ("kl", "rkl", "pearson", "neyman", "jeffreys", "alpha_2", "alpha_-1"):
        assert d[k] == math.inf, k
    assert d["js"] == pytest.approx(math.log(2), abs=1e-14) and d["tv"] == 1.0 and d["hellinger2"] == 2.0
    assert d["w1"] == pytest.approx(2.0, abs=1e-12) and d["alpha_0.5"] == pytest.approx(4.0, abs=1e-12)
    assert d["gan_value_optimal_d"] == pytest.approx(0.0, abs=1e-14)
    # Gaussian tails too light for χ²: σ_q² ≤ σ_p²/2.
    assert M.divergence(G(0, 1), G(0, 0.7), "pearson") == math.inf
    assert math.isfinite(M.divergence(G(0, 1), G(0, 0.72), "pearson"))
    # One-sided: a uniform q inside a Gaussian p.
    one = M.all_divergences(G(0, 1), parse_density("U(-2,2)"))
    assert one["kl"] == math.inf and math.isfinite(one["rkl"]) and math.isfinite(one["neyman"])
    for d_ in (d, one):
        assert not any(isinstance(v, float) and math.isnan(v) for v in d_.values())


def test_underflowing_densities_stay_exact():
    # q is ~e^-5000 where p lives: ratios computed in the log domain, no underflow to inf/NaN.
    p, q = G(0, 0.1), G(10, 0.1)
    assert M.divergence(p, q, "kl") == pytest.approx(kl_gauss(0, 0.1, 10, 0.1), rel=1e-12)
    assert M.divergence(p, q, "js") == pytest.approx(math.log(2), abs=1e-12)


def test_kl_2d_closed_form():
    m1, s1 = np.array([0.3, -0.2]), np.array([[1.0, 0.6], [0.6, 0.8]])
    m2, s2 = np.array([-0.5, 0.4]), np.array([[0.7, -0.2], [-0.2, 1.3]])
    s2i = np.linalg.inv(s2)
    d = m2 - m1
    exact = 0.5 * (np.trace(s2i @ s1) + d @ s2i @ d - 2 + math.log(np.linalg.det(s2) / np.linalg.det(s1)))
    assert M.divergence_2d(gaussian_2d(m1, s1), gaussian_2d(m2, s2), "kl") == pytest.approx(exact, abs=1e-8)
    # The factorised case: KL(p‖q) with a diagonal q having p's marginal variances.
    c = correlated(0.9)
    q = gaussian_2d([0, 0], np.eye(2))
    assert M.divergence_2d(c, q, "kl") == pytest.approx(-0.5 * math.log(1 - 0.81), abs=1e-8)


@pytest.mark.parametrize("bad,fragment", [("0.3*N(-2,0.5)+0.7*M(1.5,1)", "cannot read"),
                                          ("N(0,-1)", "standard deviation must be positive"),
                                          ("-0.3*N(0,1)+N(1,1)", "weight must be positive"),
                                          ("U(2,1)", "low < high"), ("", "empty")])
def test_bad_formulas(bad, fragment):
    with pytest.raises(PlaygroundError, match=fragment):
        parse_density(bad)


def test_bad_divergence_names():
    for bad in ("kll", "alpha:x", "alpha:inf", "alpha:100"):
        with pytest.raises(PlaygroundError):
            M.parse_divergence(bad)
    assert M.parse_divergence("alpha:0.5").alpha == 0.5
    assert M.parse_divergence("Hellinger").name == "hellinger2"
