"""A TCP proxy on loopback between esfs and a real engine: it passes every request and
answer through, records each request it forwards, and on command breaks the next ones.

Every answer esfs gets comes from the engine behind it, except the 429 or 503 that the
"status" fault answers itself: that request never reaches the engine (it is recorded in
proxy.refused, not proxy.requests), as when a load balancer in front of a cluster refuses it.

    proxy = FaultProxy(engine_port).start()
    proxy.fault("delay", seconds=5)                 # the next request's answer comes 5 s late
    proxy.fault("status", code=429, retry_after=1, count=2, method="GET")
    proxy.requests                                  # (method, path, headers) forwarded
    proxy.answers                                   # (method, status or None) esfs got

Faults (each applies to the next `count` requests that match `method` and a `path` prefix):
    delay      seconds=S: the request reaches the engine; its answer is held S seconds
    hold       the request is neither forwarded nor answered, until esfs gives up
    lost       the request reaches the engine; the connection is reset before any answer
    reset_mid  the answer's head and half its body come, then a TCP reset
    truncate   the answer's head and half its body come, then a clean close (FIN)
    garbage    the request reaches the engine; bytes that are not HTTP come back instead
    garbage_body  the engine's status line, then a body that is not JSON (Content-Length right)
    status     code=429|503, retry_after=S or None, forward=False: the proxy answers that
               status itself, the request never reaching the engine; forward=True: the
               request reaches the engine, and its answer is replaced by that status
    trickle    interval=S: the answer comes one byte every S seconds
"""
import socket
import threading
import time

KINDS = {"delay", "hold", "lost", "reset_mid", "truncate", "garbage", "garbage_body", "status", "trickle"}
GARBAGE = b"\x00\xff\xfe garbage, not HTTP \x1b[0m\xc3\x28 {]\r\n\r\n"


class Fault:
    def __init__(self, kind, count, method, path, params):
        assert kind in KINDS, kind
        self.kind, self.count, self.method, self.path, self.params = kind, count, method, path, params

    def matches(self, method, path):
        return (self.method is None or self.method == method) and \
            (self.path is None or path.startswith(self.path))


class FaultProxy:
    def __init__(self, upstream_port, port=0):
        self.upstream = ("127.0.0.1", upstream_port)
        self.server = socket.create_server(("127.0.0.1", port))
        self.url = f"http://127.0.0.1:{self.server.getsockname()[1]}"
        self.requests = []          # (method, path, {header: value}) of every request forwarded
        self.refused = []           # the same, for requests the proxy answered itself
        self.faulted = []           # (kind, method, path) of every request a fault applied to
        # (method, status) of every request, status None when esfs got no whole answer (held,
        # lost, cut, garbled): what esfs's metrics count as code "none" when it waited less
        self.answers = []
        self.connections = 0        # connections esfs opened to the proxy
        self.lock = threading.Lock()
        self.faults = []
        self.stopped = False

    def start(self):
        threading.Thread(target=self._accept, daemon=True).start()
        return self

    def stop(self):
        self.stopped = True
        self.server.close()

    def fault(self, kind, count=1, method=None, path=None, **params):
        """The next count requests matching method and path (a prefix) get this fault."""
        with self.lock:
            self.faults.append(Fault(kind, count, method, path, params))
        return self

    def clear(self):
        with self.lock:
            self.faults = []

    def pending(self):
        """Faults not yet used up."""
        with self.lock:
            return sum(f.count for f in self.faults)

    def break_next(self, count=1):
        """The next count requests reach the engine, but their connection is reset before
        any answer comes back: esfs sees a connection lost after sending."""
        self.fault("lost", count=count)

    def methods(self):
        with self.lock:
            return [r[0] for r in self.requests]

    def sent(self, method, path=None):
        """How many requests of method (to path, a prefix) reached the engine."""
        with self.lock:
            return sum(1 for r in self.requests
                       if r[0] == method and (path is None or r[1].split("?")[0] == path))

    def _take_fault(self, method, path):
        with self.lock:
            for f in self.faults:
                if f.count > 0 and f.matches(method, path):
                    f.count -= 1
                    self.faulted.append((f.kind, method, path))
                    return f
        return None

    def _accept(self):
        while not self.stopped:
            try:
                client, _ = self.server.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _record_answer(self, method, status):
        with self.lock:
            self.answers.append((method, status))

    def _serve(self, client):
        upstream = None
        reader = client.makefile("rb")
        up_reader = None
        with self.lock:
            self.connections += 1
        try:
            while True:
                head = read_head(reader)
                if head is None:
                    break
                first, headers, raw = head
                method, path, _ = first.split(" ", 2)
                body = reader.read(int(headers.get("content-length", "0")))
                fault = self._take_fault(method, path)
                record = (method, path, headers)
                if fault and fault.kind == "status" and not fault.params.get("forward"):
                    with self.lock:
                        self.refused.append(record)
                    self._record_answer(method, fault.params.get("code", 503))
                    client.sendall(status_answer(fault.params))
                    continue
                with self.lock:
                    self.requests.append(record)
                if fault and fault.kind == "hold":
                    self._record_answer(method, None)
                    client.recv(1)      # until esfs gives up and closes the connection
                    break
                if upstream is None:
                    upstream = socket.create_connection(self.upstream)
                    up_reader = upstream.makefile("rb")
                upstream.sendall(raw + body)
                answer = read_answer(up_reader, method)
                if answer is None:
                    break
                ahead, abody, close = answer
                self._record_answer(method, answered_status(fault, ahead))
                if not self._answer(client, fault, ahead, abody) or close:
                    break
        except OSError:
            pass
        finally:
            reset(client)
            if upstream is not None:
                reset(upstream)

    def _answer(self, client, fault, head, body):
        """Sends the engine's answer to esfs as the fault says; whether the connection goes on."""
        kind = fault.kind if fault else None
        p = fault.params if fault else {}
        if kind is None:
            client.sendall(head + body)
            return True
        if kind == "delay":
            time.sleep(p.get("seconds", 5))
            client.sendall(head + body)
            return True
        if kind == "lost":
            return False
        if kind in ("reset_mid", "truncate"):
            client.sendall(head + body[:max(1, len(body) // 2)])
            if kind == "truncate":
                client.shutdown(socket.SHUT_WR)
                client.settimeout(10)
                try:
                    while client.recv(65536):  # esfs closes once it sees the answer end
                        pass
                except OSError:
                    pass
            return False
        if kind == "garbage":
            client.sendall(GARBAGE)
            client.shutdown(socket.SHUT_WR)
            return False
        if kind == "garbage_body":
            client.sendall(replace_body(head, GARBAGE))
            return True
        if kind == "status":
            client.sendall(status_answer(p))
            return True
        if kind == "trickle":
            for i in range(len(head) + len(body)):
                client.sendall((head + body)[i:i + 1])
                time.sleep(p.get("interval", 1.0))
            return True
        raise AssertionError(kind)


def answered_status(fault, head):
    """The status of the answer esfs gets whole, or None."""
    if fault is None or fault.kind in ("delay", "trickle"):  # late: whole if esfs still waits
        return int(head.split(b" ", 2)[1])
    if fault.kind == "garbage_body":
        return int(head.split(b" ", 2)[1])
    if fault.kind == "status":
        return fault.params.get("code", 503)
    return None


def read_head(reader):
    """(first line, {header: value}, raw bytes) of a request or answer head; None at EOF."""
    lines = []
    while True:
        line = reader.readline(65536)
        if not line:
            return None
        lines.append(line)
        if line in (b"\r\n", b"\n"):
            break
    headers = {}
    for line in lines[1:-1]:
        name, _, value = line.decode("latin-1").partition(":")
        headers[name.strip().lower()] = value.strip()
    return lines[0].decode("latin-1").strip(), headers, b"".join(lines)


def read_answer(reader, method):
    """(raw head, raw body, whether the engine closes after it) of one answer; None at EOF."""
    head = read_head(reader)
    if head is None:
        return None
    first, headers, raw = head
    status = int(first.split(" ", 2)[1])
    close = headers.get("connection", "").lower() == "close"
    if method == "HEAD" or status in (204, 304) or 100 <= status < 200:
        return raw, b"", close
    if headers.get("transfer-encoding", "").lower() == "chunked":
        return raw, read_chunked(reader), close
    if "content-length" in headers:
        return raw, reader.read(int(headers["content-length"])), close
    return raw, reader.read(), True


def read_chunked(reader):
    """The chunked body as sent, framing included: a fault cuts it where it falls."""
    out = []
    while True:
        size_line = reader.readline(65536)
        out.append(size_line)
        size = int(size_line.split(b";")[0].strip() or b"0", 16)
        if size == 0:
            while True:  # trailers, then the empty line
                line = reader.readline(65536)
                out.append(line)
                if line in (b"\r\n", b"\n", b""):
                    return b"".join(out)
        out.append(reader.read(size + 2))


def replace_body(head, body):
    """The answer's status line and headers, with body in place of its own."""
    lines = head.decode("latin-1").split("\r\n")
    keep = [line for line in lines[1:] if line and line.split(":")[0].strip().lower()
            not in ("content-length", "transfer-encoding", "content-encoding")]
    return ("\r\n".join([lines[0]] + keep + [f"content-length: {len(body)}", "", ""])
            ).encode("latin-1") + body


def status_answer(params):
    code = params.get("code", 503)
    reason = {429: "Too Many Requests", 503: "Service Unavailable"}.get(code, "Error")
    body = (f'{{"error":{{"type":"proxy_refused","reason":"the proxy answered {code}"}},'
            f'"status":{code}}}').encode()
    lines = [f"HTTP/1.1 {code} {reason}", "content-type: application/json",
             f"content-length: {len(body)}"]
    if params.get("retry_after") is not None:
        lines.append(f"retry-after: {params['retry_after']}")
    return ("\r\n".join(lines + ["", ""])).encode() + body


def reset(sock):
    """Closes with a TCP reset, as a crashed peer or a middlebox does."""
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        sock.close()
    except OSError:
        pass
