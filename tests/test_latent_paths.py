"""playground.latent_paths against closed forms: endpoints, norms, uniform angles, orthogonal codes."""

import math

import numpy as np
import pytest
import torch

from playground.latent_paths import latent_path, lerp, slerp


def angle(u, v):
    return math.acos(np.clip(np.dot(u, v) / np.linalg.norm(u) / np.linalg.norm(v), -1, 1))


def test_endpoints_and_midpoint_of_the_line():
    a, b = np.array([1.0, 2.0, -3.0]), np.array([0.5, -1.0, 4.0])
    z = lerp(a, b, [0.0, 0.25, 1.0])
    assert z.dtype == np.float32 and z.shape == (3, 3)
    assert np.array_equal(z[0], a.astype(np.float32)) and np.array_equal(z[2], b.astype(np.float32))
    assert np.allclose(z[1], 0.75 * a + 0.25 * b, atol=1e-6)


def test_slerp_between_orthogonal_unit_vectors_is_cos_sin():
    # Ω = π/2: slerp(e1, e2, t) = (cos(tπ/2), sin(tπ/2)) exactly
    t = np.linspace(0, 1, 11)
    z = slerp([1.0, 0.0], [0.0, 1.0], t)
    assert np.allclose(z, np.stack([np.cos(t * np.pi / 2), np.sin(t * np.pi / 2)], 1), atol=1e-7)


def test_slerp_keeps_the_norm_and_turns_uniformly():
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal(16), rng.standard_normal(16)
    b *= np.linalg.norm(a) / np.linalg.norm(b)
    t = np.linspace(0, 1, 9)
    z = slerp(a, b, t)
    assert np.allclose(z[0], a, atol=1e-6) and np.allclose(z[-1], b, atol=1e-6)
    assert np.allclose(np.linalg.norm(z, axis=1), np.linalg.norm(a), rtol=1e-6)
    assert np.allclose([angle(a, v) for v in z], t * angle(a, b), atol=1e-5)
    assert np.linalg.norm(lerp(a, b, [0.5])[0]) < np.linalg.norm(a)          # the line cuts inside


def test_parallel_antiparallel_and_zero_codes_fall_back_to_the_line_per_row():
    a = np.array([[1.0, 2.0], [1.0, 0.0], [0.0, 0.0], [1.0, 0.0]])
    b = np.array([[2.0, 4.0], [-1.0, 0.0], [3.0, 1.0], [0.0, 1.0]])          # last row: a real arc
    t = np.full(4, 0.5)
    z = slerp(a, b, t)
    assert np.isfinite(z).all()
    assert np.allclose(z[:3], 0.5 * (a[:3] + b[:3]))
    assert np.allclose(z[3], [math.sqrt(0.5), math.sqrt(0.5)], atol=1e-7)


def test_tensors_in_tensors_out_batched_rows():
    g = torch.Generator().manual_seed(0)
    a, b = torch.randn(5, 8, generator=g), torch.randn(5, 8, generator=g)
    t = torch.linspace(0, 1, 5)
    z = slerp(a, b, t)
    assert isinstance(z, torch.Tensor) and z.dtype == torch.float32 and z.shape == (5, 8)
    assert torch.allclose(z[0], a[0], atol=1e-6) and torch.allclose(z[-1], b[-1], atol=1e-6)
    assert torch.allclose(latent_path(a, b, t, "linear"), (1 - t[:, None]) * a + t[:, None] * b, atol=1e-6)
    with pytest.raises(ValueError):
        latent_path(a, b, t, "cubic")
