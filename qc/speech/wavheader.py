"""The length a WAV file's header declares, read by walking its RIFF chunks.

FFmpeg reports a cut-off WAV's length from the bytes present, so it cannot tell a truncated copy
from a short call; Python's ``wave`` module refuses A-law and µ-law. The header's ``data`` chunk size
divided by the ``fmt `` chunk's byte rate is what the recorder wrote — twenty lines, no dependency.
"""

from __future__ import annotations

import struct
from pathlib import Path

# Streaming recorders write these as the data size while recording and never fix them up: "unknown".
_UNKNOWN_SIZES = (0, 0xFFFFFFFF)


def wav_declared_seconds(path: str | Path) -> float | None:
    """Seconds of audio the RIFF/WAVE header declares; None if not a plain RIFF WAV or the size is unknown."""
    try:
        with open(path, "rb") as f:
            head = f.read(12)
            if len(head) < 12 or head[:4] != b"RIFF" or head[8:12] != b"WAVE":
                return None  # RF64/BW64 and non-WAV files: let the decoder's length stand
            byte_rate = 0
            while chunk := f.read(8):
                if len(chunk) < 8:
                    return None
                name, size = chunk[:4], struct.unpack("<I", chunk[4:])[0]
                if name == b"fmt ":
                    fmt = f.read(size + (size & 1))
                    if len(fmt) < 12:
                        return None
                    byte_rate = struct.unpack("<I", fmt[8:12])[0]
                elif name == b"data":
                    return size / byte_rate if byte_rate and size not in _UNKNOWN_SIZES else None
                else:
                    f.seek(size + (size & 1), 1)  # chunks are padded to an even length
    except OSError:
        return None
    return None
