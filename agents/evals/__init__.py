"""`parley eval`: an evaluation set run through the real bot for several models, scored,
priced, checked against the targets in flows.yaml and reported."""
