# ruff: noqa: UP024  (Python 2.7 code: IOError is not OSError there)
# mypy: ignore-errors
"""Probe run by tests/adapters/test_appengine_sdk.py under Python 2.7.

`probe.py install`: install the bootstrap, report which modules `socket`,
`_socket` and `select` are. `probe.py network`: run inside a throwaway
network namespace where 1.1.1.1 is local and 10.0.0.0/8 is routed to lo;
starts an echo server on 1.1.1.1:7 and a wildcard canary on port 7 with the
interpreter's real socket module, THEN installs the bootstrap and talks
through the SDK socket. Prints one JSON object on stdout.
"""

import json
import os
import sys
import threading
import time

BOOT_DIR = os.environ['PROBE_BOOT_DIR']


def describe_error(exc):
    return {'type': type(exc).__name__, 'errno': getattr(exc, 'errno', None),
            'message': str(exc)}


def start_servers(canary_log):
    import socket as real

    def listener(address):
        s = real.socket()
        s.setsockopt(real.SOL_SOCKET, real.SO_REUSEADDR, 1)
        s.setsockopt(real.SOL_SOCKET, real.SO_REUSEPORT, 1)
        s.bind(address)
        s.listen(8)
        return s

    def serve(sock, echo):
        while True:
            conn, _ = sock.accept()
            threading.Thread(target=handle, args=(conn, echo)).start()

    def handle(conn, echo):
        dialled = conn.getsockname()[0]
        received = b''
        while True:
            data = conn.recv(65536)
            if not data:
                break
            received += data
            if echo:
                conn.sendall(data)
        conn.close()
        if not echo:
            canary_log.append({'dst': dialled, 'bytes': received.decode('latin-1')})

    for address, echo in ((('1.1.1.1', 7), True), (('0.0.0.0', 7), False)):
        t = threading.Thread(target=serve, args=(listener(address), echo))
        t.daemon = True
        t.start()


def install():
    sys.path.insert(0, BOOT_DIR)
    import appengine_sdk_boot
    appengine_sdk_boot.install()


def probe_install():
    install()
    import select
    import socket
    sock = socket.socket()
    return {
        'socket_file': socket.__file__,
        '_socket': sys.modules['_socket'].__name__,
        'realsocket_module': type(sock._sock).__module__,
        'error_module': socket.error.__module__,
        'select_module': select.select.__module__,
        'application_id': os.environ.get('APPLICATION_ID'),
        'stub': type(__import__('google.appengine.api.apiproxy_stub_map',
                                fromlist=['x']).apiproxy.GetStub('remote_socket')).__name__,
    }


def probe_network():
    canary_log = []
    start_servers(canary_log)
    install()
    import socket
    result = {}
    conn = socket.create_connection(('1.1.1.1', 7), timeout=5)
    payload = b'ping through the SDK socket'
    conn.sendall(payload)
    echoed = b''
    while len(echoed) < len(payload):
        echoed += conn.recv(100)
    result['echo_socket_module'] = type(conn._sock).__module__
    conn.close()
    result['echo'] = echoed.decode('latin-1')

    private = socket.socket()
    try:
        private.connect(('10.0.0.1', 7))
        private.sendall(b'private-canary')
        result['private'] = 'connected'
    except socket.error as exc:
        result['private'] = describe_error(exc)
    private.close()

    bound = socket.socket()
    try:
        bound.bind(('1.1.1.1', 0))
        result['bind_specific'] = 'bound'
    except socket.error as exc:
        result['bind_specific'] = describe_error(exc)
    bound.close()

    deadline = time.time() + 2
    while time.time() < deadline and not canary_log:
        time.sleep(0.02)
    result['canary'] = list(canary_log)
    return result


def main():
    mode = sys.argv[1]
    result = probe_install() if mode == 'install' else probe_network()
    sys.stdout.write(json.dumps(result) + '\n')
    sys.stdout.flush()
    os._exit(0)   # the server threads are not daemons worth joining


if __name__ == '__main__':
    main()
