"""What the turn does with the files a user sends.

    image     kept for the answer's model, when one of the bot's models can see
              (`model.images`); the question goes to it with the image
    document  read by the knowledge loaders (PDF, Word, text, Markdown, HTML) into the
              conversation's own documents: searched with the knowledge base in this
              conversation's later turns, and in no other conversation
    other     declined politely (`texts.attachment_unsupported`), never ignored

A conversation's documents are chunks kept in the store under its key, so every worker
process searches the same ones; a small BM25 index is built over them per search.
"""

from __future__ import annotations

import asyncio
import logging

from pydantic import TypeAdapter

from parley_bot.agents.config import FlowsConfig, KnowledgeConfig
from parley_bot.agents.errors import KnowledgeError
from parley_bot.agents.media import DOCUMENT_TYPES, data_of, kind_of, name_of
from parley_bot.agents.shared import SharedState
from parley_bot.agents.state import Draft, Node, TurnState
from parley_bot.agents.texts import localize
from parley_bot.channels.messages import Attachment, InboundMessage
from parley_bot.knowledge.chunking import chunk_document
from parley_bot.knowledge.loaders import PARSERS, parse_bytes
from parley_bot.knowledge.store import EmbeddedStore
from parley_bot.knowledge.types import Chunk, Passage

DOCUMENTS_TTL_S = 30 * 24 * 3600
"""How long a conversation's documents are kept after the last one arrived."""
SOURCE = "conversation"
"""The knowledge source name of documents users sent."""

_CHUNKS = TypeAdapter(list[Chunk])
log = logging.getLogger("parley.attachments")


class ConversationDocuments:
    """The documents sent in each conversation, searchable only in it."""

    def __init__(self, store: SharedState, config: KnowledgeConfig) -> None:
        self._store = store
        self._config = config

    async def add(self, key: str, attachment: Attachment, data: bytes) -> None:
        """Read `data` with the loader for its type and keep its chunks under `key`.

        Raises:
            KnowledgeError: the document cannot be parsed or holds no text.
        """
        name = name_of(attachment)
        parser = PARSERS[DOCUMENT_TYPES[attachment.content_type]]
        document = await asyncio.to_thread(parse_bytes, data, parser, SOURCE, name)
        chunks = await asyncio.to_thread(
            chunk_document, document, self._config.chunk_tokens, self._config.chunk_overlap,
            self._config.pinned_languages)
        kept = await self.chunks(key)
        await self._store.put(documents_key(key), _CHUNKS.dump_json(kept + chunks).decode(),
                              DOCUMENTS_TTL_S)

    async def chunks(self, key: str) -> list[Chunk]:
        stored = await self._store.get(documents_key(key))
        return _CHUNKS.validate_json(stored) if stored else []

    async def search(self, key: str, query: str, k: int) -> list[Passage]:
        """The `k` passages of conversation `key`'s documents most relevant to `query`."""
        chunks = await self.chunks(key)
        if not chunks or not query.strip():
            return []
        index = await asyncio.to_thread(EmbeddedStore.build, chunks)
        return await asyncio.to_thread(index.search, query, k)


def sees_images(config: FlowsConfig) -> bool:
    """Whether one of the bot's models can look at images."""
    return any(spec.images for spec in config.models)


def images_of(message: InboundMessage) -> tuple[str, ...]:
    """The images of `message`, as the data URLs a model is sent."""
    return tuple(a.url for a in message.attachments
                 if kind_of(a) == "image" and data_of(a) is not None)


def attachments_node(config: FlowsConfig, documents: ConversationDocuments) -> Node:
    """Build the intake step that reads a message's documents and declines what it cannot use; a
    message of documents alone is answered at once (`texts.document_read`)."""
    images = sees_images(config)

    async def attachments(state: TurnState) -> TurnState:
        inbound = state["inbound"]
        language = state.get("language")
        read: list[str] = []
        for attachment in inbound.attachments:
            kind, data = kind_of(attachment), data_of(attachment)
            if kind == "image" and images and data is not None:
                continue
            if kind != "document" or data is None:
                return {"draft": Draft(text=localize(
                    config.texts.attachment_unsupported, language,
                    kind=attachment.content_type), refused="attachment_unsupported")}
            try:
                await documents.add(inbound.key, attachment, data)
            except KnowledgeError as exc:
                log.warning("unreadable document (conversation=%s event=%s): %s",
                            inbound.key, inbound.event_id, exc)
                return {"draft": Draft(text=localize(config.texts.attachment_failed, language),
                                       refused="attachment_failed")}
            read.append(name_of(attachment))
        if read and not inbound.text.strip():
            return {"draft": Draft(text=localize(config.texts.document_read, language,
                                                 names=", ".join(read)),
                                   refused="documents_only")}
        return {}

    return attachments


def documents_key(conversation: str) -> str:
    """Where conversation `conversation`'s documents are kept in the store."""
    return f"documents:{conversation}"
