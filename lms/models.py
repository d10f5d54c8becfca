"""Project-level models (operations: jobs, outbox) arrive with their issues."""
