"""Ships the top-level migrations/ folder inside the package as ``affsrv.migrations``.

Everything else about the build is in pyproject.toml.
"""

from setuptools import find_packages, setup

setup(
    packages=find_packages(include=["affsrv", "affsrv.*"])
    + ["affsrv.migrations", "affsrv.migrations.versions"],
    package_dir={
        "affsrv.migrations": "migrations",
        "affsrv.migrations.versions": "migrations/versions",
    },
)
