"""The straight-through estimator, the vector quantiser (nearest codes, losses, EMA codes,
dead-code restarts), perplexity, and the VQ-VAE's shapes."""

import numpy as np
import pytest

import tinygrad_course as tg
import tinygrad_course.functional as F
from tinygrad_course import backend
from tinygrad_course.errors import ShapeError
from tinygrad_course.models.vqvae import VQVAE, VectorQuantize, perplexity


def test_straight_through_gives_z_q_values_and_exactly_the_identity_gradient():
    rng = np.random.default_rng(0)
    z_e = tg.tensor(rng.standard_normal((5, 3)), requires_grad=True)
    z_q = tg.tensor(rng.standard_normal((5, 3)), requires_grad=True)
    out = F.straight_through(z_e, z_q)
    np.testing.assert_array_equal(out.numpy(), z_q.numpy())  # bit for bit
    upstream = rng.standard_normal((5, 3)).astype(np.float32)
    out.backward(tg.tensor(upstream))
    np.testing.assert_array_equal(z_e.grad.numpy(), upstream)  # exactly, not approximately
    assert z_q.grad is None  # the codebook learns from its own loss only


def test_straight_through_refuses_mismatched_shapes():
    with pytest.raises(ShapeError, match="straight_through"):
        F.straight_through(tg.zeros(2, 3), tg.zeros(3, 2))


def set_data(tensor, host_array):
    """Overwrite a parameter or buffer with host values, on the tensor's own device."""
    tensor.data = backend.from_numpy(np.asarray(host_array, dtype=np.float32), tensor.device)


def quantizer_and_input(ema=False, seed=0):
    vq = VectorQuantize(6, 4, beta=0.25, ema=ema, seed=seed)
    set_data(vq.codebook, np.random.default_rng(seed).standard_normal((6, 4)))
    z_e = tg.tensor(np.random.default_rng(seed + 1).standard_normal((2, 4, 3, 3)),
                    requires_grad=True)
    return vq, z_e


def test_every_output_row_is_the_nearest_codebook_row():
    vq, z_e = quantizer_and_input()
    vq.eval()
    z, _, codes = vq(z_e)
    rows = z_e.numpy().transpose(0, 2, 3, 1).reshape(-1, 4)
    codebook = vq.codebook.numpy()
    distances = ((rows[:, None, :] - codebook[None, :, :]) ** 2).sum(axis=2)
    np.testing.assert_array_equal(codes.numpy().reshape(-1), distances.argmin(axis=1))
    out_rows = z.numpy().transpose(0, 2, 3, 1).reshape(-1, 4)
    for row, code in zip(out_rows, codes.numpy().reshape(-1)):
        np.testing.assert_array_equal(row, codebook[code])  # a codebook row, exactly
    assert codes.dtype == np.int64 and codes.shape == (2, 3, 3)


def test_quantizer_losses_and_gradients():
    """loss = ||sg(z_e) - z_q||^2 + beta ||z_e - sg(z_q)||^2 (means); the encoder gets the
    decoder's gradient straight through plus the commitment term, the codebook the codebook
    term only."""
    vq, z_e = quantizer_and_input()
    vq.eval()
    z, loss, codes = vq(z_e)
    rows = z_e.numpy().transpose(0, 2, 3, 1).reshape(-1, 4).astype(np.float64)
    picked = vq.codebook.numpy()[codes.numpy().reshape(-1)].astype(np.float64)
    mse = ((rows - picked) ** 2).mean()
    np.testing.assert_allclose(loss.item(), 1.25 * mse, rtol=1e-5)
    upstream = np.random.default_rng(3).standard_normal(z.shape).astype(np.float32)
    ((z * tg.tensor(upstream)).sum() + loss).backward()
    commitment = 0.25 * 2 * (rows - picked) / rows.size
    expected = upstream + commitment.reshape(2, 3, 3, 4).transpose(0, 3, 1, 2)
    np.testing.assert_allclose(z_e.grad.numpy(), expected, rtol=1e-5, atol=1e-7)
    codebook_grad = np.zeros((6, 4))
    np.add.at(codebook_grad, codes.numpy().reshape(-1), 2 * (picked - rows) / rows.size)
    np.testing.assert_allclose(vq.codebook.grad.numpy(), codebook_grad, rtol=1e-5, atol=1e-7)


def test_ema_codes_move_towards_the_mean_of_their_vectors():
    vq, z_e = quantizer_and_input(ema=True)
    set_data(vq.code_sum, vq.codebook.numpy())
    before = vq.codebook.numpy().copy()
    z, loss, codes = vq(z_e)  # training mode: one EMA update
    rows = z_e.numpy().transpose(0, 2, 3, 1).reshape(-1, 4)
    code = np.bincount(codes.numpy().reshape(-1)).argmax()  # a code that was picked
    members = rows[codes.numpy().reshape(-1) == code]
    size = 0.99 * 1.0 + 0.01 * len(members)
    total = vq.cluster_size.numpy().sum()
    smoothed = (size + 1e-5) / (total + 6e-5) * total
    expected = (0.99 * before[code] + 0.01 * members.sum(axis=0)) / smoothed
    np.testing.assert_allclose(vq.codebook.numpy()[code], expected, rtol=1e-5)
    assert not vq.codebook.requires_grad  # updated by running means, not by gradients


def test_dead_codes_restart_onto_encoder_outputs():
    vq = VectorQuantize(8, 2, restart_dead=True, seed=0)
    far = np.full((8, 2), 100.0)  # far from every input...
    far[0] = 0.0  # ...but one: every vector picks code 0
    set_data(vq.codebook, far)
    z_e = tg.tensor(np.random.default_rng(0).standard_normal((4, 2, 4, 4)))
    used = []
    for _ in range(10):
        used.append(len(np.unique(vq(z_e)[2].numpy())))
    assert used[0] == 1  # collapsed at the start
    assert used[-1] > 4  # the restarted codes sit on encoder outputs and get picked
    rows = z_e.numpy().transpose(0, 2, 3, 1).reshape(-1, 2)
    assert np.abs(vq.codebook.numpy()).max() < np.abs(rows).max() + 1e-6


def test_without_restarts_the_dead_codes_stay_dead():
    vq = VectorQuantize(8, 2, seed=0)
    far = np.full((8, 2), 100.0)
    far[0] = 0.0
    set_data(vq.codebook, far)
    z_e = tg.tensor(np.random.default_rng(0).standard_normal((4, 2, 4, 4)))
    for _ in range(10):
        assert len(np.unique(vq(z_e)[2].numpy())) == 1


def test_perplexity_is_the_effective_number_of_codes():
    assert perplexity([0, 1, 2, 3], 8) == pytest.approx(4.0)
    assert perplexity([5, 5, 5], 8) == pytest.approx(1.0)


def test_vqvae_encodes_digits_to_a_grid_of_codes_and_decodes_back():
    model = VQVAE(num_codes=16, dim=8, hidden=8, seed=0)
    x = tg.rand(3, 1, 8, 8)
    reconstruction, loss, codes = model(x)
    assert reconstruction.shape == (3, 1, 8, 8) and loss.shape == () and codes.shape == (3, 4, 4)
    assert model.encode(x).shape == (3, 4, 4)
    np.testing.assert_array_equal(model.decode(codes).numpy(), reconstruction.numpy())


def test_quantizer_refuses_the_wrong_vector_size():
    with pytest.raises(ShapeError, match="VectorQuantize"):
        VectorQuantize(4, 3)(tg.zeros(1, 2, 2, 2))
