"""The check helpers' source, copied into each sandbox for its check (see `trajforge_check`)."""
