"""Camera analysis workers: capture, detection, tracking, analytics, privacy, health."""
