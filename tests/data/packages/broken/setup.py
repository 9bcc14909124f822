import sys

from setuptools import setup

# The sdist builds fine; building a wheel from it fails, as a broken package's would.
if "bdist_wheel" in sys.argv:
    raise SystemExit("broken: this package refuses to build")
setup(name="broken", version="1.0", py_modules=[])
