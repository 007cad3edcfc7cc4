"""Slack's request signature, checked once at the HTTP edge before anything reads the body.

https://api.slack.com/authentication/verifying-requests-from-slack: `X-Slack-Signature` is
`v0=` + HMAC-SHA256(signing secret, `v0:{timestamp}:{raw body}`), and the timestamp (whole
seconds) must be within five minutes of now, so a captured request cannot be replayed later.
"""

from __future__ import annotations

import hashlib
import hmac
import re

# What the edge puts in the Bolt context of a request it verified; only such a request (or one
# over Socket Mode, which Slack authenticates itself) may ever be answered at its response URL.
VERIFIED = "casedesk_signature_verified"
MAX_AGE_SECONDS = 5 * 60

_TIMESTAMP = re.compile(r"[0-9]{1,15}")
_SIGNATURE = re.compile(r"v0=[0-9a-f]{64}")


def signature_problem(
    secret: str, *, timestamp: str | None, signature: str | None, body: bytes, now: float
) -> str | None:
    """Why the request is not from Slack, or None when it is. Never raises, whatever the
    headers hold."""
    if not secret:
        return "no signing secret is configured"
    if timestamp is None or signature is None:
        return "no Slack signature headers"
    if not _TIMESTAMP.fullmatch(timestamp):
        return "the timestamp is not a whole number of seconds"
    if abs(now - int(timestamp)) > MAX_AGE_SECONDS:
        return "the timestamp is more than five minutes away from now"
    if not _SIGNATURE.fullmatch(signature):
        return "the signature is not of the form v0=<64 hex digits>"
    base = b"v0:" + timestamp.encode() + b":" + body
    expected = "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, signature):
        return "the signature does not match"
    return None
