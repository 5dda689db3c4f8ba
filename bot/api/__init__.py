"""The lending platform's HTTP API: signed conversion events and user look-ups (aiohttp)."""
