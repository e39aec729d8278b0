"""Autoregressive image models: ``p(x) = prod_i p(x_i | x_<i)`` (van den Oord et al., 2016a, eq. 1–2).

``AutoregressiveModel`` holds what PixelCNN, PixelRNN, Gated PixelCNN, PixelCNN++ and
PixelVAE's decoder share: the output head (``keras_gen.heads``), the exact
log-likelihood, training on it, and compiled sampling and completion. Subclasses
implement only the network, ``call(inputs, training=False)``, which must be causal:
the parameters at pixel (i, j) depend on input pixels strictly before (i, j) in
raster order, and for per-channel heads channel c also on channels < c of (i, j).

Two compiled samplers draw the same images for the same seed:

* the reference sampler (``cached=False``) reruns the network at every step, on the
  window of rows and columns the current pixel can see (or on the whole image);
* the cached sampler (``cached=True``, the default where a model has one) carries
  per-layer state through the loop and computes only what the new sub-pixel
  changes. A model provides it with four methods, called in a loop over the rows
  and, inside it, over the sub-pixels of a row; ``cache`` holds the state kept
  across rows, ``row_state`` the state within the current row::

      cache = model.sampling_cache(canvas, conditions, first_row)  # once per image
      for row in ...:
          cache, row_state = model.start_row(cache, row)          # once per row
          for column, channel in ...:
              params, row_state = model.cached_params(cache, row_state, image_row, row, column)
              ... draw the sub-pixel into image_row ...
          cache = model.finish_row(cache, row_state, image_row, row)

  Models without one (``has_cached_sampler = False``) sample with the reference
  sampler whatever ``cached`` says.
"""

import keras
import numpy as np
from keras import ops

from keras_gen import heads
from keras_gen.layers.apply import apply_layer
from keras_gen.layers.masked_conv import MaskedConv2D
from keras_gen.models.base import GenerativeModel, is_tf_dataset, weighted_targets
from keras_gen.validation import check_int, check_known_rows, resolve_seed


class ConditionedBatches(keras.utils.PyDataset):
    """The batches ``(images, condition[, sample_weight])`` of another ``PyDataset`` as inputs
    ``{"image": images, name: condition}`` (and the weights, with empty targets to carry them)."""

    def __init__(self, batches, name):
        super().__init__()
        self.batches, self.name = batches, name

    def __len__(self):
        return len(self.batches)

    def __getitem__(self, index):
        images, condition, *weights = self.batches[index]
        inputs = {"image": images, self.name: condition}
        return (inputs, weighted_targets(inputs, None, weights[0]), weights[0]) if weights else (inputs,)

    def on_epoch_end(self):
        self.batches.on_epoch_end()


def pad_maps(maps, top, sides):
    """Zeros above (``top`` rows) and on both sides (``sides`` columns) of (B, H, W, C) maps or (B, W, C) rows."""
    spatial = [[top, 0], [sides, sides]] if len(maps.shape) == 4 else [[sides, sides]]
    return ops.pad(maps, [[0, 0]] + spatial + [[0, 0]])


def write_row(maps, row, values):
    """``maps`` (B, H, W, C) with its row ``row`` replaced by ``values`` (B, W, C)."""
    return ops.slice_update(maps, [0, row, 0, 0], ops.expand_dims(values, 1))


class AutoregressiveModel(GenerativeModel):
    """A density over images factorised over pixels in raster order (and R → G → B).

    Args:
        image_shape: (H, W, C).
        output: the output head: ``"bernoulli"`` (binary data), ``"categorical"``
            (8-bit data) or any head added with ``keras_gen.heads.register_head``, as
            a name, an ``OutputHead`` or its config (``keras_gen.heads.get``). The
            model keeps it as ``self.head`` (``output`` is only the argument's name).

    A conditional model declares its conditions once, in ``condition_specs()``
    (:class:`~keras_gen.models.conditions.Condition`): the base class derives from it
    ``condition_names``, the symbolic inputs that create the weights, the checks on every
    input and the reference sampler's cropping of condition maps.

    ``call`` receives the raw image (binary floats or 0..255 values; scale it with
    :meth:`scale_image`), or for conditional models a dict ``{"image": x, name: c, ...}``
    with the names in ``condition_names``; it returns the head's parameters.

    ``fit`` trains on the exact negative log-likelihood. A conditional model takes its
    input dict ``{"image": images, name: condition}``; a model with one condition also
    takes it in the targets' place, as arrays ``fit(images, condition)`` or as batches
    ``(images, condition)`` or ``(images, condition, sample_weight)`` of a ``PyDataset``
    (such as ``ImageData.train_batches(batch_size, with_labels=True)``) or a
    ``tf.data.Dataset``. An unconditional model trains on images alone.

    Reference:
        - van den Oord, Kalchbrenner and Kavukcuoglu (2016a). Pixel Recurrent Neural Networks. ICML 2016.
          https://arxiv.org/abs/1601.06759
    """

    has_cached_sampler = False
    # The cached samplers' loops are compiled with XLA on every backend (JAX always does). Each
    # step is many small operations, which XLA fuses: on a 2-core CPU with TensorFlow, 16 MNIST
    # samples took 0.4-0.6 s warm with XLA against 2.2-5.3 s without (PixelCNN, Gated PixelCNN,
    # Row LSTM, Diagonal BiLSTM at the chapters' cpu sizes; first calls alike), and PixelCNN++'s
    # 2 samples of 32x32x3 2.5 s against 20.6 s. Without XLA, TensorFlow's graph optimiser also
    # failed on the conditional Gated PixelCNN's loop ("AlreadyExistsError ... AddOpsRewrite",
    # tensorflow/tensorflow#23780).
    cached_sampler_jit_compile = True

    def __init__(self, image_shape, output="bernoulli", **kwargs):
        head = heads.get(output)
        super().__init__(image_shape, data_type=head.data_type, **kwargs)
        self.head = head

    def condition_specs(self):
        """The conditions the model takes besides the image, ``{name: Condition}``; ``{}`` if unconditional."""
        return {}

    @property
    def condition_names(self):
        """The names of the conditions, from ``condition_specs``."""
        return tuple(self.condition_specs())

    def symbolic_inputs(self):
        """One blank symbolic image and its conditions, from ``condition_specs`` (see ``create_weights``)."""
        conditions = {name: spec.symbolic() for name, spec in self.condition_specs().items()}
        return self.join_inputs(super().symbolic_inputs(), conditions)

    @property
    def color_groups(self):
        """The colour groups the masks keep apart: C for a per-channel head (R → G → B), 1 for a whole-pixel one."""
        return self.image_shape[2] if self.head.per_channel else 1

    def check_color_groups(self, name, value, per_group=1, reason=""):
        """``value`` of the argument ``name`` after checking that it splits into ``per_group`` × the colour groups."""
        divisor = per_group * self.color_groups
        if value % divisor:
            raise ValueError(
                f"{name} must be a multiple of {divisor} for {self.color_groups} colour group(s) (R → G → B) of "
                f"the {self.head.name!r} head on image_shape={self.image_shape}{reason}, got {value!r}."
            )
        return value

    def add_output_layers(self, filters, layer=MaskedConv2D):
        """Create ``output_hidden`` and ``output_conv``, the two 1×1 mask-B layers over the colour groups
        that map the network's last features to the head's outputs (``layer`` takes MaskedConv2D's arguments)."""
        groups, channels = self.color_groups, self.image_shape[2]
        self.output_hidden = layer(filters, 1, "B", groups, activation="relu", name="output_hidden")
        self.output_conv = layer(self.head.num_outputs(channels), 1, "B", groups, name="output_conv")

    def output_params(self, features, conv=apply_layer):
        """The head's parameters from the network's last features: ReLU, 1×1 (ReLU), 1×1, the head.

        ``conv(layer, inputs)`` applies the two layers (see ``PixelCNN.call``).
        """
        hidden = conv(self.output_hidden, ops.relu(features))
        return self.head.outputs_to_params(conv(self.output_conv, hidden), self.image_shape[2])

    @property
    def rows_above(self):
        """How many rows above a pixel its distribution can reach, or ``None`` for unbounded.

        Convolutional models know this number; the reference sampler then runs the network on
        a window of ``rows_above + 1`` rows around the current pixel instead of the
        whole image. Only valid when the network treats all rows alike.
        """
        return None

    @property
    def columns_around(self):
        """How many columns left or right of a pixel its distribution can reach, or ``None``.

        With ``rows_above``, the sampler runs the network on a window of
        ``rows_above + 1`` rows and ``2 * columns_around + 1`` columns.
        """
        return None

    def scale_image(self, x):
        """Data as the network sees it: binary as 0/1 floats, 8-bit mapped to [-1, 1] (compute dtype)."""
        x = ops.cast(x, self.compute_dtype)
        return x if self.data_type == "binary" else x / 127.5 - 1.0

    def split_inputs(self, inputs):
        """``(image, conditions)`` from an image tensor or a dict ``{"image": x, name: c, ...}``.

        A ValueError unless the conditions are exactly ``condition_names``.
        """
        conditions = {}
        if isinstance(inputs, dict):
            if "image" not in inputs:
                raise ValueError(f"a dict of inputs needs an 'image' entry, got the keys {sorted(inputs)}.")
            conditions = dict(inputs)
            inputs = conditions.pop("image")
        self._check_condition_names(conditions)
        return inputs, conditions

    def _check_condition_names(self, conditions):
        names = list(self.condition_names)
        if set(conditions) == set(names):
            return
        missing = [name for name in names if name not in conditions]
        how = (
            f"call it on {{'image': x, {', '.join(f'{name!r}: ...' for name in names)}}}"
            if names
            else "give it the images alone"
        )
        raise ValueError(
            f"{type(self).__name__} takes the conditions {names}, got {sorted(conditions)}"
            f"{f' (missing {missing})' if missing else ''}: {how}."
        )

    @staticmethod
    def join_inputs(image, conditions):
        """The network's input: the image alone, or a dict with the conditions."""
        return {"image": image, **conditions} if conditions else image

    def given_subpixels(self):
        """Boolean (H, W, C): the sub-pixels that the conditions give, so neither modelled nor drawn.

        None by default; the multi-scale conditional PixelRNN takes the pixels of its small image
        as given (``PixelRNN.given_subpixels``).
        """
        return np.zeros(self.image_shape, dtype=bool)

    def write_given(self, canvas, conditions):
        """``canvas`` (B, H, W, C) NumPy with the given sub-pixels written from ``conditions``."""
        return canvas

    def image_log_prob(self, params, image):
        """``log p(x)`` per image (nats): the head's log-likelihoods summed over the modelled sub-pixels, in float32."""
        per_pixel = self.head.log_prob(ops.cast(params, "float32"), image)
        given = self.given_subpixels()
        if given.any():
            modelled = ~(given if len(per_pixel.shape) == 4 else given.all(axis=-1))
            per_pixel = per_pixel * ops.convert_to_tensor(modelled, dtype=per_pixel.dtype)
        return ops.sum(ops.reshape(per_pixel, (ops.shape(per_pixel)[0], -1)), axis=1)

    def loss_terms(self, x, y_pred):
        image, _ = self.split_inputs(x)
        return {"nll": -self.image_log_prob(y_pred, image)}

    def _check_data(self, data):
        if isinstance(data, dict):
            image, conditions = self.split_inputs(data)
            n = len(self.check_images(image, "x['image']"))
            for name, spec in self.condition_specs().items():
                spec.check(f"x[{name!r}]", conditions[name], n, broadcast=False)
            return
        super()._check_data(data)

    def _check_spec(self, spec):
        if isinstance(spec, dict):
            if "image" not in spec:
                raise ValueError(f"a dict of inputs needs an 'image' entry, got the keys {sorted(spec)}.")
            spec = spec["image"]
        super()._check_spec(spec)

    def _expected_inputs(self):
        images = super()._expected_inputs()
        if not self.condition_names:
            return images
        return f"{images}, or a dict of inputs {{'image': images, {', '.join(map(repr, self.condition_names))}: ...}}"

    def _check_conditions(self, conditions, n):
        """The keyword conditions of ``log_prob``, ``sample`` and ``complete`` for ``n`` images, checked, as NumPy."""
        self._check_condition_names(conditions)
        return {name: spec.check(name, conditions[name], n) for name, spec in self.condition_specs().items()}

    def _as_model_inputs(self, x, y):
        """``(x, y)`` given to ``fit`` as the model's inputs and no targets (see the class docstring)."""
        if y is None and isinstance(x, keras.utils.PyDataset):
            first = x[0]
            if isinstance(first, tuple) and len(first) in (2, 3) and not isinstance(first[0], dict):
                if first[1] is not None:
                    return ConditionedBatches(x, self._single_condition()), None
            return x, None
        if y is None and is_tf_dataset(x):
            spec = x.element_spec
            if isinstance(spec, tuple) and len(spec) in (2, 3) and not isinstance(spec[0], dict):
                if getattr(spec[1], "shape", None) is not None:  # a condition, not None
                    name = self._single_condition()
                    return x.map(
                        lambda images, condition, *weights: ({"image": images, name: condition}, None, *weights)
                    ), None
            return x, None
        if y is None or isinstance(x, dict):
            if y is not None:
                raise ValueError("fit takes either a dict of inputs or (images, condition), not both.")
            return x, None
        return {"image": x, self._single_condition(): y}, None

    def _single_condition(self):
        if len(self.condition_names) != 1:
            kind = "is unconditional" if not self.condition_names else f"takes {list(self.condition_names)}"
            raise ValueError(
                f"{type(self).__name__} {kind}, so it cannot take a condition in the targets' place; "
                f"train it on {'images alone' if not self.condition_names else 'a dict of inputs'}."
            )
        return self.condition_names[0]

    def log_prob(self, x, *, batch_size=256, **conditions):
        """Exact ``log p(x)`` per image in nats, shape (batch,)."""
        x = self.check_images(x)
        conditions = self._check_conditions(conditions, len(x))

        def graph(inputs, _):
            image, given = self.split_inputs(inputs)
            return self.image_log_prob(self(self.join_inputs(image, given), training=False), image)

        return self.run_compiled("log_prob", graph, {"image": x, **conditions}, batch_size=batch_size)

    def sample(self, n, seed=None, *, batch_size=64, cached=True, **conditions):
        """``n`` images drawn pixel by pixel (and colour by colour), in data space.

        ``cached=True`` uses the cached sampler where the model has one (see the module
        docstring); ``cached=False`` the reference sampler. Both give the same images.
        """
        canvas = np.zeros((check_int("n", n),) + self.image_shape, dtype="float32")
        return self._generate(canvas, 0, seed, batch_size, cached, conditions)

    def complete(self, x, known_rows, seed=None, *, batch_size=64, cached=True, **conditions):
        """Keep the first ``known_rows`` rows of every image in ``x`` and sample the rest.

        ``cached`` as in ``sample``.
        """
        x = self.check_images(x)
        height = self.image_shape[0]
        known_rows = check_known_rows(known_rows, height)
        canvas = x.astype("float32")
        canvas[:, known_rows:] = 0.0
        return self._generate(canvas, known_rows, seed, batch_size, cached, conditions)

    def sampling_noise(self, n, seed):
        """The uniform numbers ``sample`` and ``complete`` draw ``n`` images with, (n, H, W, K).

        Every sub-pixel has its own fixed numbers, so a given seed gives the same
        images however they are batched.
        """
        height, width, channels = self.image_shape
        shape = (check_int("n", n), height, width, self.head.noise_channels(channels))
        return np.random.default_rng(seed).random(shape, dtype=np.float32)

    def _generate(self, canvas, first_row, seed, batch_size, cached, conditions):
        conditions = self._check_conditions(conditions, len(canvas))
        canvas = self.write_given(canvas, conditions)
        seed = resolve_seed(seed)
        noise = self.sampling_noise(len(canvas), seed)
        first_row = np.full((len(canvas),), first_row, dtype="int32")
        cached = bool(cached) and self.has_cached_sampler
        graph = self._cached_generate_graph if cached else self._generate_graph
        images = self.run_compiled(
            ("generate", cached),
            lambda inputs, _: graph(inputs),
            {"image": canvas, "noise": noise, "first_row": first_row, **conditions},
            batch_size=batch_size,
            seed=seed,
            jit_compile=self.cached_sampler_jit_compile if cached else "auto",
        )
        return images if self.data_type == "binary" else images.round().astype("uint8")

    def sampling_order(self):
        """The step at which each sub-pixel is drawn, an int array of shape (H, W, C).

        Per-channel heads draw one channel per step (raster order, then R, G, B);
        whole-pixel heads draw all channels of a pixel in the same step. Given
        sub-pixels (``given_subpixels``) are never drawn: their step is -1.
        """
        height, width, channels = self.image_shape
        pixel = np.arange(height * width).reshape(height, width, 1)
        if self.head.per_channel:
            order = pixel * channels + np.arange(channels)
        else:
            order = np.repeat(pixel, channels, axis=-1)
        return np.where(self.given_subpixels(), -1, order)

    def _unpack_sampling_inputs(self, inputs):
        """``(noise, first_row, canvas, conditions)`` from the dict both samplers receive."""
        inputs = dict(inputs)
        noise = inputs.pop("noise")
        first_row = inputs.pop("first_row")[0]
        canvas, conditions = self.split_inputs(inputs)
        return noise, first_row, canvas, conditions

    def _generate_graph(self, inputs):
        """One traced loop over the sampling steps from row ``inputs["first_row"]`` on.

        At step t the network sees the canvas so far (or the window of rows and
        columns that the current pixel can depend on); the current pixel is drawn
        from its parameters with its own fixed uniform noise, and only the
        sub-pixels of step t are written.
        """
        noise, first_row, canvas, conditions = self._unpack_sampling_inputs(inputs)
        height, width, channels = self.image_shape
        steps_per_pixel = self.color_groups
        spatial = [name for name, spec in self.condition_specs().items() if spec.is_spatial(self.image_shape)]
        rows = height if self.rows_above is None else min(height, self.rows_above + 1)
        around = self.columns_around if self.rows_above is not None else None
        columns = width if around is None else min(width, 2 * around + 1)
        order = ops.convert_to_tensor(self.sampling_order()[None], dtype="int32")

        def at(tensor, row, column):
            """``tensor[:, row:row + 1, column:column + 1]`` for tensor indices."""
            pixel = ops.take(ops.take(tensor, row, axis=1), column, axis=1)
            return ops.expand_dims(ops.expand_dims(pixel, 1), 1)

        def step(t, canvas):
            row, column = (t // steps_per_pixel) // width, (t // steps_per_pixel) % width
            top = ops.clip(row - (rows - 1), 0, height - rows)
            left = ops.clip(column - (around or 0), 0, width - columns)

            def crop(maps):
                return ops.slice(maps, [0, top, left, 0], [ops.shape(maps)[0], rows, columns, maps.shape[-1]])

            # condition maps are cropped with the image: the network reads them pixel by pixel, like the image
            window = {name: crop(value) if name in spatial else value for name, value in conditions.items()}
            # call, not __call__: the window is smaller than image_shape, which model(x) refuses (input_spec)
            params = self.call(self.join_inputs(crop(canvas), window), training=False)
            params = ops.cast(at(params, row - top, column - left), "float32")
            drawn = self.head.sample(params, at(noise, row, column))
            at_step = ops.cast(ops.equal(order, t), canvas.dtype)
            return canvas + at_step * (drawn - canvas)

        steps_per_row = width * steps_per_pixel
        return ops.fori_loop(first_row * steps_per_row, height * steps_per_row, step, canvas)

    def _cached_generate_graph(self, inputs):
        """The cached sampler: loops over the rows and, inside, the sub-pixels of a row.

        Draws the same sub-pixels as :meth:`_generate_graph`, with the same noise and the
        same update of the canvas, but asks the model only for the parameters at the
        current pixel, from the state it carries (see the module docstring).
        """
        noise, first_row, canvas, conditions = self._unpack_sampling_inputs(inputs)
        height, width, channels = self.image_shape
        steps_per_pixel = self.color_groups
        order = ops.convert_to_tensor(self.sampling_order(), dtype="int32")

        def row_step(row, carry):
            canvas, cache = carry
            cache, row_state = self.start_row(cache, row)
            row_noise = ops.take(noise, row, axis=1)
            row_order = ops.take(order, row, axis=0)[None] - row * width * steps_per_pixel

            def pixel_step(t, carry):
                image_row, row_state = carry
                column = t // steps_per_pixel
                params, row_state = self.cached_params(cache, row_state, image_row, row, column)
                pixel_noise = ops.expand_dims(ops.expand_dims(ops.take(row_noise, column, axis=1), 1), 1)
                drawn = self.head.sample(ops.cast(params, "float32"), pixel_noise)[:, 0]
                at_step = ops.cast(ops.equal(row_order, t), image_row.dtype)
                return image_row + at_step * (drawn - image_row), row_state

            image_row = ops.take(canvas, row, axis=1)
            image_row, row_state = ops.fori_loop(0, width * steps_per_pixel, pixel_step, (image_row, row_state))
            cache = self.finish_row(cache, row_state, image_row, row)
            return write_row(canvas, row, image_row), cache

        cache = self.sampling_cache(canvas, conditions, first_row)
        return ops.fori_loop(first_row, height, row_step, (canvas, cache))[0]

    def sampling_cache(self, canvas, conditions, first_row):
        """The cached sampler's state for ``canvas`` (B, H, W, C), whose rows above ``first_row`` are known.

        Computed once per image: everything that depends only on the conditions, and the
        state of the known rows (usually from one pass of the network over the canvas,
        which makes ``first_row`` of no use; PixelCNN++ runs over the known rows one by one).
        """
        raise NotImplementedError(f"{type(self).__name__} has no cached sampler.")

    def start_row(self, cache, row):
        """``(cache, row_state)`` before the first pixel of ``row`` is drawn (work done once per row)."""
        raise NotImplementedError(f"{type(self).__name__} has no cached sampler.")

    def cached_params(self, cache, row_state, image_row, row, column):
        """``(params, row_state)``: the head's parameters at pixel (row, column), shape (B, 1, 1, ...).

        ``image_row`` (B, W, C) is the current row as drawn so far: the pixels left of
        ``column`` and, for per-channel heads, the channels of this pixel drawn before.
        """
        raise NotImplementedError(f"{type(self).__name__} has no cached sampler.")

    def finish_row(self, cache, row_state, image_row, row):
        """The state kept across rows once the last pixel of ``row``, ``image_row`` (B, W, C), is drawn."""
        raise NotImplementedError(f"{type(self).__name__} has no cached sampler.")

    def get_config(self):
        return {**super().get_config(), "output": heads.serialize(self.head)}
