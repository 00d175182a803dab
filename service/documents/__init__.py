"""The unified notices (统一行政文书): printable pages filled from case data."""
from .views import bp
from . import sheets  # noqa: F401,E402  (its routes are on the same blueprint)

__all__ = ['bp']
