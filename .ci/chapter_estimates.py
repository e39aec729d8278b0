"""Each chapter's estimated GPU time in a profile, without running the chapter.

Usage: KERAS_GEN_PROFILE=gpu python .ci/chapter_estimates.py [notebooks/NN_name.ipynb ...]

Runs only each notebook's parameter cell (the code cell with ``profile = profiles.current()``),
which in the ``gpu`` and ``full`` profiles builds the chapter's models, counts their FLOPs
and prints the estimate (``Profile.print_estimate``, ``keras_gen.book.cost``). Use it to size a
profile's settings so that a chapter takes about an hour.
"""

import glob
import json
import os
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
paths = sys.argv[1:] or sorted(glob.glob(os.path.join(os.path.dirname(__file__), "..", "notebooks", "*.ipynb")))
for path in paths:
    with open(path, encoding="utf-8") as file:
        cells = json.load(file)["cells"]
    source = next(
        "".join(c["source"]) for c in cells if c["cell_type"] == "code" and "profiles.current()" in "".join(c["source"])
    )
    print(f"== {os.path.basename(path)}", flush=True)
    start = time.time()
    exec(compile(source, path, "exec"), {"__name__": "__chapter__"})
    print(f"   ({time.time() - start:.0f} s to build and count)", flush=True)
