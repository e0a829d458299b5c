"""What the bot knows: loaders, chunking, the index and retrieval.

The bot's own documents live under `knowledge/docs/` of a bot folder; this package turns them
into cited passages. `KnowledgeStore` (in `store.py`) is the seam a large deployment replaces.
"""
