"""The conditions of an autoregressive model: what it takes besides the image, declared once.

A conditional model returns ``{name: Condition}`` from ``condition_specs()``; from that one
declaration :class:`~keras_gen.models.AutoregressiveModel` derives ``condition_names``, the
symbolic inputs that create the weights, the checks on ``model(...)``, ``fit``, ``log_prob``,
``sample`` and ``complete``, and which conditions the reference sampler crops with the image
(maps of the image's height and width, which the network reads pixel by pixel).
"""

import dataclasses

import keras
import numpy as np

from keras_gen.validation import DATA_TYPES, check_choice, check_images, check_int, image_dtype

KINDS = ("class", "map", "image")


@dataclasses.dataclass(frozen=True)
class Condition:
    """One condition of a model: one entry per image, of shape ``shape``.

    Args:
        kind: ``"class"``, a class index in 0..``num_classes`` - 1 (``shape`` ());
            ``"map"``, finite real numbers (float32); ``"image"``, an image in the
            data space ``data_type`` (binary {0, 1} or 8-bit 0..255).
        shape: the shape of one image's entry.
        num_classes: the number of classes of a ``"class"`` condition.
        data_type: ``"binary"`` or ``"8bit"``, for an ``"image"`` condition.

    Example::

        from keras_gen.models.conditions import Condition

        label = Condition.label(10)
        label.check("label", 3, n=2)                         # array([3, 3], dtype=int32): one class for both
        Condition.map((8, 8, 4)).symbolic().shape            # (1, 8, 8, 4), for creating the weights
    """

    kind: str
    shape: tuple = ()
    num_classes: int | None = None
    data_type: str | None = None

    def __post_init__(self):
        check_choice("kind", self.kind, KINDS)
        object.__setattr__(self, "shape", tuple(self.shape))
        if self.kind == "class":
            check_int("num_classes", self.num_classes)
        if self.kind == "image":
            check_choice("data_type", self.data_type, DATA_TYPES)

    @classmethod
    def label(cls, num_classes):
        """A class label per image, in 0..num_classes - 1."""
        return cls("class", (), num_classes=num_classes)

    @classmethod
    def map(cls, shape):
        """A real-valued map (or vector) per image, of shape ``shape``."""
        return cls("map", shape)

    @classmethod
    def image(cls, shape, data_type):
        """An image per image, of shape ``shape`` = (h, w, C), in the data space ``data_type``."""
        return cls("image", shape, data_type=data_type)

    @property
    def dtype(self):
        """The dtype the model receives the condition in."""
        if self.kind == "image":
            return image_dtype(self.data_type)
        return "int32" if self.kind == "class" else "float32"

    def is_spatial(self, image_shape):
        """Whether the condition has a value at every pixel of images of ``image_shape`` (B, H, W, ...)."""
        return len(self.shape) == 3 and self.shape[:2] == tuple(image_shape[:2])

    def symbolic(self):
        """A symbolic input for one image, to create a model's weights without running it."""
        return keras.KerasTensor((1,) + self.shape, self.dtype)

    def check(self, name, value, n, broadcast=True):
        """``value`` of the condition ``name`` for ``n`` images, as NumPy of shape (n,) + ``shape``.

        With ``broadcast``, one entry without the batch axis stands for every image. A ValueError
        names the condition, the expected and the received value.
        """
        array = keras.ops.convert_to_numpy(value) if keras.ops.is_tensor(value) else np.asarray(value)
        if broadcast and array.shape == self.shape:
            array = np.repeat(array[None], n, axis=0)
        expected = (n,) + self.shape
        if array.shape != expected:
            raise ValueError(
                f"{name} must have one entry per image ({n}), shape {expected}"
                f"{f' (or {self.shape} for all of them)' if broadcast else ''}, got shape {array.shape}."
            )
        if self.kind == "image":
            return check_images(array, self.shape, self.data_type, name)
        if not (np.issubdtype(array.dtype, np.number) or array.dtype == bool):
            raise ValueError(f"{name} must be numeric, got dtype {array.dtype}.")
        if self.kind == "map":
            if not np.isfinite(array).all():
                raise ValueError(f"{name} must hold finite values, found NaN or infinite ones.")
            return array.astype("float32")
        if not np.isfinite(array).all() or np.any(array != np.round(array)):
            raise ValueError(f"{name} must hold whole numbers (class indices), got {array.dtype} values.")
        if array.size and (array.min() < 0 or array.max() >= self.num_classes):
            raise ValueError(
                f"{name} must hold class indices in 0..{self.num_classes - 1}, "
                f"found the range {array.min()}..{array.max()}."
            )
        return array.astype("int32")
