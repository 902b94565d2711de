"""The video counter booking backend: core (domain, services) and adapters."""
