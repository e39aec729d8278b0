"""Execute the book's notebooks into its jupyter-cache, several at a time, before the build.

`jupyter-book build` (myst-nb's "cache" mode) runs each notebook the cache does not hold as
it reads it, one after another, and leaves a machine's other cores idle. `make book` runs this
first: it executes the notebooks that the cache does not hold (new, or with changed code) in
``--jobs`` parallel kernels and stores them where the build looks, keyed the way myst-nb keys
them, so that the build only renders them. Each notebook runs in its own folder, as in the
build, with this process's environment (profile, IPython start-up folder) and a share of
the cores each.

    python book/execute_notebooks.py --cache _build/.jupyter_cache/cpu --jobs 2 notebooks/*.ipynb
"""

import argparse
import multiprocessing
import os
import sys
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from datetime import datetime
from pathlib import Path

import nbformat
from jupyter_cache import get_cache
from jupyter_cache.base import CacheBundleIn
from nbclient import NotebookClient


def execute(path, timeout):
    """Run one notebook in its folder; return it with its outputs, its seconds and its slowest cells.

    The cells' timing metadata is taken out again: the cache keys a notebook by its code
    cells with their metadata, so the build would not recognise a notebook that kept it.
    """
    notebook = nbformat.read(path, as_version=nbformat.NO_CONVERT)
    start = time.perf_counter()
    NotebookClient(notebook, timeout=timeout, resources={"metadata": {"path": str(path.parent)}}).execute()
    seconds = time.perf_counter() - start
    cell_seconds = {}
    for index, cell in enumerate(notebook.cells):
        timing = cell.metadata.pop("execution", None)
        if timing and "iopub.execute_input" in timing and "shell.execute_reply" in timing:
            began, ended = (
                datetime.fromisoformat(timing[key]) for key in ("iopub.execute_input", "shell.execute_reply")
            )
            cell_seconds[index] = (ended - began).total_seconds()
    slowest = sorted(cell_seconds.items(), key=lambda item: -item[1])[:3]
    return notebook, seconds, slowest


def share_cores(jobs):
    """Give each of ``jobs`` kernels its share of the cores, unless the thread counts are set already.

    TensorFlow sizes its thread pools to all the cores; two kernels that each do so on two
    cores spend much of their time waiting for each other (measured: no faster than one at a time).
    """
    threads = str(max(1, len(os.sched_getaffinity(0)) // jobs))
    for name in ("TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS", "OMP_NUM_THREADS"):
        os.environ.setdefault(name, threads)


def is_cached(cache, path):
    try:
        cache.match_cache_notebook(nbformat.read(path, as_version=nbformat.NO_CONVERT))
    except KeyError:
        return False
    return True


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="+", type=Path)
    parser.add_argument(
        "--cache", required=True, help="the jupyter-cache folder of the build (_config.yml's execute.cache)"
    )
    parser.add_argument("--jobs", type=int, default=2, help="notebooks run at the same time")
    parser.add_argument("--timeout", type=int, default=3600, help="seconds a cell may take")
    args = parser.parse_args(argv)
    if args.jobs < 1:
        parser.error(f"--jobs must be at least 1, got {args.jobs}")
    share_cores(args.jobs)  # the kernels inherit this environment
    cache = get_cache(args.cache)
    paths = [path.resolve() for path in args.notebooks]
    pending = [path for path in paths if not is_cached(cache, path)]
    print(
        f"{len(paths) - len(pending)} of {len(paths)} notebooks cached; running {len(pending)}, {args.jobs} at a time"
    )
    failed = []
    start = time.perf_counter()
    # "spawn": a fork of a process whose TensorFlow thread pools are running can deadlock
    with ProcessPoolExecutor(max_workers=args.jobs, mp_context=multiprocessing.get_context("spawn")) as pool:
        runs = {pool.submit(execute, path, args.timeout): path for path in pending}
        for run in as_completed(runs):
            path = runs[run]
            try:
                notebook, seconds, slowest = run.result()
            except Exception as error:  # named below; make stops before the build
                failed.append(path.name)
                last_line = (str(error).strip().splitlines() or [""])[-1]
                print(f"{path.name}: failed ({type(error).__name__}: {last_line})")
                continue
            bundle = CacheBundleIn(notebook, str(path), data={"execution_seconds": seconds})
            cache.cache_notebook_bundle(bundle, check_validity=False, overwrite=True)
            cells = ", ".join(f"cell {index} {cell_seconds:.0f} s" for index, cell_seconds in slowest)
            print(f"{path.name}: {seconds:.0f} s (slowest: {cells})")
    print(f"executed in {time.perf_counter() - start:.0f} s")
    if failed:
        sys.exit(f"failed: {', '.join(failed)}")


if __name__ == "__main__":
    main()
