#!/usr/bin/env python3
"""A MyRPC client in Python (standard library only), written from docs/PROTOCOL.md alone.

As a library::

    from client import MyRpcClient, RpcError
    with MyRpcClient().connect("127.0.0.1", 7000, timeout=5.0) as c:
        print(c.call("Calculator", "add", [2, 3], timeout_ms=1000))       # 5
        handle = c.start_call("Calculator", "slowSum", [1000, 10], 30000)
        handle.cancel()                                                  # sends CANCEL
        handle.result()                                                  # raises RpcError CANCELLED

Over TLS (and mTLS with a client certificate), with a bearer token in the metadata::

    ctx = tls_context(ca="ca.crt", cert="client.crt", key="client.key")
    with MyRpcClient(metadata={"authorization": "Bearer s3cret"}).connect("127.0.0.1", 7000, ssl_context=ctx) as c:
        print(c.call("Calculator", "add", [2, 3]))

As a script (against the calculator sample server)::

    python3 samples/python/client.py --host 127.0.0.1 --port 7000 [--tls-ca ca.crt [--tls-cert c.crt --tls-key c.key]] [--token T]

Only the JSON codec (0) is implemented: the standard library has no MessagePack.
Section numbers in comments ("§8.2") refer to docs/PROTOCOL.md.
"""
import argparse
import json
import math
import queue
import socket
import ssl
import struct
import sys
import threading
import time

__all__ = ["MyRpcClient", "RpcError", "CallHandle", "RPC_CODES"]

# §3 preface and §4 frame layouts. Everything is big-endian and unsigned (§1).
MAGIC = b"MYRPC"
VERSION = 1
CODEC_JSON = 0
PREFACE = struct.Struct(">5sBBBI")  # magic, version, codec, status, maxFrameBytes: 12 bytes
HEADER = struct.Struct(">IBI")  # payloadBytes, kind, requestId: 9 bytes
REASON_LEN = struct.Struct(">H")  # u16 that follows a refused preface (§3.2)
DEFAULT_MAX_FRAME_BYTES = 16 * 1024 * 1024  # both reference peers' default (§3)
MAX_ID = 0xFFFFFFFF

REQUEST, RESPONSE, ERROR, CANCEL, PING, PONG, GOAWAY = 1, 2, 3, 4, 5, 6, 7
STREAM_ITEM, WINDOW, STREAM_END = 8, 9, 10  # §6.7, only after the streams flag was acknowledged (§3.5)
KIND_NAMES = {1: "REQUEST", 2: "RESPONSE", 3: "ERROR", 4: "CANCEL", 5: "PING", 6: "PONG", 7: "GOAWAY",
              8: "STREAM_ITEM", 9: "WINDOW", 10: "STREAM_END"}
FLAG_STREAMS, STREAMS_ACCEPTED = 0x01, 0x81  # §3.5
STREAM_WINDOW = (64, 1024 * 1024)  # the credit granted with a stream's REQUEST, given back at half (§6.7)
REFUSALS = {1: "UNSUPPORTED_VERSION", 2: "UNSUPPORTED_CODEC", 3: "BAD_MAGIC"}

# §10.1: the code strings; anything else received is treated as UNKNOWN (§6.3).
RPC_CODES = frozenset([
    "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED", "NOT_FOUND", "ALREADY_EXISTS",
    "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION", "ABORTED", "OUT_OF_RANGE",
    "UNIMPLEMENTED", "INTERNAL", "UNAVAILABLE", "DATA_LOSS", "UNAUTHENTICATED",
])
RETRYABLE_CODES = frozenset(["RESOURCE_EXHAUSTED", "ABORTED", "UNAVAILABLE"])


class RpcError(Exception):
    """A failed call: `code` is one of RPC_CODES, `details` a list of detail objects (§10.2).

    `timeout` is "call", "handle" or "write" on deadline and write-timeout errors; `not_run` is True when the
    server said it refused the request before running any of it (§6.3)."""

    def __init__(self, code, message, details=None, timeout=None, not_run=False):
        super().__init__("%s: %s" % (code, message))
        self.code = code
        self.message = message
        self.details = list(details) if details else []
        self.timeout = timeout
        self.not_run = not_run

    @property
    def retryable(self):
        return self.code in RETRYABLE_CODES

    @classmethod
    def from_payload(cls, obj):
        """Builds the error from an ERROR frame's decoded payload `{code, message, details?, timeout?, notRun?}`."""
        if not isinstance(obj, dict):
            return cls("UNKNOWN", "malformed ERROR payload: %r" % (obj,))
        code = obj.get("code")
        message = obj.get("message")
        message = message if isinstance(message, str) else ""
        if code not in RPC_CODES:
            message = "%s (server code %r)" % (message, code)
            code = "UNKNOWN"
        details = obj.get("details")
        details = details if isinstance(details, list) else []
        timeout = obj.get("timeout") if isinstance(obj.get("timeout"), str) else None
        return cls(code, message, details, timeout, obj.get("notRun") is True)


def encode_json(value):
    """§5.1: one JSON text, UTF-8, no extra whitespace. None encodes to an empty payload ("no value")."""
    if value is None:
        return b""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode("utf-8")


def decode_json(payload):
    """§5: an empty payload is "no value" (None); otherwise one JSON text."""
    if not payload:
        return None
    return json.loads(payload.decode("utf-8", errors="replace"))


class CallHandle:
    """One call in flight. `result()` waits for it; `cancel()` sends CANCEL and fails it with CANCELLED."""

    def __init__(self, client, request_id, service, method, deadline):
        self.id = request_id
        self.service = service
        self.method = method
        self.deadline = deadline  # time.monotonic() value
        self._client = client
        self._done = threading.Event()
        self._value = None
        self._error = None
        self._timer = None

    def done(self):
        return self._done.is_set()

    def cancel(self):
        """Cancels the call if it is still in flight; returns True if it was. Safe from any thread."""
        return self._client._cancel(self, RpcError("CANCELLED", "cancelled by the caller"))

    def result(self, timeout=None):
        """Waits for the answer (at most `timeout` seconds more, if given; the call's deadline always applies)."""
        if not self._done.wait(timeout):
            raise TimeoutError("the call %s.%s (id %d) is still in flight" % (self.service, self.method, self.id))
        if self._error is not None:
            raise self._error
        return self._value

    # Called once, by whoever removed the call from the client's table (see MyRpcClient._take).
    def _settle(self, value=None, error=None):
        if self._timer is not None:
            self._timer.cancel()
        self._value, self._error = value, error
        self._done.set()


class MyRpcClient:
    """One MyRPC connection (JSON codec) with many concurrent calls, matched to answers by request id."""

    def __init__(self, max_frame_bytes=DEFAULT_MAX_FRAME_BYTES, write_timeout=10.0, metadata=None):
        self.metadata = dict(metadata or {})  # sent with every call (e.g. authorization); a call's own wins per key
        self.max_frame_bytes = max_frame_bytes  # the largest payload we accept (announced in our preface)
        self.server_max_frame_bytes = None  # the largest payload the server accepts (from its preface)
        self.write_timeout = write_timeout
        self.goaway_reason = None  # set when the server sent GOAWAY (§6.6)
        self.connection_error = None  # RpcError from an ERROR on id 0 (§6.3)
        self._sock = None
        self._reader = None
        self._lock = threading.Lock()  # guards the tables below and the id counter
        self._write_lock = threading.Lock()  # one frame written at a time, never interleaved
        self._calls = {}  # request id -> CallHandle
        self._pings = {}  # request id -> [threading.Event, send time, rtt]
        self._streams = {}  # request id -> queue.Queue of ("item", value, bytes) / ("end", None) / ("error", RpcError)
        self.streams = False  # the server acknowledged streams (§3.5)
        self._next_id = 1
        self._closed = True
        self._close_error = None

    # ----- connection -----------------------------------------------------------------------------------

    def connect(self, host="127.0.0.1", port=0, timeout=5.0, ssl_context=None, server_hostname=None):
        """Opens the TCP connection (TLS with `ssl_context`, see tls_context) and does the preface exchange
        (§3, §14 steps 1-2). `server_hostname` is the name checked in the server's certificate (default `host`).
        Returns self."""
        if self._sock is not None:
            raise RpcError("FAILED_PRECONDITION", "this client is already connected")
        try:
            sock = socket.create_connection((host, port), timeout=timeout)
        except OSError as e:
            raise RpcError("UNAVAILABLE", "cannot connect to %s:%s: %s" % (host, port, e)) from None
        if ssl_context is not None:
            try:
                sock = ssl_context.wrap_socket(sock, server_hostname=server_hostname or host)
            except (ssl.SSLError, ssl.CertificateError, OSError) as e:
                sock.close()
                raise RpcError("UNAVAILABLE", "TLS handshake with %s:%s failed: %s" % (host, port, e)) from None
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            sock.settimeout(timeout)  # bounds the handshake as well as the connect
            sock.sendall(PREFACE.pack(MAGIC, VERSION, CODEC_JSON, FLAG_STREAMS, self.max_frame_bytes))
            answer = _recv_exactly(sock, PREFACE.size)
            magic, version, codec, status, server_max = PREFACE.unpack(answer)
            if magic != MAGIC:
                raise RpcError("UNAVAILABLE", "the peer is not a MyRPC server (it answered %r)" % answer)
            if status != 0 and status != STREAMS_ACCEPTED:
                (length,) = REASON_LEN.unpack(_recv_exactly(sock, REASON_LEN.size))
                reason = _recv_exactly(sock, length).decode("utf-8", errors="replace")
                name = REFUSALS.get(status, "status %d" % status)
                raise RpcError("FAILED_PRECONDITION", "the server refused the preface (%s): %s" % (name, reason))
            if version != VERSION or codec != CODEC_JSON:
                raise RpcError("FAILED_PRECONDITION",
                               "the server answered version %d codec %d; expected version %d codec %d"
                               % (version, codec, VERSION, CODEC_JSON))
        except socket.timeout:
            sock.close()
            raise RpcError("UNAVAILABLE", "no server preface within %s s" % timeout, timeout="handshake") from None
        except OSError as e:
            sock.close()
            raise RpcError("UNAVAILABLE", "handshake failed: %s" % e) from None
        except RpcError:
            sock.close()
            raise
        self.server_max_frame_bytes = server_max
        self.streams = status == STREAMS_ACCEPTED
        # From here on the socket timeout is the write timeout (§9.3); the reader treats it as "no data yet".
        sock.settimeout(self.write_timeout)
        self._sock = sock
        self._closed = False
        self._reader = threading.Thread(target=self._read_loop, args=(sock,), name="myrpc-reader", daemon=True)
        self._reader.start()
        return self

    def close(self, timeout=2.0):
        """Closes the connection; calls still in flight fail with UNAVAILABLE (§14 step 6)."""
        self._shutdown(RpcError("UNAVAILABLE", "the client closed the connection"))
        if self._reader is not None and self._reader is not threading.current_thread():
            self._reader.join(timeout)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # ----- calls ------------------------------------------------------------------------------------------

    def start_call(self, service, method, args, timeout_ms=30000, metadata=None):
        """Sends a REQUEST (§6.1, §14 step 3) and returns its CallHandle without waiting for the answer."""
        deadline = time.monotonic() + timeout_ms / 1000.0
        payload_value = [service, method, list(args), 0]
        if self.metadata:
            metadata = dict(self.metadata, **(metadata or {}))
        if metadata:
            if not all(isinstance(k, str) and isinstance(v, str) for k, v in metadata.items()):
                raise RpcError("INVALID_ARGUMENT", "metadata must map strings to strings")
            payload_value.append(dict(metadata))
        with self._lock:
            self._check_open()
            request_id = self._allocate_id()
            handle = CallHandle(self, request_id, service, method, deadline)
            self._calls[request_id] = handle
        try:
            # §8.3: timeoutMs is the time left when the request is sent, rounded up, at least 1.
            left_ms = (deadline - time.monotonic()) * 1000.0
            if left_ms <= 0:
                raise RpcError("DEADLINE_EXCEEDED", "the deadline passed before the request was sent", timeout="call")
            payload_value[3] = max(1, math.ceil(left_ms))
            try:
                payload = encode_json(payload_value)
            except (TypeError, ValueError) as e:
                raise RpcError("INVALID_ARGUMENT", "the arguments cannot be encoded as JSON: %s" % e) from None
            if len(payload) > self.server_max_frame_bytes:
                raise RpcError("RESOURCE_EXHAUSTED", "request of %d bytes exceeds the server's limit of %d bytes"
                               % (len(payload), self.server_max_frame_bytes))
        except RpcError:
            with self._lock:
                self._calls.pop(request_id, None)
            raise
        # The client's own deadline timer (§8.2, §8.3): on expiry, CANCEL and DEADLINE_EXCEEDED locally.
        handle._timer = threading.Timer(max(0.0, deadline - time.monotonic()), self._cancel,
                                        args=(handle, RpcError("DEADLINE_EXCEEDED", "deadline of %d ms exceeded"
                                                               % timeout_ms, timeout="call")))
        handle._timer.daemon = True
        handle._timer.start()
        self._send_frame(REQUEST, request_id, payload)
        return handle

    def call(self, service, method, args, timeout_ms=30000, metadata=None):
        """Calls `service.method(*args)` and returns its result, or raises RpcError."""
        handle = self.start_call(service, method, args, timeout_ms, metadata)
        # The deadline timer always settles the call; the extra second only guards against a stuck timer.
        return handle.result(timeout_ms / 1000.0 + 1.0)

    def stream(self, service, method, args, timeout_ms=30000, metadata=None):
        """A server stream (§6.7): a generator of the items. The deadline covers the whole stream; closing the
        generator early (break) sends CANCEL. An ERROR after items raises RpcError once they are consumed."""
        if not self.streams:
            raise RpcError("UNIMPLEMENTED", "the server did not acknowledge streams in its preface")
        deadline = time.monotonic() + timeout_ms / 1000.0
        payload_value = [service, method, list(args), max(1, int(timeout_ms))]
        if metadata:
            payload_value.append(dict(metadata))
        items = queue.Queue()
        with self._lock:
            self._check_open()
            request_id = self._allocate_id()
            self._streams[request_id] = items
        self._send_frame(REQUEST, request_id, encode_json(payload_value))
        self._send_frame(WINDOW, request_id, encode_json(list(STREAM_WINDOW)))
        return self._stream_items(request_id, items, deadline)

    def _stream_items(self, request_id, items, deadline):
        taken, taken_bytes, finished = 0, 0, False
        try:
            while True:
                try:
                    entry = items.get(timeout=max(0.0, deadline - time.monotonic()))
                except queue.Empty:
                    raise RpcError("DEADLINE_EXCEEDED", "the stream's deadline passed", timeout="call") from None
                if entry[0] == "end":
                    finished = True
                    return
                if entry[0] == "error":
                    finished = True
                    raise entry[1]
                yield entry[1]
                taken, taken_bytes = taken + 1, taken_bytes + entry[2]
                if taken >= STREAM_WINDOW[0] // 2 or taken_bytes >= STREAM_WINDOW[1] // 2:
                    self._send_frame(WINDOW, request_id, encode_json([taken, taken_bytes]))
                    taken, taken_bytes = 0, 0
        finally:
            with self._lock:
                open_still = self._streams.pop(request_id, None) is not None
            if open_still and not finished and not self._closed:
                self._send_frame(CANCEL, request_id, b"")

    def cancel(self, handle):
        """Same as handle.cancel()."""
        return handle.cancel()

    def ping(self, timeout=5.0):
        """Sends a PING and waits for its PONG (§6.5); returns the round-trip time in seconds."""
        with self._lock:
            self._check_open(for_ping=True)
            ping_id = self._allocate_id()  # same counter as calls, like the reference client
            entry = [threading.Event(), time.monotonic(), None]
            self._pings[ping_id] = entry
        self._send_frame(PING, ping_id, b"")
        if not entry[0].wait(timeout):
            with self._lock:
                self._pings.pop(ping_id, None)
            raise RpcError("DEADLINE_EXCEEDED", "no PONG within %s s" % timeout, timeout="call")
        if entry[2] is None:
            raise self._close_error or RpcError("UNAVAILABLE", "the connection closed before the PONG")
        return entry[2]

    # ----- internals --------------------------------------------------------------------------------------

    def _check_open(self, for_ping=False):
        if self._closed:
            raise self._close_error or RpcError("UNAVAILABLE", "not connected")
        if self.connection_error is not None:
            raise RpcError("UNAVAILABLE", "the connection failed: %s" % self.connection_error)
        if self.goaway_reason is not None and not for_ping:
            raise RpcError("UNAVAILABLE", "the server sent GOAWAY (%s); open a new connection for new calls"
                           % self.goaway_reason, not_run=True)

    def _allocate_id(self):
        """Next free non-zero u32 id; wraps from 4294967295 to 1 and skips ids in use (§8.1). Holds _lock."""
        for _ in range(len(self._calls) + len(self._pings) + 1):
            candidate = self._next_id
            self._next_id = 1 if candidate >= MAX_ID else candidate + 1
            if candidate not in self._calls and candidate not in self._pings and candidate not in self._streams:
                return candidate
        raise RpcError("RESOURCE_EXHAUSTED", "no free request id")

    def _take(self, request_id):
        """Removes a call from the table; whoever gets it settles it, so each call settles exactly once."""
        with self._lock:
            return self._calls.pop(request_id, None)

    def _cancel(self, handle, error):
        """§8.2 / §14 step 5: send CANCEL, fail the call locally with `error`, forget the id."""
        if self._take(handle.id) is not handle:
            return False
        try:
            self._send_frame(CANCEL, handle.id, b"")
        except RpcError:
            pass  # the connection is gone; the server aborts its handlers when it sees that (§8.2)
        handle._settle(error=error)
        return True

    def _send_frame(self, kind, request_id, payload):
        frame = HEADER.pack(len(payload), kind, request_id) + payload
        with self._write_lock:
            sock = self._sock
            if sock is None or self._closed:
                raise self._close_error or RpcError("UNAVAILABLE", "not connected")
            try:
                sock.sendall(frame)
            except socket.timeout:
                error = RpcError("UNAVAILABLE", "the server took no bytes for %s s" % self.write_timeout,
                                 timeout="write")
            except OSError as e:
                error = RpcError("UNAVAILABLE", "write failed: %s" % e)
            else:
                return
        self._shutdown(error)
        raise error

    def _read_loop(self, sock):
        """Reads frames until the connection ends (§14 step 4), then fails what is left (§14 step 6)."""
        buf = bytearray()
        error = RpcError("UNAVAILABLE", "the server closed the connection")
        try:
            while True:
                header = self._read_exactly(sock, buf, HEADER.size)
                if header is None:
                    break
                length, kind, request_id = HEADER.unpack(header)
                # Check the kind and the length before reading any payload byte (§7, §9.1).
                if kind not in KIND_NAMES:
                    error = RpcError("UNAVAILABLE", "the server sent an unknown frame kind %d" % kind)
                    break
                if kind in (REQUEST, CANCEL):
                    error = RpcError("UNAVAILABLE", "the server sent a %s frame" % KIND_NAMES[kind])
                    break
                if length > self.max_frame_bytes:
                    error = RpcError("UNAVAILABLE", "frame of %d bytes exceeds our limit of %d bytes"
                                     % (length, self.max_frame_bytes))
                    break
                payload = self._read_exactly(sock, buf, length)
                if payload is None:
                    break  # the connection ended in the middle of a frame (§9.3)
                stop = self._dispatch(kind, request_id, bytes(payload))
                if stop is not None:
                    error = stop
                    break
        except OSError as e:
            if not self._closed:
                error = RpcError("UNAVAILABLE", "read failed: %s" % e)
        except Exception as e:  # a bug here must still fail the calls rather than leave them hanging
            error = RpcError("INTERNAL", "the reader failed: %s: %s" % (type(e).__name__, e))
        self._shutdown(error)

    def _read_exactly(self, sock, buf, n):
        """Returns the next n bytes of the stream, or None at EOF / after close."""
        while len(buf) < n:
            if self._closed:
                return None
            try:
                chunk = sock.recv(max(65536, n - len(buf)))
            except socket.timeout:
                continue  # no data yet: an idle connection is fine
            if not chunk:
                return None
            buf += chunk
        out = bytes(buf[:n])
        del buf[:n]
        return out

    def _dispatch(self, kind, request_id, payload):
        """Handles one frame; returns an RpcError to end the connection with, or None."""
        if kind in (STREAM_ITEM, STREAM_END) or (kind == ERROR and request_id in self._streams):
            return self._dispatch_stream(kind, request_id, payload)
        if kind == RESPONSE or (kind == ERROR and request_id != 0):
            handle = self._take(request_id)
            if handle is None:
                return None  # cancelled, timed out or unknown: ignore (§8.2)
            try:
                value = decode_json(payload)
            except ValueError as e:
                handle._settle(error=RpcError("INTERNAL", "undecodable %s payload: %s" % (KIND_NAMES[kind], e)))
                return None
            if kind == RESPONSE:
                handle._settle(value=value)
            else:
                handle._settle(error=RpcError.from_payload(value))
        elif kind == ERROR:  # id 0: the server no longer trusts the stream and is closing (§6.3, §9.1)
            try:
                server_error = RpcError.from_payload(decode_json(payload))
            except ValueError:
                server_error = RpcError("UNKNOWN", "undecodable connection-level ERROR payload")
            self.connection_error = server_error
            return RpcError("UNAVAILABLE", "connection error from the server: %s: %s"
                            % (server_error.code, server_error.message), server_error.details)
        elif kind == PING:
            try:
                self._send_frame(PONG, request_id, b"")  # at once, same id, empty payload (§6.5)
            except RpcError as e:
                return e
        elif kind == PONG:
            with self._lock:
                entry = self._pings.pop(request_id, None)
            if entry is not None:  # a PONG we did not ask for is ignored
                entry[2] = time.monotonic() - entry[1]
                entry[0].set()
        elif kind == GOAWAY:
            try:
                body = decode_json(payload)
            except ValueError:
                body = None
            reason = body.get("reason") if isinstance(body, dict) else None
            with self._lock:
                self.goaway_reason = reason if isinstance(reason, str) else "server shutting down"
            # Calls in flight are left to finish; the server closes the connection when they are done.
        return None

    def _dispatch_stream(self, kind, request_id, payload):
        with self._lock:
            items = self._streams.get(request_id) if kind == STREAM_ITEM else self._streams.pop(request_id, None)
        if items is None:
            return None  # a late frame of a stream we left
        try:
            value = decode_json(payload)
        except ValueError as e:
            items.put(("error", RpcError("INTERNAL", "undecodable %s payload: %s" % (KIND_NAMES[kind], e))))
            return None
        if kind == STREAM_ITEM:
            items.put(("item", value, len(payload)))
        elif kind == STREAM_END:
            items.put(("end", None))
        else:
            items.put(("error", RpcError.from_payload(value)))
        return None

    def _shutdown(self, error):
        """Marks the connection closed, closes the socket and fails every call and ping still in flight."""
        with self._lock:
            if self._closed and self._sock is None:
                return
            self._closed = True
            self._close_error = self._close_error or error
            calls, self._calls = list(self._calls.values()), {}
            pings, self._pings = list(self._pings.values()), {}
            streams, self._streams = list(self._streams.values()), {}
            sock, self._sock = self._sock, None
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            sock.close()
        for handle in calls:
            handle._settle(error=self._close_error)
        for entry in pings:
            entry[0].set()
        for items in streams:
            items.put(("error", self._close_error))


def tls_context(ca=None, cert=None, key=None):
    """An ssl.SSLContext that verifies the server against `ca` (a PEM file; default the system roots) and,
    with `cert` and `key`, presents a client certificate (mTLS)."""
    context = ssl.create_default_context(cafile=ca)
    if cert or key:
        context.load_cert_chain(certfile=cert, keyfile=key)
    return context


def _recv_exactly(sock, n):
    data = bytearray()
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            raise RpcError("UNAVAILABLE", "the connection closed after %d of %d bytes" % (len(data), n))
        data += chunk
    return bytes(data)


# ----- the demonstration ------------------------------------------------------------------------------------

CANCEL_AFTER_MS = 100


def run_demo(host, port, out=print, ssl_context=None, metadata=None):
    with MyRpcClient(metadata=metadata).connect(host, port, timeout=5.0, ssl_context=ssl_context) as client:
        client.ping(timeout=5.0)  # PING/PONG once, silently: the server must answer at once (§6.5)

        out("add(2, 3) = %s" % client.call("Calculator", "add", [2, 3], timeout_ms=5000))

        try:
            client.call("Calculator", "compute", [{"op": "pow", "a": "x", "b": 2}], timeout_ms=5000)
            raise RuntimeError("compute(bad input) unexpectedly succeeded")
        except RpcError as e:
            if e.code != "INVALID_ARGUMENT":
                raise
            causes = ", ".join("%s %s" % (d.get("path", "?"), d.get("constraint", d.get("message", "?")))
                               for d in e.details if isinstance(d, dict))
            out("compute(bad input) -> %s: %s" % (e.code, causes))

        handle = client.start_call("Calculator", "slowSum", [1000, 10], timeout_ms=30000)
        time.sleep(CANCEL_AFTER_MS / 1000.0)
        if not handle.cancel():
            raise RuntimeError("slowSum was no longer in flight when cancelled: %r" % (handle.result(0),))
        try:
            handle.result(5.0)
            raise RuntimeError("slowSum unexpectedly succeeded after the cancel")
        except RpcError as e:
            if e.code != "CANCELLED":
                raise
            out("slowSum cancelled after %d ms -> %s" % (CANCEL_AFTER_MS, e.code))

        out("add(2, 3) = %s (after the cancel)" % client.call("Calculator", "add", [2, 3], timeout_ms=5000))


def main(argv=None):
    parser = argparse.ArgumentParser(description="MyRPC Python client demo against the calculator sample server")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--tls-ca", help="speak TLS, trusting this CA (PEM file)")
    parser.add_argument("--tls-cert", help="client certificate for mTLS (PEM file)")
    parser.add_argument("--tls-key", help="key of the client certificate (PEM file)")
    parser.add_argument("--token", help="sent as metadata 'authorization: Bearer <token>'")
    options = parser.parse_args(argv)
    try:
        use_tls = options.tls_ca or options.tls_cert
        context = tls_context(options.tls_ca, options.tls_cert, options.tls_key) if use_tls else None
        metadata = {"authorization": "Bearer " + options.token} if options.token else None
        run_demo(options.host, options.port, out=lambda line: print(line, flush=True), ssl_context=context, metadata=metadata)
    except Exception as e:  # noqa: BLE001 - the demo reports any failure and exits 1
        print("error: %s: %s" % (type(e).__name__, e), file=sys.stderr, flush=True)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
