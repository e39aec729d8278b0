"""Conditions: declared once (``condition_specs``), checked on every input; a class-conditional model trains on
(images, labels) as on its input dict, others refuse labels; a map is a condition of the gated PixelCNN."""

import numpy as np
import pytest
from helpers import random_binary_images, reference_sample

from keras_gen import datasets
from keras_gen.models import GatedPixelCNN, PixelCNN, PixelRNN
from keras_gen.models.conditions import Condition


def _model():
    model = GatedPixelCNN(image_shape=(6, 6, 1), filters=4, num_layers=1, num_classes=3)
    model.compile(optimizer="sgd")
    return model


def test_labels_in_the_targets_place_train_as_the_input_dict(rng):
    x = random_binary_images(rng, 8, (6, 6, 1))
    labels = rng.integers(0, 3, 8).astype("int32")
    by_dict, by_arrays = _model(), _model()
    by_arrays.set_weights(by_dict.get_weights())
    dict_loss = by_dict.fit({"image": x, "label": labels}, batch_size=4, epochs=1, shuffle=False, verbose=0)
    array_loss = by_arrays.fit(
        x, labels, batch_size=4, epochs=1, shuffle=False, verbose=0, validation_data=(x[:4], labels[:4])
    )
    np.testing.assert_allclose(array_loss.history["nll"], dict_loss.history["nll"], rtol=1e-5)
    assert "val_nll" in array_loss.history
    for a, b in zip(by_dict.get_weights(), by_arrays.get_weights(), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-7)


def test_labelled_batches_from_a_dataset_train_a_conditional_model(rng):
    intensities = rng.random((12, 6, 6, 1)).astype("float32")
    data = datasets.ImageData(
        "tiny",
        intensities,
        rng.integers(0, 3, 12).astype("int32"),
        intensities[:2],
        np.zeros(2, "int32"),
        binarize="dynamic",
        intensities=intensities,
    )
    model = _model()
    history = model.fit(data.train_batches(4, with_labels=True), epochs=2, verbose=0)
    assert len(history.history["nll"]) == 2 and np.isfinite(history.history["nll"]).all()
    with pytest.raises(ValueError, match=r"x\['label'\] must hold class indices in 0..2"):
        bad = datasets.ImageData(
            "bad",
            intensities,
            np.full(12, 7, "int32"),
            intensities[:2],
            np.zeros(2, "int32"),
            binarize="dynamic",
            intensities=intensities,
        )
        model.fit(bad.train_batches(4, with_labels=True), epochs=1, verbose=0)


def test_an_unconditional_model_refuses_labels(rng):
    model = PixelCNN(image_shape=(6, 6, 1), filters=4, num_layers=1)
    model.compile(optimizer="sgd")
    with pytest.raises(ValueError, match="PixelCNN is unconditional.*images alone"):
        model.fit(random_binary_images(rng, 4, (6, 6, 1)), np.zeros(4, "int32"), verbose=0)


# ------------------------------------------------------------ one declaration of conditions


def test_a_conditional_model_called_on_a_bare_image_names_the_missing_condition(rng):
    x = random_binary_images(rng, 2, (6, 6, 1))
    with pytest.raises(ValueError, match=r"takes the conditions \['label'\], got \[\] \(missing \['label'\]\)"):
        _model()(x)
    with pytest.raises(ValueError, match=r"PixelCNN takes the conditions \[\], got \['label'\]"):
        PixelCNN(image_shape=(6, 6, 1), filters=4, num_layers=1)({"image": x, "label": np.zeros(2)})
    with pytest.raises(ValueError, match="needs an 'image' entry|Missing data for input \"image\""):
        _model()({"label": np.zeros(2)})


def test_conditions_are_declared_once_and_drive_names_weights_and_checks(rng):
    labelled = _model()
    assert labelled.condition_specs() == {"label": Condition.label(3)} and labelled.condition_names == ("label",)
    mapped = GatedPixelCNN(image_shape=(6, 6, 1), filters=4, num_layers=1, map_channels=2)
    assert mapped.condition_specs() == {"map": Condition.map((6, 6, 2))} and mapped.condition_names == ("map",)
    assert GatedPixelCNN(image_shape=(6, 6, 1), filters=4, num_layers=1).condition_names == ()
    small = PixelRNN(image_shape=(4, 4, 1), layer_type="row_lstm", num_layers=1, units=4, small_image_shape=(2, 2, 1))
    assert small.condition_specs() == {"small_image": Condition.image((2, 2, 1), "binary")}
    # the weights were created from the declaration: the gates' condition layers read a map of 2 channels
    assert mapped.blocks[0].vertical_condition.kernel.shape == (2, 8)
    x = random_binary_images(rng, 2, (6, 6, 1))
    with pytest.raises(ValueError, match=r"map must hold finite values"):
        mapped.log_prob(x, map=np.full((2, 6, 6, 2), np.nan))
    with pytest.raises(ValueError, match=r"map must have one entry per image \(2\), shape \(2, 6, 6, 2\)"):
        mapped.log_prob(x, map=np.zeros((2, 6, 6, 3)))
    with pytest.raises(ValueError, match=r"small_image must be binary data"):
        small.log_prob(random_binary_images(rng, 2, (4, 4, 1)), small_image=np.full((2, 2, 2, 1), 0.5))
    one_map = rng.normal(size=(6, 6, 2)).astype("float32")  # one entry for every image
    np.testing.assert_array_equal(mapped.log_prob(x, map=one_map), mapped.log_prob(x, map=np.stack([one_map, one_map])))


def test_a_map_is_a_condition_of_the_gated_pixelcnn(rng, tmp_path):
    """``map_channels=`` declares the map (eq. 5): config, saving, sampling with a window of rows and columns."""
    model = GatedPixelCNN(image_shape=(7, 8, 1), filters=4, num_layers=1, map_channels=2)
    assert model.get_config()["map_channels"] == 2 and model.get_config()["num_classes"] is None
    restored = GatedPixelCNN.from_config(model.get_config())
    assert restored.condition_names == ("map",)
    maps = rng.normal(size=(2, 7, 8, 2)).astype("float32")
    x = random_binary_images(rng, 2, (7, 8, 1))
    model.save_weights(str(tmp_path / "map.weights.h5"))
    restored.load_weights(str(tmp_path / "map.weights.h5"))
    np.testing.assert_array_equal(restored.log_prob(x, map=maps), model.log_prob(x, map=maps))
    # the reference sampler crops the map with the image, so it runs on a window (rows_above is not None)
    assert model.rows_above is not None and model.rows_above + 1 < 7
    reference = model.sample(2, seed=4, map=maps, cached=False)
    np.testing.assert_array_equal(
        reference, reference_sample(model, model.sampling_noise(2, 4), conditions={"map": maps})
    )
    np.testing.assert_array_equal(model.sample(2, seed=4, map=maps), reference)
    with pytest.raises(ValueError, match="one condition, a class label .* or a map"):
        GatedPixelCNN(image_shape=(7, 8, 1), filters=4, num_layers=1, num_classes=3, map_channels=2)
    with pytest.raises(ValueError, match="map_channels must be a positive integer"):
        GatedPixelCNN(image_shape=(7, 8, 1), filters=4, num_layers=1, map_channels=0)
