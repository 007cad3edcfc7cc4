"""App Home and /case stats: what each agent and manager sees of their work (flow), and its view."""
