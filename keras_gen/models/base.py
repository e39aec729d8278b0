"""The protocol every generative model follows: the image contract, training, evaluation.

``GenerativeModel`` holds what all models share: the image contract and its checks,
training on the model's own negative log-likelihood through ``compute_loss`` (the
backend-agnostic Keras 3 way), the logged metrics, and compiled batched evaluation.
``LatentVariableModel`` adds the variational bound shared by VAE, DRAW and PixelVAE.

The Keras training contract: ``fit`` and ``evaluate`` take Keras's arguments in Keras's
order; ``x`` is a batch of images (for conditional models a dict of inputs), a
``keras.utils.PyDataset`` or a ``tf.data.Dataset`` of such batches, and there are no
targets. ``sample_weight`` (one weight per image) weighs each image's loss as Keras
does (``sum_over_batch_size``: the batch mean of weight × loss) and the logged
metrics (weighted means). Losses of sub-layers (``add_loss``, regularisers) are added
to the objective as Keras adds them.
"""

import inspect
import math
import threading

import keras
import numpy as np
from keras import ops

from keras_gen import ops as kg_ops
from keras_gen.compiled import forget_runners, run_compiled
from keras_gen.layers.policy import share_dtype_policy
from keras_gen.validation import (
    DATA_TYPES,
    check_choice,
    check_float,
    check_image_shape,
    check_images,
    check_int,
    image_dtype,
    input_spec_like,
    resolve_seed,
)


def keras_arguments(method, args, kwargs):
    """The arguments of a call to Keras's bound ``method`` (``fit``, ``evaluate``) by name, positional ones too."""
    bound = inspect.signature(method).bind(*args, **kwargs)
    arguments = dict(bound.arguments)
    for name, parameter in bound.signature.parameters.items():
        if parameter.kind is inspect.Parameter.VAR_KEYWORD:
            arguments.update(arguments.pop(name, {}))
    return arguments


def is_tf_dataset(data):
    """Whether ``data`` is a ``tf.data.Dataset`` (recognised without importing TensorFlow)."""
    return type(data).__module__.startswith("tensorflow") and hasattr(data, "element_spec")


def weighted_targets(x, y, sample_weight):
    """``y``, or where only ``sample_weight`` goes with arrays ``x``, empty targets of shape (n, 0) to carry it.

    Keras's batches of arrays drop the weights where there are no targets
    (``keras.src.trainers.data_adapters.data_adapter_utils.pack_x_y_sample_weight``);
    ``compute_loss`` takes such empty targets for none.
    """
    if y is not None or sample_weight is None or not (isinstance(x, (dict, np.ndarray)) or ops.is_tensor(x)):
        return y
    return np.zeros((len(x["image"] if isinstance(x, dict) else x), 0), "float32")


def weighted_mean(values, weights=None):
    """``mean(weights * values)`` over the batch (Keras's ``sum_over_batch_size``); the plain mean without weights."""
    return ops.mean(values if weights is None else weights * values)


class GenerativeModel(keras.Model):
    """A density model of images of shape ``image_shape`` = (H, W, C).

    Subclasses implement ``loss_terms(x, y_pred)``, returning per-image tensors with
    at least ``"nll"`` (nats), plus ``log_prob`` and ``sample``. ``fit`` logs every
    entry of ``metric_names`` and, for 8-bit data, ``bits_per_dim``.

    The Keras arguments (``name``, ``trainable``, ``dtype``) go to ``keras.Model`` and
    back out of ``get_config``. A dtype policy such as ``dtype="bfloat16"`` or
    ``"mixed_bfloat16"`` is shared with every sub-layer (``create_weights``), so the
    network computes in the policy's compute dtype; log-likelihoods and KL terms are
    accumulated in float32.
    """

    metric_names = ("nll",)

    def __init__(self, image_shape, data_type="binary", **kwargs):
        super().__init__(**kwargs)
        self.image_shape = check_image_shape(image_shape)
        self.data_type = check_choice("data_type", data_type, DATA_TYPES)
        names = self.metric_names + (("bits_per_dim",) if data_type == "8bit" else ())
        self.trackers = {name: keras.metrics.Mean(name=name) for name in names}
        # model(x) takes images of image_shape (a conditional model: as the "image" entry of its dict of inputs)
        self.input_spec = input_spec_like((None,) + self.image_shape, axes=(1, 2, 3), name="image")

    @property
    def num_dims(self):
        """Number of sub-pixels H·W·C, the denominator of bits per dimension."""
        return math.prod(self.image_shape)

    @property
    def image_dtype(self):
        """The dtype of the model's images: float32 for binary data, int32 for 8-bit data.

        (Not Keras's ``input_dtype``, which would cast float inputs to it and cut their gradients.)
        """
        return image_dtype(self.data_type)

    def symbolic_inputs(self):
        """What ``create_weights`` calls the model on: one blank symbolic image (and conditions, where any)."""
        return keras.KerasTensor((1,) + self.image_shape, self.image_dtype)

    def create_weights(self):
        """Create every weight with one symbolic call on ``symbolic_inputs()`` (end of ``__init__``).

        The call is traced, never run, so recurrent loops cost no compilation here.
        """
        share_dtype_policy(self)
        self(self.symbolic_inputs())

    def build(self, input_shape):
        """Nothing to do: the symbolic call of ``create_weights`` builds every sub-layer.

        Defining it keeps Keras from first tracing ``call`` on its own to find unbuilt state
        (a second trace, and on JAX a failed one: ``call``'s ``conv`` hook is not an array).
        """

    def check_images(self, x, name="x"):
        """``x`` as NumPy after checking its shape and values (ValueError if wrong)."""
        return check_images(x, self.image_shape, self.data_type, name)

    # ------------------------------------------------------------ what every model answers
    # (the families add their own keywords: conditions, importance samples, latent codes)

    def loss_terms(self, x, y_pred):
        """Per-image tensors of the batch ``x`` given the call's output ``y_pred = model(x)``: at least
        ``"nll"`` (nats, what ``fit`` minimises), and every other name in ``metric_names``."""
        raise NotImplementedError(f"{type(self).__name__} does not define loss_terms.")

    def log_prob(self, x, *, batch_size=256, **kwargs):
        """``log p(x)`` per image in nats, shape (batch,): exact for the autoregressive models, a lower
        bound (the ELBO, or an importance-weighted bound) for the latent-variable ones."""
        raise NotImplementedError(f"{type(self).__name__} does not define log_prob.")

    def sample(self, n, seed=None, *, batch_size=64, **kwargs):
        """``n`` images drawn from the model, as NumPy in data space, computed ``batch_size`` at a time;
        the same ``seed`` gives the same images whatever the batch size."""
        raise NotImplementedError(f"{type(self).__name__} does not define sample.")

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        """``training_objective`` of the batch plus every loss in ``self.losses`` (each summed, as Keras does).

        Logs ``metric_names`` (and ``bits_per_dim``) as means over the images, weighted by
        ``sample_weight`` where given.
        """
        if y is not None and tuple(getattr(y, "shape", ()))[1:] != (0,):  # (n, 0): see weighted_targets
            raise ValueError(self._no_targets_message())
        weights = self.image_weights(sample_weight)
        terms = self.loss_terms(x, y_pred)
        if self.data_type == "8bit":
            terms["bits_per_dim"] = kg_ops.bits_per_dim(terms["nll"], self.num_dims)
        for name, tracker in self.trackers.items():
            tracker.update_state(terms[name], sample_weight=weights)
        loss = self.training_objective(terms, weights)
        for extra in self.losses:  # add_loss and regularisers of the model and its sub-layers
            loss = loss + ops.sum(ops.cast(extra, "float32"))
        return loss

    @staticmethod
    def image_weights(sample_weight):
        """``sample_weight`` as float32 of shape (batch,), or None (ValueError unless one weight per image)."""
        if sample_weight is None:
            return None
        shape = tuple(sample_weight.shape)
        if len(shape) not in (1, 2) or shape[1:] not in ((), (1,)):
            raise ValueError(
                f"sample_weight must hold one weight per image, of shape (batch,), got shape {shape}: "
                "the models weigh each image's log-likelihood, not its pixels."
            )
        return ops.reshape(ops.cast(sample_weight, "float32"), (-1,))

    def training_objective(self, terms, sample_weight=None):
        """The scalar that ``fit`` minimises: the batch mean of the NLL, weighted by ``sample_weight``."""
        return weighted_mean(terms["nll"], sample_weight)

    def _no_targets_message(self):
        return (
            f"{type(self).__name__} models images alone and takes no targets (y): "
            "fit(x) or fit(x, None, ...); a dataset yields x or (x,), or (x, None, sample_weight) from tf.data."
        )

    def _expected_inputs(self):
        """What ``x`` of ``fit`` and ``evaluate`` may be, for error messages."""
        return f"an array of images of shape (batch, {', '.join(map(str, self.image_shape))})"

    def _as_model_inputs(self, x, y):
        """``(x, y)`` given to ``fit`` / ``evaluate`` as Keras's inputs and targets (the model takes none)."""
        if y is not None:
            raise ValueError(self._no_targets_message())
        return x, None

    def _check_data(self, data):
        """Check arrays, the first batch of a PyDataset, or a tf.data.Dataset's element spec (ValueError if wrong)."""
        if data is None:
            return
        if isinstance(data, (list, tuple, dict)):
            raise ValueError(
                f"x must be {self._expected_inputs()}, or a keras.utils.PyDataset or tf.data.Dataset of such "
                f"batches; got a {type(data).__name__} of {len(data)} items (Keras reads one as several inputs)."
            )
        if isinstance(data, keras.utils.PyDataset):
            batch = data[0]
            self._check_data(batch[0] if isinstance(batch, (tuple, list)) else batch)
        elif is_tf_dataset(data):
            spec = data.element_spec
            self._check_spec(spec[0] if isinstance(spec, tuple) else spec)
        elif isinstance(data, np.ndarray) or ops.is_tensor(data):
            self.check_images(data)

    def _check_spec(self, spec):
        """Check the images of a tf.data.Dataset from its element spec: their shape (values are not read)."""
        shape = getattr(spec, "shape", None)
        shape = None if shape is None or shape.rank is None else tuple(shape)
        if (
            shape is None
            or len(shape) != 4
            or any(s not in (None, e) for s, e in zip(shape[1:], self.image_shape, strict=True))
        ):
            raise ValueError(
                f"a tf.data.Dataset must yield batches of {self._expected_inputs()} (batch it with "
                f".batch(n)), or tuples (x,), (x, None, sample_weight); got elements of spec {spec}."
            )

    def _fit_data(self, x, y):
        """``(x, y)`` for Keras: the model's inputs, checked, and no targets (ValueError if wrong)."""
        x, y = self._as_model_inputs(x, y)
        self._check_data(x)
        return x, y

    def _validation_data(self, data):
        """``validation_data`` for Keras: a tuple (x,), (x, y) or (x, y, sample_weight), or batches."""
        if isinstance(data, list):
            data = tuple(data)
        if not isinstance(data, tuple):
            return self._fit_data(data, None)[0]
        if not 1 <= len(data) <= 3:
            raise ValueError(f"validation_data must be (x,), (x, y) or (x, y, sample_weight), got {len(data)} items.")
        x, y = self._fit_data(data[0], data[1] if len(data) > 1 else None)
        return (x, weighted_targets(x, y, data[2])) + data[2:] if len(data) == 3 else (x, y)

    def fit(self, *args, **kwargs):
        """Keras's ``fit`` (its arguments, in its order) on the model's own NLL or negative ELBO.

        ``x`` as in the module docstring; ``sample_weight`` one weight per image. ``class_weight``
        needs class targets, which these models do not have: a ValueError.
        """
        arguments = keras_arguments(super().fit, args, kwargs)
        if arguments.get("class_weight") is not None:
            raise ValueError(
                f"{type(self).__name__} has no class targets for class_weight: weigh the images with sample_weight."
            )
        x, y = self._fit_data(arguments.get("x"), arguments.get("y"))
        arguments["x"], arguments["y"] = x, weighted_targets(x, y, arguments.get("sample_weight"))
        if arguments.get("validation_data") is not None:
            arguments["validation_data"] = self._validation_data(arguments["validation_data"])
        return super().fit(**arguments)

    def evaluate(self, *args, **kwargs):
        """Keras's ``evaluate`` (its arguments, in its order): the logged metrics, weighted by ``sample_weight``."""
        arguments = keras_arguments(super().evaluate, args, kwargs)
        if not arguments.get("_use_cached_eval_dataset"):  # fit's validation data, already checked there
            x, y = self._fit_data(arguments.get("x"), arguments.get("y"))
            arguments["x"], arguments["y"] = x, weighted_targets(x, y, arguments.get("sample_weight"))
        return super().evaluate(**arguments)

    # The compiled runners are caches, not state: they stay out of saved files (compiled.forget_runners).
    def save_weights(self, filepath, *args, **kwargs):
        forget_runners(self)
        return super().save_weights(filepath, *args, **kwargs)

    def load_weights(self, filepath, *args, **kwargs):
        forget_runners(self)
        return super().load_weights(filepath, *args, **kwargs)

    def save(self, filepath, *args, **kwargs):
        forget_runners(self)
        return super().save(filepath, *args, **kwargs)

    def run_compiled(self, key, fn, inputs, *, batch_size, seed=None, jit_compile="auto"):
        """Apply the tensor function ``fn(inputs, seed_generator)`` batch-wise, compiled."""
        return run_compiled(self, key, fn, inputs, batch_size=batch_size, seed=seed, jit_compile=jit_compile)

    def get_config(self):
        return {**super().get_config(), "image_shape": self.image_shape}


class LatentVariableModel(GenerativeModel):
    """A model trained on the evidence lower bound (ELBO): VAE, DRAW, PixelVAE.

    Subclasses implement ``params_and_kl(x, training, seed_generator)`` → ``(params, kl)``: the
    reconstruction parameters ``model(x)`` returns and the per-image KL term, and
    ``log_importance_weights(x, num_samples, seed_generator)`` →
    ``log p(x, z_k) - log q(z_k | x)`` of shape ``(batch, num_samples)``.
    Reconstructions are Bernoulli (binary data) unless ``reconstruction_log_prob``
    is overridden.

    ``free_nats=λ > 0`` trains on ``mean(reconstruction) + max(mean(KL), λ)`` over each
    batch: the free bits of Kingma et al. (2016, eq. 15) with the whole code as one
    group. While the code carries fewer than λ nats per image its KL costs nothing, so
    a strong decoder cannot win by emptying the code early in training.
    ``kl_warmup_steps=n > 0`` weighs the KL term by ``min(1, step / n)`` over the first
    ``n`` optimizer steps (KL annealing, Bowman et al. 2016, sec. 3.1): early on the
    model is an autoencoder, and the prior's pull grows only once the code carries
    information. Only the objective changes: the logged ``nll``, ``log_prob`` and
    every bound stay exact.

    With ``sample_weight`` w the objective is ``mean(w · reconstruction) + mean(w) ·
    max(Σ w·KL / Σ w, λ)``: the floor applies to the weighted average KL per image, and,
    as without free bits, scaling every weight by c scales the objective by c (w = 1
    gives the objective above; zero weights drop images as if they were not there).

    The per-image KL does not travel through ``add_loss`` (``self.losses`` holds scalars
    that Keras sums, such as sub-layers' regularisers, which ``compute_loss`` adds):
    ``call`` keeps the KL of its batch, which ``loss_terms`` reads back in the same
    training step or trace (TensorFlow, JAX, eager alike). So a latent model trains on
    its ELBO through its own ``fit``; nested inside another Keras model, its KL is not
    part of that model's losses.

    References:
        - Kingma and Welling (2014). Auto-Encoding Variational Bayes. ICLR 2014.
          https://arxiv.org/abs/1312.6114
        - Burda, Grosse and Salakhutdinov (2016). Importance Weighted Autoencoders. ICLR 2016.
          https://arxiv.org/abs/1509.00519
    """

    metric_names = ("nll", "reconstruction", "kl")
    elbo_columns = ("reconstruction", "kl")  # what _elbo_graph stacks per image

    def __init__(self, image_shape, data_type="binary", free_nats=0.0, kl_warmup_steps=0, **kwargs):
        super().__init__(image_shape, data_type=data_type, **kwargs)
        self.free_nats = check_float("free_nats", free_nats, minimum=0.0)
        self.kl_warmup_steps = check_int("kl_warmup_steps", kl_warmup_steps, minimum=0)
        # the per-image KL of the latest call in each thread: a cache, not tracked state
        object.__setattr__(self, "_call_kl", {})

    def call(self, x, training=False):
        params, kl = self.params_and_kl(x, training=training)
        self._call_kl[threading.get_ident()] = kl  # for loss_terms (see the class docstring)
        return params

    def reconstruction_log_prob(self, x, params):
        """log p(x | z) per image, summed over pixels."""
        params = ops.cast(params, "float32")
        return ops.sum(kg_ops.bernoulli_log_prob(params, ops.cast(x, "float32")), axis=(1, 2, 3))

    @staticmethod
    def latent_log_probs(z, mean, log_var):
        """``(log p(z_k), log q(z_k | x))`` in float32 for samples z (B, k, d) of N(mean, exp(log_var)) (B, d)."""
        z, mean, log_var = (ops.cast(t, "float32") for t in (z, mean, log_var))
        log_prior = kg_ops.standard_normal_log_prob(z)
        log_posterior = kg_ops.diagonal_gaussian_log_prob(z, ops.expand_dims(mean, 1), ops.expand_dims(log_var, 1))
        return log_prior, log_posterior

    def loss_terms(self, x, y_pred):
        """Per image: ``reconstruction`` -log p(x|z), ``kl`` of the call ``y_pred = model(x)``, ``nll`` their sum."""
        kl = self._call_kl.get(threading.get_ident())
        if kl is None:
            raise ValueError("loss_terms(x, y_pred) reads the KL of the call that made y_pred: y_pred = model(x).")
        reconstruction = -self.reconstruction_log_prob(x, y_pred)
        return {"nll": reconstruction + kl, "reconstruction": reconstruction, "kl": kl}

    def sample_means(self, n, seed=None, *, batch_size=256):
        """The Bernoulli means of ``n`` images drawn from the model, shape (n, H, W, C) (smoother to look at)."""
        raise NotImplementedError(f"{type(self).__name__} draws its pixels one by one: it has no sample means.")

    def sample(self, n, seed=None, *, batch_size=256):
        """``n`` binary images: ``sample_means(n, seed)``, then every pixel drawn from its Bernoulli mean."""
        seed = resolve_seed(seed)
        means = self.sample_means(check_int("n", n), seed, batch_size=batch_size)
        rng = np.random.default_rng((seed, 1))
        return (rng.random(means.shape, dtype=np.float32) < means).astype("float32")

    def training_objective(self, terms, sample_weight=None):
        """The negative ELBO's batch mean, with free bits and KL warm-up (see the class docstring)."""
        if not self.free_nats and not self.kl_warmup_steps:
            return super().training_objective(terms, sample_weight)
        kl = weighted_mean(terms["kl"], sample_weight)
        if self.free_nats:
            mean_weight = 1.0 if sample_weight is None else ops.mean(sample_weight)
            kl = mean_weight * ops.maximum(ops.divide_no_nan(kl, mean_weight), self.free_nats)
        if self.kl_warmup_steps:
            step = ops.cast(self.optimizer.iterations + 1, "float32")
            kl = kl * ops.minimum(1.0, step / self.kl_warmup_steps)
        return weighted_mean(terms["reconstruction"], sample_weight) + kl

    def get_config(self):
        return {**super().get_config(), "free_nats": self.free_nats, "kl_warmup_steps": self.kl_warmup_steps}

    def _elbo_graph(self, inputs, seed_generator):
        x = inputs["x"]
        params, kl = self.params_and_kl(x, training=False, seed_generator=seed_generator)
        return ops.stack([self.reconstruction_log_prob(x, params), kl], axis=-1)

    def elbo_terms(self, x, *, batch_size=256, seed=None):
        """The ELBO terms per image, ``{"reconstruction": E log p(x|z), "kl": KL}`` (nats).

        The expectation is estimated with one sample of z; the KL is exact. Models with more
        terms (``elbo_columns``, the columns ``_elbo_graph`` stacks) add them, and ``kl`` is their sum.
        """
        x = self.check_images(x)
        terms = self.run_compiled("elbo", self._elbo_graph, {"x": x}, batch_size=batch_size, seed=seed)
        named = {name: terms[:, k] for k, name in enumerate(self.elbo_columns)}
        named.setdefault("kl", sum(named[name] for name in self.elbo_columns[1:]))
        return named

    def log_prob(self, x, num_samples=None, *, batch_size=None, seed=None):
        """A lower bound on log p(x) per image, in nats.

        ``num_samples=None``: the ELBO, ``E_q[log p(x|z)] - KL(q(z|x) || p(z))``.
        ``num_samples=k``: the importance-weighted bound of Burda et al. (2016),
        ``log (1/k) sum_k p(x, z_k) / q(z_k | x)``; it is never below the ELBO in
        expectation, grows with k, and tends to log p(x).
        """
        if num_samples is None:
            terms = self.elbo_terms(x, batch_size=256 if batch_size is None else batch_size, seed=seed)
            return terms["reconstruction"] - terms["kl"]
        num_samples = check_int("num_samples", num_samples)
        x = self.check_images(x)

        def bound(inputs, seed_generator):
            weights = self.log_importance_weights(inputs["x"], num_samples, seed_generator)
            return kg_ops.log_mean_exp(weights, axis=1)

        batch_size = max(1, 32768 // num_samples) if batch_size is None else batch_size
        return self.run_compiled(("iw", num_samples), bound, {"x": x}, batch_size=batch_size, seed=seed)


class GaussianLatentModel(LatentVariableModel):
    """A latent-variable model with one Gaussian code: the VAE and PixelVAE.

    q(z|x) = N(mean(x), diag(exp(log_var(x)))) from ``self.encoder`` (its output holds
    the means, then the log-variances), the prior p(z) = N(0, I), and a decoder that
    subclasses give as ``decoder_logits(x, z)``: the Bernoulli logits of x given codes
    z (a factorised decoder reads z alone; an autoregressive one also the pixels of x
    before each pixel). Subclasses create ``encoder``, ``sampler`` (a
    :class:`~keras_gen.layers.GaussianSample`) and set ``latent_dim``.
    """

    def encoder_params(self, x):
        """Mean and log-variance of q(z|x), each of shape (B, latent_dim)."""
        return kg_ops.split_gaussian_stats(self.encoder(ops.cast(x, self.compute_dtype)))

    def decoder_logits(self, x, z):
        """Bernoulli logits of p(x|z) at every pixel, shape (B, H, W, C), for codes z of shape (B, latent_dim)."""
        raise NotImplementedError

    def params_and_kl(self, x, training=False, seed_generator=None):
        """The logits of p(x|z) for one reparameterised z ~ q(z|x), and the closed-form KL.

        Together they give the SGVB estimator of Kingma & Welling (2014), eq. 10.
        """
        mean, log_var = self.encoder_params(x)
        z = self.sampler([mean, log_var], seed_generator=seed_generator)
        return self.decoder_logits(x, z), kg_ops.gaussian_kl(ops.cast(mean, "float32"), ops.cast(log_var, "float32"))

    def log_importance_weights(self, x, num_samples, seed_generator):
        """``log p(x|z_k) + log p(z_k) - log q(z_k|x)`` for k samples z_k ~ q(z|x) (Burda et al., 2016, eq. 8)."""
        mean, log_var = self.encoder_params(x)
        z = self.sampler([mean, log_var], num_samples=num_samples, seed_generator=seed_generator)
        x_repeated = ops.repeat(ops.cast(x, "float32"), num_samples, axis=0)
        logits = self.decoder_logits(x_repeated, ops.reshape(z, (-1, self.latent_dim)))
        log_likelihood = ops.reshape(self.reconstruction_log_prob(x_repeated, logits), (-1, num_samples))
        log_prior, log_posterior = self.latent_log_probs(z, mean, log_var)
        return log_likelihood + log_prior - log_posterior

    def encode(self, x, *, batch_size=256):
        """Mean and log-variance of q(z|x) for a batch of images, as NumPy arrays."""
        x = self.check_images(x)
        stats = self.run_compiled(
            "encode",
            lambda inputs, _: ops.concatenate(self.encoder_params(inputs["x"]), axis=-1),
            {"x": x},
            batch_size=batch_size,
        )
        return kg_ops.split_gaussian_stats(stats)
