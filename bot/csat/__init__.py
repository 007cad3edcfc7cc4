"""Customer satisfaction: the survey after a close, its answers, and their messages."""
