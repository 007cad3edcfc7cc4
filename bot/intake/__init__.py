"""Cases from conversations: a Slack message becomes a case (the message shortcut, an emoji
reaction, a help channel by itself), exactly once, answered in the requester's thread."""
