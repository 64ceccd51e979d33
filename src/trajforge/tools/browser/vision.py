"""browser_vision's model call: a screenshot and a question to an OpenAI-compatible vision model."""

from __future__ import annotations

import base64
from dataclasses import dataclass

VISION_PROMPT = (
    "You are analyzing a screenshot of a web browser.\n\nUser's question: {question}\n\n"
    "Answer the question from what you see in the screenshot. Describe interactive elements when they "
    "matter, and read text and numbers exactly as shown."
)
MAX_TOKENS = 1500


@dataclass(frozen=True)
class VisionConfig:
    """Where browser_vision sends screenshots: an OpenAI-compatible base URL (…/v1) and a model name."""

    base_url: str
    model: str
    api_key: str = ""
    timeout: float = 120.0


class VisionFailed(Exception):
    """The vision model could not answer (unreachable, refused the image, an empty reply)."""


async def ask_vision(config: VisionConfig, png: bytes, question: str) -> str:
    """The model's answer to `question` about the screenshot `png`; raises VisionFailed."""
    from openai import AsyncOpenAI, OpenAIError  # imported when used: start-up stays fast

    client = AsyncOpenAI(base_url=config.base_url, api_key=config.api_key or "none", timeout=config.timeout,
                         max_retries=1)  # fmt: skip
    image = "data:image/png;base64," + base64.b64encode(png).decode("ascii")
    try:
        reply = await client.chat.completions.create(
            model=config.model,
            messages=[
                {
                    "role": "user",
                    "content": [
                        {"type": "text", "text": VISION_PROMPT.format(question=question)},
                        {"type": "image_url", "image_url": {"url": image}},
                    ],
                }
            ],
            max_tokens=MAX_TOKENS,
            temperature=0.1,
        )
    except OpenAIError as exc:
        raise VisionFailed(f"the vision model {config.model} at {config.base_url} failed: {exc}") from exc
    finally:
        await client.close()
    text = (reply.choices[0].message.content or "").strip() if reply.choices else ""
    if not text:
        raise VisionFailed(f"the vision model {config.model} returned no text")
    return text
