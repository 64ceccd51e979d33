"""Shared test settings."""

from hypothesis import settings

# Machines here are noisy (CI has 2 cores): correctness is tested, never timing.
settings.register_profile("trajforge", deadline=None)
settings.load_profile("trajforge")
