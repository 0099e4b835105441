"""Contacts from the shell (``python -m workers contacts``) and in the registry file, as
real processes on the test database; the notifier is one of the supervised workers."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from ambon_core.registry import RegistryError, parse_registry
from ambon_core.settings import ROOT, Settings
from workers.catalog import LOOP_WORKERS, child_specs

SECRET = "tgram://123456789:AAHsecretTOKENvalue/987654321"


def _cli(settings: Settings, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATABASE_URL": settings.database_url, "SIM_ENABLED": "false",
           "LOG_LEVEL": "WARNING"}
    return subprocess.run([sys.executable, "-m", "workers", "contacts", *args], cwd=ROOT,
                          env=env, input=stdin, capture_output=True, text=True, timeout=120)


def test_add_list_remove_with_the_target_from_stdin_and_masked(settings, session) -> None:
    out = _cli(settings, "add", "--label", "Kadis Kesehatan", "--opd", "dinkes", "--url-stdin",
               stdin=SECRET + "\n")
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok: kontak 1 (opd)"
    listed = json.loads(_cli(settings, "list", "--json").stdout)
    assert [(c["id"], c["level"], c["channel"], c["label"]) for c in listed] == [
        ("db:1", "opd", "telegram", "Kadis Kesehatan")]
    assert "secretTOKEN" not in json.dumps(listed)
    assert _cli(settings, "remove", "--id", "1").returncode == 0
    assert json.loads(_cli(settings, "list", "--json").stdout) == []


@pytest.mark.parametrize("args,url,words", [
    (["--opd", "dinkes"], "https://example.org/hook", "bukan saluran yang didukung"),
    (["--opd", "dinkes"], "mailto://", "tidak lengkap"),
    (["--opd", "dinas_x"], "ntfy://topik", "opd: 'dinas_x' tidak dikenal"),
    (["--opd", "dinkes", "--site", "pkm-nowhere"], "ntfy://topik", "site: 'pkm-nowhere'"),
    (["--site", "pkm-waihoka"], "ntfy://topik", "perlu OPD pemiliknya"),
])
def test_bad_contact_is_one_sentence_and_exit_2(settings, session, args, url, words) -> None:
    out = _cli(settings, "add", "--label", "X", *args, "--url-stdin", stdin=url + "\n")
    assert out.returncode == 2 and out.stderr.startswith("error: ") and words in out.stderr
    assert "Traceback" not in out.stderr


def test_registry_contacts_are_validated_with_file_and_line() -> None:
    base = (Path(ROOT) / "data" / "registry.yaml").read_text(encoding="utf-8")
    good = base + ("\ncontacts:\n- label: Kepala Puskesmas Waihoka\n  opd: dinkes\n"
                   "  site: pkm-waihoka\n  url: mailtos://user:pw@mail.ambon.go.id?to=kapus@ambon.go.id\n")
    assert [c.label for c in parse_registry(good).contacts] == ["Kepala Puskesmas Waihoka"]
    bad = base + "\ncontacts:\n- label: X\n  opd: dinkes\n  url: http://example.org/hook\n"
    with pytest.raises(RegistryError) as err:
        parse_registry(bad, source="registry.yaml")
    line = base.count("\n") + 5  # the url line of the appended entry
    assert f"registry.yaml:{line}: contacts[0].url" in str(err.value)


def test_notifier_is_supervised(settings) -> None:
    assert LOOP_WORKERS["notifier"] == "workers.notifier:NotifierWorker"
    from ambon_core.registry import load_registry

    names = [s.name for s in child_specs(settings, load_registry())]
    assert "notifier" in names
