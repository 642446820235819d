"""Endpoints of the fake server: Messages, Message Batches, Chat Completions, Files and Batch."""

from __future__ import annotations

import json
import time
from datetime import datetime, timezone
from typing import Any

_NOW = lambda: datetime.now(timezone.utc).isoformat()  # noqa: E731


def route(server: Any, handler: Any, method: str, path: str, body: bytes) -> None:
    """Dispatch one request."""
    parts = path.strip("/").split("/")
    if method == "GET" and path == "/_stats":  # for benchmarks that run the server in another process
        return handler.send_json(200, {"answered": server.answered, "requests": server.requests,
                                       "duplicates": server.duplicates()})
    if method == "POST" and path == "/v1/messages":
        return _online(server, handler, body, anthropic=True)
    if method == "POST" and path == "/v1/chat/completions":
        return _online(server, handler, body, anthropic=False)
    if path.startswith("/v1/messages/batches"):
        return _anthropic_batches(server, handler, method, parts[3:], body)
    if method == "POST" and path == "/v1/files":
        return _upload(server, handler, body)
    if method == "GET" and len(parts) == 4 and parts[:2] == ["v1", "files"] and parts[3] == "content":
        return handler.send_bytes(200, server.files[parts[2]], "application/octet-stream")
    if path.startswith("/v1/batches"):
        return _openai_batches(server, handler, method, parts[2:], body)
    handler.send_json(404, {"error": {"message": f"no route {method} {path}"}})


# -- online completions with faults ----------------------------------------------------------------------------
def _online(server: Any, handler: Any, body: bytes, *, anthropic: bool) -> None:
    fault = server.fault()
    if server.latency:
        time.sleep(server.latency)
    if fault == "rate_limit":
        return handler.send_json(429, _error("rate_limit_error", "slow down"),
                                 {"retry-after": str(server.faults.retry_after)})
    if fault in ("server_error", "overloaded"):
        status = 500 if fault == "server_error" else 529
        return handler.send_json(status, _error("api_error" if status == 500 else "overloaded_error", fault))
    if fault == "timeout":
        time.sleep(server.faults.hang)
    request = json.loads(body)
    system, user, cached = _prompts(request, anthropic=anthropic)
    if fault in ("truncated", "malformed"):
        # The model's work is done (and billed by a real API) but the answer never arrives intact.
        server.complete(system, user, cached, delivered=False)
        data = json.dumps({"partial": "x" * 200}).encode()
        if fault == "malformed":
            return handler.send_bytes(200, b"{not json <html>" + data, "application/json")
        handler.send_response(200)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(data) + 500))
        handler.end_headers()
        handler.wfile.write(data[: len(data) // 2])
        handler.wfile.flush()
        handler.close_connection = True
        return None
    text, usage = server.complete(system, user, cached)
    model = request["model"]
    if anthropic:
        headers = {"request-id": server.next_id("req"), **server.rate_headers}
        return handler.send_json(200, anthropic_message(server, model, text, usage), headers)
    headers = {"x-request-id": server.next_id("req"), **server.rate_headers}
    return handler.send_json(200, chat_completion(server, model, text, usage), headers)


def _prompts(request: dict[str, Any], *, anthropic: bool) -> tuple[str, str, bool]:
    if anthropic:
        system = request.get("system", "")
        cached = False
        if isinstance(system, list):
            cached = any("cache_control" in block for block in system)
            system = "".join(block["text"] for block in system)
        content = request["messages"][0]["content"]
        user = content if isinstance(content, str) else "".join(b["text"] for b in content)
        return system, user, cached
    messages = request["messages"]
    system = "".join(m["content"] for m in messages if m["role"] == "system")
    user = "".join(m["content"] for m in messages if m["role"] == "user")
    return system, user, False


def _error(kind: str, message: str) -> dict[str, Any]:
    return {"type": "error", "error": {"type": kind, "message": message}}


def anthropic_message(server: Any, model: str, text: str, usage: dict[str, int]) -> dict[str, Any]:
    """A Messages API response body."""
    return {
        "id": server.next_id("msg"), "type": "message", "role": "assistant", "model": model,
        "content": [{"type": "text", "text": text}], "stop_reason": "end_turn", "stop_sequence": None,
        "usage": {"input_tokens": usage["input"], "output_tokens": usage["output"],
                  "cache_creation_input_tokens": usage["cache_write"], "cache_read_input_tokens": usage["cache_read"]},
    }


def chat_completion(server: Any, model: str, text: str, usage: dict[str, int]) -> dict[str, Any]:
    """A chat.completion body (OpenAI counts cached tokens inside prompt_tokens)."""
    prompt = usage["input"] + usage["cache_read"] + usage["cache_write"]
    return {
        "id": server.next_id("chatcmpl"), "object": "chat.completion", "created": int(time.time()), "model": model,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": prompt, "completion_tokens": usage["output"],
                  "total_tokens": prompt + usage["output"],
                  "prompt_tokens_details": {"cached_tokens": usage["cache_read"]}},
    }


# -- Anthropic Message Batches ----------------------------------------------------------------------------------
def _anthropic_batches(server: Any, handler: Any, method: str, rest: list[str], body: bytes) -> None:
    if method == "POST" and not rest:
        requests = json.loads(body)["requests"]
        batch_id = server.next_id("msgbatch")
        server.batches[batch_id] = {"kind": "anthropic", "requests": requests, "polls": 0, "results": None,
                                    "canceled": False}
        return handler.send_json(200, _anthropic_batch(server, batch_id))
    batch = server.batches.get(rest[0]) if rest else None
    if batch is None:
        return handler.send_json(404, _error("not_found_error", "no such batch"))
    if method == "POST" and rest[1:] == ["cancel"]:
        batch["canceled"] = True
        return handler.send_json(200, _anthropic_batch(server, rest[0]))
    if method == "GET" and rest[1:] == ["results"]:
        lines = [json.dumps(r) for r in batch["results"] or []]
        return handler.send_bytes(200, ("\n".join(lines) + "\n").encode(), "application/binary")
    batch["polls"] += 1
    return handler.send_json(200, _anthropic_batch(server, rest[0]))


def _anthropic_batch(server: Any, batch_id: str) -> dict[str, Any]:
    batch = server.batches[batch_id]
    ended = batch["canceled"] or batch["polls"] >= server.batch_polls
    if ended and batch["results"] is None:
        batch["results"] = [_anthropic_result(server, r, batch["canceled"]) for r in batch["requests"]]
    counts = {"processing": 0 if ended else len(batch["requests"]), "succeeded": 0, "errored": 0, "canceled": 0,
              "expired": 0}
    for result in batch["results"] or []:
        counts[result["result"]["type"]] += 1
    return {
        "id": batch_id, "type": "message_batch", "processing_status": "ended" if ended else "in_progress",
        "request_counts": counts, "created_at": _NOW(), "expires_at": _NOW(), "ended_at": _NOW() if ended else None,
        "archived_at": None, "cancel_initiated_at": _NOW() if batch["canceled"] else None,
        # Absolute, on purpose: the SDK must follow it as given.
        "results_url": f"{server.url}/v1/messages/batches/{batch_id}/results" if ended else None,
    }


def _anthropic_result(server: Any, request: dict[str, Any], canceled: bool) -> dict[str, Any]:
    custom_id = request["custom_id"]
    if canceled:
        return {"custom_id": custom_id, "result": {"type": "canceled"}}
    roll = server.batch_roll()
    if roll == "errored":
        error = _error("api_error", "internal error")
        return {"custom_id": custom_id, "result": {"type": "errored", "error": error}}
    if roll == "expired":
        return {"custom_id": custom_id, "result": {"type": "expired"}}
    system, user, cached = _prompts(request["params"], anthropic=True)
    text, usage = server.complete(system, user, cached)
    message = anthropic_message(server, request["params"]["model"], text, usage)
    return {"custom_id": custom_id, "result": {"type": "succeeded", "message": message}}


# -- OpenAI Files and Batch -------------------------------------------------------------------------------------
def _upload(server: Any, handler: Any, body: bytes) -> None:
    fields = handler.multipart(body)
    file_id = server.next_id("file")
    server.files[file_id] = fields["file"]
    handler.send_json(200, {"id": file_id, "object": "file", "bytes": len(fields["file"]), "created_at": 0,
                            "filename": "batch.jsonl", "purpose": fields["purpose"].decode(), "status": "processed"})


def _openai_batches(server: Any, handler: Any, method: str, rest: list[str], body: bytes) -> None:
    if method == "POST" and not rest:
        request = json.loads(body)
        batch_id = server.next_id("batch")
        server.batches[batch_id] = {"kind": "openai", "input": request["input_file_id"], "polls": 0,
                                    "endpoint": request["endpoint"], "done": None, "canceled": False}
        return handler.send_json(200, _openai_batch(server, batch_id))
    batch = server.batches.get(rest[0]) if rest else None
    if batch is None:
        return handler.send_json(404, {"error": {"message": "no such batch"}})
    if method == "POST" and rest[1:] == ["cancel"]:
        batch["canceled"] = True
    else:
        batch["polls"] += 1
    return handler.send_json(200, _openai_batch(server, rest[0]))


def _openai_batch(server: Any, batch_id: str) -> dict[str, Any]:
    batch = server.batches[batch_id]
    lines = [json.loads(x) for x in server.files[batch["input"]].decode().splitlines() if x.strip()]
    ended = batch["canceled"] or batch["polls"] >= server.batch_polls
    if ended and batch["done"] is None:
        batch["done"] = _openai_run(server, lines, batch["canceled"])
    output_id, error_id, failed = batch["done"] or (None, None, 0)
    status = ("cancelled" if batch["canceled"] else "completed") if ended else "in_progress"
    return {
        "id": batch_id, "object": "batch", "endpoint": batch["endpoint"], "input_file_id": batch["input"],
        "completion_window": "24h", "status": status, "created_at": 0, "output_file_id": output_id,
        "error_file_id": error_id,
        "request_counts": {"total": len(lines), "completed": len(lines) - failed if ended else 0, "failed": failed},
    }


def _openai_run(server: Any, lines: list[dict[str, Any]], canceled: bool) -> tuple[str | None, str | None, int]:
    outputs, errors = [], []
    for line in lines:
        roll = "cancelled" if canceled else server.batch_roll()
        if roll is not None:
            code = {"errored": "server_error", "expired": "batch_expired", "cancelled": "batch_cancelled"}[roll]
            errors.append({"id": server.next_id("batch_req"), "custom_id": line["custom_id"], "response": None,
                           "error": {"code": code, "message": roll}})
            continue
        system, user, _ = _prompts(line["body"], anthropic=False)
        text, usage = server.complete(system, user, False)
        body = chat_completion(server, line["body"]["model"], text, usage)
        outputs.append({"id": server.next_id("batch_req"), "custom_id": line["custom_id"], "error": None,
                        "response": {"status_code": 200, "request_id": server.next_id("req"), "body": body}})
    output_id = _store(server, outputs) if outputs else None
    error_id = _store(server, errors) if errors else None
    return output_id, error_id, len(errors)


def _store(server: Any, rows: list[dict[str, Any]]) -> str:
    file_id = server.next_id("file")
    server.files[file_id] = ("\n".join(json.dumps(r) for r in rows) + "\n").encode()
    return file_id
