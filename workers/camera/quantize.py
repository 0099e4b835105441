"""Quantize the detector to INT8 on the city's own pictures (ONNX Runtime static QDQ).

    python -m workers quantize FRAMES... [--model MODEL.onnx] [--out X.int8.onnx] [--pictures N]

Why: on the 2-core server the detector is most of the analysis' CPU. An INT8 model runs
~1.8x faster per frame on x86 CPUs with VNNI (most Xeons since 2019, AMD Zen 4), at the
same line counts and queue within the scorer's noise (``docs/cameras.md``, "Real streams").

FRAMES are video files (every ``--every``-th picture is taken) and/or folders of JPEG/PNG
pictures from the cameras the model will watch: the activation ranges are calibrated on
them, so a model calibrated on other scenes may lose accuracy. Each picture is letterboxed
as the detector's predictor does, at the worker's two inference sizes (``MODEL`` base size
and ``CAMERA_CROWD_IMGSZ``). The decoding part of the YOLO head (box distribution, anchors,
concatenations) stays in float: quantizing it moves boxes by whole pixels. The result is
written next to the model as ``<name>.int8.onnx``, which ``MODEL_PRECISION=int8`` (the
default) loads. Bad input (no model, not ONNX, no readable picture) is one sentence, exit 2.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from ambon_core.settings import camera_settings, get_settings
from workers.camera.detector import ModelError, int8_path, resolve_weights
from workers.tool_main import tool_main

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png"}


class QuantizeError(ValueError):
    """Bad input for quantization; the message is one sentence."""


def _video_pictures(path: Path, every: int) -> Iterator[np.ndarray]:
    import av

    try:
        with av.open(str(path)) as container:
            for i, frame in enumerate(container.decode(video=0)):
                if i % every == 0:
                    yield frame.to_ndarray(format="bgr24")
    except (av.error.FFmpegError, IndexError):
        return  # not a video (or no video stream): the caller counts what it got


def pictures(sources: list[Path], every: int, most: int) -> list[np.ndarray]:
    """Up to ``most`` BGR pictures from video files and picture folders, spread over all
    sources (each contributes its share, so one long clip does not crowd out the rest)."""
    import cv2

    per_source: list[list[np.ndarray]] = []
    share = max(1, most // max(1, len(sources)))
    for src in sources:
        if not src.exists():
            raise QuantizeError(f"{src}: no such file or folder.")
        got: list[np.ndarray] = []
        files = sorted(p for p in src.iterdir() if p.is_file()) if src.is_dir() else [src]
        for f in files:
            if f.suffix.lower() in IMAGE_SUFFIXES:
                image = cv2.imread(str(f), cv2.IMREAD_COLOR)
                if image is not None:
                    got.append(image)
            else:
                for image in _video_pictures(f, every):
                    got.append(image)
                    if len(got) >= share:
                        break
            if len(got) >= share:
                break
        per_source.append(got)
    out = [p for got in per_source for p in got][:most]
    if not out:
        raise QuantizeError("no readable picture in " + ", ".join(str(s) for s in sources)
                            + " (give video files or folders of JPEG/PNG pictures).")
    return out


def letterboxed(image: np.ndarray, size: int) -> np.ndarray:
    """The detector's input tensor for ``image`` at ``size`` (as ultralytics' predictor)."""
    from ultralytics.data.augment import LetterBox

    padded = LetterBox((size, size), auto=True, stride=32)(image=image)
    return np.ascontiguousarray(padded[..., ::-1].transpose(2, 0, 1)[None], np.float32) / 255.0


def float_head_nodes(model_path: Path) -> list[str]:
    """The nodes of the YOLO Detect head's decoding (all but its convolutions and their
    activations), which stay in float."""
    import onnx

    graph = onnx.load(str(model_path)).graph
    heads = {n.name.split("/")[1] for n in graph.node if n.name.count("/") >= 2 and "dfl" in n.name}
    return [n.name for n in graph.node
            if n.name.count("/") >= 2 and n.name.split("/")[1] in heads
            and n.op_type != "Conv" and "/act/" not in n.name]


def quantize(model: Path, sources: list[Path], out: Path | None = None, every: int = 10,
             most: int = 240, sizes: tuple[int, ...] | None = None) -> tuple[Path, int]:
    """Write the INT8 model; returns its path and the number of calibration pictures."""
    from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType, quantize_static
    from onnxruntime.quantization.shape_inference import quant_pre_process

    if not model.is_file():
        raise QuantizeError(f"{model}: no such model file.")
    if model.suffix != ".onnx" or model.name.endswith(".int8.onnx"):
        raise QuantizeError(f"{model} is not a float ONNX model (export it first: yolo export "
                            "model=X.pt format=onnx imgsz=320 dynamic=True simplify=True).")
    images = pictures(sources, every, most)
    sizes = sizes or (get_settings().inference_imgsz, camera_settings().crowd_imgsz)
    tensors = [letterboxed(im, sizes[i % len(sizes)]) for i, im in enumerate(images)]

    class Reader(CalibrationDataReader):
        def __init__(self, name: str):
            self._items = iter([{name: t} for t in tensors])

        def get_next(self) -> dict | None:
            return next(self._items, None)

    out = out or int8_path(model)
    with tempfile.TemporaryDirectory() as tmp:
        prepared = Path(tmp) / "prepared.onnx"
        try:
            quant_pre_process(str(model), str(prepared), skip_symbolic_shape=True)
            import onnx

            name = onnx.load(str(prepared)).graph.input[0].name
        except Exception as exc:  # onnx's own errors: the file is not a readable model
            raise QuantizeError(f"{model} could not be read as an ONNX model "
                                f"({type(exc).__name__}).") from None
        quantize_static(str(prepared), str(out), Reader(name), quant_format=QuantFormat.QDQ,
                        per_channel=True, activation_type=QuantType.QUInt8,
                        weight_type=QuantType.QInt8, nodes_to_exclude=float_head_nodes(prepared))
    return out, len(images)


def add_arguments(ap: argparse.ArgumentParser) -> None:
    """The command's arguments (``python -m workers quantize`` and this module's own main)."""
    ap.add_argument("frames", type=Path, nargs="+",
                    help="video files and/or folders of JPEG/PNG pictures from the city's cameras")
    ap.add_argument("--model", type=Path, default=None,
                    help="the float ONNX model (default: MODEL_PATH's .onnx)")
    ap.add_argument("--out", type=Path, default=None, help="default: <model>.int8.onnx beside it")
    ap.add_argument("--every", type=int, default=10, help="take every Nth picture of a video")
    ap.add_argument("--pictures", dest="most", type=int, default=240, metavar="N",
                    help="calibration pictures at most (default 240)")


def run(args: argparse.Namespace) -> int:
    """Quantize; a refusal is one sentence on stderr and exit code 2."""
    if args.every < 1 or args.most < 1:
        sys.stderr.write("quantize: --every and --pictures must be 1 or more\n")
        return 2
    try:
        model = args.model or Path(resolve_weights(get_settings().model_path, "onnx"))
        out, n = quantize(model, args.frames, args.out, args.every, args.most)
    except (QuantizeError, ModelError) as exc:
        sys.stderr.write(f"quantize: {exc}\n")
        return 2
    sys.stdout.write(f"quantize: {out} written, calibrated on {n} pictures; "
                     "MODEL_PRECISION=int8 (the default) loads it\n")
    return 0


def main(argv: list[str] | None = None) -> int:
    return tool_main("workers.camera.quantize", __doc__, add_arguments, run, argv)


if __name__ == "__main__":
    sys.exit(main())
