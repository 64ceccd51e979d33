"""The `cronjob` tool: scheduled jobs in the home (hermes-agent's cronjob_tools).

Times come from the episode's clock (fixed at its start and recorded), so `next_run_at` is the
same in every repeat. `run` executes a job now: its script as a shell command in the sandbox, or
its prompt as a child episode; the result and time go into the job's history.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Literal

from trajforge.sandbox import ExecRequest
from trajforge.tools.agent import home_helper as layout
from trajforge.tools.agent.delegate import ChildRunner, ChildTask
from trajforge.tools.agent.home import AgentHome, iso
from trajforge.tools.agent.schedules import ScheduleError, parse_schedule
from trajforge.tools.ordering import CallOrder
from trajforge.tools.registry import ToolContext, ToolError, current_call, tool
from trajforge.trace.turns import dumps

SCRIPT_TIMEOUT = 120
OUTPUT_CHARS = 4000
MAX_JOBS = 100


@dataclass
class JobBook:
    """The stored jobs, and the number of the last job id given (ids are never given twice)."""

    jobs: list[dict[str, Any]] = field(default_factory=list)
    last_id: int = 0


async def read_jobs(home: AgentHome) -> JobBook:
    """The stored jobs."""
    text = await home.read_text(layout.JOBS_FILE)
    if not text:
        return JobBook()
    try:
        data = json.loads(text)
        jobs = list(data["jobs"])
        missing = [key for job in jobs for key in ("id", "schedule", "history", "state") if key not in job]
        if missing:
            raise KeyError(missing[0])
        return JobBook(jobs, int(data.get("last_id", len(jobs))))
    except (ValueError, KeyError, TypeError) as exc:
        what = type(exc).__name__
        raise ToolError(f"~/.agent/{layout.JOBS_FILE} is damaged ({what}); remove it to start over") from None


async def write_jobs(home: AgentHome, book: JobBook) -> None:
    """Store the jobs."""
    await home.write_text(layout.JOBS_FILE, dumps({"jobs": book.jobs, "last_id": book.last_id}) + "\n")


def new_job(home: AgentHome, book: JobBook, fields: dict[str, Any]) -> dict[str, Any]:
    """A job made from create's fields (schedule, name, prompt, script, repeat), added to `book`."""
    now = home.now()
    schedule = _schedule(fields.get("schedule") or "", now)
    if not (fields.get("prompt") or fields.get("script")):
        raise ToolError("a job needs a prompt (what the agent should do) or a script (a shell command) to run")
    repeat = fields.get("repeat")
    if repeat is not None and repeat < 1:
        raise ToolError("repeat is how many times to run (1 or more); leave it out to repeat forever")
    book.last_id += 1
    job = {
        "id": f"job-{book.last_id}",
        "name": fields.get("name") or (fields.get("prompt") or fields.get("script") or "")[:50],
        "prompt": fields.get("prompt") or None,
        "script": fields.get("script") or None,
        "schedule": schedule.text,
        "schedule_display": schedule.display,
        "repeat": 1 if schedule.kind == "once" else repeat,
        "runs_completed": 0,
        "state": "scheduled",
        "created_at": iso(now),
        "next_run_at": schedule.next_after(now),
        "last_run_at": None,
        "history": [],
    }
    book.jobs.append(job)
    return job


def _schedule(text: str, now: Any) -> Any:
    if not text.strip():
        raise ToolError("schedule is required: a cron expression, '30m', 'every 2h', 'in 30m' or an ISO time")
    try:
        return parse_schedule(text, now)
    except ScheduleError as exc:
        raise ToolError(str(exc)) from None


def _find(jobs: list[dict[str, Any]], job_id: str) -> dict[str, Any]:
    if not job_id:
        raise ToolError("job_id is required for this action")
    for job in jobs:
        if job["id"] == job_id:
            return job
    raise ToolError(f"No job '{job_id}'.", available=[j["id"] for j in jobs])


def _update(home: AgentHome, job: dict[str, Any], fields: dict[str, Any]) -> None:
    for key in ("name", "prompt", "script"):
        if fields.get(key):
            job[key] = fields[key]
    if fields.get("repeat") is not None:
        if fields["repeat"] < 1:
            raise ToolError("repeat is how many times to run (1 or more)")
        job["repeat"] = fields["repeat"]
    if fields.get("schedule"):
        schedule = _schedule(fields["schedule"], home.now())
        job.update(schedule=schedule.text, schedule_display=schedule.display)
        if schedule.kind == "once":
            job["repeat"] = 1
        if job["state"] == "scheduled":
            job["next_run_at"] = schedule.next_after(home.now())


async def _run_now(ctx: ToolContext, home: AgentHome, job: dict[str, Any]) -> dict[str, Any]:
    """Run a job once now; its entry of history."""
    if job.get("script"):
        result = await ctx.sandbox.run(ExecRequest(job["script"], timeout=SCRIPT_TIMEOUT, fresh=True))
        status = "ok" if result.exit_code == 0 else ("timeout" if result.timed_out else "failed")
        entry = {"ran_at": iso(home.now()), "status": status, "exit_code": result.exit_code,
                 "output": result.output[-OUTPUT_CHARS:]}  # fmt: skip
    else:
        runner = ctx.service(ChildRunner)  # type: ignore[type-abstract]
        call = current_call.get()
        task = ChildTask(job["prompt"], f"This is the scheduled job '{job['name']}' ({job['schedule']}), run now.")
        (report,) = await runner.run_children(call.id if call else "", [task])
        entry = {"ran_at": iso(home.now()), "status": "ok" if report.status == "completed" else report.status,
                 "output": report.summary[-OUTPUT_CHARS:]}  # fmt: skip
    job["history"].append(entry)
    job["last_run_at"] = entry["ran_at"]
    job["runs_completed"] += 1
    if job["repeat"] is not None and job["runs_completed"] >= job["repeat"]:
        job.update(state="completed", next_run_at=None)
    return entry


def _public(job: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in job.items() if value is not None or key in ("next_run_at", "repeat")}


@tool("cronjob", order=CallOrder.BARRIER)
async def cronjob(
    ctx: ToolContext,
    action: Literal["create", "list", "update", "pause", "resume", "remove", "run"],
    job_id: str = "",
    name: str = "",
    prompt: str = "",
    schedule: str = "",
    script: str = "",
    repeat: int | None = None,
) -> str:
    """Schedule jobs that run later or repeatedly: reminders, reports, checks, clean-ups.

    A schedule is a cron expression ('0 9 * * 1-5'), an interval ('30m', 'every 2h'), a one-shot
    delay ('in 30m') or an ISO time ('2026-03-02T09:00:00Z'). A job runs a prompt (a task for the
    agent, stated in full since it starts with no memory of this conversation) or a script (a
    shell command run in the workspace). Each job shows its next_run_at; run executes it now.

    Args:
        action: create, list, update, pause, resume, remove, or run (now).
        job_id: The job to update, pause, resume, remove or run.
        name: A short name for the job.
        prompt: What the agent should do when the job runs.
        schedule: When it runs (see above).
        script: A shell command to run instead of a prompt.
        repeat: How many times to run (default: forever; a one-shot runs once).
    """
    home = ctx.service(AgentHome)
    book = await read_jobs(home)
    jobs = book.jobs
    fields = {"name": name.strip(), "prompt": prompt.strip(), "schedule": schedule, "script": script.strip(),
              "repeat": repeat}  # fmt: skip
    if action == "list":
        return dumps({"success": True, "count": len(jobs), "jobs": [_public(j) for j in jobs], "now": iso(home.now())})
    if action == "create":
        if len(jobs) >= MAX_JOBS:
            raise ToolError(f"at most {MAX_JOBS} jobs; remove some first")
        job = new_job(home, book, fields)
        await write_jobs(home, book)
        return dumps({"success": True, "job": _public(job), "message": f"Job '{job['id']}' created."})
    job = _find(jobs, job_id)
    extra: dict[str, Any] = {}
    if action == "remove":
        jobs.remove(job)
        await write_jobs(home, book)
        return dumps({"success": True, "message": f"Job '{job_id}' removed.", "removed": _public(job)})
    if action == "update":
        _update(home, job, fields)
    elif action == "pause":
        job.update(state="paused", next_run_at=None)
    elif action == "resume":
        if job["state"] == "completed":
            raise ToolError(f"Job '{job_id}' has completed its runs; update its repeat or schedule first.")
        job["state"] = "scheduled"
        job["next_run_at"] = _schedule(job["schedule"], home.now()).next_after(home.now())
    else:
        extra["run"] = await _run_now(ctx, home, job)
    await write_jobs(home, book)
    return dumps({"success": True, "job": _public(job), **extra})
