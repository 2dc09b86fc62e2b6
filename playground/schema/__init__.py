"""OpenAPI documents to parameter specs, Django forms and validated request bodies (see specs.py, forms.py)."""

from __future__ import annotations
