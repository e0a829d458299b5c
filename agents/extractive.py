"""The built-in responder: answers with the sentences of the best passages that match the
question, and cites them. No model, no network, no weights: the default for a new bot and
the answer of last resort when the configured models fail."""

from __future__ import annotations

from parley_bot.agents.models import Generation, OnDelta, Prompt
from parley_bot.channels.messages import Usage
from parley_bot.knowledge.text import content_terms, sentences, terms
from parley_bot.knowledge.types import Passage

# A passage is relevant when it holds at least this share of the question's subject words.
MIN_COVERAGE = 0.5
MAX_SENTENCES = 3


class ExtractiveResponder:
    """Quote, don't invent: the answer is made of the passages' own sentences."""

    name = "extractive"

    async def generate(self, prompt: Prompt, on_delta: OnDelta) -> Generation:
        """Answer from `prompt.passages`; empty text means nothing relevant was found."""
        wanted = content_terms(prompt.question)
        relevant = relevant_passages(prompt.question, prompt.passages)
        usage = Usage(model=self.name)
        if not relevant:
            return Generation(text="", cited=(), usage=usage)
        best = relevant[0]
        picked = _best_sentences(wanted, prompt.passages[best])
        text = " ".join(picked)
        on_delta(text)
        return Generation(text=text, cited=(best,), usage=usage)


def relevant_passages(question: str, passages: list[Passage]) -> list[int]:
    """Positions of the passages holding at least half the question's subject words."""
    wanted = content_terms(question)
    return [i for i, p in enumerate(passages) if _coverage(wanted, p) >= MIN_COVERAGE]


def knows_about(question: str, passages: list[Passage]) -> bool:
    """Whether the documents know anything about `question`: a passage holds half its
    subject words, or two of them. This decides between the general answer and "out of
    scope", for a model as for the extractive responder; two shared words let a model answer
    "turn 12: tell me about the warranty on backpacks", where one ('like') would let in
    "what is the weather like on mars"."""
    wanted = content_terms(question)
    return any(_coverage(wanted, p) >= MIN_COVERAGE
               or len(wanted & set(terms(p.chunk.searchable))) >= 2 for p in passages)


def _coverage(wanted: set[str], passage: Passage) -> float:
    if not wanted:
        return 0.0
    return len(wanted & set(terms(passage.chunk.searchable))) / len(wanted)


def _best_sentences(wanted: set[str], passage: Passage) -> list[str]:
    """The passage's sentences that share most words with the question, in reading order."""
    candidates = sentences(passage.chunk.text)
    scored = [(len(wanted & set(terms(s))), i) for i, s in enumerate(candidates)]
    top = sorted((x for x in scored if x[0] > 0), key=lambda x: (-x[0], x[1]))[:MAX_SENTENCES]
    if not top:  # the match is in the title or headings: the section's opening says it best
        return candidates[:MAX_SENTENCES]
    return [candidates[i] for _, i in sorted(top, key=lambda x: x[1])]
