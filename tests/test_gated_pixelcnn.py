"""Gated PixelCNN: the block against a NumPy transcription, causality without a blind spot, the model, colour."""

import keras
import numpy as np
import pytest
from cached_sampling import assert_cached_equals_reference, assert_cached_params_equal_the_network, randomise_biases
from causality import assert_causal, input_jacobian
from helpers import random_binary_images, reference_sample
from scipy.special import expit, log_softmax

from keras_gen.layers import GatedPixelCNNBlock
from keras_gen.models import GatedPixelCNN

# ---------------------------------------------------------------- the block, equation by equation


def colour_group(index, count, colours):
    """The colour group of map ``index`` of ``count`` maps: R, G, B in equal consecutive blocks."""
    return index * colours // count


def current_pixel_mask(mask_type, in_channels, out_channels, colours, halves=1):
    """Which input map may reach which output map at the current pixel (mask A: earlier groups; B: also its own)."""
    per_half = out_channels // halves
    mask = np.zeros((in_channels, out_channels))
    for k in range(in_channels):
        for m in range(out_channels):
            g_in, g_out = colour_group(k, in_channels, colours), colour_group(m % per_half, per_half, colours)
            mask[k, m] = g_in < g_out if mask_type == "A" else g_in <= g_out
    return mask


def reference_block(block, vertical, horizontal, condition=None):
    """The block's two outputs computed pixel by pixel in NumPy from its weights (eq. 2, 4, 5).

    With colour groups, the horizontal stack's taps on the current pixel are masked (section 2.1).
    """
    n, half, colours = block.kernel_size, block.kernel_size // 2, block.color_channels
    wv, bv = (np.asarray(w) for w in block.vertical_conv.weights)
    wh, bh = (np.asarray(w) for w in block.horizontal_conv.weights)
    wvh, bvh = (np.asarray(w) for w in block.vertical_to_horizontal.weights)
    wo, bo = (np.asarray(w) for w in block.horizontal_output.weights)
    batch, height, width, _ = vertical.shape

    def at(image, r, c):
        return image[:, r, c] if 0 <= r < height and 0 <= c < width else np.zeros_like(image[:, 0, 0])

    # grey type A: the horizontal stack starts one pixel to the left, excluding the current pixel;
    # colour: it ends on the current pixel, whose tap is masked (mask A in the first block, B after)
    shift = 1 if block.mask_type == "A" and colours == 1 else 0
    if colours > 1:
        wh, wo = wh.copy(), wo.copy()
        wh[0, half] *= current_pixel_mask(block.mask_type, wh.shape[2], wh.shape[3], colours, halves=2)
        wo[0, 0] *= current_pixel_mask("B", wo.shape[2], wo.shape[3], colours)
    vf = np.zeros((batch, height, width, 2 * block.filters))
    hf = np.zeros_like(vf)
    for i in range(height):
        for j in range(width):
            vf[:, i, j] = bv + sum(
                at(vertical, i - half + a, j - half + c) @ wv[a, c] for a in range(half + 1) for c in range(n)
            )
            hf[:, i, j] = bh + sum(at(horizontal, i, j - shift - half + c) @ wh[0, c] for c in range(half + 1))
    if condition is not None:  # V^T h for a vector, V * s (1×1) for a map
        cv = condition @ np.asarray(block.vertical_condition.weights[0])
        ch = condition @ np.asarray(block.horizontal_condition.weights[0])
        if condition.ndim == 2:
            cv, ch = cv[:, None, None], ch[:, None, None]
        vf, hf = vf + cv, hf + ch
    hf[:, 1:] += vf[:, :-1] @ wvh[0, 0]  # the vertical stack of the row above
    hf += bvh

    def gate(features):
        f, g = np.split(features, 2, axis=-1)
        return np.tanh(f) * expit(g)

    horizontal_out = gate(hf) @ wo[0, 0] + bo
    if block.mask_type == "B":
        horizontal_out = horizontal_out + horizontal
    return gate(vf), horizontal_out


@pytest.mark.parametrize(
    "mask_type, kernel_size, condition_shape, colours",
    [("A", 5, None, 1), ("B", 3, (2, 4), 1), ("A", 3, (2, 6, 5, 3), 1), ("A", 5, (2, 4), 3), ("B", 3, None, 2)],
)
def test_block_matches_numpy_transcription(rng, mask_type, kernel_size, condition_shape, colours):
    filters = 4 if colours < 3 else 6
    block = GatedPixelCNNBlock(filters, kernel_size, mask_type, color_channels=colours)
    vertical = rng.normal(size=(2, 6, 5, 3)).astype("float32")
    horizontal = rng.normal(size=(2, 6, 5, 3 if mask_type == "A" and colours != 2 else filters)).astype("float32")
    condition = None if condition_shape is None else rng.normal(size=condition_shape).astype("float32")
    inputs = [vertical, horizontal] + ([] if condition is None else [condition])
    symbolic = [keras.Input(array.shape[1:]) for array in inputs]
    v_out, h_out = keras.Model(symbolic, block(symbolic)).predict(inputs, verbose=0)  # compiled: fast on JAX too
    v_ref, h_ref = reference_block(block, vertical, horizontal, condition)
    np.testing.assert_allclose(v_out, v_ref, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(h_out, h_ref, rtol=1e-4, atol=1e-5)
    assert v_out.shape == h_out.shape == (2, 6, 5, filters)
    assert block.compute_output_shape([v.shape for v in inputs]) == ((2, 6, 5, filters),) * 2


@pytest.mark.parametrize(
    "kwargs, shapes, message",
    [
        ({"filters": 4, "kernel_size": 4}, None, "odd"),
        ({"filters": 4, "mask_type": "C"}, None, "mask_type"),
        ({"filters": 0}, None, "filters"),
        ({"filters": 4, "mask_type": "B"}, [(1, 5, 5, 4), (1, 5, 5, 3)], "residual"),
        ({"filters": 4}, [(1, 5, 5, 4), (1, 5, 6, 4)], "height and width"),
        ({"filters": 4}, [(1, 5, 5, 4), (1, 5, 5, 4), (1, 4, 4, 2)], "condition"),
        ({"filters": 4}, [(1, 5, 5, 4)], r"\[vertical, horizontal\]"),
        ({"filters": 4, "color_channels": 3}, None, r"filters \(4\) must be divisible by color_channels \(3\)"),
        ({"filters": 6, "mask_type": "A", "color_channels": 3}, [(1, 5, 5, 4), (1, 5, 5, 4)], "colour groups"),
    ],
)
def test_block_rejects_bad_arguments(kwargs, shapes, message):
    with pytest.raises(ValueError, match=message):
        GatedPixelCNNBlock(**kwargs)([np.zeros(shape, "float32") for shape in shapes])


# ---------------------------------------------------------------- the model: causal, no blind spot


def causal_field(height, width, i, j, reach):
    """What a gated stack of reach r sees from (i, j): r + 1 rows above within ±r columns, r + 1 pixels to the left."""
    field = np.zeros((height, width), dtype=bool)
    field[max(0, i - 1 - reach) : i, max(0, j - reach) : j + reach + 1] = True
    field[i, max(0, j - reach - 1) : j] = True
    return field


SHAPE = (7, 8, 1)
REACH = 3 // 2 + 1 * (3 // 2)  # input_kernel_size // 2 + num_layers * (kernel_size // 2)


def small_model(**kwargs):
    """The tests share one set of shapes, so that JAX compiles each eager operation once."""
    return GatedPixelCNN(
        **{
            "image_shape": SHAPE,
            "filters": 8,
            "num_layers": 1,
            "kernel_size": 3,
            "input_kernel_size": 3,
            "num_classes": 3,
            **kwargs,
        }
    )


@pytest.fixture(scope="module")
def model():
    keras.utils.set_random_seed(7)
    return small_model()


def test_receptive_field_is_the_whole_causal_neighbourhood(model):
    """Exactly zero gradient at and after every pixel; non-zero for every earlier pixel within reach.

    A masked-convolution PixelCNN of the same depth misses the pixels up and to the right (its
    blind spot); here the vertical stack covers them.
    """
    assert model.reach == REACH
    # two images, so that a pixel whose output ReLUs happen to be all off for one still shows its field
    x = random_binary_images(np.random.default_rng(1), 2, SHAPE)
    jacobian = input_jacobian(model, x, {"label": np.array([0, 2])})
    for i in range(SHAPE[0]):
        for j in range(SHAPE[1]):
            np.testing.assert_array_equal(jacobian[i, j, 0, :, :, 0] != 0, causal_field(*SHAPE[:2], i, j, REACH))


def test_causal_for_colour_drawn_a_whole_pixel_at_a_time(rng, whole_pixel_head):
    """Colour pixels drawn whole (as PixelCNN++'s mixture is): no channel of the current pixel is seen."""
    colour = small_model(image_shape=(4, 4, 3), output=whole_pixel_head)
    assert_causal(colour, random_binary_images(rng, 2, (4, 4, 3)), {"label": np.array([0, 1])})


# ---------------------------------------------------------------- colour: R → G → B groups in the stacks

COLOUR = (4, 4, 3)


def colour_model(**kwargs):
    return small_model(**{"image_shape": COLOUR, "filters": 12, "output": "categorical", **kwargs})


def colour_images(rng, n):
    return rng.integers(0, 256, (n,) + COLOUR).astype("int32")


@pytest.mark.parametrize("num_classes", [None, 3])
def test_colour_is_causal_per_sub_pixel(rng, num_classes):
    """Channel c at (i, j) sees every channel before (i, j) and channels < c of (i, j), nothing else."""
    model = colour_model(num_classes=num_classes)
    randomise_biases(model, rng, scale=0.1)
    conditions = {"label": np.array([0, 1, 2, 1])} if num_classes else {}
    assert_causal(model, colour_images(rng, 4), conditions)


def colour_field(height, width, i, j, channel, reach, channels=3):
    """What the colour stacks of reach r see from channel c at (i, j): r + 1 rows above within ±r columns,
    r pixels to the left (the first block masks the current pixel instead of shifting it away), channels < c."""
    field = np.zeros((height, width, channels), dtype=bool)
    field[max(0, i - 1 - reach) : i, max(0, j - reach) : j + reach + 1] = True
    field[i, max(0, j - reach) : j] = True
    field[i, j, :channel] = True
    return field


def test_colour_receptive_field_has_no_blind_spot(rng):
    """Exactly the causal neighbourhood of each sub-pixel: zero at and after it, non-zero before it within reach."""
    model = colour_model(image_shape=(5, 6, 3), num_classes=None)
    assert model.columns_around == model.reach == REACH
    # positive weights and bright pixels (positive after scaling): no ReLU is ever off, every dependence shows
    for weight in model.weights:
        weight.assign(np.abs(rng.normal(scale=0.05, size=weight.shape)).astype("float32"))
    jacobian = input_jacobian(model, rng.integers(160, 256, (1, 5, 6, 3)))
    for i in range(5):
        for j in range(6):
            for c in range(3):
                np.testing.assert_array_equal(jacobian[i, j, c] != 0, colour_field(5, 6, i, j, c, REACH))


def test_colour_log_prob_is_the_chain_rule_over_sub_pixels(rng):
    """``log_prob`` is the sum of the per-sub-pixel log-probabilities under the model's own parameters, and each
    of them is log p(x_t | x_<t): read from the network run on an image whose sub-pixels from t on are noise."""
    model = colour_model(num_classes=3)
    randomise_biases(model, rng, scale=0.1)
    x, labels = colour_images(rng, 2), np.array([2, 0])
    order = model.sampling_order()
    own = log_softmax(keras.ops.convert_to_numpy(model({"image": x, "label": labels})).astype("float64"), axis=-1)
    own = np.take_along_axis(own, x[..., None], axis=-1)[..., 0]  # (2, H, W, C): log p of each sub-pixel
    np.testing.assert_allclose(model.log_prob(x, label=labels), own.sum(axis=(1, 2, 3)), rtol=1e-6)
    for k in range(len(x)):
        corrupted = np.repeat(x[k : k + 1], order.size, axis=0)
        for t in range(order.size):  # image t: the sub-pixels from step t on drawn anew
            corrupted[t][order >= t] = colour_images(rng, 1)[0][order >= t]
        params = keras.ops.convert_to_numpy(model({"image": corrupted, "label": np.full(order.size, labels[k])}))
        # the parameters of sub-pixel t from image t (shape H, W, C, 256), and their log-probability of x
        at_step = np.take_along_axis(params, order.reshape((1,) + COLOUR + (1,)), axis=0)[0]
        chain = np.take_along_axis(log_softmax(at_step.astype("float64"), axis=-1), x[k][..., None], axis=-1)[..., 0]
        np.testing.assert_allclose(chain, own[k], rtol=0, atol=1e-5)


def test_colour_sampling_and_saving(rng, tmp_path):
    """Samples are 8-bit colour images; a saved colour model (masked layers) loads with identical outputs."""
    model = colour_model(num_classes=3)
    samples = model.sample(2, seed=3, label=1)
    assert samples.shape == (2,) + COLOUR and samples.dtype == np.uint8
    path = str(tmp_path / "colour.keras")
    model.save(path)
    restored = keras.saving.load_model(path)
    assert restored.get_config() == model.get_config()
    inputs = {"image": samples, "label": np.array([1, 1])}
    np.testing.assert_array_equal(
        keras.ops.convert_to_numpy(restored(inputs)), keras.ops.convert_to_numpy(model(inputs))
    )
    np.testing.assert_array_equal(restored.sample(2, seed=3, label=1), samples)


def test_compiled_sampler_equals_the_pixel_by_pixel_definition(model):
    """The sampler runs the network on a window of rows and columns around each pixel; the result must not change."""
    assert model.rows_above + 1 < SHAPE[0] and 2 * model.columns_around + 1 < SHAPE[1]
    labels = np.array([0, 1, 2, 1])
    samples = model.sample(4, seed=5, label=labels, batch_size=2)
    conditions = {"label": labels}
    np.testing.assert_array_equal(samples, reference_sample(model, model.sampling_noise(4, 5), conditions=conditions))
    completed = model.complete(samples, known_rows=3, seed=6, batch_size=2, label=labels)
    expected = reference_sample(model, model.sampling_noise(4, 6), samples, first_row=3, conditions=conditions)
    np.testing.assert_array_equal(completed, expected)
    np.testing.assert_array_equal(model.sample(2, seed=9, label=1), model.sample(2, seed=9, label=[1, 1]))


@pytest.mark.parametrize(
    "kwargs",
    [
        {},  # class-conditional, the shared shapes
        {"num_classes": None, "num_layers": 2, "input_kernel_size": 5},
        {"num_classes": None, "image_shape": (4, 5, 3), "output": "test_whole_pixel_bernoulli"},
        {"num_classes": None, "image_shape": (4, 5, 3), "filters": 12, "output": "categorical"},  # R → G → B
        {"image_shape": (4, 5, 3), "filters": 12, "output": "categorical", "input_kernel_size": 5},
        {"num_classes": None, "image_shape": (5, 4, 3), "filters": 6, "output": "bernoulli", "num_layers": 2},
    ],
)
@pytest.mark.usefixtures("whole_pixel_head")
def test_cached_sampler_equals_the_reference(rng, kwargs):
    """Vertical stacks once per row, horizontal stacks per sub-pixel: the reference's images, sample and complete."""
    model = small_model(**kwargs)
    randomise_biases(model, rng)
    conditions = {"label": np.array([2, 0, 1])} if model.num_classes else {}
    assert_cached_equals_reference(model, known_rows=(0, 1, 3), **conditions)
    if model.image_shape[2] > 1 and model.head.per_channel:  # the parameters too, sub-pixel by sub-pixel
        images = model.sample(3, seed=4, **conditions).astype("float32")
        assert_cached_params_equal_the_network(model, images, **conditions)


def test_class_label_changes_the_distribution(model, rng):
    x = random_binary_images(rng, 1, SHAPE).repeat(4, axis=0)
    labels = np.array([0, 1, 2, 2])
    params = keras.ops.convert_to_numpy(model({"image": x, "label": labels}))
    assert not np.allclose(params[0], params[1]) and not np.allclose(params[1], params[2])
    np.testing.assert_allclose(params[2], params[3], rtol=1e-6, atol=1e-7)
    expected = (x * params - np.logaddexp(0, params)).sum(axis=(1, 2, 3))
    np.testing.assert_allclose(model.log_prob(x, label=labels), expected, rtol=1e-5)


def test_training_learns_a_class_dependent_pattern():
    """Constant images, white for label 1 and black otherwise: the model learns to read the label."""
    model = small_model()
    labels = np.arange(32) % 3
    x = np.broadcast_to((labels == 1)[:, None, None, None], (32,) + SHAPE).astype("float32")
    model.compile(optimizer=keras.optimizers.Adam(0.05))
    nll = model.fit({"image": x, "label": labels}, epochs=25, batch_size=32, verbose=0).history["nll"]
    assert nll[-1] < 0.1 * nll[0]  # from about 56 log 2 nats to nearly certain
    samples = model.sample(6, seed=0, label=labels[:6])
    assert samples[labels[:6] != 1].mean() < 0.2 and samples[labels[:6] == 1].mean() > 0.8


def test_save_load_round_trip(model, tmp_path, rng):
    path = str(tmp_path / "gated.keras")
    model.save(path)
    restored = keras.saving.load_model(path)
    assert isinstance(restored, GatedPixelCNN) and restored.get_config() == model.get_config()
    inputs = {"image": random_binary_images(rng, 2, SHAPE), "label": np.array([2, 0])}
    np.testing.assert_array_equal(
        keras.ops.convert_to_numpy(restored(inputs)), keras.ops.convert_to_numpy(model(inputs))
    )


def test_clear_errors_for_bad_labels_and_shapes(model, rng):
    x = random_binary_images(rng, 2, SHAPE)
    with pytest.raises(ValueError, match=r"class indices in 0..2, found the range 1..3"):
        model.sample(2, label=[1, 3])
    with pytest.raises(ValueError, match="whole numbers"):
        model.log_prob(x, label=np.array([0.5, 1.0]))
    with pytest.raises(ValueError, match="one entry per image"):
        model.sample(3, label=[1, 2])
    with pytest.raises(ValueError, match=r"takes the conditions \['label'\], got \[\]"):
        model.sample(2)
    with pytest.raises(ValueError, match=r"missing \['label'\].*\{'image': x, 'label': ...\}"):
        model.fit({"image": x}, epochs=1, verbose=0)
    with pytest.raises(ValueError, match="class indices"):
        model.fit({"image": x, "label": np.array([-1, 2])}, epochs=1, verbose=0)
    with pytest.raises(ValueError, match=r"shape \(batch, 7, 8, 1\)"):
        model.log_prob(x[:, :4], label=np.array([1, 2]))
    with pytest.raises(ValueError, match="binary"):
        model.log_prob(x * 3, label=np.array([1, 2]))
    with pytest.raises(ValueError, match=r"takes the conditions \[\], got \['label'\]"):
        small_model(num_classes=None).sample(2, label=[1, 2])


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"image_shape": (5, 5, 3)}, r"filters must be a multiple of 3 for 3 colour group"),
        ({"image_shape": (5, 5, 2), "output": "categorical", "filters": 5}, r"multiple of 2 .* got 5"),
        ({"kernel_size": 2}, "odd"),
        ({"input_kernel_size": (3, 5)}, "n×n"),
        ({"num_classes": 0}, "num_classes"),
        ({"num_layers": -1}, "num_layers"),
    ],
)
def test_bad_constructor_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        GatedPixelCNN(**{"image_shape": (5, 5, 1), "filters": 4, "num_layers": 1, **kwargs})
