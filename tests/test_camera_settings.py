"""Camera tunables in one typed place (ambon_core.settings.CameraSettings, env CAMERA_*)."""

from __future__ import annotations

import logging

import pytest

from ambon_core.settings import CameraSettings, camera_settings
from workers.camera.pipeline import Rules


def test_a_count_written_as_a_decimal_is_understood(monkeypatch) -> None:
    """CAMERA_QUEUE_LONG=10.0 crashed the worker (int("10.0")) before these settings."""
    monkeypatch.setenv("CAMERA_QUEUE_LONG", "10.0")
    monkeypatch.setenv("CAMERA_STOPPED_S", "45")
    rules = Rules.from_settings()
    assert rules.queue_long == 10 and isinstance(rules.queue_long, int) and rules.stopped_s == 45.0


@pytest.mark.parametrize(("name", "value", "words"), [
    ("CAMERA_QUEUE_LONG", "10.5", "CAMERA_QUEUE_LONG='10.5': '10.5' is not a whole number."),
    ("CAMERA_WORKER_MAX", "0", "CAMERA_WORKER_MAX=0: Input should be greater than or equal to 1."),
    ("CAMERA_BLUR_MOTION", "kadang", "CAMERA_BLUR_MOTION='kadang': Input should be a valid boolean"),
    ("DETECTOR_NMS_IOU", "2", "DETECTOR_NMS_IOU='2': Input should be less than or equal to 1."),
])
def test_a_bad_value_is_one_sentence_naming_the_variable(monkeypatch, name, value, words) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ValueError) as err:
        camera_settings()
    assert words in str(err.value) and "\n" not in str(err.value)


def test_unknown_camera_variables_are_reported(monkeypatch, caplog) -> None:
    monkeypatch.setenv("CAMERA_QUEUE_LONGG", "12")  # a typo would otherwise do nothing at all
    with caplog.at_level(logging.WARNING, logger="ambon_core.settings"):
        camera_settings()
    assert any("CAMERA_QUEUE_LONGG is not a camera setting" in r.message for r in caplog.records)
    assert CameraSettings.unknown({"CAMERA_QUEUE_LONG": "1", "CAMERA_X": "1", "SIM_CAMERA_PORT": "1"}) \
        == ["CAMERA_X"]


def test_every_camera_setting_has_a_description_and_env_name() -> None:
    assert all(f.description for f in CameraSettings.model_fields.values())
    names = CameraSettings.env_names()
    assert "ALLOW_DEMO_MODEL_ON_REAL_CAMERAS" in names and "CAMERA_BLUR_LEARN_S" in names


def test_no_camera_module_reads_the_environment_itself() -> None:
    from ambon_core.settings import ROOT

    for path in (ROOT / "workers" / "camera").glob("*.py"):
        if path.name == "capture.py":  # sets FFmpeg's RTSP transport for OpenCV, reads nothing
            continue
        text = path.read_text()
        assert "os.environ.get(" not in text and "os.environ[" not in text, path.name


def test_the_camera_worker_process_refuses_a_bad_value_in_one_line(tmp_path) -> None:
    import os
    import subprocess
    import sys

    from ambon_core.settings import ROOT

    env = {**os.environ, "PYTHONPATH": str(ROOT), "CAMERA_QUEUE_LONG": "sepuluh"}
    res = subprocess.run([sys.executable, "-m", "workers", "worker", "cameras", "--once"], cwd=ROOT,
                         env=env, capture_output=True, text=True, timeout=120)
    assert res.returncode == 2
    assert res.stderr.strip().splitlines()[-1] == (
        "error: CAMERA_QUEUE_LONG='sepuluh': 'sepuluh' is not a whole number.")
