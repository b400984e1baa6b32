"""The development harness, for the two commands that serve it: `sample-api` and `demo`.

The sample API (top-level ``sample_api/``) is test and demo harness: it lives beside the product in a
source checkout and is left out of the wheel, the Docker image and the Spark code zip. This module is
the one place the product reaches for it (the ``harness`` import contract in pyproject.toml allows
exactly this import): lazily, when one of those commands runs, and with a one-line error where the
harness is not installed.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from types import ModuleType

from spotify_core.errors import PipelineError
from spotify_core.settings import Settings

# An editable install maps only the product's packages; the harness sits beside them in the checkout.
CHECKOUT = Path(__file__).resolve().parent.parent


def sample_api_server() -> ModuleType:
    """``sample_api.server``, from the installation or the source checkout this package runs from."""
    if not (CHECKOUT / "sample_api" / "__init__.py").exists():
        raise PipelineError("the sample API is part of the development harness, which this installation "
                            "does not have: run it from a source checkout (make install)")
    if str(CHECKOUT) not in sys.path:
        sys.path.append(str(CHECKOUT))
    from sample_api import server

    return server


def run_sample_api(args: argparse.Namespace, settings: Settings) -> int:
    """`spotify-pipeline sample-api`: the harness's own command line (its flags are the harness's)."""
    return sample_api_server().run(args, settings)
