"""A TCP proxy on loopback between esfs and a real engine: it passes every byte through,
records each HTTP request head it forwards, and on command breaks the next requests.

It answers nothing itself: every answer esfs gets comes from the engine behind it.
"""
import socket
import threading


class FaultProxy:
    """proxy = FaultProxy(engine_port).start(); proxy.url; proxy.requests; proxy.break_next(n)"""

    def __init__(self, upstream_port, port=0):
        self.upstream = ("127.0.0.1", upstream_port)
        self.server = socket.create_server(("127.0.0.1", port))
        self.url = f"http://127.0.0.1:{self.server.getsockname()[1]}"
        self.requests = []          # (method, path, {header: value}) of every request forwarded
        self.lock = threading.Lock()
        self.to_break = 0           # requests still to break: forwarded, then the connection reset
        self.stopped = False

    def start(self):
        threading.Thread(target=self._accept, daemon=True).start()
        return self

    def stop(self):
        self.stopped = True
        self.server.close()

    def break_next(self, count=1):
        """The next count requests reach the engine, but their connection is reset before
        any answer comes back: esfs sees a connection lost after sending."""
        with self.lock:
            self.to_break = count

    def methods(self):
        with self.lock:
            return [r[0] for r in self.requests]

    def _accept(self):
        while not self.stopped:
            try:
                client, _ = self.server.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _serve(self, client):
        upstream = socket.create_connection(self.upstream)
        cut = threading.Event()     # set: the answer now under way is dropped, and the connection reset
        pump = threading.Thread(target=self._pump, args=(upstream, client, cut), daemon=True)
        pump.start()
        reader = client.makefile("rb")
        try:
            while True:
                head = self._read_head(reader)
                if head is None:
                    break
                method, path, headers, raw = head
                body = reader.read(int(headers.get("content-length", "0")))
                with self.lock:
                    self.requests.append((method, path, headers))
                    broken = self.to_break > 0
                    self.to_break -= broken
                if broken:
                    cut.set()
                upstream.sendall(raw + body)
                if broken:
                    pump.join(timeout=30)   # the engine answered (and did the work); esfs gets none
                    break
        except OSError:
            pass
        finally:
            reset(client)
            reset(upstream)

    @staticmethod
    def _read_head(reader):
        lines = []
        while True:
            line = reader.readline(65536)
            if not line:
                return None
            lines.append(line)
            if line in (b"\r\n", b"\n"):
                break
        method, path, _ = lines[0].decode("latin-1").split(" ", 2)
        headers = {}
        for line in lines[1:-1]:
            name, _, value = line.decode("latin-1").partition(":")
            headers[name.strip().lower()] = value.strip()
        return method, path, headers, b"".join(lines)

    @staticmethod
    def _pump(src, dst, cut):
        try:
            while True:
                data = src.recv(65536)
                if not data or cut.is_set():
                    break
                dst.sendall(data)
        except OSError:
            pass
        finally:
            if cut.is_set():
                reset(dst)
            else:
                try:
                    dst.shutdown(socket.SHUT_WR)
                except OSError:
                    pass


def reset(sock):
    """Closes with a TCP reset, as a crashed peer or a middlebox does."""
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        sock.close()
    except OSError:
        pass
