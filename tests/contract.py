"""The layer and model contract, one helper per clause (after Keras's ``run_layer_test``).

For a layer or model ``obj`` and a batch of inputs it can be called on:

* :func:`check_config_round_trip`: ``from_config(get_config())`` rebuilds an object
  with the same config;
* :func:`check_symbolic_shapes`: the symbolic call (``compute_output_spec``, and
  ``compute_output_shape`` where the class defines it) gives the shapes of the real call;
* :func:`check_weights_round_trip`: weights saved to a ``.weights.h5`` file and loaded
  into a fresh copy give identical weights and identical outputs;
* :func:`check_training_step`: a layer inside a model takes one optimizer step (``fit``)
  on a loss of its outputs, with a finite loss, and every trainable weight moves.

:func:`check_contract` runs all four (models train in their own tests, so the training
step is for layers). ``call`` turns ``(obj, inputs)`` into deterministic outputs
(default: ``obj(inputs)``).
"""

import os

import keras
import numpy as np


def _shapes(structure):
    return keras.tree.map_structure(lambda t: tuple(t.shape), structure)


def _symbolic(structure):
    return keras.tree.map_structure(lambda t: keras.KerasTensor(np.shape(t), dtype=str(np.asarray(t).dtype)), structure)


def _numpy(structure):
    return keras.tree.map_structure(lambda t: np.asarray(keras.ops.convert_to_numpy(t)), structure)


def default_call(obj, inputs):
    return obj(inputs)


def check_config_round_trip(obj):
    config = obj.get_config()
    clone = type(obj).from_config(config)
    assert clone.get_config() == config, f"{type(obj).__name__}: the config changes in from_config(get_config())"
    return clone


def check_symbolic_shapes(obj, inputs, call=default_call):
    eager = _shapes(call(obj, inputs))
    symbolic = _shapes(call(obj, _symbolic(inputs)))
    assert symbolic == eager, f"{type(obj).__name__}: symbolic shapes {symbolic} != eager shapes {eager}"
    defines_shape = type(obj).compute_output_shape is not keras.layers.Layer.compute_output_shape
    if defines_shape and call is default_call and not isinstance(obj, keras.Model):
        computed = obj.compute_output_shape(_shapes(inputs))
        computed = keras.tree.map_shape_structure(tuple, computed)
        assert computed == eager, f"{type(obj).__name__}: compute_output_shape {computed} != eager shapes {eager}"


class _Holder(keras.Model):
    """A model around a layer, for its ``save_weights`` / ``load_weights`` (layers have none)."""

    def __init__(self, layer):
        super().__init__()
        self.layer = layer
        self.built = True


def _file_owner(obj):
    return obj if isinstance(obj, keras.Model) else _Holder(obj)


def check_weights_round_trip(obj, inputs, directory, call=default_call):
    expected = _numpy(call(obj, inputs))
    path = os.path.join(str(directory), f"{obj.name}.weights.h5")
    _file_owner(obj).save_weights(path)
    clone = type(obj).from_config(obj.get_config())
    call(clone, inputs)  # builds the clone (models are built already)
    _file_owner(clone).load_weights(path)
    assert [w.shape for w in clone.weights] == [w.shape for w in obj.weights]
    for a, b in zip(obj.get_weights(), clone.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    keras.tree.map_structure(np.testing.assert_array_equal, _numpy(call(clone, inputs)), expected)


class _Trainer(keras.Model):
    """A model around a layer whose loss is the mean square of the layer's outputs (``add_loss``)."""

    def __init__(self, layer, call):
        super().__init__(name="trainer")
        self.layer, self.call_layer = layer, call

    def call(self, inputs):
        outputs = [keras.ops.cast(t, "float32") for t in keras.tree.flatten(self.call_layer(self.layer, inputs))]
        self.add_loss(sum(keras.ops.mean(keras.ops.square(t)) for t in outputs))
        return outputs[0]


def check_training_step(layer, inputs, call=default_call):
    """One ``fit`` step of SGD on the layer's outputs: the loss is finite and every trainable weight changes."""
    if not layer.trainable_weights:
        return
    trainer = _Trainer(layer, call)
    trainer.compile(optimizer=keras.optimizers.SGD(0.1))
    before = _numpy(layer.trainable_weights)
    history = trainer.fit(inputs, batch_size=len(keras.tree.flatten(inputs)[0]), epochs=1, verbose=0).history
    assert np.isfinite(history["loss"][0]), f"{type(layer).__name__}: loss {history['loss'][0]}"
    for weight, value in zip(layer.trainable_weights, before, strict=True):
        assert not np.array_equal(_numpy(weight), value), f"{type(layer).__name__}: {weight.path} did not train"


def check_contract(obj, inputs, directory, call=default_call):
    check_symbolic_shapes(obj, inputs, call)  # first: builds a layer
    check_config_round_trip(obj)
    check_weights_round_trip(obj, inputs, directory, call)
    if not isinstance(obj, keras.Model):
        check_training_step(obj, inputs, call)
