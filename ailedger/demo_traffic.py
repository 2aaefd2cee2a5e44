"""Realistic demo traffic: several providers, models, prompt types and accounts, with errors,
response-cache hits, prompt-cache tokens, reasoning tokens and multi-call task runs."""

from __future__ import annotations

import random
import uuid
from datetime import datetime, timedelta, timezone
from typing import Iterator

from schemas.events import AICallEvent

# (provider, model, weight, typical input, typical output, reasoning share, prompt-cache share)
MODELS = [
    ("openai", "gpt-4o", 18, 1800, 400, 0.0, 0.3),
    ("openai", "gpt-4o-mini", 30, 1200, 300, 0.0, 0.2),
    ("openai", "o3-mini", 6, 900, 300, 2.5, 0.1),
    ("anthropic", "claude-sonnet-4-5", 14, 2500, 500, 0.0, 0.5),
    ("anthropic", "claude-haiku-4-5", 12, 1500, 300, 0.0, 0.4),
    ("google", "gemini-2.5-flash", 12, 2000, 350, 0.4, 0.2),
    ("google", "gemini-2.5-pro", 4, 6000, 700, 0.8, 0.1),
    ("ollama", "llama3", 4, 800, 250, 0.0, 0.0),
]
PROMPT_TYPES = [
    ("extract_page_metadata", "extract"), ("generate_image_metadata", "images"),
    ("analyze_image_layout", "images"), ("select_best_tags", "tagging"), ("chat", "chat"),
    ("auto_cluster", "clustering"), ("generate_content", "content"), ("generate_ideas", "content"),
]
ACCOUNTS = ["acme", "globex", "initech", "umbrella", "hooli", "stark", "wayne"]
ERRORS = [("RateLimitError", "429 rate limit exceeded"), ("APITimeoutError", "request timed out after 60s"),
          ("BadRequestError", "context length exceeded")]


def generate(count: int, days: int = 7, seed: int = 7, now: datetime | None = None) -> Iterator[AICallEvent]:
    """``count`` events spread over the last ``days`` days with a daytime peak (over a day or more;
    below a day, e.g. 0.01 for live traffic, every event lies within the last ``days`` days)."""
    rng = random.Random(seed)
    now = now or datetime.now(timezone.utc)
    weights = [m[2] for m in MODELS]
    task_left, task_id = 0, None
    for i in range(count):
        provider, model, _, typ_in, typ_out, reasoning, cache_share = rng.choices(MODELS, weights)[0]
        prompt_type, operation = rng.choice(PROMPT_TYPES)
        account = ACCOUNTS[min(int(rng.paretovariate(1.2)) - 1, len(ACCOUNTS) - 1)]
        age = timedelta(seconds=rng.random() * days * 86400)
        at = now - age
        hour = at.hour
        if days >= 1 and 1 <= hour <= 6 and rng.random() < 0.6:  # quieter at night (live traffic stays live)
            at -= timedelta(hours=8)
        prompt = int(rng.lognormvariate(0, 0.6) * typ_in)
        cached_prompt = int(prompt * cache_share * rng.random())
        out = int(rng.lognormvariate(0, 0.5) * typ_out)
        failed = rng.random() < 0.03
        response_cache = not failed and rng.random() < 0.08
        if task_left == 0 and rng.random() < 0.1:
            task_left, task_id = rng.randint(2, 4), f"task-{uuid.UUID(int=rng.getrandbits(128)).hex[:12]}"
        error_type, error_message = rng.choice(ERRORS) if failed else (None, None)
        yield AICallEvent(
            event_id=uuid.UUID(int=rng.getrandbits(128), version=4),
            occurred_at=min(at, now),
            account_id=account,
            user_id=f"{account}-user-{rng.randint(1, 6)}",
            prompt_type=prompt_type,
            operation=operation,
            provider=provider,
            model=model,
            input_tokens=0 if response_cache else prompt - cached_prompt,
            cache_read_tokens=0 if response_cache or provider == "ollama" else cached_prompt,
            cache_write_tokens=int(prompt * 0.05) if provider == "anthropic" and rng.random() < 0.2 else 0,
            output_tokens=0 if failed or response_cache else out,
            reasoning_tokens=0 if failed or response_cache else int(out * reasoning * rng.random()),
            latency_ms=0.0 if response_cache else round(rng.lognormvariate(0, 0.5) * (300 + out * 8), 1),
            success=not failed,
            error_type=error_type,
            error_message=error_message,
            cached=response_cache,
            source=rng.choice(["web-api", "batch-jobs", "crawler"]),
            task_id=task_id if task_left > 0 else None,
            metadata={"demo": True, "seq": i},
        )
        task_left = max(task_left - 1, 0)
