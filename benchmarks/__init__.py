"""Benchmarks that print `name: value unit` lines. Ratios are measured within one run, because
absolute times on shared machines drift."""
