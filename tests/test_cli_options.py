"""The fit commands' options come from the config dataclasses: one name, one default, one help per setting."""

import subprocess
import sys


def _imported(code: str) -> str:
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_train_config_imports_without_lightning():
    code = "import sys, rnnlab.training.config; print([m for m in ('torch', 'lightning') if m in sys.modules])"
    assert _imported(code) == "[]"


def test_training_fit_is_the_function_in_any_import_order():
    code = (
        "import rnnlab.training.fit; from rnnlab.training import fit, FitResult, seed_everything; "
        "import rnnlab.training as t; print(callable(fit), fit is t.fit, fit.__module__, FitResult.__name__)"
    )
    assert _imported(code) == "True True rnnlab.training.fit FitResult"
