"""Setuptools shim: metadata lives in pyproject.toml.

The spec templates and mock configs are kept at the top of the repository (as data, beside the
package) and copied into the package when it is built, so an installed rpmdeploy finds them too.
"""

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = Path(__file__).parent
DATA_DIRS = ("spec_templates", "mock_configs")


class BuildPyWithData(build_py):
    def run(self) -> None:
        super().run()
        for name in DATA_DIRS:
            src = HERE / name
            dest = Path(self.build_lib) / "rpmdeploy" / name
            if src.is_dir():
                shutil.copytree(src, dest, dirs_exist_ok=True)


setup(cmdclass={"build_py": BuildPyWithData})
