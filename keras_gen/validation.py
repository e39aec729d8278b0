"""Input checks that turn bad data into a clear ``ValueError`` before it reaches a graph."""

import keras
import numpy as np
from keras import ops

DATA_TYPES = ("binary", "8bit")
SEED_LIMIT = 2**32 - 1  # seeds are uint32 (Keras's seed generators), and ``seed + 1`` must be one too


def image_dtype(data_type):
    """The dtype of images in the data space ``data_type``: float32 for binary data, int32 for 8-bit data."""
    return "float32" if data_type == "binary" else "int32"


def is_whole(value):
    """Whether ``value`` is a whole number of a numeric type (``3``, ``3.0``, ``np.int64(3)``), not a bool or str."""
    if isinstance(value, (bool, np.bool_)):
        return False
    if isinstance(value, (int, np.integer)):
        return True
    return isinstance(value, (float, np.floating)) and bool(np.isfinite(value)) and int(value) == value


def check_image_shape(image_shape):
    """Return ``image_shape`` as a tuple ``(H, W, C)`` of positive ints, or raise."""
    try:
        shape = tuple(int(d) for d in image_shape)
    except TypeError:
        shape = ()
    if len(shape) != 3 or min(shape) < 1:
        raise ValueError(f"image_shape must be (height, width, channels) of positive integers, got {image_shape!r}.")
    return shape


def check_int(name, value, minimum=1, *, odd=False):
    """``value`` as an int of at least ``minimum`` (a whole number of any numeric type, not a bool; odd if ``odd``),
    or raise."""
    if not is_whole(value) or value < minimum or (odd and value % 2 == 0):
        kind = {0: "a non-negative integer", 1: "a positive integer"}.get(minimum, f"an integer >= {minimum}")
        if odd:
            kind = {0: "a non-negative odd integer", 1: "an odd positive integer"}.get(
                minimum, f"an odd integer >= {minimum}"
            )
        raise ValueError(f"{name} must be {kind}, got {value!r}.")
    return int(value)


def check_float(name, value, minimum=None):
    """``value`` as a finite float (of at least ``minimum`` if given), or raise: ``"1"`` or ``nan`` are not numbers."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise ValueError(f"{name} must be a number, got {value!r}.")
    if not np.isfinite(value) or (minimum is not None and value < minimum):
        bound = "" if minimum is None else f" of at least {minimum:g}"
        raise ValueError(f"{name} must be a finite number{bound}, got {value!r}.")
    return float(value)


def check_bool(name, value):
    """``value`` as a bool if it is one (Python or NumPy), or raise: ``"no"`` or ``0.5`` are not flags."""
    if not isinstance(value, (bool, np.bool_)):
        raise ValueError(f"{name} must be True or False, got {value!r}.")
    return bool(value)


def check_int_pair(name, value, minimum=1):
    """``value`` as a pair of ints of at least ``minimum``, e.g. a kernel's (height, width), or raise."""
    try:
        pair = tuple(value)
    except TypeError:
        pair = ()
    if len(pair) != 2 or not all(is_whole(v) and v >= minimum for v in pair):
        raise ValueError(f"{name} must be a pair (height, width) of integers >= {minimum}, got {value!r}.")
    return int(pair[0]), int(pair[1])


def check_kernel_size(kernel_size, name="kernel_size", *, square=False):
    """``kernel_size`` as a pair ``(kh, kw)`` of odd positive ints (one odd int if ``square``), or raise.

    A masked or stacked kernel needs a centre tap, so even sizes are refused.
    """
    try:
        pair = tuple(kernel_size) if np.ndim(kernel_size) else (kernel_size, kernel_size)
    except TypeError:
        pair = ()
    valid = len(pair) == 2 and all(is_whole(k) and k >= 1 and k % 2 == 1 for k in pair)
    if not valid or (square and pair[0] != pair[1]):
        what = "one odd positive integer n (an n×n kernel)" if square else "an odd positive integer or a pair of them"
        raise ValueError(f"{name} must be {what} (the kernel needs a centre tap), got {kernel_size!r}.")
    return int(pair[0]) if square else (int(pair[0]), int(pair[1]))


def resolve_seed(seed):
    """``seed`` as an int in 0..2**32 - 2 (so that ``seed + 1`` is one too), or raise; for ``None`` a fresh one
    from NumPy's global generator (which ``keras.utils.set_random_seed`` seeds)."""
    if seed is None:
        return np.random.randint(0, 2**31 - 2)
    if not is_whole(seed) or not 0 <= seed < SEED_LIMIT:
        raise ValueError(f"seed must be None or an integer in 0..{SEED_LIMIT - 1}, got {seed!r}.")
    return int(seed)


def check_int_sequence(name, value, minimum=1):
    """``value`` as a tuple of ints of at least ``minimum`` (such as the sizes of hidden layers, one per
    layer; empty for none), or raise: a single int is refused, not read as one layer or as a count."""
    if isinstance(value, (str, bytes, dict)) or not np.iterable(value):
        raise ValueError(f"{name} must be a sequence of integers (one per layer, e.g. (500,)), got {value!r}.")
    items = tuple(value)
    if not all(is_whole(v) and v >= minimum for v in items):
        raise ValueError(f"{name} must be a sequence of integers >= {minimum} (one per layer), got {value!r}.")
    return tuple(int(v) for v in items)


def input_spec_like(shape, axes=(-1,), name=None):
    """A ``keras.layers.InputSpec`` for inputs of the rank of ``shape`` and its sizes on ``axes`` (the channels by
    default), the others free. Layers set it in ``build``: a later call of another rank or size then gets Keras's
    ValueError naming the expected and received shapes, not a backend error or a silent broadcast."""
    axes = {axis % len(shape) for axis in axes}
    return keras.layers.InputSpec(shape=tuple(d if k in axes else None for k, d in enumerate(shape)), name=name)


def check_known_rows(known_rows, height):
    """``known_rows`` as an int in 0..``height`` (the rows that ``complete`` keeps), or raise."""
    if not is_whole(known_rows) or not 0 <= known_rows <= height:
        raise ValueError(f"known_rows must be an integer in 0..{height}, got {known_rows!r}.")
    return int(known_rows)


def check_choice(name, value, choices):
    """Raise a ``ValueError`` unless ``value`` is one of ``choices``."""
    if value not in choices:
        raise ValueError(f"{name} must be one of {list(choices)}, got {value!r}.")
    return value


def to_numpy(x):
    """A NumPy view of an array or a backend tensor."""
    return x if isinstance(x, np.ndarray) else np.asarray(ops.convert_to_numpy(x))


def check_images(x, image_shape, data_type, name="x"):
    """Check a batch of images against a model's ``image_shape`` and data type.

    ``binary`` data must hold only 0 and 1; ``8bit`` data only whole numbers in 0..255.
    Returns the batch as a NumPy array (float32 for binary, int32 for 8-bit).
    """
    array = to_numpy(x)
    expected = "(batch, " + ", ".join(str(d) for d in image_shape) + ")"
    if array.ndim != 4:
        raise ValueError(
            f"{name} must be a batch of images of shape {expected} (channels last), "
            f"got an array of rank {array.ndim} with shape {array.shape}."
        )
    if tuple(array.shape[1:]) != tuple(image_shape):
        raise ValueError(f"{name} must have shape {expected}, got {array.shape}.")
    if not (np.issubdtype(array.dtype, np.number) or array.dtype == bool):
        raise ValueError(f"{name} must be numeric, got dtype {array.dtype}.")
    if data_type == "binary":
        if not np.isin(array, (0, 1)).all():
            bad = array[~np.isin(array, (0, 1))].ravel()[:3]
            raise ValueError(
                f"{name} must be binary data in {{0, 1}} for a Bernoulli model, found values such as "
                f"{bad.tolist()}; binarise it first (keras_gen.datasets.load_mnist(binarize=...))."
            )
        return array.astype("float32")
    if not np.isfinite(array).all() or (array != np.round(array)).any():
        raise ValueError(f"{name} must hold whole numbers 0..255 (8-bit data), found non-integer values.")
    if array.min() < 0 or array.max() > 255:
        raise ValueError(f"{name} must hold 8-bit values in 0..255, found the range {array.min()}..{array.max()}.")
    return array.astype("int32")
