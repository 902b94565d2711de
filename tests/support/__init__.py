"""Helpers for the tests: Azurite for the session, the local host in a subprocess, bounded waits."""
