"""A small ubus client for the uhttpd stand-in: LOOKUP and INVOKE over the
ubus wire protocol (ubus-rpcd-uhttpd.md section 1), with JSON <-> blobmsg
conversion as uhttpd-mod-ubus does it. Test tooling only."""

import socket
import struct

HELLO, STATUS, DATA, LOOKUP, INVOKE = 0, 1, 2, 4, 5
A_STATUS, A_OBJPATH, A_OBJID, A_METHOD, A_DATA = 1, 2, 3, 4, 7
B_UNSPEC, B_ARRAY, B_TABLE, B_STRING, B_INT64, B_INT32, B_INT16, B_INT8, B_DOUBLE = range(9)
EXTENDED = 0x80000000
NOT_FOUND = 4


class UbusTimeout(Exception):
    pass


def _pad(n):
    return (n + 3) & ~3


def _attr(ident, payload):
    header = struct.pack(">I", (ident << 24) | (4 + len(payload)))
    return (header + payload).ljust(_pad(4 + len(payload)), b"\0")


def _blobmsg(kind, name, value):
    raw = name.encode()
    name_header = struct.pack(">H", len(raw)) + raw + b"\0"
    name_header = name_header.ljust(_pad(len(name_header)), b"\0")
    body = name_header + value
    header = struct.pack(">I", EXTENDED | (kind << 24) | (4 + len(body)))
    return (header + body).ljust(_pad(4 + len(body)), b"\0")


def encode_value(name, value):
    """One JSON value as a blobmsg attribute (json-c/blobmsg_add_json rules)."""
    if value is None:
        return _blobmsg(B_UNSPEC, name, b"")
    if isinstance(value, bool):
        return _blobmsg(B_INT8, name, bytes([1 if value else 0]))
    if isinstance(value, int):
        if -(2**31) <= value < 2**31:
            return _blobmsg(B_INT32, name, struct.pack(">i", value))
        return _blobmsg(B_INT64, name, struct.pack(">q", value))
    if isinstance(value, float):
        return _blobmsg(B_DOUBLE, name, struct.pack(">d", value))
    if isinstance(value, str):
        return _blobmsg(B_STRING, name, value.encode() + b"\0")
    if isinstance(value, dict):
        return _blobmsg(B_TABLE, name, encode_table(value))
    if isinstance(value, list):
        return _blobmsg(B_ARRAY, name, b"".join(encode_value("", v) for v in value))
    raise ValueError(f"cannot encode {type(value).__name__}")


def encode_table(table):
    return b"".join(encode_value(k, v) for k, v in table.items())


def _attrs(buf):
    """Yields (extended, id, payload) of the attributes packed in buf."""
    off = 0
    while off + 4 <= len(buf):
        (word,) = struct.unpack_from(">I", buf, off)
        length = word & 0xFFFFFF
        if length < 4 or off + length > len(buf):
            raise ValueError("truncated blob attribute")
        yield bool(word & EXTENDED), (word >> 24) & 0x7F, buf[off + 4 : off + length]
        off += _pad(length)


def _decode_blobmsg(kind, payload):
    (name_len,) = struct.unpack_from(">H", payload, 0)
    name = payload[2 : 2 + name_len].decode()
    value = payload[_pad(2 + name_len + 1) :]
    if kind == B_TABLE:
        return name, decode_table(value)
    if kind == B_ARRAY:
        return name, [v for _, v in _decode_list(value)]
    if kind == B_STRING:
        return name, value.split(b"\0", 1)[0].decode()
    if kind == B_INT8:
        return name, value[0] != 0
    if kind == B_INT16:
        return name, struct.unpack_from(">h", value)[0]
    if kind == B_INT32:
        return name, struct.unpack_from(">i", value)[0]
    if kind == B_INT64:
        return name, struct.unpack_from(">q", value)[0]
    if kind == B_DOUBLE:
        return name, struct.unpack_from(">d", value)[0]
    return name, None


def _decode_list(buf):
    return [_decode_blobmsg(kind, payload) for ext, kind, payload in _attrs(buf) if ext]


def decode_table(buf):
    return dict(_decode_list(buf))


class Ubus:
    """One connection to ubusd; each request waits for its STATUS."""

    def __init__(self, path, timeout):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        self.sock.connect(path)
        self.seq = 0
        kind, _, _, _ = self._read()
        if kind != HELLO:
            raise ConnectionError("ubusd did not say HELLO")

    def close(self):
        self.sock.close()

    def _read_exact(self, n):
        buf = b""
        while len(buf) < n:
            try:
                chunk = self.sock.recv(n - len(buf))
            except socket.timeout as e:
                raise UbusTimeout() from e
            if not chunk:
                raise ConnectionError("ubusd closed the connection")
            buf += chunk
        return buf

    def _read(self):
        head = self._read_exact(12)
        _, kind, seq, peer, tag = struct.unpack(">BBHII", head)
        body = self._read_exact((tag & 0xFFFFFF) - 4)
        return kind, seq, peer, {ident: payload for _, ident, payload in _attrs(body)}

    def _request(self, kind, peer, attrs):
        self.seq = (self.seq + 1) & 0xFFFF
        body = b"".join(attrs)
        self.sock.sendall(struct.pack(">BBHII", 0, kind, self.seq, peer, 4 + len(body)) + body)
        replies = []
        while True:
            rkind, seq, _, fields = self._read()
            if seq != self.seq:
                continue
            if rkind == STATUS:
                return struct.unpack(">i", fields[A_STATUS])[0], replies
            if rkind == DATA:
                replies.append(fields)

    def lookup(self, path):
        """The object id of path, or None."""
        status, replies = self._request(LOOKUP, 0, [_attr(A_OBJPATH, path.encode() + b"\0")])
        if status != 0 or not replies or A_OBJID not in replies[0]:
            return None
        return struct.unpack(">I", replies[0][A_OBJID])[0]

    def invoke(self, objid, method, args):
        """(status, data table or None)."""
        attrs = [
            _attr(A_OBJID, struct.pack(">I", objid)),
            _attr(A_METHOD, method.encode() + b"\0"),
            _attr(A_DATA, encode_table(args)),
        ]
        status, replies = self._request(INVOKE, objid, attrs)
        data = None
        for fields in replies:
            if A_DATA in fields:
                data = decode_table(fields[A_DATA])
        return status, data
