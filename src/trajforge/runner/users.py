"""The model that plays a task's simulated user (`user.simulate`), when the run names one of its own."""

from __future__ import annotations

import dataclasses

from trajforge.policy import ModelConfig, OpenAIPolicy


def user_policy(model: ModelConfig | None, endpoint: str | None, name: str | None) -> OpenAIPolicy | None:
    """A policy for `--user-endpoint/--user-model`: the run's model settings with the endpoint and model
    replaced; None when neither is given (the episode's own policy plays the user) or nothing is served."""
    if not (endpoint or name):
        return None
    if model is None and not (endpoint and name):
        return None  # the oracle run with only half of a user model: no model to play the user
    base = model or ModelConfig(str(endpoint), str(name))
    same = endpoint in (None, base.endpoint)
    return OpenAIPolicy(
        dataclasses.replace(
            base,
            endpoint=endpoint or base.endpoint,
            model=name or base.model,
            more_endpoints=base.more_endpoints if same else (),
            api_key=base.api_key if same else "",
        )
    )
