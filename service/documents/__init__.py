"""The unified notices (统一行政文书): printable pages filled from case data."""
from .views import bp

__all__ = ['bp']
