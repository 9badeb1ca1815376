"""MLLP framing (HL7 v2 Minimal Lower Layer Protocol): <VT> message <FS><CR>.

An incremental decoder for a TCP stream: bytes arrive in any chunks, a connection carries
several messages one after the other, a frame may be split anywhere (even between <FS> and
<CR>). Written here rather than taken from a library because both Python HL7 libraries have
framing bugs on exactly these cases (interop.md section 4: hl7apy #37 reads only the first
of several messages on one connection; python-hl7 #17 read_stream buffering, #44 the client
closing before the whole ACK is read).

Pure: no Django, no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass, field

START_BLOCK = b"\x0b"
END_BLOCK = b"\x1c"
CARRIAGE_RETURN = b"\x0d"
END = END_BLOCK + CARRIAGE_RETURN

DEFAULT_MAX_FRAME = 1_000_000
"""Bytes. A PCD-01 periodic message is a few KB; a megabyte is generous and bounded."""


def frame(message: bytes) -> bytes:
    """One message wrapped for sending."""
    if START_BLOCK in message or END_BLOCK in message:
        raise ValueError("an HL7 message may not contain the MLLP block characters")
    return START_BLOCK + message + END


@dataclass(frozen=True)
class Frame:
    """What the decoder yields: a whole message, or a refusal of what could not be one."""

    payload: bytes
    error: str = ""
    """Empty for a good frame; else why the bytes were refused (the payload is a prefix)."""

    @property
    def ok(self) -> bool:
        return not self.error


@dataclass
class MllpDecoder:
    """Feed bytes, take frames.

    - Bytes outside a frame (before <VT>) are junk: counted and dropped (some senders put a
      newline between frames).
    - A frame longer than `max_frame` is refused (`Frame.error`) and its remaining bytes are
      skipped up to its <FS><CR>, so one oversize message does not end the connection nor
      make the decoder buffer without bound.
    - A <VT> inside a frame starts a new frame: the sender gave up on the previous one
      (a retry after a partial send); the broken one is reported.
    """

    max_frame: int = DEFAULT_MAX_FRAME
    junk_bytes: int = 0
    _buffer: bytearray = field(default_factory=bytearray)
    _in_frame: bool = False
    _skipping: bool = False

    @property
    def in_frame(self) -> bool:
        """Whether a frame has started and not ended (for idle-timeout decisions)."""
        return self._in_frame

    @property
    def buffered(self) -> int:
        return len(self._buffer)

    def feed(self, data: bytes) -> list[Frame]:
        self._buffer += data
        frames: list[Frame] = []
        buf = self._buffer
        while buf:
            if not self._in_frame:
                start = buf.find(START_BLOCK)
                if start < 0:
                    self.junk_bytes += len(buf)
                    buf.clear()
                    break
                self.junk_bytes += start
                del buf[: start + 1]
                self._in_frame, self._skipping = True, False
                continue
            end = buf.find(END)
            restart = buf.find(START_BLOCK)
            if restart >= 0 and (end < 0 or restart < end):
                if not self._skipping:
                    frames.append(Frame(bytes(buf[:restart]), "frame restarted before its end"))
                del buf[:restart]
                self._in_frame = False
                continue
            if end >= 0:
                if not self._skipping:
                    frames.append(self._complete(bytes(buf[:end])))
                del buf[: end + len(END)]
                self._in_frame, self._skipping = False, False
                continue
            # No end yet: keep at most max_frame bytes (+1: a trailing <FS> awaiting its <CR>).
            if len(buf) > self.max_frame + 1:
                if not self._skipping:
                    frames.append(self._oversize(bytes(buf[:200])))
                    self._skipping = True
                del buf[:-1]
            break
        return frames

    def _complete(self, payload: bytes) -> Frame:
        if len(payload) > self.max_frame:
            return self._oversize(payload[:200])
        return Frame(payload)

    def _oversize(self, prefix: bytes) -> Frame:
        return Frame(prefix, f"frame longer than {self.max_frame} bytes")
