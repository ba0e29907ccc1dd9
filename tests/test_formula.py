"""The one mixture-formula grammar (playground.formula): parse, format, rows; used by the GAN and divergence labs."""

import numpy as np
import pytest
from scipy.stats import norm, uniform

from playground.divergences.densities import parse_density
from playground.errors import PlaygroundError
from playground.formula import (
    Term,
    format_mixture,
    format_terms,
    gaussian_formula,
    parse_mixture,
    parse_terms,
)


def test_mixture_formula_parses_normalises_and_refuses_nonsense():
    m = parse_mixture("0.3*N(-2,0.5)+0.9*N(1.5,1e0)")
    assert m.weights.tolist() == pytest.approx([0.25, 0.75]) and m.means.tolist() == [-2, 1.5]
    assert parse_mixture(format_mixture(m)).stds.tolist() == [0.5, 1.0]
    assert parse_mixture("N(-1e-1,2)").means.tolist() == [-0.1]
    for bad, words in (("0.5*N(0,-1)", "standard deviation"), ("-1*N(0,1)", "weight"), ("N(0,1)+", "cannot read"),
                       ("Q(0,1)", "cannot read"), ("", "empty")):
        with pytest.raises(PlaygroundError, match=words):
            parse_mixture(bad)


def test_terms_read_gaussian_and_uniform_parts():
    terms = parse_terms("2*N(-1,0.5) + U(0,2)+0.5*N(+3,1e-1)")
    assert terms == [Term("N", 2.0, -1.0, 0.5), Term("U", 1.0, 0.0, 2.0), Term("N", 0.5, 3.0, 0.1)]
    for bad, words in (("U(2,1)", "low < high"), ("N(0,1)+U(1,1)", "low < high"), ("0*U(0,1)", "weight"),
                       ("N(0,1e999)", "non-finite"), ("N(0,1)" + "+N(0,1)" * 400, "too long")):
        with pytest.raises(PlaygroundError, match=words):
            parse_terms(bad)


def test_the_gan_lab_grammar_refuses_uniform_parts_and_says_where_they_belong():
    with pytest.raises(PlaygroundError, match="divergence lab"):
        parse_mixture("0.5*N(0,1)+0.5*U(0,1)")


def test_display_and_exact_formats_read_back():
    terms = [Term("N", 0.1 + 0.2, 1 / 3, 2.0), Term("U", 0.7, -1.0, 2.5)]
    assert format_terms(terms) == "0.3*N(0.333333,2)+0.7*U(-1,2.5)"
    assert parse_terms(format_terms(terms, exact=True)) == terms          # every float survives
    assert format_terms([Term("N", 0.25, 0.0, 1.0)]) == "N(0,1)"          # a lone weight normalises away
    assert gaussian_formula([0.5, -1.0], [1.0, 2.0], [0.2, 0.8]) == "0.2*N(0.5,1)+0.8*N(-1,2)"
    assert gaussian_formula(1.5, 0.25) == "N(1.5,0.25)"


def test_both_labs_read_a_formula_as_the_same_density():
    text = "0.3*N(-2,0.5)+0.7*N(1.5,1)"
    x = np.linspace(-6, 6, 41)
    exact = np.log(0.3 * norm.pdf(x, -2, 0.5) + 0.7 * norm.pdf(x, 1.5, 1.0))
    np.testing.assert_allclose(parse_mixture(text).log_prob(x), exact, rtol=1e-12)
    np.testing.assert_allclose(parse_density(text).log_prob(x), exact, rtol=1e-12)
    d = parse_density("0.4*U(-1,1)+0.6*N(2,0.5)")
    np.testing.assert_allclose(d.prob(x), 0.4 * uniform.pdf(x, -1, 2) + 0.6 * norm.pdf(x, 2, 0.5), atol=1e-15)
    assert d.formula() == "0.4*U(-1,1)+0.6*N(2,0.5)"
