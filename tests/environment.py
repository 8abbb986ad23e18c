"""Loaded with `-p` before pytest-django reads the settings: test-only environment defaults."""

from __future__ import annotations

import os

os.environ.setdefault("DJANGO_SECRET_KEY", "test-only-secret-key-not-for-production")
os.environ.setdefault("DJANGO_DEBUG", "0")
# Tests run with DEBUG off, as production does, but the test client and the browser tests' live
# server speak plain HTTP: opt out of the HTTPS redirect the way a plain-HTTP deployment would.
os.environ.setdefault("DJANGO_SECURE_SSL_REDIRECT", "0")
