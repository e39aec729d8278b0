"""Training speed of the recurrent models at the sizes the book trains them (not a test: timings vary).

For each model it prints training images per second on binarised MNIST on the current
backend: one warm-up ``fit`` that traces and compiles the train step, then a timed
``fit`` over ``--train-images`` digits in whole batches of the recipe's size. The
models are the shipped recipes of ``keras_gen.recipes`` plus DRAW in the paper's MNIST
configuration (T = 64, 2×2 read, 5×5 write), with and without attention.

Pin it to one core to compare with a training run (``taskset -c 1``,
``TF_NUM_INTRAOP_THREADS=1``, ``OMP_NUM_THREADS=1`` and, on JAX,
``XLA_FLAGS=--xla_cpu_multi_thread_eigen=false``); compare only figures measured in
one sitting.

    KERAS_GEN_DATA_DIR=.data/mnist python benchmarks/train_speed.py                  # every model
    KERAS_BACKEND=jax python benchmarks/train_speed.py diagonal_bilstm --json out.json
"""

import argparse
import dataclasses
import json
import platform
import time

import keras

from keras_gen import recipes, train
from keras_gen.datasets import load_mnist

DRAW_T64 = {"T": 64, "read_n": 2, "write_n": 5}  # Gregor et al. (2015), MNIST with attention (Table 3)

RECIPES = {
    "row_lstm": recipes.RECIPES["row_lstm"],
    "diagonal_bilstm": recipes.RECIPES["diagonal_bilstm"],
    "multiscale_pixelrnn": recipes.RECIPES["multiscale_pixelrnn"],
    "draw_t64": dataclasses.replace(
        recipes.RECIPES["draw"], config={**recipes.RECIPES["draw"].config, **DRAW_T64, "attention": True}
    ),
    "draw_no_attention_t64": dataclasses.replace(
        recipes.RECIPES["draw"], config={**recipes.RECIPES["draw"].config, **DRAW_T64, "attention": False}
    ),
}


def training_speed(recipe, images, repeats, jit_compile="auto"):
    """Images per second of ``fit`` on ``images`` (whole batches), best of ``repeats`` timed epochs.

    Also returns the seconds of the warm-up ``fit`` (tracing and compiling the train step).
    """
    keras.utils.set_random_seed(0)
    model = train.build_model(recipe)
    train.compile_model(model, recipe, total_steps=1000)
    if jit_compile != "auto":
        model.jit_compile = jit_compile
    batch = recipe.batch_size
    images = images[: len(images) // batch * batch]
    start = time.perf_counter()
    model.fit(images[: 2 * batch], batch_size=batch, epochs=1, verbose=0, shuffle=False)  # trace and compile
    warm_up = time.perf_counter() - start
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        model.fit(images, batch_size=batch, epochs=1, verbose=0, shuffle=False)
        best = min(best, time.perf_counter() - start)
    return len(images) / best, warm_up


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("models", nargs="*", help=f"some of {sorted(RECIPES)} (default: all)")
    parser.add_argument("--train-images", type=int, default=512, help="digits in each timed epoch")
    parser.add_argument("--repeats", type=int, default=2, help="timed epochs per model (the best counts)")
    parser.add_argument(
        "--jit-compile",
        choices=("auto", "true", "false"),
        default="auto",
        help="XLA for the train step (Keras's choice)",
    )
    parser.add_argument("--json", metavar="FILE", help="also write the results to FILE as JSON")
    args = parser.parse_args()
    names = args.models or list(RECIPES)
    unknown = sorted(set(names) - set(RECIPES))
    if unknown:
        raise SystemExit(f"unknown models {unknown}; choose from {sorted(RECIPES)}.")
    images = load_mnist("dynamic").x_train[: args.train_images]
    jit_compile = {"auto": "auto", "true": True, "false": False}[args.jit_compile]
    results, warm_ups = {}, {}
    for name in names:
        results[name], warm_ups[name] = training_speed(RECIPES[name], images, args.repeats, jit_compile)
        print(
            f"{name:24s} {results[name]:8.1f} images/s, first fit {warm_ups[name]:6.1f} s "
            f"({keras.backend.backend()}, jit_compile={args.jit_compile})",
            flush=True,
        )
    if args.json:
        with open(args.json, "w") as f:
            json.dump(
                {
                    "backend": keras.backend.backend(),
                    "keras": keras.__version__,
                    "hardware": train.hardware(),
                    "python": platform.python_version(),
                    "train_images": len(images),
                    "jit_compile": args.jit_compile,
                    "images_per_second": results,
                    "first_fit_seconds": warm_ups,
                },
                f,
                indent=1,
            )


if __name__ == "__main__":
    main()
