"""How the bot runs: settings, the assembly of every part, the HTTP server, the listener pools,
the scheduler and the lease that picks the one process to run it."""
