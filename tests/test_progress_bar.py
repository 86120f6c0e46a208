"""SimpleBar, the dependency-free progress bar, against what callers of tqdm rely on.

futures_impl.parallel hands out `pbar`, a tqdm bar when tqdm is importable and a SimpleBar
otherwise, so code written against one must behave the same against the other: drawing
only on a terminal unless forced, throttled redraws that still show completion, the
everyday setters with their `refresh=` flag, `write` above the bar, an idempotent close.
Where tqdm is installed, the elapsed-time format is compared with tqdm's own.
"""

from __future__ import annotations

import io
import sys

import pytest

from futures_impl import _progress
from futures_impl._progress import SimpleBar, make_bar


class Terminal(io.StringIO):
    """A stream that says it is a terminal."""

    def isatty(self) -> bool:
        return True


def drawn(out: io.StringIO) -> list[str]:
    """The successive renderings of the bar (each redraw starts with a carriage return)."""
    return [part.rstrip(" \n") for part in out.getvalue().split("\r") if part.strip()]


@pytest.fixture
def no_tqdm(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(sys.modules):
        if name == "tqdm" or name.startswith("tqdm."):
            monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "tqdm", None)  # makes `import tqdm` raise
    monkeypatch.setitem(sys.modules, "tqdm.auto", None)


# -- when it draws -----------------------------------------------------------------------


def test_auto_mode_draws_on_a_terminal_only() -> None:
    """disable=None is tqdm's convention: draw when the stream is a terminal."""
    tty, pipe = Terminal(), io.StringIO()
    on_tty = SimpleBar(total=2, file=tty, disable=None)
    on_pipe = SimpleBar(total=2, file=pipe, disable=None)
    for bar in (on_tty, on_pipe):
        bar.update(2)
        bar.close()
    assert not on_tty.disable and drawn(tty)[-1].startswith("100%|")
    assert on_pipe.disable and pipe.getvalue() == ""
    assert on_pipe.n == 2  # a silent bar still counts


def test_stream_without_isatty_counts_as_not_a_terminal() -> None:
    class Sink:
        def __init__(self) -> None:
            self.text = ""

        def write(self, s: str) -> None:
            self.text += s

        def flush(self) -> None:
            pass

    sink = Sink()
    bar = SimpleBar(total=1, file=sink, disable=None)  # type: ignore[arg-type]
    bar.update()
    bar.close()
    assert bar.disable and sink.text == ""


def test_default_stream_is_stderr_at_creation(monkeypatch: pytest.MonkeyPatch) -> None:
    err = Terminal()
    monkeypatch.setattr(sys, "stderr", err)
    bar = SimpleBar(total=3, desc="job", disable=False)
    bar.close()
    assert bar.file is err and drawn(err)[-1].startswith("job:   0%|")


def test_redraws_are_throttled_but_completion_is_always_shown() -> None:
    out = io.StringIO()
    bar = SimpleBar(total=3, file=out, disable=False, mininterval=3600)
    assert len(drawn(out)) == 1  # the initial 0/3
    assert bar.update() is None and bar.update() is None  # within mininterval: no redraw
    assert len(drawn(out)) == 1
    assert bar.update() is True  # the last step is drawn whatever the interval
    assert drawn(out)[-1].startswith("100%|####################| 3/3 [")


def test_every_update_draws_with_no_interval() -> None:
    out = io.StringIO()
    bar = SimpleBar(file=out, disable=False, mininterval=0)
    assert bar.update(2) is True and bar.update(1.9) is True  # tqdm counts int(n) here too
    assert drawn(out)[-1].startswith("3it [")


def test_a_shorter_line_blanks_the_rest_of_the_longer_one() -> None:
    out = io.StringIO()
    bar = SimpleBar(desc="a long description", file=out, disable=False)
    long_len = len(bar.format_line())
    bar.set_description("x")
    last = out.getvalue().rsplit("\r", 1)[-1]
    assert last.startswith("x: 0it [") and len(last) == long_len  # padded with spaces


# -- the setters -------------------------------------------------------------------------


def test_set_postfix_from_a_mapping_and_keywords() -> None:
    out = io.StringIO()
    bar = SimpleBar(total=4, file=out, disable=False)
    bar.set_postfix({"loss": 0.5}, acc=1)
    assert drawn(out)[-1].endswith(", loss=0.5, acc=1]")
    bar.set_postfix_str("custom")
    assert drawn(out)[-1].endswith(", custom]")
    bar.set_postfix()
    assert drawn(out)[-1].endswith("]") and "custom" not in drawn(out)[-1]


@pytest.mark.parametrize(
    "setter",
    [
        lambda bar: bar.set_postfix({"k": 1}, refresh=False),
        lambda bar: bar.set_postfix_str("s", refresh=False),
        lambda bar: bar.set_description("d", refresh=False),
        lambda bar: bar.set_description_str("d", refresh=False),
    ],
    ids=["set_postfix", "set_postfix_str", "set_description", "set_description_str"],
)
def test_refresh_false_changes_the_bar_without_drawing(setter) -> None:  # type: ignore[no-untyped-def]
    out = io.StringIO()
    bar = SimpleBar(total=2, file=out, disable=False)
    before = out.getvalue()
    setter(bar)
    assert out.getvalue() == before  # nothing drawn now...
    bar.refresh()
    assert drawn(out)[-1] != drawn(io.StringIO(before))[-1]  # ...but the next draw shows it


def test_set_description_str_and_clearing_the_description() -> None:
    out = io.StringIO()
    bar = SimpleBar(total=2, desc="old", file=out, disable=False)
    bar.set_description_str("new")
    assert drawn(out)[-1].startswith("new:   0%|")
    bar.set_description(None)
    assert drawn(out)[-1].startswith("  0%|")


def test_reset_without_a_total_keeps_the_total() -> None:
    out = io.StringIO()
    bar = SimpleBar(total=5, file=out, disable=False)
    bar.update(5)
    bar.reset()
    assert bar.n == 0 and bar.total == 5
    assert drawn(out)[-1].startswith("  0%|                    | 0/5 [")


def test_counts_beyond_the_total_stay_at_100_percent() -> None:
    bar = SimpleBar(total=2, disable=True)
    bar.update(3)
    assert bar.format_line().startswith("100%|####################| 3/2 [")


def test_unknown_tqdm_keywords_are_accepted_and_ignored() -> None:
    bar = SimpleBar(total=1, disable=True, unit="files", leave=False, ncols=80)
    bar.update()
    assert bar.n == 1


# -- write and close ---------------------------------------------------------------------


def test_write_clears_the_bar_prints_the_line_and_redraws() -> None:
    out = io.StringIO()
    bar = SimpleBar(total=2, desc="w", file=out, disable=False)
    width = len(bar.format_line())
    bar.write("a message")
    text = out.getvalue()
    assert "\r" + " " * width + "\ra message\n" in text
    assert text.endswith("\r" + bar.format_line())  # the bar is back under the line


def test_write_to_another_stream_leaves_the_bar_alone() -> None:
    out, other = io.StringIO(), io.StringIO()
    bar = SimpleBar(total=2, file=out, disable=False)
    bar.write("elsewhere", file=other, end="!")
    assert other.getvalue() == "elsewhere!"
    assert " " * len(bar.format_line()) not in out.getvalue()  # no clearing sequence


def test_write_on_a_disabled_or_closed_bar_prints_only_the_line() -> None:
    out = io.StringIO()
    silent = SimpleBar(total=2, file=out, disable=True)
    silent.write("one")
    assert out.getvalue() == "one\n"
    out2 = io.StringIO()
    closed = SimpleBar(total=2, file=out2, disable=False)
    closed.close()
    before = out2.getvalue()
    closed.write("after")
    assert out2.getvalue().startswith(before)
    assert out2.getvalue()[len(before):].endswith("after\n")  # no bar redrawn after it
    closed.refresh()
    closed.update()
    assert out2.getvalue()[len(before):].endswith("after\n")


def test_close_draws_once_more_and_ends_the_line_once() -> None:
    out = io.StringIO()
    with SimpleBar(total=10, file=out, disable=False, mininterval=3600) as bar:
        bar.update(4)  # throttled: not drawn
        assert "4/10" not in out.getvalue()
    assert drawn(out)[-1].startswith(" 40%|########            | 4/10 [")
    assert out.getvalue().endswith("\n") and out.getvalue().count("\n") == 1
    bar.close()
    assert out.getvalue().count("\n") == 1


def test_a_disabled_bar_never_writes() -> None:
    out = io.StringIO()
    with SimpleBar(total=2, file=out, disable=True) as bar:
        bar.update(2)
        bar.set_postfix(x=1)
        bar.reset(3)
    assert out.getvalue() == ""


def test_repr_shows_the_current_line() -> None:
    bar = SimpleBar(total=4, desc="r", disable=True)
    bar.update()
    assert repr(bar).startswith("<SimpleBar 'r:  25%|#####")


# -- elapsed time ------------------------------------------------------------------------


@pytest.mark.parametrize("seconds", [0, 5.9, 59, 60, 61, 3599, 3600, 3661, 86399, 90061])
def test_elapsed_time_is_formatted_like_tqdm(seconds: float) -> None:
    expected = {0: "00:00", 5.9: "00:05", 59: "00:59", 60: "01:00", 61: "01:01",
                3599: "59:59", 3600: "1:00:00", 3661: "1:01:01", 86399: "23:59:59",
                90061: "25:01:01"}
    assert _progress._format_seconds(seconds) == expected[seconds]
    try:
        import tqdm  # type: ignore[import-untyped, unused-ignore]
    except ImportError:
        return
    assert tqdm.tqdm.format_interval(seconds) == expected[seconds]  # the same as tqdm's


def test_hours_appear_in_the_bar_line() -> None:
    bar = SimpleBar(total=1, disable=True)
    bar.start_t -= 3 * 3600 + 4 * 60 + 5
    assert bar.format_line().endswith("[3:04:05<?, ?it/s]")


# -- make_bar ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("progress", "disable"),
    [(True, None), ("auto", None), (False, True), ("never", True), ("always", False)],
)
def test_progress_modes(progress: object, disable: object, no_tqdm: None) -> None:
    out = io.StringIO()
    bar = make_bar(3, "m", progress, file=out)  # type: ignore[arg-type]
    assert isinstance(bar, SimpleBar) and bar.file is out
    assert bar.disable is (True if disable is None else disable)  # StringIO: no terminal
    bar.close()
    assert (out.getvalue() != "") is (disable is False)


@pytest.mark.parametrize("progress", ["sometimes", 1, None, "ALWAYS"])
def test_invalid_progress_is_refused(progress: object) -> None:
    with pytest.raises(ValueError, match="progress must be True, False, 'auto'"):
        make_bar(1, None, progress)  # type: ignore[arg-type]


def test_make_bar_passes_extra_keywords(no_tqdm: None) -> None:
    bar = make_bar(2, "k", "always", file=io.StringIO(), mininterval=3600, width=4)
    assert bar.mininterval == 3600 and bar.width == 4
    assert bar.format_line().startswith("k:   0%|    | 0/2")


def test_make_bar_with_tqdm_writes_to_stderr_by_default(
    capsys: pytest.CaptureFixture[str],
) -> None:
    tqdm = pytest.importorskip("tqdm")
    bar = make_bar(2, "t", "always", mininterval=0)
    assert isinstance(bar, tqdm.tqdm)
    bar.update(2)
    bar.close()
    captured = capsys.readouterr()
    assert "2/2" in captured.err and captured.out == ""


def test_tqdm_available_follows_the_import(no_tqdm: None) -> None:
    assert _progress.tqdm_available() is False


# -- rate, ETA, failures, width (issue 15) -----------------------------------------------


@pytest.mark.parametrize(
    ("n", "elapsed", "expected"),
    [
        (4, 20.0, " 40%|########            | 4/10 [00:20<00:30, 5.00s/it]"),
        (4, 2.0, " 40%|########            | 4/10 [00:02<00:03, 2.00it/s]"),
        (0, 5.0, "  0%|                    | 0/10 [00:05<?, ?it/s]"),
        (10, 100.0, "100%|####################| 10/10 [01:40<00:00, 10.00s/it]"),
    ],
)
def test_rate_and_eta_like_tqdm(n: int, elapsed: float, expected: str) -> None:
    bar = SimpleBar(total=10, disable=True)
    bar.n = n
    bar.start_t -= elapsed
    assert bar.format_line() == expected
    try:
        import tqdm  # type: ignore[import-untyped, unused-ignore]
    except ImportError:
        return
    # The same fields as tqdm's own line (tqdm pads the rate and widens the bar).
    theirs = tqdm.tqdm.format_meter(n, 10, elapsed, ncols=0)
    ours_without_bar = expected[:4] + " " + expected.rsplit("| ", 1)[1]
    assert " ".join(theirs.split()) == " ".join(ours_without_bar.split())


def test_rate_without_a_total() -> None:
    bar = SimpleBar(disable=True)
    bar.n = 6
    bar.start_t -= 2
    assert bar.format_line() == "6it [00:02, 3.00it/s]"


def test_failures_appear_in_the_counts() -> None:
    bar = SimpleBar(total=10, desc="f", disable=True)
    bar.update(4)
    assert "| 4/10 [" in bar.format_line()
    bar.failed = 1
    assert "| 4/10 (1 failed) [" in bar.format_line()


@pytest.mark.parametrize("ncols", [80, 60, 45, 30, 20, 10])
def test_the_line_fits_the_width_given(ncols: int) -> None:
    out = Terminal()
    bar = SimpleBar(total=100, desc="a long description", file=out, disable=False, ncols=ncols)
    bar.update(37)
    bar.failed = 3
    bar.set_postfix(status="processing", last="item-37")
    frames = drawn(out)
    assert frames and all(len(frame) <= ncols - 1 for frame in frames), frames
    if ncols >= 45:
        assert "37/100 (3 failed)" in frames[-1]
    wide = SimpleBar(total=100, desc="d", disable=True, ncols=200)
    wide.update(100)
    assert "|####################|" in wide.format_line(200)  # never wider than `width`


def test_the_width_is_the_terminals(monkeypatch: pytest.MonkeyPatch) -> None:
    out = Terminal()  # no file descriptor: the width comes from $COLUMNS, as shutil does
    monkeypatch.setenv("COLUMNS", "40")
    bar = SimpleBar(total=10, desc="a rather long description here", file=out, mininterval=0)
    bar.update(3)
    assert all(len(frame) <= 39 for frame in drawn(out))
    assert "3/10" in drawn(out)[-1]
    monkeypatch.setenv("COLUMNS", "120")  # measured again at each draw (a resize)
    bar.set_postfix(k=1)
    assert drawn(out)[-1].startswith("a rather long description here:  30%|######")


def test_write_to_stdout_clears_a_bar_on_stderr(monkeypatch: pytest.MonkeyPatch) -> None:
    err, out = Terminal(), Terminal()
    monkeypatch.setattr(sys, "stderr", err)
    monkeypatch.setattr(sys, "stdout", out)
    bar = SimpleBar(total=2, disable=False)
    width = len(drawn(err)[-1])
    bar.write("to stdout", file=sys.stdout)
    assert out.getvalue() == "to stdout\n"
    assert err.getvalue().endswith("\r" + " " * width + "\r" + "\r" + bar.format_line())


def test_external_write_mode_clears_and_redraws() -> None:
    out = Terminal()
    bar = SimpleBar(total=2, desc="e", file=out, disable=False)
    before = len(out.getvalue())
    with bar.external_write_mode():
        out.write("[1/2] logged\n")
    after = out.getvalue()[before:]
    assert after.startswith("\r" + " " * len(bar.format_line()) + "\r[1/2] logged\n\r")
    assert drawn(out)[-1] == bar.format_line()
