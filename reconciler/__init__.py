"""b2b-reconciler: Terraform-style plan/apply for BigCommerce B2B Edition."""

__version__ = "0.1.0"
__all__ = ["__version__"]
