"""Block Kit limits, checked the way Slack checks them: the stand-in refuses messages, modals
and Home tabs whose blocks Slack would refuse, with Slack's error strings and JSON pointers."""

from __future__ import annotations

from typing import Any


def validate_blocks(blocks: Any, max_blocks: int = 50) -> list[str]:
    """Return Slack-style error strings for ``blocks`` (empty list when valid)."""
    if not isinstance(blocks, list) or not all(isinstance(b, dict) for b in blocks):
        return ["must be an array of block objects [json-pointer:/blocks]"]
    errors = _too_many(blocks, max_blocks, "/blocks")
    for i, block in enumerate(blocks):
        errors += _check_block(block, f"/blocks/{i}")
    return errors


def _check_block(block: dict[str, Any], pointer: str) -> list[str]:
    kind = block.get("type")
    errors = _too_long(block.get("block_id"), 255, f"{pointer}/block_id")
    if kind == "header":
        errors += _too_long(block.get("text"), 150, f"{pointer}/text")
    elif kind == "section":
        fields = block.get("fields") or []
        errors += _too_long(block.get("text"), 3000, f"{pointer}/text")
        errors += _too_many(fields, 10, f"{pointer}/fields")
        for i, item in enumerate(fields):
            errors += _too_long(item, 2000, f"{pointer}/fields/{i}")
        errors += _check_element(block.get("accessory"), f"{pointer}/accessory")
    elif kind == "actions":
        elements = block.get("elements") or []
        errors += _too_many(elements, 25, f"{pointer}/elements")
        for i, element in enumerate(elements):
            errors += _check_element(element, f"{pointer}/elements/{i}")
        errors += _repeated_action_ids(elements, f"{pointer}/elements")
    elif kind == "context":
        errors += _too_many(block.get("elements"), 10, f"{pointer}/elements")
    return errors


def _check_element(element: Any, pointer: str) -> list[str]:
    if not isinstance(element, dict) or element.get("type") != "button":
        return []
    return _too_long(element.get("text"), 75, f"{pointer}/text") + _too_long(
        element.get("value"), 2000, f"{pointer}/value"
    )


def _repeated_action_ids(elements: list[Any], pointer: str) -> list[str]:
    """Slack wants every `action_id` unique within its block."""
    seen: set[str] = set()
    errors = []
    for i, element in enumerate(elements):
        action_id = element.get("action_id") if isinstance(element, dict) else None
        if not isinstance(action_id, str):
            continue
        if action_id in seen:
            errors.append(
                f"action_id {action_id!r} is already used in this block "
                f"[json-pointer:{pointer}/{i}/action_id]"
            )
        seen.add(action_id)
    return errors


def _too_long(value: Any, limit: int, pointer: str) -> list[str]:
    if isinstance(value, dict):
        value, pointer = value.get("text"), f"{pointer}/text"
    if isinstance(value, str) and len(value) > limit:
        return [f"must be less than {limit + 1} characters [json-pointer:{pointer}]"]
    return []


def _too_many(items: Any, limit: int, pointer: str) -> list[str]:
    if isinstance(items, list) and len(items) > limit:
        return [f"must be less than {limit + 1} items [json-pointer:{pointer}]"]
    return []
