"""Bootstraps of the spelling near-miss candidates (runs inside an instance).

Each guards connect and sendto: it reads an IPv4 address out of the host part
its own way, refuses (EACCES) a non-global one, and dials what it read. A host
part it cannot read goes to the platform unchanged.

- decimal_parts: a.b.c.d with every part decimal (a leading zero is no octal)
  or 0x hex; fewer parts padded with zeros at the end; parts past the fourth
  ignored; no part range-checked, so a big part spills into the next byte; a
  trailing dot removed with one character too many.
- byte_order: one number (decimal, 0x hex or 0 octal) packed in little-endian
  order, the host order of the machine that wrote it.
"""

import errno
import ipaddress
import socket
import struct

_connect = socket.socket.connect
_sendto = socket.socket.sendto


def _part(text):
    return int(text[2:], 16) if text[:2].lower() == "0x" else int(text, 10)


def _decimal_parts(text):
    text = text.strip()
    if text.endswith("."):
        text = text[:-2]   # meant to drop the trailing dot: one character too many
    parts = text.split(".")
    if len(parts) < 2:
        return None
    values = [_part(p) for p in parts[:4]]
    values += [0] * (4 - len(values))
    number = 0
    for value in values:
        number = (number << 8) + value
    return number & 0xFFFFFFFF


def _byte_order(text):
    text = text.strip()
    if "." in text:
        return None
    if text[:2].lower() == "0x":
        number = int(text[2:], 16)
    elif text.startswith("0") and len(text) > 1:
        number = int(text, 8)
    else:
        number = int(text, 10)
    return struct.unpack("<I", struct.pack(">I", number & 0xFFFFFFFF))[0]


def _guard(read):
    def target(sock, address):
        host = address[0]
        if sock.family != socket.AF_INET or not isinstance(host, str):
            return address
        try:
            number = read(host)
        except ValueError:
            return address
        if number is None:
            return address
        dialled = ipaddress.IPv4Address(number)
        if not dialled.is_global:
            raise OSError(errno.EACCES, f"misreader: {dialled} is not global")
        return (str(dialled), *address[1:])

    def connect(self, address):
        return _connect(self, target(self, address))

    def sendto(self, data, *args):
        return _sendto(self, data, *args[:-1], target(self, args[-1]))

    socket.socket.connect = connect
    socket.socket.sendto = sendto


def decimal_parts():
    _guard(_decimal_parts)


def byte_order():
    _guard(_byte_order)
