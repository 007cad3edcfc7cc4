"""The one way to Slack: the Web API gateway, Block Kit primitives, the signature check, and
the outbox every Slack write that follows from a change goes through (queued in the change's
transaction by `queue.enqueue`, held by `claims`, delivered by `outbox`)."""
