"""Fixture `demo_upstream_url`: the built-in demo upstream in its own process (placeholder)."""
