"""Decode only what is analysed: every packet goes into the decoder (it must stay in step:
each picture refers to the ones before it), but a picture becomes a BGR array only when
the camera's analysis cadence wants one.

RTSP streams are read with PyAV (FFmpeg's libraries): the packets show which pictures are
key frames, so a camera watching a slow scene (a TPS pile, a market, a puskesmas door)
can set the decoder to skip everything else (``skip_frame = "NONKEY"``): one decoded
picture per GOP, ~1 % of a core per 1080p camera instead of ~10 % for every picture.
A stream that sends no key frame for ``keyframe_timeout_s`` is broken -- its pictures are
built on a reference that is long gone -- and is reconnected, never shown as live.
The decoder runs ``decoder_threads`` threads (1 by default: 37 cameras in parallel use the
cores better than one camera's picture split over several). H.264 and H.265 both decode.
Hardware decoding (``hwaccel``: ``qsv``, ``vaapi``, ``cuda``) is off by default; when the
device is missing the stream is decoded in software and the log says so once.
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING

import av

if TYPE_CHECKING:
    from workers.camera.capture import Grabber

log = logging.getLogger(__name__)
_HW_WARNED: set[str] = set()


class NoKeyFrame(ConnectionError):
    """The stream sent no key frame for too long (its pictures cannot be trusted)."""


def _hwaccel(kind: str) -> object | None:
    if kind == "none":
        return None
    from av.codec.hwaccel import HWAccel, hwdevices_available

    if kind not in hwdevices_available():
        if kind not in _HW_WARNED:
            _HW_WARNED.add(kind)
            log.warning("cameras: hardware decoding %s is not available here (FFmpeg offers %s); "
                        "decoding in software", kind, ", ".join(hwdevices_available()) or "none")
        return None
    return HWAccel(device_type=kind, allow_software_fallback=True)


def open_container(url: str, open_timeout_s: float, read_timeout_s: float,
                   hwaccel: str = "none") -> av.container.InputContainer:
    """Open a stream with TCP for RTSP (UDP loses packets on city links) and timeouts."""
    kwargs: dict = {"hwaccel": hw} if (hw := _hwaccel(hwaccel)) is not None else {}
    if url.startswith(("rtsp://", "rtsps://")):
        # FFmpeg's own socket timeout: PyAV's would call back into Python (taking the GIL)
        # on every wait of every camera's reads
        options = {"rtsp_transport": "tcp", "timeout": str(int(read_timeout_s * 1_000_000))}
        return av.open(url, options=options, **kwargs)
    return av.open(url, timeout=(open_timeout_s, read_timeout_s), **kwargs)


def read_stream(grabber: Grabber, url: str) -> None:
    """Decode ``url`` into ``grabber`` until it stops, fails or sends no key frame."""
    cfg = grabber.cfg
    try:
        container = open_container(url, cfg.open_timeout_s, cfg.read_timeout_s, cfg.hwaccel)
    except av.error.FFmpegError as exc:  # its text repeats the URL: the reason is enough
        raise ConnectionError(f"cannot open the stream ({exc.strerror})") from None
    try:
        stream = container.streams.video[0]
        ctx = stream.codec_context
        ctx.thread_count = cfg.decoder_threads
        if grabber.keyframes_only:
            ctx.skip_frame = "NONKEY"
        grabber.note_stream(ctx.name, (ctx.width, ctx.height))
        last_key = last_packet = time.monotonic()
        for packet in container.demux(stream):
            if grabber.stop_event.is_set():
                return
            now = time.monotonic()
            if now - last_packet >= 0.9 * cfg.read_timeout_s:
                # FFmpeg's read timeout fired and it flushed what it held: that picture is
                # old, not a new frame (counting it would keep a hung camera "alive")
                raise ConnectionError(f"no frame for {cfg.read_timeout_s:.0f} s")
            last_packet = now
            if packet.is_keyframe:
                last_key = now
                grabber.note_keyframe(now)
            elif now - last_key > cfg.keyframe_timeout_s:
                raise NoKeyFrame(f"no key frame for {cfg.keyframe_timeout_s:.0f} s")
            for frame in _decode(ctx, packet):
                grabber.note_decoded(now, (frame.width, frame.height), ctx.name)
                if grabber.due(now):
                    grabber.publish(frame.to_ndarray(format="bgr24"))
        raise ConnectionError("stream ended")
    except av.error.FFmpegError as exc:
        raise ConnectionError(f"the stream broke off ({exc.strerror})") from None
    finally:
        container.close()


def _decode(ctx: av.codec.context.CodecContext, packet: av.Packet) -> list[av.VideoFrame]:
    """The pictures of ``packet``; a damaged packet gives none (the decoder resyncs at the
    next key frame) instead of ending the stream."""
    try:
        return ctx.decode(packet)
    except av.error.InvalidDataError:
        return []
