"""The pluggable-store seam: a LangChain `VectorStore` instead of the embedded index.

LangChain's `InMemoryVectorStore` stands in for pgvector or Qdrant (same `VectorStore`
interface), with the real MiniLM model from parley-bot[embeddings] as its embeddings."""

from __future__ import annotations

from pathlib import Path

from langchain_core.embeddings import Embeddings
from langchain_core.vectorstores import InMemoryVectorStore

from parley_bot.agents.bot import Bot
from parley_bot.agents.config import KnowledgeConfig, KnowledgeSource
from parley_bot.knowledge.dense import default_embedder
from parley_bot.knowledge.ingest import Ingestor
from parley_bot.knowledge.store import VectorStoreKnowledge, chunk_metadata
from tests.conftest import configure
from tests.utils.messages import inbound


class MiniLM(Embeddings):
    """parley's embedder as LangChain `Embeddings`."""

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return [list(map(float, v)) for v in default_embedder().encode(texts)]

    def embed_query(self, text: str) -> list[float]:
        return self.embed_documents([text])[0]


def load_store(bot_dir: Path) -> InMemoryVectorStore:
    """Chunk the example bot's documents with parley and load them into the vector store."""
    (bot_dir / "faq").mkdir()
    (bot_dir / "faq" / "gift-cards.md").write_text(
        "# Gift cards\n\nGift cards never expire and can be used online and in stores.\n")
    config = KnowledgeConfig(sources=[KnowledgeSource(name="docs", path=Path("knowledge/docs")),
                                      KnowledgeSource(name="faq", path=Path("faq"))])
    chunks = Ingestor(config, bot_dir).run()[0].chunks
    store = InMemoryVectorStore(MiniLM())
    store.add_texts([c.text for c in chunks], metadatas=[chunk_metadata(c) for c in chunks])
    return store


async def test_a_bot_answers_and_cites_from_a_langchain_vector_store(bot_dir: Path) -> None:
    knowledge = VectorStoreKnowledge(load_store(bot_dir))
    config = configure(bot_dir, skills=[])
    async with Bot.open(config, knowledge=knowledge) as bot:
        reply = await bot.handle(inbound("how long do I have to return boots?"))
    assert "60 days" in reply.text
    assert [(c.uri, c.location) for c in reply.citations] == [
        ("returns.md", "Returns › Time limits")]


def test_source_filters_work_with_and_without_the_store_s_own_filter(bot_dir: Path) -> None:
    store = load_store(bot_dir)
    question = "do gift cards expire?"
    assert VectorStoreKnowledge(store).search(question, 1)[0].chunk.uri == "gift-cards.md"
    for knowledge in (
        VectorStoreKnowledge(store),  # over-fetches and filters the results itself
        VectorStoreKnowledge(store, source_filter=lambda sources: (
            lambda doc: doc.metadata["source"] in sources)),  # InMemoryVectorStore's own filter
    ):
        passages = knowledge.search(question, 3, frozenset({"docs"}))
        assert len(passages) == 3
        assert {p.chunk.source for p in passages} == {"docs"}
        assert all(p.chunk.uri != "gift-cards.md" for p in passages)
