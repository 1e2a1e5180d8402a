"""What a test needs from the machine (Chromium, Redis, an optional library): on a developer's
machine a missing one skips the test and says what to install; under CI (the `CI`
environment variable set, as CI services and `.ci/run` do) it fails, so a test never
passes in CI by not running. `tests/conftest.py` turns any other skip under CI into a
failure too."""

from __future__ import annotations

import os
from types import ModuleType
from typing import NoReturn

import pytest


def under_ci() -> bool:
    return bool(os.environ.get("CI"))


def missing(what: str) -> NoReturn:
    if under_ci():
        pytest.fail(f"{what}: required under CI", pytrace=False)
    pytest.skip(what)


def required_module(name: str) -> ModuleType:
    """`pytest.importorskip`, except that under CI a missing module is a failure."""
    try:
        return __import__(name)
    except ImportError:
        missing(f"the Python module {name} is not installed")
