"""`push`: a published dataset folder uploaded to the Hugging Face hub in one commit."""

from __future__ import annotations

from pathlib import Path


class PushError(RuntimeError):
    """The upload did not happen; the message says why and what to do."""


def push(dataset: Path, repo_id: str, *, private: bool = False, token: str | None = None) -> str:
    """Upload `dataset` (a folder `publish` wrote) to the dataset repository `repo_id`; returns its URL.

    The token comes from `token`, else the usual HF_TOKEN / `hf auth login`. The
    whole folder goes up as one commit, so a failure leaves the repository as it
    was; nothing local is written or changed.
    """
    if not (dataset / "README.md").is_file() or not (dataset / "data").is_dir():
        raise PushError(f"{dataset}: not a published dataset folder (README.md and data/ expected)")
    from huggingface_hub import HfApi  # imported here: it is slow to import and only push needs it
    from huggingface_hub.errors import HfHubHTTPError, OfflineModeIsEnabled

    api = HfApi(token=token)
    try:
        api.create_repo(repo_id, repo_type="dataset", private=private, exist_ok=True)
        commit = api.upload_folder(
            folder_path=str(dataset),
            repo_id=repo_id,
            repo_type="dataset",
            commit_message=f"Upload {dataset.name} with trajforge",
            allow_patterns=["README.md", "data/**"],
        )
    except OfflineModeIsEnabled:
        raise PushError("HF_HUB_OFFLINE is set: unset it to push (nothing was uploaded)") from None
    except HfHubHTTPError as exc:
        raise PushError(f"the hub refused the upload to {repo_id}: {exc}".splitlines()[0]) from None
    except (OSError, ConnectionError) as exc:
        raise PushError(f"cannot reach the hub ({api.endpoint}): {exc} (nothing was uploaded)") from None
    except Exception as exc:  # transport errors (httpx or requests) and others differ between versions
        name = type(exc).__name__
        if "connect" in name.lower() or "timeout" in name.lower():
            raise PushError(f"cannot reach the hub ({api.endpoint}): {exc} (nothing was uploaded)") from None
        raise PushError(f"push to {repo_id} failed: {name}: {exc}".splitlines()[0]) from None
    return str(getattr(commit, "repo_url", "") or f"{api.endpoint}/datasets/{repo_id}")
