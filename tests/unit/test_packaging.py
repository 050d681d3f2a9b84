"""What ships: the layer's requirements follow pyproject, and handlers import with only the template's environment."""

import os
import subprocess
import sys
from pathlib import Path

from npsloop_local.packaging import LAYER_REQUIREMENTS, layer_requirements
from npsloop_local.template import Physical, Template

ROOT = Path(__file__).resolve().parents[2]


def test_layer_requirements_are_derived_from_pyproject():
    assert LAYER_REQUIREMENTS.read_text() == layer_requirements(), "run `make layer-requirements`"


def test_layer_holds_exactly_one_package():
    packages = [p.name for p in (ROOT / "shared").iterdir() if p.is_dir() and not p.name.startswith((".", "__"))]
    assert packages == ["npsloop"]


def test_layer_never_imports_dev_only_code():
    for path in (ROOT / "shared" / "npsloop").rglob("*.py"):
        text = path.read_text()
        for forbidden in ("import moto", "from moto", "npsloop_local", "import functions", "from functions"):
            assert forbidden not in text, f"{path.relative_to(ROOT)} imports {forbidden}"


def test_every_handler_imports_with_only_its_template_environment():
    """Import is configuration-free: no client, secret or setting is touched before the first invocation."""
    template = Template()
    names = Physical(
        parameters=template.parameters,
        refs={r: f"{r.lower()}-name" for r in template.resources},
        arns={r: f"arn:aws:placeholder:::{r}" for r in template.resources},
    )
    for fn in template.functions():
        env = {k: str(names.resolve(v)) for k, v in fn.environment.items()} | {
            "PATH": os.environ["PATH"],
            "PYTHONPATH": os.pathsep.join([str(ROOT / "functions"), str(ROOT / "shared")]),
        }
        module = fn.handler.rsplit(".", 1)[0]
        code = f"import {module} as m, sys; assert callable(m.lambda_handler); assert 'boto3' not in sys.modules"
        done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, f"{fn.handler}: {done.stderr[-2000:]}"
