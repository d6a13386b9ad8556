"""b2b-reconciler: Terraform-style plan/apply for BigCommerce B2B Edition."""

from importlib.metadata import PackageNotFoundError, version

try:
    # pyproject.toml is the one place the version is written; this reads the installed metadata.
    __version__ = version("b2b-reconciler")
except PackageNotFoundError:  # a source tree on sys.path that was never installed
    __version__ = "0+unknown"
__all__ = ["__version__"]
