"""The wheel ships what qc needs (issue 7): every package, the lexicons, the role model; and the
public API is what ``qc.__all__`` says. (CI also builds the wheel and runs the main job through it:
.ci/wheel-smoke.)"""

from __future__ import annotations

import fnmatch
import sys

import pytest

import qc
from tests.conftest import ROOT

pytestmark = pytest.mark.issue(7)

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    tomllib = pytest.importorskip("tomli")


@pytest.fixture(scope="module")
def setuptools_config() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]


def test_every_package_in_qc_is_listed(setuptools_config):
    on_disk = {
        ".".join(p.parent.relative_to(ROOT).parts)
        for p in (ROOT / "qc").rglob("__init__.py")
        if "__pycache__" not in p.parts
    }
    assert on_disk <= set(setuptools_config["packages"])


@pytest.mark.parametrize("package,folder", [("qc.data.lexicons", "lexicons"), ("qc.data.models", "models")])
def test_data_folders_ship_every_file_qc_reads(setuptools_config, package, folder):
    assert setuptools_config["package-dir"][package] == folder
    globs = setuptools_config["package-data"][package]
    needed = [
        p.relative_to(ROOT / folder).as_posix()
        for p in (ROOT / folder).rglob("*")
        if p.is_file() and p.suffix in (".yaml", ".skops") or p.name.endswith(".meta.json")
    ]
    assert needed
    # setuptools' globs do not cross folders ("*.yaml" misses profiles/courier.yaml); fnmatch's "*" does
    missing = [n for n in needed if not any(n.count("/") == g.count("/") and fnmatch.fnmatch(n, g) for g in globs)]
    assert not missing


def test_the_public_api_resolves():
    for name in qc.__all__:
        assert getattr(qc, name) is not None
    with pytest.raises(AttributeError):
        qc.no_such_thing  # noqa: B018


def test_the_installed_layout_is_preferred(tmp_path, monkeypatch):
    """In a wheel, lexicons/ and models/ live under qc/data/; config must look there first."""
    import qc.config as config

    (tmp_path / "data" / "lexicons").mkdir(parents=True)
    monkeypatch.setattr(config, "_PACKAGE", tmp_path)
    monkeypatch.delenv("QC_LEXICONS", raising=False)
    assert config.default_lexicon_dir() == tmp_path / "data" / "lexicons"


@pytest.mark.issue(12)
def test_the_console_ships_its_templates_and_static_files(setuptools_config):
    """qc serve renders templates/ and serves static/ (vendored htmx and wavesurfer.js with their licences)."""
    assert "qc.console" in setuptools_config["packages"]
    globs = setuptools_config["package-data"]["qc.console"]
    folder = ROOT / "qc" / "console"
    needed = [
        p.relative_to(folder).as_posix()
        for sub in ("templates", "static")
        for p in (folder / sub).rglob("*")
        if p.is_file() and "__pycache__" not in p.parts
    ]
    assert {"static/vendor/htmx/LICENSE", "static/vendor/wavesurfer/LICENSE"} <= set(needed)
    missing = [n for n in needed if not any(n.count("/") == g.count("/") and fnmatch.fnmatch(n, g) for g in globs)]
    assert not missing
