"""Every write to drafts, comments, responses, votes, issued resolutions and tasks (one module per area)."""
