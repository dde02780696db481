"""The conformance agent: runs inside one candidate instance and does what
the harness asks, over protocol version 1 (see docs/architecture.md).

Rules of this file:
1. ONE file, standard library only, runs unchanged on Python 2.7 and on
   Python 3.8 to 3.13: no f-strings, no type hints, no walrus.
2. Nothing that imports `socket` is imported before the candidate's
   bootstrap (CONFORMANCE_BOOTSTRAP="module:function") has run, so that
   `import socket` in the instance yields the candidate's module.
3. The protocol never shares a file descriptor with the candidate: the real
   stdin/stdout move to private descriptors first; fd 0 becomes /dev/null
   and fd 1 points at stderr, so whatever the candidate prints is evidence
   (stderr), never protocol.
4. Exceptions are reported faithfully: class, module, MRO names, errno and
   message, and whether the exception is the instance's own
   socket.error / socket.timeout / socket.gaierror.

Requests are JSON lines {"id": N, "op": OP, ...}; replies
{"id": N, "ok": true, "value": V} or {"id": N, "ok": false, "error": E}.
"""

import os
import sys

PROTOCOL_VERSION = 1
PY2 = sys.version_info[0] == 2


def _private_fd(fd):
    """A close-on-exec duplicate of `fd`, so the candidate's children never get it."""
    import fcntl
    new = os.dup(fd)
    flags = fcntl.fcntl(new, fcntl.F_GETFD)
    fcntl.fcntl(new, fcntl.F_SETFD, flags | fcntl.FD_CLOEXEC)
    return new


# -- rule 3: take the protocol channel away from the candidate, first thing --
PROTO_IN = _private_fd(0)
PROTO_OUT = _private_fd(1)
_null = os.open(os.devnull, os.O_RDONLY)
os.dup2(_null, 0)
os.close(_null)
os.dup2(2, 1)
try:
    sys.stdout.flush()
except Exception:
    pass

# -- rule 2: the candidate's path and bootstrap before anything imports socket --
for _entry in reversed([p for p in os.environ.get("CONFORMANCE_PYTHONPATH", "").split(os.pathsep)
                        if p]):
    sys.path.insert(0, _entry)


def _run_bootstrap():
    spec = os.environ.get("CONFORMANCE_BOOTSTRAP", "")
    if not spec:
        return
    module_name, _, func_name = spec.partition(":")
    __import__(module_name)
    func = sys.modules[module_name]   # the module itself, not its top package
    for part in (func_name or "bootstrap").split("."):
        func = getattr(func, part)
    func()


_run_bootstrap()

# After the bootstrap, on purpose. hashlib, pickle and traceback are imported
# where they are needed: an instance should start fast.
import base64  # noqa: E402
import errno as errno_module  # noqa: E402
import json  # noqa: E402

if PY2:
    text_type = unicode  # noqa: F821
    bytes_type = str
    int_types = (int, long)  # noqa: F821
else:
    text_type = str
    bytes_type = bytes
    int_types = (int,)


class AgentProtocolError(Exception):
    """The harness sent something this agent does not understand."""


# ---------------------------------------------------------------------------
# Objects held for the harness
# ---------------------------------------------------------------------------

class Refs(object):
    def __init__(self):
        self.objects = {}      # handle -> object
        self.handles = {}      # id(object) -> handle
        self.order = []        # handles in creation order
        self.counter = 0
        self.undo = []         # (object, name, had_attr, old_value) for setattr

    def add(self, obj):
        handle = self.handles.get(id(obj))
        if handle is not None and self.objects.get(handle) is obj:
            return handle
        self.counter += 1
        handle = "h%d" % self.counter
        self.objects[handle] = obj
        self.handles[id(obj)] = handle
        self.order.append(handle)
        return handle

    def get(self, handle):
        try:
            return self.objects[handle]
        except KeyError:
            raise AgentProtocolError("unknown ref %r (released, or from before a reset)"
                                     % (handle,))

    def release(self, handle):
        obj = self.objects.pop(handle, None)
        if obj is not None:
            self.handles.pop(id(obj), None)

    def reset(self):
        """Undo setattr calls, close what can be closed, forget everything."""
        while self.undo:
            obj, name, had, old = self.undo.pop()
            try:
                if had:
                    setattr(obj, name, old)
                else:
                    delattr(obj, name)
            except Exception:
                pass
        for handle in reversed(self.order):
            obj = self.objects.get(handle)
            if obj is None or not _closable(obj):
                continue
            try:
                obj.close()
            except Exception:
                pass
        self.objects.clear()
        self.handles.clear()
        del self.order[:]
        sock = sys.modules.get("socket")
        if sock is not None and hasattr(sock, "setdefaulttimeout"):
            try:
                sock.setdefaulttimeout(None)
            except Exception:
                pass


def _closable(obj):
    import types
    if isinstance(obj, (types.ModuleType, type, types.FunctionType, types.MethodType,
                        types.BuiltinFunctionType)):
        return False
    close = getattr(obj, "close", None)
    return callable(close)


REFS = Refs()


# ---------------------------------------------------------------------------
# Values
# ---------------------------------------------------------------------------

def b64(data):
    return base64.b64encode(data).decode("ascii") if not PY2 else base64.b64encode(data)


def encode(value, depth=0):
    """A Python value in wire form; what is not plain data becomes a ref."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int_types):
        return value
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            return {"$float": repr(value)}
        return value
    if PY2 and isinstance(value, str):
        return {"$nstr": b64(value)}
    if isinstance(value, text_type):
        return value
    if isinstance(value, bytes_type):
        return {"$bytes": b64(value)}
    if depth < 8:
        if (isinstance(value, tuple) and type(value) is tuple) or _is_structseq(value):
            return {"$tuple": [encode(v, depth + 1) for v in value]}
        if type(value) is list:
            return [encode(v, depth + 1) for v in value]
        if type(value) is dict:
            if all(isinstance(k, text_type) and not k.startswith("$") for k in value):
                return dict((k, encode(v, depth + 1)) for k, v in value.items())
            return {"$dict": [[encode(k, depth + 1), encode(v, depth + 1)]
                              for k, v in value.items()]}
    return ref_value(value)


def _is_structseq(value):
    # namedtuples and struct sequences (e.g. an addrinfo tuple subclass) travel as tuples
    return isinstance(value, tuple) and (hasattr(value, "_fields") or
                                         hasattr(value, "n_fields"))


def ref_value(value):
    cls = type(value)
    return {"$ref": REFS.add(value), "type": cls.__name__,
            "module": getattr(cls, "__module__", "") or "", "callable": callable(value)}


def native_text(value):
    """JSON text as the runtime's native string (Python 2: str when ASCII)."""
    if PY2 and isinstance(value, text_type):
        try:
            return value.encode("ascii")
        except UnicodeError:
            return value
    return value


def decode(wire):
    if isinstance(wire, list):
        return [decode(v) for v in wire]
    if isinstance(wire, dict):
        if "$bytes" in wire:
            return base64.b64decode(wire["$bytes"])
        if "$nstr" in wire:
            return base64.b64decode(wire["$nstr"])
        if "$tuple" in wire:
            return tuple(decode(v) for v in wire["$tuple"])
        if "$ref" in wire:
            return REFS.get(wire["$ref"])
        if "$float" in wire:
            return float(wire["$float"])
        if "$dict" in wire:
            return dict((_hashable(decode(k)), decode(v)) for k, v in wire["$dict"])
        return dict((native_text(k), decode(v)) for k, v in wire.items())
    if isinstance(wire, text_type):
        return native_text(wire)
    return wire


def _hashable(value):
    return tuple(value) if isinstance(value, list) else value


# ---------------------------------------------------------------------------
# Exceptions, reported faithfully
# ---------------------------------------------------------------------------

def describe_exception(exc, tb_text=""):
    cls = type(exc)
    mro = [c.__name__ for c in getattr(cls, "__mro__", (cls,))]
    number = getattr(exc, "errno", None)
    if not isinstance(number, int_types) or isinstance(number, bool):
        number = None
    try:
        message = text_type(exc) if not PY2 else str(exc)
    except Exception:
        message = repr(exc)
    if PY2 and isinstance(message, str):
        message = message.decode("utf-8", "replace")
    try:
        args_repr = repr(getattr(exc, "args", ()))
    except Exception:
        args_repr = "?"
    if PY2 and isinstance(args_repr, str):
        args_repr = args_repr.decode("utf-8", "replace")
    return {
        "type": cls.__name__,
        "module": getattr(cls, "__module__", "") or "",
        "mro": mro,
        "errno": number,
        "errno_name": errno_module.errorcode.get(number) if number is not None else None,
        "message": message,
        "is_socket_error": _is_socket(exc, "error"),
        "is_timeout": _is_socket(exc, "timeout"),
        "is_gaierror": _is_socket(exc, "gaierror"),
        "args": args_repr[:500],
        "traceback": tb_text[-3000:],
    }


def _is_socket(exc, name):
    """isinstance against the instance's own (the candidate's) socket module."""
    module = sys.modules.get("socket")
    cls = getattr(module, name, None) if module is not None else None
    if not isinstance(cls, type):
        return False
    try:
        return isinstance(exc, cls)
    except Exception:
        return False


# ---------------------------------------------------------------------------
# Operations
# ---------------------------------------------------------------------------

def resolve_target(target):
    if isinstance(target, text_type) and target[:1] == "h" and target[1:].isdigit():
        return REFS.get(target)
    if isinstance(target, (text_type, bytes_type)) and target:
        name = native_text(target)
        __import__(name)
        return sys.modules[name]
    raise AgentProtocolError("bad target %r" % (target,))


def op_import(msg):
    name = native_text(msg["module"])
    __import__(name)
    return ref_value(sys.modules[name])


def op_getattr(msg):
    return encode(getattr(resolve_target(msg["target"]), native_text(msg["name"])))


def op_setattr(msg):
    obj = resolve_target(msg["target"])
    name = native_text(msg["name"])
    had = hasattr(obj, name)
    REFS.undo.append((obj, name, had, getattr(obj, name, None)))
    setattr(obj, name, decode(msg.get("value")))
    return None


def op_call(msg):
    target = resolve_target(msg["target"])
    name = msg.get("name")
    func = getattr(target, native_text(name)) if name else target
    args = [decode(a) for a in msg.get("args") or []]
    kwargs = dict((native_text(k), decode(v)) for k, v in (msg.get("kwargs") or {}).items())
    return encode(func(*args, **kwargs))


def op_release(msg):
    REFS.release(msg["ref"])
    return None


def op_pickle(msg):
    import pickle
    return encode(pickle.dumps(resolve_target(msg["target"]), int(msg.get("protocol", 2))))


def op_unpickle(msg):
    import pickle
    return encode(pickle.loads(decode(msg["data"])))


def op_recv_until_eof(msg):
    import hashlib
    sock = resolve_target(msg["target"])
    limit = int(msg.get("limit", 64 << 20))
    head_size = int(msg.get("head", 256))
    digest = hashlib.sha256()
    total = 0
    head = []
    head_len = 0
    eof = False
    while total < limit:
        chunk = sock.recv(min(65536, limit - total))
        if not chunk:
            eof = True
            break
        digest.update(chunk)
        total += len(chunk)
        if head_len < head_size:
            head.append(chunk[:head_size - head_len])
            head_len += len(head[-1])
    return {"nbytes": total, "sha256": digest.hexdigest(),
            "head": {"$bytes": b64(bytes_type().join(head))}, "eof": eof}


def _pattern_period():
    values = [(i * 31 + 7) % 251 for i in range(251)]
    if PY2:
        return "".join(chr(v) for v in values)
    return bytes(values)


def op_sendall_pattern(msg):
    """sendall the world's generated-bytes pattern: byte i is ((offset+i)*31+7) % 251."""
    import hashlib
    sock = resolve_target(msg["target"])
    size = int(msg["size"])
    start = int(msg.get("offset", 0)) % 251
    period = _pattern_period()
    block = (period * 262)[start:start + 251 * 261]   # 65511 bytes, a whole number of periods
    digest = hashlib.sha256()
    sent = 0
    while sent < size:
        chunk = block[:min(len(block), size - sent)]
        sock.sendall(chunk)
        digest.update(chunk)
        sent += len(chunk)
    return {"nbytes": sent, "sha256": digest.hexdigest()}


def op_reset(msg):
    REFS.reset()
    return None


def op_ping(msg):
    return hello()


OPS = {
    "import": op_import, "getattr": op_getattr, "setattr": op_setattr, "call": op_call,
    "release": op_release, "pickle": op_pickle, "unpickle": op_unpickle,
    "recv_until_eof": op_recv_until_eof, "sendall_pattern": op_sendall_pattern,
    "reset": op_reset, "ping": op_ping,
}

REQUIRED = {
    "import": ("module",), "getattr": ("target", "name"), "setattr": ("target", "name"),
    "call": ("target",), "release": ("ref",), "pickle": ("target",), "unpickle": ("data",),
    "recv_until_eof": ("target",), "sendall_pattern": ("target", "size"),
}


# ---------------------------------------------------------------------------
# The loop
# ---------------------------------------------------------------------------

def hello():
    return {"agent": PROTOCOL_VERSION, "python": "%d.%d.%d" % tuple(sys.version_info[:3]),
            "pid": os.getpid(), "implementation": _implementation(),
            "app_id": os.environ.get("CONFORMANCE_APP_ID", "")}


def _implementation():
    impl = getattr(sys, "implementation", None)
    return impl.name if impl is not None else "cpython"


def write_message(message):
    data = json.dumps(message, separators=(",", ":"))
    if not isinstance(data, bytes):
        data = data.encode("utf-8")
    data += b"\n"
    while data:
        written = os.write(PROTO_OUT, data)
        data = data[written:]


def read_lines():
    buffer = b""
    while True:
        chunk = os.read(PROTO_IN, 65536)
        if not chunk:
            return
        buffer += chunk
        while b"\n" in buffer:
            line, buffer = buffer.split(b"\n", 1)
            if line.strip():
                yield line


def agent_error(message):
    return {"type": "AgentProtocolError", "module": "conformance.agent",
            "mro": ["AgentProtocolError", "Exception", "BaseException", "object"],
            "errno": None, "errno_name": None, "message": message, "is_socket_error": False,
            "is_timeout": False, "is_gaierror": False, "origin": "agent", "args": "",
            "traceback": ""}


def handle(line):
    """One request line -> (reply, keep_going)."""
    try:
        msg = json.loads(line.decode("utf-8"))
        if not isinstance(msg, dict):
            raise ValueError("not a JSON object")
    except ValueError as exc:
        return {"id": None, "ok": False,
                "error": agent_error("malformed request %r: %s" % (line[:200], exc))}, True
    request_id = msg.get("id")
    op = msg.get("op")
    if op == "exit":
        return {"id": request_id, "ok": True, "value": None}, False
    func = OPS.get(op)
    if func is None:
        return {"id": request_id, "ok": False,
                "error": agent_error("unknown op %r" % (op,))}, True
    missing = [f for f in REQUIRED.get(op, ()) if f not in msg]
    if missing:
        return {"id": request_id, "ok": False,
                "error": agent_error("op %r lacks field(s) %s" % (op, ", ".join(missing)))}, True
    try:
        return {"id": request_id, "ok": True, "value": func(msg)}, True
    except AgentProtocolError as exc:
        return {"id": request_id, "ok": False, "error": agent_error(str(exc))}, True
    except BaseException as exc:  # the candidate's exceptions, SystemExit included
        import traceback
        return {"id": request_id, "ok": False,
                "error": describe_exception(exc, traceback.format_exc())}, True


def main():
    write_message(hello())
    for line in read_lines():
        reply, keep_going = handle(line)
        try:
            write_message(reply)
        except (TypeError, ValueError) as exc:
            write_message({"id": reply.get("id"), "ok": False,
                           "error": agent_error("unencodable reply: %s" % (exc,))})
        except OSError:
            break
        if not keep_going:
            break
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except Exception:
        pass
    os._exit(0)


if __name__ == "__main__":
    main()
