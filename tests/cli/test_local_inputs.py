"""Local inputs (token file, saved plan, sandbox seed and faults, manifests) must be small regular
files.

A FIFO with no writer must not hang the command, a device or a huge file must not exhaust
memory: each is refused with one clear line naming the file, exit 1, nothing sent. Every run
happens in a thread joined with a generous bound, so that a hang fails the test instead of
blocking the suite; a FIFO is opened for writing afterwards to release any reader left blocked.
"""

from __future__ import annotations

import contextlib
import io
import os
import sys
import threading
from pathlib import Path

import pytest

from reconciler import yamlload
from reconciler.cli import main
from reconciler.localfile import LocalFileProblem, read_capped
from reconciler.model import Location

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="FIFOs are POSIX")

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "store"
SEED = EXAMPLE / "sandbox-seed.yaml"
BOUND = 20.0
"""Seconds a refused command may take at most (it takes milliseconds)."""


def _release(fifo: Path) -> None:
    """Let a reader blocked in open() on ``fifo`` go (opening for writing unblocks it)."""
    with contextlib.suppress(OSError):
        os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))


def run_bounded(
    argv: list[str],
    capsys: pytest.CaptureFixture[str],
    fifo: Path | None = None,
    out: io.StringIO | None = None,
) -> tuple[int, str]:
    """Run the CLI in a thread; fail (not hang) if it is still running after ``BOUND``. Its
    standard output goes to ``out`` when given."""
    result: dict[str, int] = {}
    out = out or io.StringIO()

    def target() -> None:
        result["code"] = main(argv, out=out)

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(BOUND)
    hung = thread.is_alive()
    if hung and fifo is not None:
        _release(fifo)
        thread.join(BOUND)
    assert not hung, f"the command hung on {argv}"
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert "Internal error" not in err
    return result["code"], err


@pytest.fixture
def fifo(tmp_path: Path) -> Path:
    path = tmp_path / "pipe"
    os.mkfifo(path)
    return path


def sparse(path: Path, size: int) -> Path:
    """A file of ``size`` bytes that takes no disk space."""
    with path.open("wb") as handle:
        handle.truncate(size)
    return path


# --------------------------------------------------------------------------- the reader


def test_reader_refuses_fifo_directory_and_oversize(tmp_path: Path, fifo: Path) -> None:
    with pytest.raises(LocalFileProblem, match="FIFO"):
        read_capped(fifo, 100)
    with pytest.raises(LocalFileProblem, match="directory"):
        read_capped(tmp_path, 100)
    big = sparse(tmp_path / "big", 101)
    with pytest.raises(LocalFileProblem, match=r"too large \(101 bytes; the limit is 100 bytes\)"):
        read_capped(big, 100)
    exact = tmp_path / "exact"
    exact.write_bytes(b"x" * 100)
    assert read_capped(exact, 100) == b"x" * 100


@pytest.mark.parametrize("size", [0, 1, 99, 100, 101, 2 * 1024 * 1024 + 5])
def test_reader_reads_a_file_whole_with_one_read_past_its_size(
    tmp_path: Path, size: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One ``read`` of the size ``fstat`` gives and a byte more: a short read there is the end
    of the file (a file over a MiB goes by MiBs, and ends the same way). Before, a small file
    took two reads of a MiB each."""
    data = bytes(range(256)) * (size // 256) + b"x" * (size % 256)
    file = tmp_path / "f"
    file.write_bytes(data)
    asked: list[int] = []
    real_read = os.read

    def read(fd: int, n: int) -> bytes:
        asked.append(n)
        return real_read(fd, n)

    monkeypatch.setattr(os, "read", read)
    assert read_capped(file, 3 * 1024 * 1024) == data
    mib = 1024 * 1024
    # an empty file asks for a MiB: fstat says 0 for a procfs file too, whatever it holds
    assert asked == ([mib] * (size // mib) + [size % mib + 1] if size else [mib])


def test_reader_reads_past_a_size_fstat_gives_wrong(tmp_path: Path) -> None:
    """A file whose size ``fstat`` does not know (procfs says 0) is read to its end, by MiBs; a
    file that grew past its size while read is read on, then refused over the limit; a file
    that shrank is read to its end."""
    status = Path("/proc/self/status")
    if status.exists() and status.stat().st_size == 0:  # Linux
        assert read_capped(status, 1024 * 1024).startswith(b"Name:")
    grown = tmp_path / "grown"
    grown.write_bytes(b"x" * 10)
    real_fstat = os.fstat

    stale = 4

    def stale_fstat(fd: int) -> os.stat_result:  # the size before the file grew (or shrank)
        info = real_fstat(fd)
        return os.stat_result((*info[:6], stale, *info[7:]))

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(os, "fstat", stale_fstat)
        assert read_capped(grown, 100) == b"x" * 10
        with pytest.raises(LocalFileProblem, match=r"too large \(over 8 bytes\)"):
            read_capped(grown, 8)
        stale = 20  # it shrank: what is there is read
        assert read_capped(grown, 100) == b"x" * 10


# --------------------------------------------------------------------------- token file


def test_token_file_that_is_a_fifo_is_refused(
    fifo: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("BIGCOMMERCE_ACCESS_TOKEN", raising=False)
    monkeypatch.delenv("B2B_SANDBOX", raising=False)
    code, err = run_bounded(["--token-file", str(fifo), "plan", str(EXAMPLE)], capsys, fifo=fifo)
    assert code == 1
    assert f"--token-file {fifo} is a FIFO (named pipe), not a regular file" in err
    assert len(err.strip().splitlines()) == 1


def test_huge_token_file_is_refused_without_reading_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("BIGCOMMERCE_ACCESS_TOKEN", raising=False)
    monkeypatch.delenv("B2B_SANDBOX", raising=False)
    big = sparse(tmp_path / "token", 100 * 1024 * 1024)
    code, err = run_bounded(["--token-file", str(big), "plan", str(EXAMPLE)], capsys)
    assert code == 1
    assert "is too large (100 MiB; the limit is 64 KiB)" in err


# --------------------------------------------------------------------------- plan file


def test_plan_file_that_is_a_fifo_is_refused(
    fifo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, err = run_bounded(["show", str(fifo)], capsys, fifo=fifo)
    assert code == 1
    assert f"plan file '{fifo}': is a FIFO (named pipe), not a regular file" in err


def test_device_as_plan_file_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    code, err = run_bounded(["show", "/dev/zero"], capsys)
    assert code == 1
    assert "is a character device, not a regular file" in err


def test_huge_plan_file_is_refused_without_reading_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    big = sparse(tmp_path / "plan.json", 65 * 1024 * 1024)
    code, err = run_bounded(["show", str(big)], capsys)
    assert code == 1
    assert "is too large (65 MiB; the limit is 64 MiB)" in err


# --------------------------------------------------------------------------- seed, faults


def test_seed_that_is_a_fifo_is_refused(
    tmp_path: Path, fifo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "store.db"
    code, err = run_bounded(
        ["sandbox", "init", "--db", str(db), "--seed", str(fifo)], capsys, fifo=fifo
    )
    assert code == 1
    assert f"seed file {fifo} is a FIFO, device or socket, not a regular file" in err
    assert not db.exists()


def test_huge_seed_and_faults_files_are_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    big = sparse(tmp_path / "seed.yaml", 65 * 1024 * 1024)
    db = tmp_path / "store.db"
    code, err = run_bounded(["sandbox", "init", "--db", str(db), "--seed", str(big)], capsys)
    assert code == 1
    assert "is too large (68,157,440 bytes; the limit is 64 MiB)" in err
    assert run_bounded(["sandbox", "init", "--db", str(db), "--seed", str(SEED)], capsys)[0] == 0
    code, err = run_bounded(
        ["sandbox", "serve", "--db", str(db), "--port", "0", "--faults", "/dev/zero"], capsys
    )
    assert code == 1
    assert "faults file /dev/zero is a FIFO, device or socket, not a regular file" in err


# --------------------------------------------------------------------------- manifests


def test_manifest_reader_refuses_a_fifo_on_the_open_file(fifo: Path) -> None:
    """The folder walk finds files first and reads them later; a FIFO put in a file's place
    between the two is still refused, not read (the check is on the open descriptor)."""
    result: dict[str, yamlload.LoadedFile] = {}
    thread = threading.Thread(
        target=lambda: result.update(loaded=yamlload.load_path(fifo, "m/pipe.yaml")), daemon=True
    )
    thread.start()
    thread.join(BOUND)
    hung = thread.is_alive()
    if hung:
        _release(fifo)
        thread.join(BOUND)
    assert not hung, "reading a FIFO as a manifest hung"
    assert result["loaded"].problems == [
        (Location("m/pipe.yaml", 1, 1), "file is a FIFO (named pipe), not a regular file")
    ]


def test_validate_names_a_fifo_in_the_manifests_folder(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "manifests"
    folder.mkdir()
    (folder / "store.yaml").write_bytes((EXAMPLE / "store.yaml").read_bytes())
    fifo = folder / "zz-pipe.yaml"
    os.mkfifo(fifo)
    out = io.StringIO()
    code, _err = run_bounded(["validate", str(folder)], capsys, fifo=fifo, out=out)
    assert code == 1
    assert out.getvalue().splitlines() == [
        f"{fifo}:1:1: file is a FIFO (named pipe), not a regular file"
    ]
