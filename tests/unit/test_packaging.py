"""What ships: the layer's requirements follow pyproject, and handlers import with only the template's environment,
from the source and from what `sam build` makes of it."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from npsloop.sources import SOURCES
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


def _import_every_handler(python: str, path: list[Path], flags: tuple[str, ...] = ()) -> None:
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
            "PYTHONPATH": os.pathsep.join(str(p(fn.logical_id)) if callable(p) else str(p) for p in path),
        }
        module = fn.handler.rsplit(".", 1)[0]
        code = (f"import {module} as m, sys; assert callable(m.lambda_handler); assert 'boto3' not in sys.modules; "
                "print(m.__file__, sys.modules['pydantic_core'].__file__)")  # fmt: skip
        done = subprocess.run([python, *flags, "-c", code], env=env, capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, f"{fn.handler}: {done.stderr[-2000:]}"
        yield fn, done.stdout.split()


def test_every_handler_imports_with_only_its_template_environment():
    for _ in _import_every_handler(sys.executable, [ROOT / "functions", ROOT / "shared"]):
        pass


# What a handler's import must leave to its first invocation (README, "Cold start"): the AWS SDK beyond botocore's
# bare package (Powertools imports it for its user agent; boto3 is never imported, npsloop.aws uses botocore), the
# Powertools parameters utility (not used: npsloop.aws reads and caches), Powertools' other resolvers (npsloop.http
# imports api_gateway alone) and asyncio, which AppSync's imports, Comprehend, every source adapter.
NEVER_AT_IMPORT = ("boto3", "requests", "botocore.session", "botocore.client", "s3transfer",
                   "aws_lambda_powertools.utilities.parameters", "aws_lambda_powertools.event_handler.appsync",
                   "aws_lambda_powertools.event_handler.bedrock_agent", "asyncio", "npsloop.analysis.comprehend",
                   "aws_lambda_powertools.utilities.data_classes.code_pipeline_job_event",
                   *(f"npsloop.sources.{name}" for name in SOURCES))  # fmt: skip
# and what only the functions named may import up front, because their every invocation uses it
ONLY_AT_IMPORT_OF = {
    # a Delivery (answers are recorded as deliveries of the `email` source), a fetch job's adapter, a JSON body
    "npsloop.sources.base": {"ingest_webhook", "fetch_response", "answer_survey", "record_click", "surveys_api"},
}


def test_handlers_import_nothing_their_first_invocation_does_not_need():
    """No timing: the modules a cold start was freed of stay out of each handler's import (one fresh interpreter per
    handler), and no function's settings validator, nor a model of npsloop.models, is built before its first use."""
    code = ("import importlib, json, sys; from npsloop import config, models; "
            "importlib.import_module(sys.argv[1]); print(json.dumps([sorted(sys.modules), "
            "[c.__name__ for c in config._Settings.__subclasses__() if c.__pydantic_complete__] + "
            "[n for n in models.DEFERRED if getattr(models, n).__pydantic_complete__]]))")  # fmt: skip
    env = {"PATH": os.environ["PATH"], "PYTHONPATH": os.pathsep.join([str(ROOT / "functions"), str(ROOT / "shared")])}
    for fn in Template().functions():
        module = fn.handler.rsplit(".", 1)[0]
        done = subprocess.run([sys.executable, "-c", code, module], env=env, capture_output=True, text=True,
                              timeout=60)  # fmt: skip
        assert done.returncode == 0, f"{module}: {done.stderr[-2000:]}"
        imported, built = json.loads(done.stdout)
        name = module.split(".", 1)[0]
        heavy = [m for m in NEVER_AT_IMPORT if m in imported]
        heavy += [m for m, allowed in ONLY_AT_IMPORT_OF.items() if m in imported and name not in allowed]
        assert not heavy, f"{module} imports {heavy} at import time: import it where the path that needs it runs"
        assert not built, f"{module} builds {built} at import time (config._Settings, models.DEFERRED: first use)"


def _in_fresh_python(code: str, *paths: Path) -> None:
    """`code` must run in a fresh interpreter that sees only these folders (the layer unless named)."""
    env = {"PATH": os.environ["PATH"], "PYTHONPATH": os.pathsep.join(str(p) for p in paths or [ROOT / "shared"])}
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr[-2000:]


def _unknown_name_fails(package: str) -> str:
    """Code that checks an unknown name of `package` fails to import, as it did before."""
    return (f"\ntry:\n    from {package} import NoSuchName\nexcept ImportError:\n    pass\n"
            "else:\n    raise AssertionError('an unknown name must fail as before')")  # fmt: skip


def test_powertools_event_handler_package_still_gives_every_name_after_npsloop_http():
    """npsloop.http registers the package without its __init__ (only api_gateway is imported); a name the __init__
    imports from a submodule imports that one, `__all__` runs the __init__, and every name is what Powertools' own
    import gives."""
    code = ("import sys; from npsloop.http import APIGatewayHttpResolver, Response, content_types; "
            "assert 'asyncio' not in sys.modules and 'aws_lambda_powertools.event_handler.appsync' not in sys.modules; "
            "from aws_lambda_powertools.event_handler import content_types as c; assert c is content_types; "
            "assert 'aws_lambda_powertools.event_handler.appsync' not in sys.modules, 'a submodule needs no __init__'; "
            "from aws_lambda_powertools.event_handler import AppSyncResolver, Response as R, "
            "APIGatewayHttpResolver as A; "
            "import aws_lambda_powertools.event_handler as package, aws_lambda_powertools.event_handler.appsync as a; "
            "assert A is APIGatewayHttpResolver and R is Response and AppSyncResolver is a.AppSyncResolver; "
            "assert len(package.__all__) > 10 and all(hasattr(package, n) for n in package.__all__); "
            "assert '__getattr__' not in vars(package), 'completed once'")  # fmt: skip
    _in_fresh_python(code + _unknown_name_fails("aws_lambda_powertools.event_handler"))


def test_powertools_data_classes_package_gives_each_name_from_its_submodule_and_every_name_after_npsloop_http():
    """npsloop.http registers data_classes without its __init__ (every event source's class): a name the __init__
    re-exports imports its submodule alone, `event_source` (also a submodule's name) and `__all__` run the __init__,
    and every name is what Powertools' own import gives."""
    code = ("import sys, importlib; import npsloop.http; p = 'aws_lambda_powertools.utilities.data_classes'; "
            "loaded = {m for m in sys.modules if m.startswith(p + '.')}; "
            "assert p + '.code_pipeline_job_event' not in loaded and p + '.sqs_event' not in loaded, sorted(loaded); "
            "assert p + '.api_gateway_proxy_event' in loaded; "
            "from aws_lambda_powertools.utilities.data_classes import SQSEvent, APIGatewayProxyEventV2; "
            "assert SQSEvent is importlib.import_module(p + '.sqs_event').SQSEvent; "
            "assert p + '.code_pipeline_job_event' not in sys.modules, 'one name, one submodule'; "
            "from aws_lambda_powertools.utilities.data_classes import event_source; "
            "assert callable(event_source) and not isinstance(event_source, type(sys)), 'a function'; "
            "import aws_lambda_powertools.utilities.data_classes as package; "
            "assert '__getattr__' not in vars(package) and len(package.__all__) > 40; "
            "assert all(getattr(package, n) is getattr(importlib.import_module(getattr(package, n).__module__), "
            "getattr(package, n).__name__) for n in package.__all__ if n != 'event_source')")  # fmt: skip
    _in_fresh_python(code + _unknown_name_fails("aws_lambda_powertools.utilities.data_classes"))


def test_a_call_to_a_survey_tools_api_or_to_salesforce_needs_no_requests():
    """fetch_response's every job reads the tool's API, and sync_salesforce and surveys_api call Salesforce, with
    urllib3, which botocore has imported: neither their import nor the adapters that fetch, the Salesforce client
    nor their HTTP pool bring in requests (15 to 25 ms of a cold start)."""
    code = ("import sys, fetch_response.handler, sync_salesforce.handler, surveys_api.handler; "
            "from npsloop import outbound; from npsloop.sources import adapter; "
            "from npsloop.salesforce.client import SalesforceClient; "
            "adapter('surveymonkey'); adapter('qualtrics'); outbound.pool(); "
            "assert 'requests' not in sys.modules and 'charset_normalizer' not in sys.modules, 'requests is imported'")
    _in_fresh_python(code, ROOT / "functions", ROOT / "shared")


SAM = ROOT / ".venv-sam" / "bin" / "sam"
BUILD = ROOT / ".aws-sam"


def python312() -> str | None:
    """The Lambda runtime's interpreter: pyenv's 3.12, else a python3.12 on PATH."""
    pyenv = shutil.which("pyenv")
    if pyenv:
        done = subprocess.run([pyenv, "which", "python3.12"], env={**os.environ, "PYENV_VERSION": "3.12.1"},
                              capture_output=True, text=True)  # fmt: skip
        if done.returncode == 0 and done.stdout.strip():
            return done.stdout.strip()
    candidate = Path.home() / ".pyenv" / "versions" / "3.12.1" / "bin" / "python3.12"
    return str(candidate) if candidate.exists() else shutil.which("python3.12")


def test_every_handler_imports_from_the_sam_build_artefact_in_a_bare_python312():
    """`sam build` (no container, x86_64 so its wheels load here), then each handler imports from the built function
    and layer in python3.12 with nothing but its standard library (-S: no site-packages)."""
    python = python312()
    if python is None:
        pytest.skip("*** SKIPPED the built-artefact check: no python3.12 on this machine (install it with pyenv) ***")
    assert SAM.exists(), "SAM CLI is missing: run `make sam-cli` (make test does)"
    path = os.pathsep.join([str(SAM.parent), str(Path(python).parent), os.environ["PATH"]])
    env = {**os.environ, "PATH": path, "SAM_CLI_TELEMETRY": "0", "AWS_CONFIG_FILE": os.devnull,
           "AWS_SHARED_CREDENTIALS_FILE": os.devnull}  # fmt: skip
    build = [str(SAM), "build", "--cached", "--cache-dir", str(BUILD / "cache"), "--build-dir", str(BUILD / "build"),
             "--parameter-overrides", "Architecture=x86_64"]  # fmt: skip
    done = subprocess.run(build, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]

    layer = BUILD / "build" / "SharedLayer" / "python"
    checked = []
    for fn, (handler_file, pydantic_core) in _import_every_handler(python, [lambda f: BUILD / "build" / f, layer],
                                                                   ("-S",)):  # fmt: skip
        assert Path(handler_file).is_relative_to(BUILD / "build" / fn.logical_id), handler_file
        assert Path(pydantic_core).is_relative_to(layer), pydantic_core  # the layer's compiled wheel loads
        checked.append(fn.logical_id)
    assert len(checked) == len(Template().functions()) >= 10


def _run_with_aws_environment(code: str) -> None:
    """`code` in a fresh interpreter with the layer on its path and an AWS region, no AWS configuration files."""
    env = {"PATH": os.environ["PATH"], "PYTHONPATH": str(ROOT / "shared"), "AWS_DEFAULT_REGION": "eu-central-1",
           "AWS_CONFIG_FILE": os.devnull, "AWS_SHARED_CREDENTIALS_FILE": os.devnull}  # fmt: skip
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr[-2000:]


def test_an_aws_client_is_built_with_the_collector_paused_and_left_frozen():
    """npsloop.aws.client keeps botocore's parsed models out of later collections and leaves the collector on; it
    makes clients without boto3."""
    code = ("import gc, sys; from npsloop.aws import client; gc.disable(); client('sqs'); assert not gc.isenabled(); "
            "gc.enable(); before = gc.get_freeze_count(); client('events'); after = gc.get_freeze_count(); "
            "assert gc.isenabled() and after > before > 0, (before, after); "
            "assert 'boto3' not in sys.modules and 's3transfer' not in sys.modules, 'made by botocore'")  # fmt: skip
    _run_with_aws_environment(code)


def test_the_layers_modules_import_with_the_collector_paused_and_leave_it_as_it_was(tmp_path):
    """npsloop pauses the collector while one of its modules is imported (and what that imports), freezes what the
    import made and turns the collector on again, also when the import fails; one paused by its caller stays off."""
    (tmp_path / "probe_ok.py").write_text("import gc\nPAUSED = not gc.isenabled()\nfrom npsloop import probe_inner\n")
    (tmp_path / "probe_inner.py").write_text("import gc\nPAUSED = not gc.isenabled()\n")
    (tmp_path / "probe_broken.py").write_text("import gc\nimport builtins\nbuiltins.PAUSED = not gc.isenabled()\n"
                                              "raise RuntimeError('broken on purpose')\n")  # fmt: skip
    code = ("import builtins, gc, sys; import npsloop; npsloop.__path__.append(sys.argv[1]); "
            "assert gc.isenabled(); before = gc.get_freeze_count(); "
            "from npsloop import probe_ok; assert probe_ok.PAUSED and probe_ok.probe_inner.PAUSED; "
            "assert gc.isenabled() and gc.get_freeze_count() > before, 'on again, and what it made frozen'\n"
            "try:\n    import npsloop.probe_broken\nexcept RuntimeError:\n    pass\n"
            "assert builtins.PAUSED and gc.isenabled(), 'on again after a failed import'\n"
            "gc.disable(); import npsloop.wiring as w; assert not gc.isenabled(), 'left off as its caller had it'\n"
            "assert type(w.__loader__).__name__ != 'SourceFileLoader' and w.__loader__.get_source('npsloop.wiring'), "
            "'the loader found, with its own methods'")  # fmt: skip
    env = {"PATH": os.environ["PATH"], "PYTHONPATH": str(ROOT / "shared")}
    done = subprocess.run([sys.executable, "-c", code, str(tmp_path)], env=env, capture_output=True, text=True,
                          timeout=60)  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]


def test_an_aws_client_loads_its_own_model_without_listing_every_service():
    """npsloop.aws's loader checks only the named service's directory and parses models into plain dicts; an
    unknown service fails as botocore's own loader makes it fail, naming the services it knows."""
    code = ("import os; from botocore.exceptions import UnknownServiceError; from npsloop.aws import client, _session; "
            "listed = []; real = os.listdir; os.listdir = lambda p='.': listed.append(p) or real(p); "
            "client('dynamodb'); client('sqs'); os.listdir = real; "
            "loader = _session().get_component('data_loader'); "
            "assert not any(k[0] == 'list_available_services' for k in loader._cache), loader._cache.keys(); "
            "assert len(listed) < 10, listed; "
            "model = loader.load_service_model('sqs', 'service-2'); "
            "assert type(model) is dict and type(model['operations']['SendMessage']) is dict\n"
            "try:\n    client('no-such-service')\nexcept UnknownServiceError as exc:\n"
            "    assert 'dynamodb' in str(exc) and 'sqs' in str(exc), str(exc)[:300]\n"
            "else:\n    raise AssertionError")  # fmt: skip
    _run_with_aws_environment(code)
