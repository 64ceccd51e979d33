"""The agent's own tools: memory, todo, skills, session recall, delegation, scheduled jobs, clarify.

Their state lives in the episode's agent home (`home.AgentHome`, in the sandbox's HOME); the user
and child agents are reached through services the episode provides (`clarify.UserChannel`,
`delegate.ChildRunner`).
"""
