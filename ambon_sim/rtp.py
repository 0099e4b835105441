"""H.264 / H.265 elementary streams cut into RTP packets (RFC 6184, RFC 7798) and their SDP.

The simulator's cameras play clips that were encoded once (``ambon_sim.clips``); at
run time the encoded access units are only cut into RTP payloads and stamped, never
re-encoded, the way an IP camera's firmware sends what its encoder already made.
Input is Annex B (start codes), one slice per picture (what ``-threads 1`` encoders write).
"""

from __future__ import annotations

import base64
from dataclasses import dataclass

MTU_PAYLOAD = 1400  # below a 1500-byte Ethernet MTU with RTP/TCP headers
CLOCK_HZ = 90_000  # RTP clock of video (RFC 6184 §8.2.1, RFC 7798 §7.1)


def split_nals(data: bytes) -> list[bytes]:
    """NAL units of an Annex B byte stream (3- or 4-byte start codes dropped)."""
    out, i, n = [], data.find(b"\x00\x00\x01"), len(data)
    while 0 <= i < n:
        start = i + 3
        nxt = data.find(b"\x00\x00\x01", start)
        end = n if nxt < 0 else nxt
        nal = data[start:end]
        if nxt >= 0 and nal.endswith(b"\x00"):
            nal = nal[:-1]  # the leading zero of a 4-byte start code
        if nal:
            out.append(nal)
        i = nxt
    return out


def nal_type(nal: bytes, codec: str) -> int:
    return (nal[0] >> 1) & 0x3F if codec == "hevc" else nal[0] & 0x1F


def is_vcl(nal: bytes, codec: str) -> bool:
    t = nal_type(nal, codec)
    return t < 32 if codec == "hevc" else 1 <= t <= 5


def is_key(nal: bytes, codec: str) -> bool:
    """An IDR (H.264 type 5) or IRAP (H.265 types 16-21) picture."""
    t = nal_type(nal, codec)
    return 16 <= t <= 21 if codec == "hevc" else t == 5


@dataclass(frozen=True)
class AccessUnit:
    """One picture: its NAL units (parameter sets included) and whether it is a key frame."""

    nals: tuple[bytes, ...]
    key: bool


def access_units(data: bytes, codec: str) -> list[AccessUnit]:
    """Group NAL units into pictures: non-VCL units (SPS, PPS, SEI, AUD) join the next
    picture; each VCL unit closes one (one slice per picture)."""
    out, pending = [], []
    for nal in split_nals(data):
        pending.append(nal)
        if is_vcl(nal, codec):
            out.append(AccessUnit(tuple(pending), is_key(nal, codec)))
            pending = []
    return out


def payloads(nal: bytes, codec: str, mtu: int = MTU_PAYLOAD) -> list[bytes]:
    """RTP payloads of one NAL: itself when it fits, else fragmentation units (FU-A / FU)."""
    if len(nal) <= mtu:
        return [nal]
    if codec == "hevc":
        head, body, ftype = bytes([(nal[0] & 0x81) | (49 << 1), nal[1]]), nal[2:], nal_type(nal, codec)
    else:
        head, body, ftype = bytes([(nal[0] & 0xE0) | 28]), nal[1:], nal[0] & 0x1F
    step = mtu - len(head) - 1
    chunks = [body[i:i + step] for i in range(0, len(body), step)]
    out = []
    for k, chunk in enumerate(chunks):
        flags = (0x80 if k == 0 else 0) | (0x40 if k == len(chunks) - 1 else 0)
        out.append(head + bytes([flags | ftype]) + chunk)
    return out


def au_payloads(au: AccessUnit, codec: str) -> list[bytes]:
    """Every RTP payload of a picture, in order (the last one carries the marker bit)."""
    return [p for nal in au.nals for p in payloads(nal, codec)]


def rtp_packet(payload: bytes, seq: int, timestamp: int, marker: bool, ssrc: int) -> bytes:
    """A 12-byte RTP header (version 2, payload type 96) and the payload."""
    return (bytes([0x80, (0x80 if marker else 0) | 96]) + (seq & 0xFFFF).to_bytes(2, "big")
            + (timestamp & 0xFFFFFFFF).to_bytes(4, "big") + ssrc.to_bytes(4, "big") + payload)


def sdp(units: list[AccessUnit], codec: str, name: str = "ambon-sim") -> bytes:
    """The session description a reader needs: codec, clock and the parameter sets."""
    sets: dict[int, bytes] = {}
    for au in units[:1]:
        for nal in au.nals:
            if not is_vcl(nal, codec):
                sets.setdefault(nal_type(nal, codec), nal)
    b64 = {t: base64.b64encode(n).decode() for t, n in sets.items()}
    if codec == "hevc":
        rtpmap = "H265/90000"
        named = (("vps", 32), ("sps", 33), ("pps", 34))
        fmtp = "; ".join(f"sprop-{k}={b64[t]}" for k, t in named if t in b64)
    else:
        rtpmap = "H264/90000"
        sps = sets.get(7, b"\x67\x42\x00\x1e")
        fmtp = (f"packetization-mode=1; profile-level-id={sps[1:4].hex()}; "
                f"sprop-parameter-sets={b64.get(7, '')},{b64.get(8, '')}")
    lines = ["v=0", "o=- 0 0 IN IP4 127.0.0.1", f"s={name}", "c=IN IP4 0.0.0.0", "t=0 0",
             "m=video 0 RTP/AVP 96", f"a=rtpmap:96 {rtpmap}", f"a=fmtp:96 {fmtp}",
             "a=control:streamid=0"]
    return ("\r\n".join(lines) + "\r\n").encode()
