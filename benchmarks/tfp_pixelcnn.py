"""PixelCNN++ beside TensorFlow Probability's ``tfd.PixelCNN``, at equal size, in one run (TensorFlow only).

Both networks are the PixelCNN++ of Salimans et al. (2017) at one size: 32×32×3 images,
``filters`` maps, ``blocks`` gated ResNet blocks per stage, three resolutions (two
stride-2 steps), a mixture of 10 discretised logistics, no dropout and no weight
normalisation. For each it prints

* training images per second: a compiled Adam step on the negative log-likelihood,
  batch 16, after a warm-up step that compiles it (``model.fit`` for keras_gen, a
  ``tf.function`` step for TFP, whose distribution is not a Keras model);
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


def keras_gen_speed(images, filters, blocks, samples, seed=0):
    """Training images/s and sampling seconds (first, warm) of keras_gen's PixelCNNPlusPlus, per sampler."""
    model = PixelCNNPlusPlus(
        IMAGE_SHAPE, filters=filters, blocks_per_stage=blocks, num_components=COMPONENTS, dropout=0.0, seed=seed
    )
    model.compile(optimizer=keras.optimizers.Adam(1e-3))
    model.fit(images[:BATCH_SIZE], batch_size=BATCH_SIZE, epochs=1, verbose=0)  # compiles the train step
    train_seconds, _ = seconds(lambda: model.fit(images, batch_size=BATCH_SIZE, epochs=1, verbose=0))
    rows, drawn = {}, {}
    for sampler, cached in (("cached sampler", True), ("reference sampler", False)):

        def draw(cached=cached):
            return model.sample(samples, seed=seed, batch_size=samples, cached=cached)

        first, _ = seconds(draw)
        warm, drawn[sampler] = seconds(draw)
        rows[f"keras_gen PixelCNNPlusPlus, {sampler}"] = {
            "train images/s": len(images) / train_seconds,
            "sample, first (s)": first,
            "sample, warm (s)": warm,
        }
    same = bool((drawn["cached sampler"] == drawn["reference sampler"]).all())
    return rows, same


def tfp_speed(images, filters, blocks, samples, seed=0):
    """The same figures for ``tfd.PixelCNN`` (num_resnet = blocks, num_hierarchies = 3)."""
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
    images = images.astype("float32")
    distribution.log_prob(images[:1])  # creates the network's variables
    optimizer = tf.optimizers.Adam(1e-3)

    @tf.function
    def train_step(batch):
        with tf.GradientTape() as tape:
            loss = -tf.reduce_mean(distribution.log_prob(batch))
        variables = distribution.trainable_variables
        optimizer.apply_gradients(zip(tape.gradient(loss, variables), variables, strict=True))
        return loss

    batches = [tf.constant(images[i : i + BATCH_SIZE]) for i in range(0, len(images), BATCH_SIZE)]
    train_step(batches[0])  # compiles the step

    def epoch():
        for batch in batches:
            train_step(batch)

    train_seconds, _ = seconds(epoch)
    sample = tf.function(lambda: distribution.sample(samples, seed=seed))
    first, _ = seconds(lambda: sample().numpy())
    warm, _ = seconds(lambda: sample().numpy())
    return {"train images/s": len(images) / train_seconds, "sample, first (s)": first, "sample, warm (s)": warm}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--filters", type=int, default=32)
    parser.add_argument("--blocks", type=int, default=2, help="gated ResNet blocks per stage")
    parser.add_argument("--train-images", type=int, default=320)
    parser.add_argument("--samples", type=int, default=2)
    parser.add_argument("--json", help="also write the results to this file")
    args = parser.parse_args()
    if keras.backend.backend() != "tensorflow":
        raise SystemExit("TensorFlow Probability's PixelCNN runs on TensorFlow: set KERAS_BACKEND=tensorflow.")
    data = load_color_images(size=IMAGE_SHAPE[0]).subset(args.train_images, 1)
    images = data.x_train  # 8-bit values; TFP takes them as floats
    settings = (images, args.filters, args.blocks, args.samples)
    results, same = keras_gen_speed(*settings)
    results["tfd.PixelCNN"] = theirs = tfp_speed(*settings)
    cached, reference = (results[f"keras_gen PixelCNNPlusPlus, {s} sampler"] for s in ("cached", "reference"))
    print(
        f"{IMAGE_SHAPE} images, {args.filters} filters, {args.blocks} blocks per stage, {COMPONENTS} components, "
        f"batch {BATCH_SIZE}, {len(images)} training images ({data.name}); {hardware()}; Keras {keras.__version__}"
    )
    print(f"{'':46}{'train images/s':>16}{'sample, first (s)':>20}{'sample, warm (s)':>19}")
    for name, row in results.items():
        print(f"{name:46}{row['train images/s']:16.1f}{row['sample, first (s)']:20.1f}{row['sample, warm (s)']:19.1f}")
    ratios = {
        "training, keras_gen / TFP images/s": cached["train images/s"] / theirs["train images/s"],
        "sampling (warm), TFP / keras_gen cached": theirs["sample, warm (s)"] / cached["sample, warm (s)"],
        "sampling (warm), TFP / keras_gen reference": theirs["sample, warm (s)"] / reference["sample, warm (s)"],
        "sampling (warm), keras_gen reference / cached": reference["sample, warm (s)"] / cached["sample, warm (s)"],
    }
    for name, ratio in ratios.items():
        print(f"{name}: {ratio:.2f}×")
    print(f"the cached and reference samplers drew the same images: {same}")
    if args.json:
        with open(args.json, "w") as f:
            report = {"settings": vars(args), "hardware": hardware(), "keras": keras.__version__}
            json.dump({**report, "results": results, "ratios": ratios, "same images": same}, f, indent=1)


if __name__ == "__main__":
    main()
