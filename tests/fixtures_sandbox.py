"""Sandbox fixtures (placeholder until the sandbox lands)."""
