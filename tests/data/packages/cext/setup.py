from setuptools import Extension, setup

# Metadata lives in pyproject.toml; only the C extension is declared here.
setup(packages=["cext"], ext_modules=[Extension("cext._speed", ["cext/_speed.c"])])
