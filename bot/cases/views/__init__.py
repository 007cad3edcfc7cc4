"""What cases look like in Slack: the card and its thread posts (card), the audit trail in words
(events), the forms (modals), and the replies to the person who asked (replies)."""
