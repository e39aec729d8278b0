"""A class-conditional model trains on (images, labels) as on its input dict; others refuse labels."""

import numpy as np
import pytest
from helpers import random_binary_images

from keras_gen import datasets
from keras_gen.models import GatedPixelCNN, PixelCNN


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
    with pytest.raises(ValueError, match="labels must be class indices"):
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
