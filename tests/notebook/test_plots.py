"""Resource plots as PNG bytes, without Jupyter."""

from __future__ import annotations

import struct

from torc_client.analysis.diagnosis import JobUsage
from torc_client.notebook.plots import usage_png

MIB = 1 << 20
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == PNG_SIGNATURE and data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


def usage(job_id: int, name: str, group: str, cpus: int, memory: int, peak_cpu: float | None = None,
          avg_cpu: float | None = None, peak_memory: int | None = None, avg_memory: int | None = None) -> JobUsage:
    return JobUsage(job_id, name, "completed", None, group, cpus, memory, 3600.0, 0, 1.0, peak_cpu, avg_cpu,
                    peak_memory, avg_memory, None)  # fmt: skip


def rows(n: int) -> list[JobUsage]:
    return [usage(i, f"work_{i}", "small" if i % 2 else "big", 1 if i % 2 else 4, 512 * MIB if i % 2 else 4096 * MIB,
                  peak_cpu=30.0 + i, avg_cpu=10.0 + i, peak_memory=(20 + i) * MIB, avg_memory=(10 + i) * MIB)
            for i in range(n)]  # fmt: skip


def test_usage_plot_is_a_png_of_the_requested_size() -> None:
    assert png_size(usage_png(rows(12), width=8, height=5, dpi=50)) == (400, 250)


def test_usage_plot_handles_hundreds_of_jobs() -> None:
    assert png_size(usage_png(rows(600), dpi=40)) == (400, 240)


def test_usage_plot_without_samples_is_still_an_image() -> None:
    unsampled = [usage(1, "quick", "small", 1, MIB)]
    assert png_size(usage_png(unsampled, dpi=40)) == (400, 240)
    assert png_size(usage_png([], dpi=40)) == (400, 240)


def test_usage_plot_depends_on_the_data() -> None:
    assert usage_png(rows(5), dpi=40) != usage_png(rows(6), dpi=40)


def test_series_png_draws_a_line_per_job_and_says_when_there_is_no_series() -> None:
    from torc_client.analysis.series import JobSeries, by_group, file_stem
    from torc_client.contract import ResourceSample
    from torc_client.notebook.series_plots import series_png

    points = tuple(ResourceSample(t / 5, 80.0, t * 2**20, 1) for t in range(10))
    jobs = [JobSeries(i, f"job{i}", "small" if i < 3 else "big", 1, 100 * 2**20, 1, 1, points) for i in range(1, 5)]
    assert {group: [j.job_id for j in members] for group, members in by_group(jobs).items()} == {
        "big": [3, 4], "small": [1, 2]}
    drawn, empty = series_png("small", jobs[:2]), series_png("nothing", [])
    assert drawn[:8] == empty[:8] == b"\x89PNG\r\n\x1a\n" and drawn != empty
    assert file_stem("job", "train model/α", 7) == "job_7_train_model"
