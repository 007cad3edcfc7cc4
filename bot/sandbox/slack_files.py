"""The files surface: ``files_upload_v2``'s three steps. ``files.getUploadURLExternal`` hands
out an upload URL (``/upload/<file_id>``, served here), the client POSTs the bytes there, and
``files.completeUploadExternal`` shares the files in channels."""

from __future__ import annotations

import copy

from bot.sandbox.slack_http import Json, Reply
from bot.sandbox.slack_state import MethodTable, SlackError, SlackState


class FileMethods(SlackState):
    """Uploaded files: ``files`` holds their bytes by file id."""

    def _init_files(self) -> None:
        self.files: dict[str, bytes] = {}  # file id -> uploaded bytes
        self._file_meta: dict[str, Json] = {}

    def _files_methods(self) -> MethodTable:
        return {
            "files.getUploadURLExternal": self._files_get_upload_url,
            "files.completeUploadExternal": self._files_complete_upload,
        }

    # ---- the upload URL

    def _upload(self, file_id: str, body: bytes) -> Reply:
        with self._lock:
            if file_id not in self._file_meta:
                return 404, {"Content-Type": "text/plain"}, b"unknown upload"
            self.files[file_id] = body
        return 200, {"Content-Type": "text/plain"}, f"OK - {len(body)}".encode()

    # ---- method handlers (called with the lock held; return the body minus "ok")

    def _files_get_upload_url(self, params: Json) -> Json:
        self._require(params, "filename", "length")
        file_id = self._new_id("F")
        self._file_meta[file_id] = {
            "id": file_id,
            "name": params["filename"],
            "title": params["filename"],
            "size": int(params["length"]),
        }
        return {"upload_url": f"{self.url}upload/{file_id}", "file_id": file_id}

    def _files_complete_upload(self, params: Json) -> Json:
        entries = params.get("files")
        if not isinstance(entries, list) or not entries:
            raise SlackError("invalid_arguments")
        if any(e.get("id") not in self.files for e in entries):
            raise SlackError("file_not_found")
        files = []
        for entry in entries:
            meta = self._file_meta[entry["id"]]
            meta["title"] = entry.get("title") or meta["title"]
            files.append(copy.deepcopy(meta))
        channels = [params["channel_id"]] if params.get("channel_id") else []
        channels += [c for c in str(params.get("channels") or "").split(",") if c]
        share = {"text": params.get("initial_comment", ""), "thread_ts": params.get("thread_ts")}
        for channel in [self._channel({"channel": c}) for c in channels]:
            self._add_message(channel, share, files=copy.deepcopy(files))
        return {"files": files}
