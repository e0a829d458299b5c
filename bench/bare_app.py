"""The floor `bench/load.py` measures parley against: a bare FastAPI app with parley's two
chat routes (same paths, same request shape), replying at once and keeping each
conversation's messages in this process's memory. Served by the same uvicorn as parley:

    uvicorn bare_app:app --app-dir bench [--workers N]
"""

from __future__ import annotations

from collections import defaultdict

from fastapi import FastAPI
from pydantic import BaseModel, Field


class ChatRequest(BaseModel):
    conversation_id: str = Field(..., min_length=1, max_length=200)
    text: str = Field(..., max_length=100_000)
    user_id: str | None = None


app = FastAPI()
history: defaultdict[str, list[dict[str, str]]] = defaultdict(list)


@app.get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@app.post("/api/chat")
async def chat(body: ChatRequest) -> dict[str, str | None]:
    reply = "Within 60 days, unworn."
    history[body.conversation_id].append({"user_text": body.text, "reply": reply})
    return {"conversation_id": body.conversation_id, "reply": reply}


@app.get("/api/conversations/{conversation_id:path}")
async def conversation(conversation_id: str) -> dict[str, object]:
    return {"conversation_id": conversation_id, "turns": history.get(conversation_id, [])}
