"""The flows.yaml schema: one pydantic model per section, unknown keys rejected.

Paths in the file are relative to the file's own folder: the loader anchors the config there
(`FlowsConfig.at`) and `FlowsConfig.path` resolves against it, so nothing depends on the
working directory. Checks that span fields raise `FieldError`, which names the field the
loader should point at.
"""

from __future__ import annotations

import re
from functools import cached_property
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    Field,
    PrivateAttr,
    ValidationInfo,
    field_validator,
    model_validator,
)

from parley_bot.agents.schema import FieldError, Loc, Strict, check, shorthand
from parley_bot.agents.screen import deny_pattern
from parley_bot.agents.skills import FormSkill, HttpTool, Skill
from parley_bot.agents.texts import (
    BUTTONS,
    GUARD,
    SMALL_TALK,
    LanguageCode,
    LocalText,
    placeholders,
)

__all__ = ["FieldError", "Loc", "Skill", "Strict", "check", "shorthand"]

EXTRACTIVE = "extractive"


class BreakerSettings(Strict):
    """When to stop calling a failing model for a while (its circuit breaker)."""

    failures: int = Field(3, ge=1, description="Failures within `window_s` that open it.")
    window_s: float = Field(60.0, gt=0, description="The window failures are counted in.")
    cooldown_s: float = Field(
        30.0, gt=0,
        description="How long the model is skipped once open; then one trial call decides.",
    )


def model_name(name: str) -> str:
    """`name` if it is 'extractive' or 'provider:model', the forms a model is named by."""
    if name != EXTRACTIVE and ":" not in name:
        raise ValueError(f"model {name!r} is neither 'extractive' nor 'provider:model' "
                         "(e.g. 'openai:gpt-4o-mini')")
    return name


ModelName = Annotated[str, AfterValidator(model_name)]


class ModelSpec(Strict):
    """One chat model. A bare string in flows.yaml is shorthand for `{name: ...}`."""

    name: ModelName = Field(
        EXTRACTIVE,
        description="'extractive' (built in, offline) or a langchain init_chat_model id "
        "such as 'openai:gpt-4o-mini', 'anthropic:claude-sonnet-4-5', 'ollama:llama3.2'.",
    )
    base_url: str | None = Field(
        None, description="Any OpenAI-compatible server (vLLM, llama.cpp)."
    )
    api_key_env: str | None = Field(
        None, description="Environment variable holding the API key; a `base_url` server "
        "that needs none (a local vLLM or llama.cpp) can go without.",
    )
    timeout_s: float = Field(30.0, gt=0, description="Whole-answer deadline before falling back.")
    temperature: float | None = Field(None, ge=0, le=2)
    max_tokens: int | None = Field(None, gt=0)
    price_in_per_mtok: float = Field(0.0, ge=0, description="USD per million input tokens.")
    price_out_per_mtok: float = Field(0.0, ge=0, description="USD per million output tokens.")
    images: bool = Field(
        False, description="True for a model that can look at images: images people send "
        "(WhatsApp) go to it with their question; without one they are politely declined.",
    )
    private: bool = Field(
        False, description="True for a model that runs on your own machines: it is sent "
        "personal data as typed, where every other model gets it redacted (see `privacy`).",
    )
    breaker: BreakerSettings = Field(
        default_factory=BreakerSettings,
        description="After `failures` failures in `window_s`, the model is skipped for "
        "`cooldown_s` and turns are answered at once by the next in the chain.",
    )

    _from_string = shorthand("name")


    @property
    def is_extractive(self) -> bool:
        return self.name == EXTRACTIVE


STORE_SCHEMES = ("sqlite:", "memory:", "redis://", "rediss://")


class MemoryConfig(Strict):
    """Where conversation state lives and how much of it the model sees."""

    url: str | None = Field(
        None,
        description="'sqlite:PATH' (relative to flows.yaml), 'redis://…' or 'rediss://…' "
        "(Redis, Valkey or Redis Cluster), or 'memory:' for tests. Unset: REDIS_URL from the "
        "environment if set, else sqlite:.parley/memory.sqlite.",
    )
    history_tokens: int = Field(
        2000, gt=0, description="Token budget of past messages sent to the model each turn."
    )
    window_messages: int = Field(
        20, ge=2, description="Messages kept in the conversation state; older ones are dropped."
    )
    ttl_days: float | None = Field(
        None, gt=0, description="Redis only: forget a conversation this long after its last "
        "turn (every write renews it). Unset: keep conversations until deleted."
    )

    _from_string = shorthand("url")

    @field_validator("url")
    @classmethod
    def _known_scheme(cls, url: str | None) -> str | None:
        if url is not None and not (url.startswith(STORE_SCHEMES) and url != "sqlite:"):
            raise ValueError(f"memory {url!r} must be 'sqlite:PATH', 'redis://…', "
                             "'rediss://…' or 'memory:'")
        return url


class KnowledgeSource(Strict):
    """A folder of documents, one file, or a web site to index."""

    name: str = Field(..., pattern=r"^[A-Za-z0-9_.-]+$")
    path: Path | None = Field(None, description="File or folder, relative to flows.yaml.")
    url: str | None = Field(None, description="A web page, or a sitemap.xml to follow.")
    include: list[str] = Field(
        default_factory=lambda: ["**/*.md", "**/*.markdown", "**/*.rst", "**/*.txt",
                                 "**/*.html", "**/*.htm", "**/*.pdf", "**/*.docx"],
        description="Glob patterns of files to index under `path`, matched in any case; "
        "every other file is listed by `parley ingest` with the reason. Files reached through "
        "links that lead out of the folder are skipped (and reported).",
    )
    base_url: str | None = Field(
        None, pattern=r"^https?://", description="`path` only: where these documents are "
        "published, so citations link to the public page: 'https://acme.example/help' makes "
        "returns.md cite https://acme.example/help/returns.",
    )
    allow_hosts: list[str] = Field(
        default_factory=list,
        description="`url` only: other host names this source's redirects and sitemap "
        "entries may lead to (e.g. www.example.com). Every other host is refused.",
    )
    allow_private: bool = Field(
        False, description="`url` only: fetch from a private, loopback or link-local "
        "address, for the host and port of `url` alone (an intranet site). Cloud metadata "
        "addresses are refused even so.",
    )

    @field_validator("include")
    @classmethod
    def _inside(cls, patterns: list[str]) -> list[str]:
        for pattern in patterns:
            if pattern.startswith(("/", "\\")) or ".." in Path(pattern).parts:
                raise ValueError(f"pattern {pattern!r} leaves the source folder; patterns are "
                                 "relative to `path`, without '..'")
        return patterns

    @model_validator(mode="after")
    def _one_location(self) -> KnowledgeSource:
        if (self.path is None) == (self.url is None):
            raise ValueError("a knowledge source needs exactly one of 'path' or 'url'")
        check([((name,), f"{name} applies to 'url' sources only")
               for name in ("allow_hosts", "allow_private")
               if self.path is not None and name in self.model_fields_set])
        if self.url is not None and self.base_url is not None:
            check([(("base_url",), "base_url applies to 'path' sources only")])
        return self


class KnowledgeConfig(Strict):
    """What the bot knows and how it is cut up and searched."""

    sources: list[KnowledgeSource] = Field(
        default_factory=lambda: [KnowledgeSource(name="docs", path=Path("knowledge/docs"))]
    )
    chunk_tokens: int = Field(200, ge=20, le=4000, description="Target chunk size in words.")
    chunk_overlap: int = Field(30, ge=0, description="Words repeated between adjacent chunks.")
    top_k: int = Field(4, ge=1, le=50, description="Passages retrieved per question.")
    retriever: Literal["bm25", "hybrid"] = Field(
        "bm25", description="'hybrid' fuses BM25 with dense embeddings (parley-bot[embeddings])."
    )
    index_dir: Path = Field(Path(".parley/knowledge"), description="Where the index is kept.")
    languages: list[LanguageCode] = Field(
        default_factory=list,
        description="'auto' (or nothing) detects the language of every section and message; "
        "a list (e.g. [en, pl]) limits detection to those languages, one language skips it.",
    )

    @field_validator("languages", mode="before")
    @classmethod
    def _auto(cls, value: Any) -> Any:
        if value == "auto":
            return []
        return [value] if isinstance(value, str) else value

    @property
    def pinned_languages(self) -> frozenset[str] | None:
        """The languages flows.yaml allows, or None for any ('auto')."""
        return frozenset(self.languages) or None

    @model_validator(mode="after")
    def _overlap_below_size(self) -> KnowledgeConfig:
        if self.chunk_overlap >= self.chunk_tokens:
            raise ValueError("chunk_overlap must be smaller than chunk_tokens")
        names = [s.name for s in self.sources]
        check([(("sources", i, "name"), f"knowledge source {name!r} is defined twice")
               for i, name in enumerate(names) if name in names[:i]])
        return self


class SlackChannel(Strict):
    signing_secret_env: str = "SLACK_SIGNING_SECRET"
    bot_token_env: str = "SLACK_BOT_TOKEN"
    max_file_bytes: int = Field(10_000_000, gt=0,
                                description="Larger files a user sends are declined.")


class WhatsAppTemplate(Strict):
    """An approved WhatsApp message template (Twilio Content API): what the bot may send a
    number whose 24-hour window has closed."""

    content_sid: str = Field(..., pattern=r"^HX[0-9a-fA-F]{32}$",
                             description="The template's Content SID (HX…).")
    variables: dict[str, str] = Field(
        default_factory=dict,
        description="Default values of its placeholders ('1': 'Acme'); a send may override them.",
    )


class WhatsAppChannel(Strict):
    account_sid_env: str = "TWILIO_ACCOUNT_SID"
    auth_token_env: str = "TWILIO_AUTH_TOKEN"
    from_env: str = Field("TWILIO_WHATSAPP_FROM",
                          description="The variable holding the sender, 'whatsapp:+1415…'.")
    public_url: str | None = Field(
        None, description="The bot's public base URL; the PUBLIC_URL variable wins."
    )
    max_media_bytes: int = Field(10_000_000, gt=0,
                                 description="Larger media a user sends is declined.")
    templates: dict[str, WhatsAppTemplate] = Field(
        default_factory=dict,
        description="Approved templates by name. 'late_answer' (variable '1': the answer) "
        "carries a reply that is ready after the number's 24-hour window closed.",
    )


class WebChannel(Strict):
    """The chat widget (`<script src=".../widget.js">`): which sites may embed it."""

    allowed_origins: list[str] = Field(
        default_factory=list,
        description="Sites whose pages may open widget sessions and call the server from the "
        "browser (CORS), as 'https://shop.example' (scheme, host and port, no path). Pages "
        "the bot's server serves itself (the demo at /) are always allowed.",
    )
    session_ttl_days: float = Field(
        30, gt=0, description="How long a widget session (and its conversation) may be resumed "
        "after it was opened; resuming does not extend it.",
    )
    sessions_per_minute: int = Field(
        60, ge=1, description="New widget sessions one client address may open per minute "
        "(resuming one does not count); messages have their own limit, guard.rate_limit.",
    )

    @field_validator("allowed_origins")
    @classmethod
    def _origins(cls, origins: list[str]) -> list[str]:
        for origin in origins:
            if not re.fullmatch(r"https?://[^/?#\s]+", origin):
                raise ValueError(f"origin {origin!r} must be 'scheme://host[:port]', with no "
                                 "path or trailing '/'")
        return origins


class ChannelsConfig(Strict):
    """Channel settings; secrets are named by environment variable, never written here."""

    slack: SlackChannel | None = None
    whatsapp: WhatsAppChannel | None = None
    web: WebChannel | None = None


class ServerConfig(Strict):
    """Limits of `parley serve`'s HTTP server (read at start)."""

    max_body_bytes: int = Field(
        65536, ge=1024, description="Larger request bodies are refused (413) before being read."
    )


class EvalTargets(Strict):
    """What 'good enough' means for this bot; `parley eval` reports against these."""

    accuracy: float | None = Field(None, ge=0, le=1)
    p95_latency_ms: float | None = Field(None, gt=0)
    cost_per_1k_conversations: float | None = Field(None, ge=0)


class Price(Strict):
    """What a model costs, in USD per million tokens (a self-hosted one: your own figure)."""

    in_per_mtok: float = Field(0.0, ge=0)
    out_per_mtok: float = Field(0.0, ge=0)


class PromptLogConfig(Strict):
    """Prompt baking: each model call's exact messages, completion, model, usage and latency,
    one JSON line each, redacted as `privacy` says; `parley export` makes training data of it."""

    enabled: bool = False
    path: Path = Field(Path(".parley/prompts.jsonl"), description="Relative to flows.yaml.")


class EvalConfig(Strict):
    """`parley eval`: the evaluation set, the models it compares and what they must reach."""

    dataset: Path = Field(Path("evals"), description="An eval file, or a folder of *.yaml.")
    targets: EvalTargets = Field(default_factory=EvalTargets)
    models: list[ModelSpec] = Field(
        default_factory=list, description="The models compared (default: `model` alone); "
        "`--model` on the command line replaces them.")
    prices: dict[str, Price] = Field(
        default_factory=dict, description="Model name → price, over parley's own table and "
        "a model's price_in/out_per_mtok.")
    concurrency: int = Field(4, ge=1, description="Conversations run at once.")


class RateLimit(Strict):
    """Messages a sender may send per window; more are declined (HTTP 429 on the JSON API),
    counted in the store so every worker process enforces the same limit."""

    per_user: int = Field(20, gt=0, description="Messages per window from one user.")
    per_conversation: int = Field(20, gt=0, description="Messages per window in a conversation.")
    window_s: float = Field(60, gt=0, description="The window, in seconds.")


class Guard(Strict):
    """What is refused before routing (`agents.guard`)."""

    max_chars: int = Field(4000, gt=0, description="Longer messages are refused, not truncated.")
    rate_limit: RateLimit = Field(default_factory=RateLimit)
    injection: bool = Field(
        True, description="Refuse messages that try to override the bot's instructions "
        "('ignore your previous instructions', 'show me your system prompt'), in many "
        "languages; answered with texts.injection.")
    deny: list[str] = Field(
        default_factory=list, description="Topics the bot refuses, answered with texts.denied: "
        "a word or phrase is literal and matches as whole words, any case (in Chinese or "
        "Japanese, anywhere); 're:' starts a regular expression (e.g. "
        "'re:\\bcrypto(currency)?\\b'). Empty entries are refused.")

    @field_validator("deny")
    @classmethod
    def _compiles(cls, deny: list[str]) -> list[str]:
        for entry in deny:
            deny_pattern(entry)
        return deny


class BotTexts(Strict):
    """What the bot says on its own, besides `fallback_answer` and `error_answer`. Each is
    one text or one per language (`{en: ..., pl: ...}`); `{names}` are filled in by parley."""

    empty_message: LocalText = "Please type your question."
    too_long: LocalText = Field(
        "That message is too long for me ({length:,} characters; the limit is {limit:,}). "
        "Could you shorten it?",
        description="Placeholders: {length}, {limit}.",
    )
    unavailable: LocalText = Field(
        "Sorry, I can't get to our conversation right now. Please try again in a moment.",
        description="Said when the store is down or the conversation is busy; nothing of "
        "the message is kept.",
    )
    rate_limited: LocalText = Field(
        "You're sending messages faster than I can answer. Please wait a minute and try again.",
        description="Said when a sender is over `guard.rate_limit`.",
    )

    greeting: LocalText = Field(
        default_factory=lambda: dict(SMALL_TALK["greeting"]),
        description="The reply to a greeting ('hi', 'hola', '你好').",
    )
    thanks: LocalText = Field(
        default_factory=lambda: dict(SMALL_TALK["thanks"]),
        description="The reply to thanks.",
    )
    goodbye: LocalText = Field(
        default_factory=lambda: dict(SMALL_TALK["goodbye"]),
        description="The reply to a goodbye.",
    )
    capabilities: LocalText = Field(
        default_factory=lambda: dict(SMALL_TALK["capabilities"]),
        description="The reply to 'what can you do?'. Placeholder: {topics}, the skills' "
        "descriptions as a list.",
    )
    capabilities_general: LocalText = Field(
        default_factory=lambda: dict(SMALL_TALK["capabilities_general"]),
        description="The reply to 'what can you do?' for a bot without skills.",
    )
    can_help_with: LocalText = Field(
        "I can help with: {topics}.",
        description="Follows fallback_answer when a message is out of scope. Placeholder: "
        "{topics}, the skills' descriptions.",
    )
    slot_invalid: LocalText = Field(
        "Sorry, that doesn't look right.",
        description="Said before a form asks again, unless the slot has its own 'invalid'.",
    )
    attachment_too_large: LocalText = Field(
        "Sorry, that file is too large for me (the limit is {limit_mb:g} MB).",
        description="A file the user sent is over the channel's limit. Placeholder: {limit_mb}.",
    )
    attachment_failed: LocalText = "Sorry, I couldn't open the file you sent. Please try again."
    attachment_unsupported: LocalText = Field(
        "Sorry, I can't read {kind} files here. I can read PDF, Word and text documents.",
        description="A file of a type the bot cannot use (images too, when no model can "
        "look at them). Placeholder: {kind}, its type.",
    )
    document_read: LocalText = Field(
        "I've read {names}. What would you like to know?",
        description="The answer to documents sent without a question. Placeholder: {names}.",
    )
    form_cancelled: LocalText = "OK, I've stopped that. Is there anything else?"
    not_found: LocalText = Field(
        "I couldn't find anything matching those details. Please check them and try again.",
        description="A form's tool found nothing, or the proof of identity did not match.",
    )
    tool_failed: LocalText = Field(
        "Sorry, I can't reach the system I need for that right now. Please try again later.",
        description="A tool failed or timed out (the error is logged).",
    )
    agent_unavailable: LocalText = Field(
        "Sorry, I can't help with that here right now.",
        description="An agent skill has no working model (e.g. model: extractive).",
    )
    agent_gave_up: LocalText = Field(
        "Sorry, I couldn't finish that. Could you ask in another way?",
        description="An agent skill ran out of steps or time.",
    )
    tool_refused: LocalText = Field(
        default_factory=lambda: dict(GUARD["tool_refused"]),
        description="An agent skill's model kept asking for a tool call that was refused "
        "(a tool the skill may not use, arguments outside its schema, a limit reached).",
    )
    confirm_tool: LocalText = Field(
        default_factory=lambda: dict(GUARD["confirm_tool"]),
        description="Asked before a `confirm: true` tool runs. Placeholder: {action}, the "
        "tool's description and arguments.",
    )
    confirm_yes: LocalText = Field(default_factory=lambda: dict(BUTTONS["yes"]),
                                   description="The 'yes' button of a confirmation.")
    confirm_no: LocalText = Field(default_factory=lambda: dict(BUTTONS["no"]),
                                  description="The 'no' button of a confirmation.")
    confirm_cancelled: LocalText = Field(
        default_factory=lambda: dict(GUARD["confirm_cancelled"]),
        description="The user said no to a `confirm: true` tool.",
    )
    injection: LocalText = Field(
        default_factory=lambda: dict(GUARD["injection"]),
        description="Said when guard.injection refuses a message.",
    )
    denied: LocalText = Field(
        default_factory=lambda: dict(GUARD["denied"]),
        description="Said when a message matches guard.deny.",
    )

    @model_validator(mode="after")
    def _known_placeholders(self) -> BotTexts:
        allowed = {"too_long": {"length", "limit"}, "capabilities": {"topics"},
                   "can_help_with": {"topics"}, "confirm_tool": {"action"},
                   "attachment_too_large": {"limit_mb"}, "attachment_unsupported": {"kind"},
                   "document_read": {"names"}}
        check([((name,), f"unknown placeholder(s) {sorted(extra)} "
                         f"(allowed: {sorted(allowed.get(name, set()))})")
               for name in type(self).model_fields
               if (extra := placeholders(getattr(self, name)) - allowed.get(name, set()))])
        return self


class RouterConfig(Strict):
    """How a message finds its skill: a classifier fitted on the skills' examples at load
    time, and optionally a model for the cases it is unsure of."""

    threshold: float | None = Field(
        None, description="Confidence below which no skill is chosen (default: calibrated at "
        "load time on held-out examples of the skills; 0.2 when they are too few)."
    )
    model: ModelSpec | None = Field(
        None, description="A model that decides when the confidence is in the ambiguous band "
        "just above the threshold (default: none; the classifier decides alone)."
    )
    ambiguous: float = Field(0.25, ge=0, description="Width of that band.")
    embeddings: Literal["auto", "on", "off"] = Field(
        "off", description="Add sentence embeddings to the classifier: 'on' needs "
        "parley-bot[embeddings]; 'auto' uses them when it is installed."
    )


PiiKind = Literal["email", "phone", "card", "iban", "ip"]
_REDACTED_BY_DEFAULT: tuple[PiiKind, ...] = ("email", "phone", "card", "iban")


class PrivacyConfig(Strict):
    """Personal data kept out of models (except `private: true` ones), logs and exports.
    What the bot's own logic reads (form slots, tool arguments) keeps the real values."""

    redact: list[PiiKind] = Field(
        default_factory=lambda: list(_REDACTED_BY_DEFAULT),
        description="Kinds of personal data to redact: email, phone, card (Luhn-checked), "
        "iban, ip. [] turns redaction off.",
    )
    mode: Literal["mask", "hash"] = Field(
        "mask", description="'mask' writes <EMAIL>; 'hash' writes <EMAIL:1f2e3d4c>, the same "
        "token for the same value, keyed with `hash_key_env`.",
    )
    hash_key_env: str = Field(
        "PARLEY_REDACTION_KEY", description="Environment variable holding the key of 'hash'."
    )
    phone_regions: list[str] = Field(
        default_factory=list,
        description="Regions (ISO 3166 codes such as US, GB) whose national phone formats "
        "are recognised; numbers written with +country code are found in any case.",
    )
    transcript: Literal["redacted", "original"] = Field(
        "redacted", description="What the stored transcript keeps of each turn's texts."
    )

    @field_validator("phone_regions")
    @classmethod
    def _known_regions(cls, regions: list[str]) -> list[str]:
        if not regions:
            return regions
        import phonenumbers  # 80 ms to import: only when regions are named

        unknown = [r for r in regions if r not in phonenumbers.SUPPORTED_REGIONS]
        if unknown:
            raise ValueError(f"unknown phone region(s) {unknown} (upper-case ISO 3166 "
                             "codes, such as US or GB)")
        return regions


class FlowsConfig(Strict):
    """The whole bot, as written in flows.yaml."""

    name: str
    persona: str = "You are a helpful assistant. Answer only from the provided sources."
    fallback_answer: LocalText = Field(
        "I don't have information about that. Could you rephrase, or ask about something else?",
        description="Said when nothing relevant is known; one text or one per language.",
    )
    error_answer: LocalText = Field(
        "Sorry, something went wrong on my side. Please try again in a moment.",
        description="Said when a turn fails unexpectedly (the failure is logged).",
    )
    texts: BotTexts = Field(default_factory=BotTexts)
    model: ModelSpec = Field(default_factory=ModelSpec)
    fallback_models: list[ModelSpec] = Field(default_factory=list)
    memory: MemoryConfig = Field(default_factory=MemoryConfig)
    knowledge: KnowledgeConfig = Field(default_factory=KnowledgeConfig)
    skills: list[Skill] = Field(default_factory=list)
    tools: list[HttpTool] = Field(
        default_factory=list, description="HTTP tools; Python tools are the @tool functions "
        "in the bot's tools/ folder."
    )
    router: RouterConfig = Field(default_factory=RouterConfig)
    guard: Guard = Field(default_factory=Guard)
    privacy: PrivacyConfig = Field(default_factory=PrivacyConfig)
    channels: ChannelsConfig = Field(default_factory=ChannelsConfig)
    server: ServerConfig = Field(default_factory=ServerConfig)
    eval: EvalConfig = Field(default_factory=EvalConfig)
    log_prompts: PromptLogConfig = Field(default_factory=PromptLogConfig)
    _root: Path = PrivateAttr(default_factory=Path.cwd)
    _python_tools: dict[str, Any] = PrivateAttr(default_factory=dict)

    @model_validator(mode="after")
    def _references(self, info: ValidationInfo) -> FlowsConfig:
        known = [s.name for s in self.knowledge.sources]
        names = [s.name for s in self.skills]
        tools = [t.name for t in self.tools]
        # The loader passes the Python tools it found; a config built in code skips the check.
        python = (info.context or {}).get("python_tools")
        errors: list[tuple[Loc, str]] = [
            (("tools", i, "name"), f"tool {name!r} is defined twice" if name in tools[:i]
             else f"tool {name!r} is also a Python tool in tools/")
            for i, name in enumerate(tools) if name in tools[:i] or name in (python or ())]
        available = sorted({*tools, *(python or ())})
        for i, skill in enumerate(self.skills):
            if skill.name in names[:i]:
                errors.append((("skills", i, "name"), f"skill {skill.name!r} is defined twice"))
            unknown = sorted(set(getattr(skill, "knowledge", None) or []) - set(known))
            if unknown:
                errors.append((("skills", i, "knowledge"),
                               f"unknown knowledge source(s) {unknown} (known: {known})"))
            errors.extend((("skills", i, *loc), f"unknown tool {tool!r} (known: {available})")
                          for loc, tool in skill.tool_uses()
                          if python is not None and tool not in available)
            if isinstance(skill, FormSkill) and skill.tool in tools:
                errors.extend(_form_fits_tool(skill, self.tools[tools.index(skill.tool)], i))
        check(errors)
        return self

    @property
    def root(self) -> Path:
        """The folder of the flows.yaml file; relative paths in it start here."""
        return self._root

    def at(self, root: Path, python_tools: dict[str, Any] | None = None) -> FlowsConfig:
        """Anchor this config (in place) at `root`, the folder its file was read from, with
        the Python tools loaded from its `tools/` folder (LangChain `BaseTool`s by name)."""
        self._root = root.resolve()
        self._python_tools = dict(python_tools or {})
        return self

    @property
    def python_tools(self) -> dict[str, Any]:
        """The `@tool` functions of the bot's `tools/` folder, by name."""
        return self._python_tools

    def path(self, relative: Path | str) -> Path:
        """Resolve a path written in flows.yaml against the file's folder."""
        candidate = Path(relative)
        return candidate if candidate.is_absolute() else self._root / candidate

    @cached_property
    def skills_by_name(self) -> dict[str, Skill]:
        return {skill.name: skill for skill in self.skills}

    def skill(self, name: str | None) -> Skill | None:
        """The skill called `name`; None for None (the general answer) or an unknown name."""
        return self.skills_by_name.get(name) if name is not None else None

    @property
    def models(self) -> list[ModelSpec]:
        """The configured model followed by its fallbacks, in the order they are tried."""
        return [self.model, *self.fallback_models]


def _form_fits_tool(form: FormSkill, tool: HttpTool, index: int) -> list[tuple[Loc, str]]:
    """A form must give its HTTP tool every required argument, and verify a field it keeps;
    it may not call a `confirm: true` tool, which a form would run without asking (the
    yes/no question belongs to agent skills)."""
    errors: list[tuple[Loc, str]] = []
    if tool.confirm:
        errors.append((("skills", index, "tool"),
                       f"tool {tool.name!r} is confirm: true, which only an agent skill can "
                       "ask about; use an agent skill for it, or drop confirm"))
    slots = {slot.name for slot in form.slots}
    missing = sorted(n for n, arg in tool.args.items() if arg.required and n not in slots)
    if missing:
        errors.append((("skills", index, "tool"),
                       f"tool {tool.name!r} needs argument(s) {missing} that no slot gives"))
    if form.verify is not None and tool.keep is not None and not any(
            form.verify.field == kept or form.verify.field.startswith(kept + ".")
            for kept in tool.keep):
        errors.append((("skills", index, "verify", "field"),
                       f"tool {tool.name!r} does not keep {form.verify.field!r} "
                       f"(keep: {tool.keep})"))
    return errors
