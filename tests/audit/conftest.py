"""Audit fixtures are registered suite-wide by tests/conftest.py (pytest_plugins)."""
