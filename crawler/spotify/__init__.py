"""Spotify Web API access: token, shared rate limiter, retries, capability detection."""
