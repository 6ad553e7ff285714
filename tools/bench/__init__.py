"""The project's own benchmarks: every figure side by side with a baseline in one run."""
