import os
import sys


def check_inputs(paths):
    missing = [p for p in paths if not os.path.exists(p)]
    if missing:
        print(f"missing inputs: {', '.join(missing)}", file=sys.stderr)
        sys.exit(3)
    return paths


check_inputs(["main.py", "data/input.json"])
print("done")
