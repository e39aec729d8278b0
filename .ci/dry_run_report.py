"""Print what a dry run's executed notebooks said about their full-size models.

Usage: python .ci/dry_run_report.py NOTEBOOK... (executed in place by ``make dry-run``).
Prints, per chapter, the time estimate of its profile and every ``dry run (...)`` line
that the dry run's ``fit`` wrote (``keras_gen/book/dry_run.py``): model, parameters, seconds, peak memory.
"""

import json
import sys

KEYS = ("estimated time", "MFLOP per image", "dry run (")

for path in sys.argv[1:]:
    print(f"== {path.rsplit('/', 1)[-1]}")
    with open(path, encoding="utf-8") as file:
        notebook = json.load(file)
    for cell in notebook["cells"]:
        for output in cell.get("outputs", []):
            text = output.get("text", "")
            for line in (text if isinstance(text, str) else "".join(text)).splitlines():
                if any(key in line for key in KEYS):
                    print("  " + line.strip())
