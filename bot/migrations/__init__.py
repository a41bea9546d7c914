"""Core migrations (revision files live in versions/)."""
