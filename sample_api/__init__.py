"""A local Spotify-compatible Web API (plus kworb-like pages) over a synthetic catalog."""
