"""Print pyproject's lowest allowed versions as exact pins: what `make test-floors` installs.

On Colab `%pip install` keeps the preinstalled TensorFlow, Keras and NumPy whenever they
meet pyproject's ranges, so the floors are versions users really run. Every dependency
must have a floor (`>=X`) naming a version that exists; this prints `name==X` for each,
and for each optional extra given on the command line (`heic`).

    python .ci/floors.py [EXTRA ...] > floors.txt
"""

import re
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def floors(extras=()) -> list[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    deps = list(project["dependencies"])
    for extra in extras:
        deps += project["optional-dependencies"][extra]
    pins = []
    for dep in deps:
        m = re.match(r"^([A-Za-z0-9_.\[\]-]+?)\s*(\[[^\]]*\])?\s*>=\s*([0-9][0-9A-Za-z.]*)", dep)
        if not m:
            sys.exit(f"pyproject.toml: {dep!r} has no floor (>=X): give it one, the lowest version that passes")
        pins.append(f"{m.group(1)}{m.group(2) or ''}=={m.group(3)}")
    return pins


if __name__ == "__main__":
    print("\n".join(floors(sys.argv[1:])))
