#!/usr/bin/env python3
"""Reads and rewrites mest files (checkpoints, models, statistics) for tests,
written from docs/training.md's description of the format, not from the C++
code: a 40-byte header (magic MESTCKPT, version, kind, fingerprint, payload
bytes, CRC-32, section count) and tagged sections (4-byte tag, 8-byte size).
Version 2's CRC covers the header with its crc field zero, then the payload.

  mestfile.py set-i32 FILE TAG OFFSET VALUE   overwrite an int32 in a section
  mestfile.py fill FILE TAG BYTE              overwrite a whole section
  mestfile.py drop FILE TAG                   remove a section
  mestfile.py get-i32 FILE TAG OFFSET         print an int32 of a section
Every rewrite recomputes the checksum, so the file stays "intact"."""
import struct
import sys
import zlib

HEADER = struct.Struct("<8sIIQQII")


def read(path):
    data = open(path, "rb").read()
    magic, version, kind, fp, size, crc, count = HEADER.unpack_from(data)
    assert magic == b"MESTCKPT" and version == 2, (magic, version)
    sections, at = [], HEADER.size
    for _ in range(count):
        tag = data[at:at + 4].rstrip(b"\0").decode()
        (n,) = struct.unpack_from("<Q", data, at + 4)
        sections.append([tag, bytearray(data[at + 12:at + 12 + n])])
        at += 12 + n
    return kind, fp, sections


def write(path, kind, fp, sections):
    payload = b"".join(t.encode().ljust(4, b"\0") + struct.pack("<Q", len(b)) + bytes(b)
                       for t, b in sections)
    head = HEADER.pack(b"MESTCKPT", 2, kind, fp, len(payload), 0, len(sections))
    crc = zlib.crc32(payload, zlib.crc32(head))
    open(path, "wb").write(HEADER.pack(b"MESTCKPT", 2, kind, fp, len(payload), crc,
                                       len(sections)) + payload)


def section(sections, tag):
    for t, b in sections:
        if t == tag:
            return b
    sys.exit(f"no section {tag}")


def main():
    cmd, path, tag = sys.argv[1:4]
    kind, fp, sections = read(path)
    if cmd == "get-i32":
        print(struct.unpack_from("<i", section(sections, tag), int(sys.argv[4]))[0])
        return
    if cmd == "set-i32":
        struct.pack_into("<i", section(sections, tag), int(sys.argv[4]), int(sys.argv[5]))
    elif cmd == "fill":
        b = section(sections, tag)
        b[:] = bytes([int(sys.argv[4], 0)]) * len(b)
    elif cmd == "drop":
        sections = [s for s in sections if s[0] != tag]
    write(path, kind, fp, sections)


main()
