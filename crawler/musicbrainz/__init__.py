"""MusicBrainz as a genre source: HTTP client (1 request/s, User-Agent), pure parsing, the genre source."""
