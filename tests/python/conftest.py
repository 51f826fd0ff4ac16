"""Shared fixtures for kiln's Python tests: where the build is, the fake models
(tests/runtime/fake_model, built by CMake) and the kiln package on sys.path."""

import os
import pathlib
import sys

import pytest

SOURCE_DIR = pathlib.Path(__file__).resolve().parents[2]
BUILD_DIR = pathlib.Path(os.environ.get("KILN_BUILD_DIR", str(SOURCE_DIR / "build"))).resolve()

# Under an ASan build the sanitizer runtime is preloaded into python only; the
# programs these tests start (kiln-run, qemu, gcc) must not inherit it.
if os.environ.get("KILN_DROP_PRELOAD"):
    os.environ.pop("LD_PRELOAD", None)

if str(BUILD_DIR / "python") not in sys.path:
    sys.path.insert(0, str(BUILD_DIR / "python"))


@pytest.fixture(scope="session")
def build_dir() -> pathlib.Path:
    return BUILD_DIR


@pytest.fixture(scope="session")
def fake_models(build_dir) -> pathlib.Path:
    """Folder holding one subfolder (with model.so) per fake model variant."""
    path = build_dir / "tests" / "runtime" / "fake_model"
    if not (path / "good" / "model.so").exists():
        pytest.fail(f"fake models not built in {path} (ninja kiln_fake_models)")
    return path


@pytest.fixture(scope="session")
def kiln_run(build_dir) -> pathlib.Path:
    path = build_dir / "bin" / "kiln-run"
    if not path.exists():
        pytest.fail(f"{path} not built (ninja kiln-run)")
    return path
