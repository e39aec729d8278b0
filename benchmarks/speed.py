"""Speed of the autoregressive models on this machine (not a test: timings vary with the machine).

For each model it prints training images per second on binarised MNIST, and the
seconds to sample 16 images three ways:

* compiled: ``model.sample``, one traced loop over the pixels (first call with the
  tracing and compilation, then a second, warm call);
* naive, predict: a Python loop calling ``model.predict`` once per pixel;
* naive, call: a Python loop calling the model eagerly, ``model(x)``, once per pixel.

The naive loops use the same uniform noise as the compiled sampler, so all three
must give the same images; the script checks that.

    KERAS_GEN_DATA_DIR=.data/mnist python benchmarks/speed.py              # every model
    KERAS_GEN_DATA_DIR=.data/mnist python benchmarks/speed.py pixelcnn     # some of them

To add a model, add a function that builds it to ``MODELS``.
"""

import argparse
import time

import keras
import numpy as np

from keras_gen.datasets import load_mnist
from keras_gen.models import PixelCNN, PixelRNN

MODELS = {
    # the model of the PixelCNN chapter's cpu profile
    "pixelcnn": lambda: PixelCNN(image_shape=(28, 28, 1), filters=32, num_layers=4),
    # the models of the PixelRNN chapters' cpu profile (2 layers, h = 16)
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
    """Seconds to draw ``num_samples`` images: compiled (first and warm call) and the two naive loops."""
    noise = model.sampling_noise(num_samples, seed)
    first, compiled = seconds(lambda: model.sample(num_samples, seed=seed, batch_size=num_samples))
    warm, _ = seconds(lambda: model.sample(num_samples, seed=seed, batch_size=num_samples))
    by_predict, naive = seconds(lambda: naive_sample(model, noise, lambda x: model.predict(x, verbose=0)))
    by_call, _ = seconds(lambda: naive_sample(model, noise, lambda x: model(x, training=False)))
    return {
        "compiled, first call (s)": first,
        "compiled, warm (s)": warm,
        "naive, predict per pixel (s)": by_predict,
        "naive, call per pixel (s)": by_call,
        "same images": bool(np.array_equal(compiled, naive)),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("models", nargs="*", help=f"some of {sorted(MODELS)} (default: all)")
    parser.add_argument("--samples", type=int, default=16, help="images to sample")
    parser.add_argument("--train-images", type=int, default=2048, help="images in the timed training epoch")
    parser.add_argument("--batch-size", type=int, default=64)
    args = parser.parse_args()
    unknown = set(args.models) - set(MODELS)
    if unknown:
        parser.error(f"unknown model(s) {sorted(unknown)}; choose from {sorted(MODELS)}")
    keras.utils.set_random_seed(0)
    images = load_mnist("fixed").x_train[: args.train_images]
    print(f"keras {keras.__version__}, backend {keras.backend.backend()}")
    for name in args.models or MODELS:
        model = MODELS[name]()
        print(f"\n{name}: {model.count_params():,} parameters, image shape {model.image_shape}")
        print(f"  training: {training_speed(model, images, args.batch_size):.0f} images/s")
        results = sampling_speed(model, args.samples)
        for key, value in results.items():
            print(f"  sampling {args.samples}, {key}: {value:.2f}" if key != "same images" else f"  {key}: {value}")
        ratio = results["naive, predict per pixel (s)"] / results["compiled, warm (s)"]
        ratio_call = results["naive, call per pixel (s)"] / results["compiled, warm (s)"]
        print(f"  compiled (warm) is {ratio:.1f}x faster than predict per pixel, {ratio_call:.1f}x than call per pixel")


if __name__ == "__main__":
    main()
