"""Adapters that implement the interfaces of shared.ports."""
