"""shared/requirements.txt (what the Lambda layer installs) derived from pyproject's runtime dependencies.

`python -m npsloop_local.packaging` rewrites it; tests/unit/test_packaging.py fails when the two drift.
"""

from __future__ import annotations

import sys
import tomllib

from npsloop_local.template import ROOT

LAYER_REQUIREMENTS = ROOT / "shared" / "requirements.txt"


def layer_requirements() -> str:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    header = "# Generated from pyproject.toml [project] dependencies by `make layer-requirements`; do not edit.\n"
    return header + "".join(f"{dep}\n" for dep in project["dependencies"])


if __name__ == "__main__":
    LAYER_REQUIREMENTS.write_text(layer_requirements())
    sys.stdout.write(f"wrote {LAYER_REQUIREMENTS.relative_to(ROOT)}\n")
