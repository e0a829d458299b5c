"""The edges of a bot: the message types every channel shares, one adapter per channel, the
HTTP server and the command line. Adapters verify and translate; they never decide anything."""
