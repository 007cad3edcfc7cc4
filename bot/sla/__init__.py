"""SLAs: business calendars, the policies of app.yaml, the timers replayed from a case's
history, the `sla-check` job that decides warnings and breaches once, and their messages."""
