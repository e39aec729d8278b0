"""PixelCNN++ beside TensorFlow Probability's ``tfd.PixelCNN``, at equal size, in one run (TensorFlow only).

Both networks are the PixelCNN++ of Salimans et al. (2017) at one size: 32×32×3 images,
``filters`` maps, ``blocks`` gated ResNet blocks per stage, three resolutions (two
stride-2 steps), a mixture of 10 discretised logistics, no dropout and no weight
normalisation. For each it prints

* training images per second of a compiled Adam step (Keras's ``Adam`` for both) on the
  negative log-likelihood, batch 16, after a warm-up step that compiles it, fed two ways:
  from batches already in memory as tensors (the models alone), and from
  ``ImageData.train_batches`` through a ``tf.data`` pipeline with tf.data's autotuning off
  (``tf_batches``). keras_gen's step is the one ``fit`` runs (``model.train_step``); TFP's
  distribution is not a Keras model, so its step is a ``tf.function`` written here. The two
  libraries take turns, one pass over the training images each, for ``--rounds`` rounds:
  whatever else runs on the machine then slows both alike, and the figures are the medians
  over the rounds (the ratio: the median of the rounds' ratios). A third keras_gen figure is
  ``model.fit`` on ``train_batches``, whose pipeline (Keras's, for a ``PyDataset``) keeps
  autotuning on: on one busy core that cost whole backoff waits per step here (1.02-1.03 s
  per step against 0.92-0.99 s with ``tf_batches``);
* seconds to sample ``--samples`` images: keras_gen's ``model.sample`` with its cached
  sampler (the default) and with the reference sampler (``cached=False``, the whole
  network at every pixel, as TFP does), each first call with tracing and compilation,
  then warm; and TFP's ``sample`` inside a ``tf.function`` (first and warm call).

The data are the offline photograph crops (``keras_gen.datasets.load_color_images``).
Timings vary with the machine and with what else runs on it: compare the two libraries
within one run. ``--json FILE`` also writes the results.

    python benchmarks/tfp_pixelcnn.py
    python benchmarks/tfp_pixelcnn.py --filters 32 --blocks 2 --json tfp.json
"""

import argparse
import json
import time

import keras
import numpy as np

from keras_gen.datasets import load_color_images
from keras_gen.models import PixelCNNPlusPlus
from keras_gen.train import hardware

IMAGE_SHAPE = (32, 32, 3)
BATCH_SIZE = 16
COMPONENTS = 10


def seconds(fn):
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def epoch_speed(step, batches):
    """Images per second of ``step`` over one pass of ``batches`` (an iterable of image batches)."""
    count = 0

    def epoch():
        nonlocal count
        for batch in batches:
            loss = step(batch)
            count += len(batch)
        return float(loss)  # waits for the last step

    train_seconds, _ = seconds(epoch)
    return count / train_seconds


def interleaved_speeds(steps, batches, rounds):
    """``{name: [images/s of each round]}``: the ``steps`` take turns over ``batches``, ``rounds`` times.

    Each step is first called once (tracing and compiling it); then every round runs one
    pass of each, so that a change in the machine's load falls on all of them.
    """
    for step in steps.values():
        step(next(iter(batches)))
    speeds = {name: [] for name in steps}
    for _ in range(rounds):
        for name, step in steps.items():
            speeds[name].append(epoch_speed(step, batches))
    return speeds


def tf_batches(batches):
    """``batches`` (a ``PyDataset``) as a ``tf.data.Dataset`` of the same batches, one prefetched, autotuning off."""
    import tensorflow as tf

    def spec(array):
        array = np.asarray(array)
        return tf.TensorSpec((None,) + array.shape[1:], tf.as_dtype(array.dtype))

    def generate():
        for index in range(len(batches)):
            yield batches[index]
        batches.on_epoch_end()

    options = tf.data.Options()
    options.autotune.enabled = False
    signature = keras.tree.map_structure(spec, batches[0])
    dataset = tf.data.Dataset.from_generator(generate, output_signature=signature)
    return dataset.apply(tf.data.experimental.assert_cardinality(len(batches))).prefetch(1).with_options(options)


def feeds(data):
    """The two ways the benchmark feeds training images: tensors in memory, and a tf.data pipeline."""
    import tensorflow as tf

    in_memory = [tf.constant(data.x_train[i : i + BATCH_SIZE]) for i in range(0, len(data.x_train), BATCH_SIZE)]
    return {"in memory": in_memory, "tf.data pipeline": tf_batches(data.train_batches(BATCH_SIZE, seed=0))}


def keras_gen_model(filters, blocks, seed=0):
    """keras_gen's PixelCNNPlusPlus at the benchmark's size, compiled with Adam, and its training step."""
    import tensorflow as tf

    model = PixelCNNPlusPlus(
        IMAGE_SHAPE, filters=filters, blocks_per_stage=blocks, num_components=COMPONENTS, dropout=0.0, seed=seed
    )
    model.compile(optimizer=keras.optimizers.Adam(1e-3))
    return model, tf.function(lambda batch: model.train_step((batch,))["loss"])  # the step that fit runs


def tfp_distribution(filters, blocks):
    """``tfd.PixelCNN`` at the same size (num_resnet = blocks, num_hierarchies = 3), and its Adam step."""
    import tensorflow as tf
    import tensorflow_probability as tfp

    distribution = tfp.distributions.PixelCNN(
        image_shape=IMAGE_SHAPE,
        num_resnet=blocks,
        num_hierarchies=3,
        num_filters=filters,
        num_logistic_mix=COMPONENTS,
        dropout_p=0.0,
        use_weight_norm=False,
    )
    distribution.log_prob(tf.zeros((1,) + IMAGE_SHAPE))  # creates the network's variables
    optimizer = keras.optimizers.Adam(1e-3)

    @tf.function
    def step(batch):
        with tf.GradientTape() as tape:
            loss = -tf.reduce_mean(distribution.log_prob(tf.cast(batch, "float32")))  # TFP takes the values as floats
        variables = distribution.trainable_variables
        optimizer.apply_gradients(zip(tape.gradient(loss, variables), variables, strict=True))
        return loss

    return distribution, step


def training_speeds(data, steps, rounds):
    """Per feed: ``{name: median images/s}`` and the median over rounds of keras_gen's / TFP's images/s."""
    speeds, ratios = {}, {}
    for feed, batches in feeds(data).items():
        rounds_speeds = interleaved_speeds(steps, batches, rounds)
        speeds[feed] = {name: float(np.median(values)) for name, values in rounds_speeds.items()}
        ratios[feed] = float(np.median(np.divide(rounds_speeds["keras_gen"], rounds_speeds["tfd.PixelCNN"])))
    return speeds, ratios


def keras_gen_sampling(model, samples, seed=0):
    """Sampling seconds (first call, warm call) of each keras_gen sampler, and whether they drew the same images."""
    timings, drawn = {}, {}
    for sampler, cached in (("cached sampler", True), ("reference sampler", False)):

        def draw(cached=cached):
            return model.sample(samples, seed=seed, batch_size=samples, cached=cached)

        first, _ = seconds(draw)
        warm, drawn[sampler] = seconds(draw)
        timings[sampler] = {"sample, first (s)": first, "sample, warm (s)": warm}
    return timings, bool((drawn["cached sampler"] == drawn["reference sampler"]).all())


def tfp_sampling(distribution, samples, seed=0):
    """TFP's ``sample`` inside a ``tf.function``: seconds of the first call and of a warm one."""
    import tensorflow as tf

    sample = tf.function(lambda: distribution.sample(samples, seed=seed))
    first, _ = seconds(lambda: sample().numpy())
    warm, _ = seconds(lambda: sample().numpy())
    return {"sample, first (s)": first, "sample, warm (s)": warm}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--filters", type=int, default=32)
    parser.add_argument("--blocks", type=int, default=2, help="gated ResNet blocks per stage")
    parser.add_argument("--train-images", type=int, default=320)
    parser.add_argument("--samples", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=5, help="passes of each library, taking turns")
    parser.add_argument("--json", help="also write the results to this file")
    args = parser.parse_args()
    if keras.backend.backend() != "tensorflow":
        raise SystemExit("TensorFlow Probability's PixelCNN runs on TensorFlow: set KERAS_BACKEND=tensorflow.")
    data = load_color_images(size=IMAGE_SHAPE[0]).subset(args.train_images, 1)
    model, keras_gen_step = keras_gen_model(args.filters, args.blocks)
    distribution, tfp_step = tfp_distribution(args.filters, args.blocks)
    speeds, training_ratios = training_speeds(
        data, {"keras_gen": keras_gen_step, "tfd.PixelCNN": tfp_step}, args.rounds
    )
    training = {
        name: {f"train images/s, {feed}": speeds[feed][name] for feed in speeds} for name in speeds["in memory"]
    }
    model.fit(data.train_batches(BATCH_SIZE, seed=0), epochs=1, verbose=0)  # compiles fit's step
    keras_seconds, _ = seconds(lambda: model.fit(data.train_batches(BATCH_SIZE, seed=0), epochs=1, verbose=0))
    training["keras_gen"]["train images/s, model.fit"] = len(data.x_train) / keras_seconds
    sampling, same = keras_gen_sampling(model, args.samples)
    results = {
        f"keras_gen PixelCNNPlusPlus, {sampler}": {**training["keras_gen"], **timings}
        for sampler, timings in sampling.items()
    }
    results["tfd.PixelCNN"] = theirs = {**training["tfd.PixelCNN"], **tfp_sampling(distribution, args.samples)}
    cached, reference = (results[f"keras_gen PixelCNNPlusPlus, {s} sampler"] for s in ("cached", "reference"))
    print(
        f"{IMAGE_SHAPE} images, {args.filters} filters, {args.blocks} blocks per stage, {COMPONENTS} components, "
        f"batch {BATCH_SIZE}, {len(data.x_train)} training images ({data.name}), {args.rounds} rounds; {hardware()}; "
        f"Keras {keras.__version__}"
    )
    columns = list(cached)
    width = max(len(column) for column in columns) + 2
    print(f"{'':46}" + "".join(f"{column:>{width}}" for column in columns))
    for name, row in results.items():
        cells = (f"{row[column]:{width}.1f}" if column in row else " " * width for column in columns)
        print(f"{name:46}" + "".join(cells))
    ratios = {
        f"training ({feed}), keras_gen / TFP images/s, median of {args.rounds} rounds": ratio
        for feed, ratio in training_ratios.items()
    }
    ratios.update(
        {
            "sampling (warm), TFP / keras_gen cached": theirs["sample, warm (s)"] / cached["sample, warm (s)"],
            "sampling (warm), TFP / keras_gen reference": theirs["sample, warm (s)"] / reference["sample, warm (s)"],
            "sampling (warm), keras_gen reference / cached": reference["sample, warm (s)"] / cached["sample, warm (s)"],
        }
    )
    for name, ratio in ratios.items():
        print(f"{name}: {ratio:.2f}×")
    print(f"the cached and reference samplers drew the same images: {same}")
    if args.json:
        with open(args.json, "w") as f:
            report = {"settings": vars(args), "hardware": hardware(), "keras": keras.__version__}
            json.dump({**report, "results": results, "ratios": ratios, "same images": same}, f, indent=1)


if __name__ == "__main__":
    main()
