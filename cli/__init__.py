"""The `softskills` command: serve, keys, users, analyze."""
