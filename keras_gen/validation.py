"""Input checks that turn bad data into a clear ``ValueError`` before it reaches a graph."""

import numpy as np
from keras import ops

DATA_TYPES = ("binary", "8bit")


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
    """``value`` as an int of at least ``minimum`` (a whole number of any numeric type; odd if ``odd``), or raise."""
    try:
        whole = int(value) == value
    except (TypeError, ValueError):
        whole = False
    if not whole or value < minimum or (odd and value % 2 == 0):
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
        whole = len(pair) == 2 and all(int(v) == v and v >= minimum for v in pair)
    except (TypeError, ValueError):
        whole = False
    if not whole:
        raise ValueError(f"{name} must be a pair (height, width) of integers >= {minimum}, got {value!r}.")
    return int(pair[0]), int(pair[1])


def check_kernel_size(kernel_size, name="kernel_size", *, square=False):
    """``kernel_size`` as a pair ``(kh, kw)`` of odd positive ints (one odd int if ``square``), or raise.

    A masked or stacked kernel needs a centre tap, so even sizes are refused.
    """
    try:
        pair = tuple(kernel_size) if np.ndim(kernel_size) else (kernel_size, kernel_size)
        valid = len(pair) == 2 and all(int(k) == k and k >= 1 and k % 2 == 1 for k in pair)
    except (TypeError, ValueError):
        valid = False
    if not valid or (square and pair[0] != pair[1]):
        what = "one odd positive integer n (an n×n kernel)" if square else "an odd positive integer or a pair of them"
        raise ValueError(f"{name} must be {what} (the kernel needs a centre tap), got {kernel_size!r}.")
    return int(pair[0]) if square else (int(pair[0]), int(pair[1]))


def resolve_seed(seed):
    """``seed``, or for ``None`` a fresh one from NumPy's global generator (which
    ``keras.utils.set_random_seed`` seeds), below ``2**31 - 2`` so that ``seed + 1`` is one too."""
    return np.random.randint(0, 2**31 - 2) if seed is None else seed


def check_known_rows(known_rows, height):
    """``known_rows`` as an int in 0..``height`` (the rows that ``complete`` keeps), or raise."""
    try:
        whole = int(known_rows) == known_rows
    except (TypeError, ValueError):
        whole = False
    if not whole or not 0 <= known_rows <= height:
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
