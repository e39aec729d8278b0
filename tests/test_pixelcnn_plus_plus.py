"""PixelCNN++: receptive fields of the shifted convolutions, the gated ResNet block,
whole-pixel causality without a blind spot, likelihood, training, sampling, saving."""

import keras
import numpy as np
import pytest
from cached_sampling import assert_cached_equals_reference, assert_cached_params_equal_the_network, randomise_biases
from causality import assert_causal, input_jacobian

from keras_gen import heads
from keras_gen import ops as kg_ops
from keras_gen.layers.gated_resnet import GatedResNetBlock, concat_elu
from keras_gen.layers.shifted_conv import ShiftedConv2D, ShiftedConv2DTranspose
from keras_gen.models.pixelcnn_plus_plus import PixelCNNPlusPlus
from keras_gen.ops import down_shift, right_shift

SHAPE = (4, 4, 3)
FILTERS = 4  # few and small kernel shapes: JAX compiles a random initialiser for each


@pytest.fixture(scope="module")
def model():
    keras.utils.set_random_seed(7)
    # two stride-2 steps (4, 2, 1 rows): every earlier pixel is in reach
    return PixelCNNPlusPlus(
        SHAPE, filters=FILTERS, blocks_per_stage=1, num_downsamplings=2, num_components=3, dropout=0.5, seed=3
    )


@pytest.fixture(scope="module")
def images():
    return np.random.default_rng(5).integers(0, 256, size=(1,) + SHAPE)  # the batch size the model was built with


def receptive_fields(layer, height, width):
    """Which inputs each output reads: (out_H, out_W, H, W) booleans, from the impulse
    responses of the layer with all-ones kernels (a linear map with no cancellation)."""
    impulses = np.eye(height * width, dtype="float32").reshape(-1, height, width, 1)
    responses = keras.ops.convert_to_numpy(layer(impulses))[..., 0]
    return np.moveaxis(responses.reshape((height, width) + responses.shape[1:]), (0, 1), (2, 3)) != 0


def expected_fields(out_shape, in_shape, reads):
    fields = np.zeros(out_shape + in_shape, bool)
    for i, j in np.ndindex(*out_shape):
        for p, q in np.ndindex(*in_shape):
            fields[i, j, p, q] = reads(i, j, p, q)
    return fields


@pytest.mark.parametrize(
    "shift, kernel, strides, reads",
    [
        ("down", (2, 3), 1, lambda i, j, p, q: i - 1 <= p <= i and abs(q - j) <= 1),
        ("down", (1, 3), 1, lambda i, j, p, q: p == i and abs(q - j) <= 1),
        ("down_right", (2, 2), 1, lambda i, j, p, q: i - 1 <= p <= i and j - 1 <= q <= j),
        ("down_right", (2, 1), 1, lambda i, j, p, q: i - 1 <= p <= i and q == j),
        ("down", (2, 3), 2, lambda i, j, p, q: 2 * i - 1 <= p <= 2 * i and abs(q - 2 * j) <= 1),
        ("down_right", (2, 2), 2, lambda i, j, p, q: 2 * i - 1 <= p <= 2 * i and 2 * j - 1 <= q <= 2 * j),
    ],
)
def test_shifted_convolution_reads_only_up_and_left(shift, kernel, strides, reads):
    layer = ShiftedConv2D(1, kernel, shift, strides, kernel_initializer="ones")
    fields = receptive_fields(layer, 6, 6)
    out = 6 // strides
    assert fields.shape == (out, out, 6, 6)
    np.testing.assert_array_equal(fields, expected_fields((out, out), (6, 6), reads))


@pytest.mark.parametrize(
    "shift, kernel, reads",
    [
        # fine (i, j) reads coarse (I, J) only when I summarises pixels at or above row i
        ("down", (2, 3), lambda i, j, p, q: 0 <= i - 2 * p <= 1 and abs(j - 2 * q) <= 1),
        ("down_right", (2, 2), lambda i, j, p, q: 0 <= i - 2 * p <= 1 and 0 <= j - 2 * q <= 1),
    ],
)
def test_transposed_shifted_convolution_doubles_and_reads_only_up_and_left(shift, kernel, reads):
    layer = ShiftedConv2DTranspose(1, kernel, shift, strides=2, kernel_initializer="ones")
    fields = receptive_fields(layer, 3, 3)
    assert fields.shape == (6, 6, 3, 3)
    np.testing.assert_array_equal(fields, expected_fields((6, 6), (3, 3), reads))


def test_shifts_move_the_image_by_one_pixel():
    x = np.arange(1, 13, dtype="float32").reshape(1, 3, 4, 1)
    down = keras.ops.convert_to_numpy(down_shift(x))
    right = keras.ops.convert_to_numpy(right_shift(x))
    np.testing.assert_array_equal(down[0, 1:], x[0, :-1])
    np.testing.assert_array_equal(down[0, 0], 0)
    np.testing.assert_array_equal(right[0, :, 1:], x[0, :, :-1])
    np.testing.assert_array_equal(right[0, :, 0], 0)


def test_concat_elu_keeps_both_signs():
    x = np.array([[-2.0, 0.5]], "float32")
    expected = np.concatenate([np.where(x > 0, x, np.expm1(x)), np.where(-x > 0, -x, np.expm1(-x))], axis=-1)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(concat_elu(x)), expected, rtol=1e-6)


def test_gated_resnet_block_is_a_residual_with_a_gate(rng):
    block = GatedResNetBlock(FILTERS, "down_right", dropout=0.5, seed=1)
    x = rng.normal(size=(2, 5, 5, FILTERS)).astype("float32")
    a = rng.normal(size=(2, 5, 5, FILTERS)).astype("float32")
    out = keras.ops.convert_to_numpy(block([x, a]))
    assert out.shape == x.shape and not np.allclose(out, x)
    np.testing.assert_array_equal(out, keras.ops.convert_to_numpy(block([x, a])))  # no dropout at test time
    assert not np.allclose(keras.ops.convert_to_numpy(block([x, a], training=True)), out)
    kernel, bias = block.conv_out.get_weights()
    block.conv_out.set_weights([np.zeros_like(kernel), np.zeros_like(bias)])  # gate input 0: x + 0 * sigmoid(0)
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(block([x, a])), x)
    with pytest.raises(ValueError, match=f"expects {FILTERS} input maps"):
        GatedResNetBlock(FILTERS)(x[..., :3])


def test_whole_pixel_causality_without_blind_spot(model, images):
    assert_causal(model, images)
    jacobian = input_jacobian(model, images)[:, :, 0].sum(axis=-1)  # (H, W, H, W)
    raster = np.arange(SHAPE[0] * SHAPE[1]).reshape(SHAPE[:2])
    for i, j in np.ndindex(*SHAPE[:2]):
        unseen = np.argwhere((raster < raster[i, j]) & (jacobian[i, j] == 0))
        assert len(unseen) == 0, f"pixel ({i}, {j}) does not see the earlier pixels {unseen[:5].tolist()}"


def test_without_shortcuts_the_network_is_causal_and_smaller(model, images):
    """The ablation of the long short-cuts: the same blocks without the connections from the first pass."""
    keras.utils.set_random_seed(7)
    ablated = PixelCNNPlusPlus(
        SHAPE, filters=FILTERS, blocks_per_stage=1, num_downsamplings=2, num_components=3, shortcuts=False, seed=3
    )
    jacobian = input_jacobian(ablated, images)[:, :, 0].sum(axis=-1)  # (H, W, H, W)
    raster = np.arange(SHAPE[0] * SHAPE[1]).reshape(SHAPE[:2])
    for i, j in np.ndindex(*SHAPE[:2]):
        assert jacobian[i, j][raster >= raster[i, j]].sum() == 0, f"pixel ({i}, {j}) sees itself or later pixels"
    # what the short-cuts carry: without them only the stride-2 path joins the input to the output,
    # and some pixels no longer see the pixel to their left
    assert any(jacobian[i, j, i, j - 1] == 0 for i, j in np.ndindex(*SHAPE[:2]) if j > 0)
    assert 0 < ablated.count_params() < model.count_params()
    assert PixelCNNPlusPlus.from_config(ablated.get_config()).shortcuts is False


def test_log_prob_is_the_mixture_likelihood_of_the_outputs(model, images):
    params = model(images)
    assert tuple(params.shape) == (1,) + SHAPE[:2] + (kg_ops.logistic_mixture_num_params(3, 3),)
    expected = keras.ops.convert_to_numpy(kg_ops.discretized_logistic_mixture_log_prob(images, params)).sum((1, 2))
    np.testing.assert_allclose(model.log_prob(images), expected, rtol=1e-5)


def test_fit_logs_nats_and_bits_per_dim(images):
    small = PixelCNNPlusPlus(SHAPE, filters=FILTERS, blocks_per_stage=1, num_downsamplings=0, num_components=3, seed=1)
    small.compile(optimizer=keras.optimizers.Adam(1e-3))
    x = np.concatenate([images] * 8)
    logs = small.fit(x, batch_size=4, epochs=2, verbose=0).history
    assert logs["nll"][1] < logs["nll"][0]
    assert np.isfinite(logs["nll"][0])
    # what evaluate logs is the mixture likelihood of log_prob (checked above), in nats and in bits
    logs = small.evaluate(x, batch_size=4, verbose=0, return_dict=True)
    log_p = small.log_prob(x)
    np.testing.assert_allclose(logs["nll"], -log_p.mean(), rtol=1e-5)
    np.testing.assert_allclose(logs["bits_per_dim"], -np.mean(log_p / np.log(2)) / np.prod(SHAPE), rtol=1e-5)


def test_sampling_and_completion_are_seeded(model, images):
    first, again = model.sample(3, seed=11), model.sample(3, seed=11)
    assert first.shape == (3,) + SHAPE and first.dtype == np.uint8
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, model.sample(3, seed=12))
    completed = model.complete(images, known_rows=2, seed=1)
    np.testing.assert_array_equal(completed[:, :2], images[:, :2])


@pytest.mark.parametrize(
    "settings",
    [dict(blocks_per_stage=1, num_downsamplings=2), dict(blocks_per_stage=1, num_downsamplings=1, shortcuts=False)],
)
def test_cached_sampler_equals_the_reference(settings):
    """Row by row (ShiftedRows), the parameters at every pixel are the network's, and the images the reference's."""
    keras.utils.set_random_seed(2)
    model = PixelCNNPlusPlus((4, 4, 3), filters=FILTERS, num_components=2, dropout=0.5, seed=0, **settings)
    rng = np.random.default_rng(0)
    randomise_biases(model, rng)
    assert_cached_params_equal_the_network(model, rng.integers(0, 256, (2, 4, 4, 3)))
    assert_cached_equals_reference(model, n=3, known_rows=(1, 2, 3))


def test_save_and_load_round_trip(model, images, tmp_path):
    path = str(tmp_path / "pixelcnn_pp.keras")
    model.save(path)
    loaded = keras.saving.load_model(path)
    assert isinstance(loaded, PixelCNNPlusPlus) and loaded.get_config() == model.get_config()
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(loaded(images)), keras.ops.convert_to_numpy(model(images)))


def test_logistic_mixture_head_is_registered():
    head = heads.get("logistic_mixture", num_components=4)
    assert head.num_outputs(3) == 40 and head.num_outputs(1) == 12
    assert head.noise_channels(3) == 4 and not head.per_channel and head.data_type == "8bit"


def test_bad_arguments_and_data_raise(model):
    with pytest.raises(ValueError, match="divisible by 4"):
        PixelCNNPlusPlus((6, 6, 3), filters=4, blocks_per_stage=0, num_downsamplings=2)
    with pytest.raises(ValueError, match="num_components"):
        PixelCNNPlusPlus(SHAPE, filters=4, blocks_per_stage=0, num_components=0)
    with pytest.raises(ValueError, match="0..255"):
        model.log_prob(np.full((1,) + SHAPE, 256))
    with pytest.raises(ValueError, match=r"\(batch, 4, 4, 3\)"):
        model.log_prob(np.zeros((1, 4, 4, 1), "int32"))
    with pytest.raises(ValueError, match="odd"):
        ShiftedConv2D(4, (2, 2), "down")
    with pytest.raises(ValueError, match="shift"):
        ShiftedConv2D(4, (2, 3), "up")
