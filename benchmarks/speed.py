"""Speed of the autoregressive models on this machine (not a test: timings vary with the machine).

For each model it prints training images per second on binarised MNIST, and the
seconds to sample 16 images four ways, all on the current backend:

* cached: ``model.sample(cached=True)``, one traced loop that carries per-layer state
  and computes only what each new pixel changes (models without a cached sampler
  fall back to the reference; first call with tracing and compilation, then warm);
* reference: ``model.sample(cached=False)``, one traced loop that reruns the network
  at every step (first call, then warm);
* naive, predict: a Python loop calling ``model.predict`` once per pixel;
* naive, call: a Python loop calling the model eagerly, ``model(x)``, once per pixel.

All use the same uniform noise, so all must give the same images; the script checks
that. ``--json FILE`` also writes the results (with the backend and versions) as JSON.

    KERAS_GEN_DATA_DIR=.data/mnist python benchmarks/speed.py              # every model
    KERAS_GEN_DATA_DIR=.data/mnist python benchmarks/speed.py pixelcnn     # some of them
    KERAS_BACKEND=jax python benchmarks/speed.py pixelcnn --json speed-jax.json

To add a model, add a function that builds it to ``MODELS``.
"""

import argparse
import json
import time

import keras
import numpy as np

from keras_gen.datasets import load_mnist
from keras_gen.models import GatedPixelCNN, PixelCNN, PixelRNN

# The sizes the chapters train in the cpu profile with KERAS_GEN_TRAIN=1 (without it they load the book's
# checkpoints, which are larger; see keras_gen.pretrained).
MODELS = {
    # the PixelCNN chapter's
    "pixelcnn": lambda: PixelCNN(image_shape=(28, 28, 1), filters=32, num_layers=4),
    # the Gated PixelCNN chapter's
    "gated_pixelcnn": lambda: GatedPixelCNN(image_shape=(28, 28, 1), filters=16, num_layers=4),
    # the PixelRNN chapters' (2 layers, h = 16)
    "row_lstm": lambda: PixelRNN(image_shape=(28, 28, 1), layer_type="row_lstm", num_layers=2, units=16),
    "diagonal_bilstm": lambda: PixelRNN(image_shape=(28, 28, 1), layer_type="diagonal_bilstm", num_layers=2, units=16),
}


def training_speed(model, images, batch_size):
    """Training images per second over one epoch, after a warm-up that compiles the train step."""
    model.compile(optimizer=keras.optimizers.Adam(1e-3))
    model.fit(images[: 2 * batch_size], batch_size=batch_size, epochs=1, verbose=0)
    start = time.perf_counter()
    model.fit(images, batch_size=batch_size, epochs=1, verbose=0)
    return len(images) / (time.perf_counter() - start)


def naive_sample(model, noise, call):
    """Sample pixel by pixel (colour by colour) with one Python-level network call per step."""
    order = model.sampling_order()
    canvas = np.zeros(noise.shape[:3] + (model.image_shape[2],), "float32")
    for step in range(order.max() + 1):
        drawn = keras.ops.convert_to_numpy(model.head.sample(call(canvas), noise))
        here = order == step
        canvas[:, here] = drawn[:, here]
    return canvas


def seconds(fn):
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def sampling_speed(model, num_samples, seed=0):
    """Seconds to draw ``num_samples`` images: cached and reference (first and warm call), the two naive loops."""
    noise = model.sampling_noise(num_samples, seed)
    results, images = {}, {}
    for sampler, cached in (("cached", True), ("reference", False)):

        def draw(cached=cached):
            return model.sample(num_samples, seed=seed, batch_size=num_samples, cached=cached)

        results[f"{sampler}, first call (s)"], images[sampler] = seconds(draw)
        results[f"{sampler}, warm (s)"], _ = seconds(draw)
    by_predict, naive = seconds(lambda: naive_sample(model, noise, lambda x: model.predict(x, verbose=0)))
    by_call, _ = seconds(lambda: naive_sample(model, noise, lambda x: model(x, training=False)))
    results["naive, predict per pixel (s)"] = by_predict
    results["naive, call per pixel (s)"] = by_call
    results["has a cached sampler"] = model.has_cached_sampler
    results["same images"] = bool(
        np.array_equal(images["cached"], naive) and np.array_equal(images["reference"], naive)
    )
    return results


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("models", nargs="*", help=f"some of {sorted(MODELS)} (default: all)")
    parser.add_argument("--samples", type=int, default=16, help="images to sample")
    parser.add_argument("--train-images", type=int, default=2048, help="images in the timed training epoch")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--json", metavar="FILE", help="also write the results to FILE as JSON")
    args = parser.parse_args()
    unknown = set(args.models) - set(MODELS)
    if unknown:
        parser.error(f"unknown model(s) {sorted(unknown)}; choose from {sorted(MODELS)}")
    keras.utils.set_random_seed(0)
    images = load_mnist("fixed").x_train[: args.train_images]
    report = {"keras": keras.__version__, "backend": keras.backend.backend(), "samples": args.samples, "models": {}}
    print(f"keras {report['keras']}, backend {report['backend']}")
    for name in args.models or MODELS:
        model = MODELS[name]()
        print(f"\n{name}: {model.count_params():,} parameters, image shape {model.image_shape}")
        speed = training_speed(model, images, args.batch_size)
        print(f"  training: {speed:.0f} images/s")
        results = {
            "parameters": model.count_params(),
            "training (images/s)": speed,
            **sampling_speed(model, args.samples),
        }
        for key, value in results.items():
            if key.endswith("(s)"):
                print(f"  sampling {args.samples}, {key}: {value:.2f}")
        print(f"  same images: {results['same images']}")
        for sampler in ("cached", "reference"):
            warm = results[f"{sampler}, warm (s)"]
            results[f"{sampler}: naive predict / warm"] = results["naive, predict per pixel (s)"] / warm
            results[f"{sampler}: naive call / warm"] = results["naive, call per pixel (s)"] / warm
            print(
                f"  {sampler} (warm) is {results[f'{sampler}: naive predict / warm']:.1f}x faster than predict per "
                f"pixel, {results[f'{sampler}: naive call / warm']:.1f}x than call per pixel"
            )
        if not model.has_cached_sampler:
            print("  (no cached sampler: cached=True ran the reference sampler)")
        report["models"][name] = results
    if args.json:
        with open(args.json, "w") as file:
            json.dump(report, file, indent=2)
        print(f"\nwrote {args.json}")


if __name__ == "__main__":
    main()
