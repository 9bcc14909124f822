from setuptools import setup

setup(
    name="beta",
    version="0.5.post1",
    description="Fixture sdist built with a classic setup.py",
    license="BSD",
    py_modules=["beta"],
    classifiers=["License :: OSI Approved :: BSD License"],
)
