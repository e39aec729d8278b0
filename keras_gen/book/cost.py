"""What a chapter costs: FLOPs per image counted from the model, and a time estimate.

:func:`count_flops` runs the model once, eagerly, on one blank image and records every
layer call. A weight matrix or convolution kernel of ``n`` entries that a layer
applies at ``p`` positions (pixels of its output, or of its input where that is
smaller, as for transposed convolutions) costs ``2 n p`` FLOPs (a multiply and an
add); layers called inside a ``keras.ops.scan`` count once per step of the loop, and so
do the products ``keras.ops.matmul`` computes in a model's own code, outside its layers'
calls (DRAW without attention multiplies by its encoder cell's kernel directly).
Element-wise work (activations, gates, the likelihoods) is left out: it is small
beside the convolutions and matrix products, which is what a GPU's rate is quoted
for. Two approximations are known: the Diagonal LSTM's state-to-state kernel runs
on the skewed map (W + H - 1 columns, not W), and embeddings count as products.

:func:`estimate_seconds` turns the counts into time on one device, under two stated
assumptions: the device sustains ``device_flops`` (default 4 TFLOP/s: about half
the 8.1 TFLOP/s fp32 peak of a Colab T4, the rate large convolutions reach; an L4
is similar), and every step of a sequential loop (a row of a Row LSTM, a column of a
Diagonal LSTM, a DRAW step) costs at least ``step_seconds`` per batch (default
0.1 ms: a few kernel launches), whatever its FLOPs; and every batch costs
``batch_seconds`` more (default 2 ms: Keras's work around one step of ``fit``).
A backward pass costs twice the forward one. Small layers run below the quoted rate, so read the estimate as a
lower bound good to a factor of about two.
"""

import contextlib
import math

import keras
import numpy as np

DEVICE_FLOPS = 4e12
STEP_SECONDS = 1e-4
BATCH_SECONDS = 2e-3
DEVICE = "one Colab-class GPU (T4 or L4: 4 TFLOP/s sustained fp32, 0.1 ms a loop step, 2 ms a batch)"


def _positions(value):
    """Pixels of a (B, ..., C) tensor: the product of the axes between batch and channels."""
    shape = getattr(value, "shape", None)
    if shape is None or len(shape) < 3:
        return 1
    return math.prod(int(d) for d in shape[1:-1])


def _first_tensor(value):
    for item in keras.tree.flatten(value):
        if hasattr(item, "shape"):
            return item
    return None


def _own_kernels(layer):
    """Entries of the weight matrices and kernels that ``layer`` holds itself (not its sub-layers')."""
    if isinstance(layer, keras.layers.Embedding):
        return 0
    own = getattr(layer, "_trainable_variables", None)
    if own is None:  # older or newer Keras: own weights = all weights less those of the sub-layers
        inner = {id(w) for sub in layer._flatten_layers(include_self=False) for w in sub.weights}
        own = [w for w in layer.trainable_weights if id(w) not in inner]
    return sum(math.prod(w.shape) for w in own if len(w.shape) >= 2)


class _Counter:
    def __init__(self):
        self.macs = 0.0
        self.steps = 0.0  # sequential loop steps in one forward pass
        self.multiplier = 1.0
        self.calls = []  # the layers whose calls are under way, innermost last


@contextlib.contextmanager
def _recording(counter):
    layer_call = keras.layers.Layer.__call__
    scan = keras.ops.scan
    matmul = keras.ops.matmul

    def counting_call(layer, *args, **kwargs):
        counter.calls.append(layer)
        try:
            outputs = layer_call(layer, *args, **kwargs)
        finally:
            counter.calls.pop()
        # a model's own weights (DRAW's initial canvas and states) are not kernels: the products in its own code
        # are counted at keras.ops.matmul
        if counter.multiplier and not isinstance(layer, keras.Model):
            kernels = _own_kernels(layer)
            if kernels:
                out_positions = _positions(_first_tensor(outputs))
                inputs = _first_tensor(args) if args else None
                positions = min(out_positions, _positions(inputs)) if inputs is not None else out_positions
                counter.macs += counter.multiplier * kernels * positions
        return outputs

    def counting_scan(f, init, xs=None, length=None, **kwargs):
        steps = int(length if length is not None else keras.tree.flatten(xs)[0].shape[0])
        counter.steps += counter.multiplier * steps
        calls = [0]

        def body(carry, x):
            # The body is traced once (JAX, compiled TensorFlow) or run once per step
            # (eager TensorFlow): count its first run for all the steps, no later one.
            outer = counter.multiplier
            counter.multiplier = outer * steps if calls[0] == 0 else 0.0
            calls[0] += 1
            try:
                return f(carry, x)
            finally:
                counter.multiplier = outer

        return scan(body, init, xs, length=length, **kwargs)

    def counting_matmul(a, b):
        # a product in a model's own code; a layer's products are counted from its kernels
        if counter.multiplier and counter.calls and isinstance(counter.calls[-1], keras.Model):
            rows = math.prod(int(d) for d in a.shape[:-1])
            counter.macs += counter.multiplier * rows * int(a.shape[-1]) * int(b.shape[-1])
        return matmul(a, b)

    keras.layers.Layer.__call__ = counting_call
    keras.ops.scan = counting_scan
    keras.ops.matmul = counting_matmul
    try:
        yield counter
    finally:
        keras.layers.Layer.__call__ = layer_call
        keras.ops.scan = scan
        keras.ops.matmul = matmul


def count_flops(model, inputs=None):
    """``{"flops": forward FLOPs per image, "steps": sequential loop steps per forward pass}``.

    ``inputs`` is one batch the model accepts (default: one blank image of the model's
    ``image_shape``, 0 in its data type); the counts are divided by its batch size.
    """
    if inputs is None:
        dtype = "float32" if getattr(model, "data_type", "binary") == "binary" else "int32"
        inputs = np.zeros((1,) + tuple(model.image_shape), dtype=dtype)
    batch = int(_first_tensor(inputs).shape[0])
    with _recording(_Counter()) as counter:
        model(inputs)
    return {"flops": 2.0 * counter.macs / batch, "steps": counter.steps}


def estimate_seconds(
    model,
    *,
    train_images=0,
    eval_images=0,
    batch_size=64,
    inputs=None,
    device_flops=DEVICE_FLOPS,
    step_seconds=STEP_SECONDS,
    batch_seconds=BATCH_SECONDS,
):
    """Seconds to train on ``train_images`` images (epochs × images) and evaluate ``eval_images``.

    ``eval_images`` counts forward passes of one image: an importance-weighted bound
    with k samples on n images is k·n of them. See the module's notes for the
    assumptions; returns a dict with ``seconds``, ``train_seconds``, ``eval_seconds``,
    ``flops`` (forward, per image) and ``parameters``.
    """
    counts = count_flops(model, inputs)
    batches_train = math.ceil(train_images / batch_size)
    batches_eval = math.ceil(eval_images / batch_size)
    per_batch = counts["steps"] * step_seconds
    train = 3 * counts["flops"] * train_images / device_flops + batches_train * (3 * per_batch + batch_seconds)
    evaluation = counts["flops"] * eval_images / device_flops + batches_eval * (per_batch + batch_seconds)
    return {
        "seconds": train + evaluation,
        "train_seconds": train,
        "eval_seconds": evaluation,
        "flops": counts["flops"],
        "parameters": model.count_params(),
        "name": type(model).__name__,
    }


def format_seconds(seconds):
    """``'42 s'``, ``'12 min'`` or ``'3.4 h'``."""
    if seconds < 100:
        return f"{seconds:.0f} s"
    if seconds < 6000:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"
