"""What the agent reads: failures ranked and fitted to a token budget, rendered as text."""
