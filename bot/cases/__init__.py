"""Cases: the rules of every change with its audit event (rules), the queries that read them,
the /case command (commands), what a change shows in Slack (sync), and each use case end to end
(flow)."""
