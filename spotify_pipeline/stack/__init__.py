"""The platform's real services as local processes (`make stack`)."""
