"""Certificate rendering: time and memory over many renders, against a trivial document rendered the same way.

    .venv/bin/python bench/certificate_render.py            # 1,000 renders of each
    .venv/bin/python bench/certificate_render.py --smoke    # 20 of each, to check it runs
    .venv/bin/python bench/certificate_render.py --unshared 200   # also: a new FontConfiguration per render

Both documents go through modules.certificates.rendering (the shared FontConfiguration and the refusing
URL fetcher); the certificate also renders its Jinja template and QR code, as issuing does. Memory is the
process's resident set size (VmRSS) before and after each series, after a warm-up.
"""

import argparse
import gc
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

TRIVIAL = "<!DOCTYPE html><html><body><p>Hello</p></body></html>"
WARM_UP = 5


def rss_mb() -> float:
    """Resident set size of this process in MB (Linux)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def series(name: str, render, count: int) -> dict:
    """Render `count` times after a warm-up; per-render times and the RSS growth."""
    for _ in range(WARM_UP):
        render()
    gc.collect()
    before = rss_mb()
    times = []
    for _ in range(count):
        start = time.perf_counter()
        render()
        times.append(time.perf_counter() - start)
    gc.collect()
    after = rss_mb()
    times.sort()
    result = {"name": name, "count": count, "mean_ms": statistics.fmean(times) * 1000,
              "median_ms": statistics.median(times) * 1000, "p95_ms": times[int(0.95 * (count - 1))] * 1000,
              "total_s": sum(times), "rss_before_mb": before, "rss_after_mb": after, "growth_mb": after - before}
    print(f"{name:<32} n={count:<5} mean {result['mean_ms']:7.1f} ms  median {result['median_ms']:7.1f} ms  "
          f"p95 {result['p95_ms']:7.1f} ms  total {result['total_s']:6.1f} s  "
          f"RSS {before:6.1f} → {after:6.1f} MB ({after - before:+.1f} MB, "
          f"{(after - before) * 1024 / count:+.1f} KB/render)", flush=True)
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=1000, help="renders per document (default 1000)")
    parser.add_argument("--smoke", action="store_true", help="a quick run: 20 renders per document")
    parser.add_argument("--unshared", type=int, default=0, metavar="N",
                        help="also render the certificate N times with a new FontConfiguration each time")
    args = parser.parse_args()
    count = 20 if args.smoke else args.count

    from app import create_app
    from modules.certificates import rendering
    from modules.certificates.codes import group_code, new_code
    from modules.certificates.links import FALLBACK_BASE

    instance = tempfile.mkdtemp(prefix="pp-bench-")
    app = create_app({"INSTANCE_PATH": instance, "SECRET_KEY": "bench",
                      "SQLALCHEMY_DATABASE_URI": f"sqlite:///{instance}/bench.db"})
    with app.app_context():
        code = new_code()
        content = rendering.CertificateContent(
            holder_name="Samantha O’Neill-Taylor", trust_name="The Kemnal Academies Trust",
            academy_name="North Park Academy", policy_title="Social Media Policy", version_label="Version 1",
            completed_on="21 November 2026", expires_on="21 November 2027", code_grouped=group_code(code),
            verify_url=f"{FALLBACK_BASE}/verify/{code}")

        start = time.perf_counter()
        rendering._weasyprint()
        print(f"WeasyPrint import + shared FontConfiguration: {(time.perf_counter() - start) * 1000:.0f} ms "
              f"(once per process, on the first PDF)")
        start = time.perf_counter()
        first = rendering.render_certificate(content)
        print(f"first certificate render: {(time.perf_counter() - start) * 1000:.0f} ms, "
              f"{len(first.pdf) / 1024:.1f} KB PDF; trivial PDF {len(rendering.html_to_pdf(TRIVIAL)) / 1024:.1f} KB")

        trivial = series("trivial document", lambda: rendering.html_to_pdf(TRIVIAL), count)
        certificate = series("certificate (template+QR+PDF)", lambda: rendering.render_certificate(content), count)
        print("ratios, certificate / trivial:")
        print(f"  time   mean {certificate['mean_ms'] / trivial['mean_ms']:.2f}×   "
              f"median {certificate['median_ms'] / trivial['median_ms']:.2f}×   "
              f"p95 {certificate['p95_ms'] / trivial['p95_ms']:.2f}×")
        growth_t, growth_c = trivial["growth_mb"], certificate["growth_mb"]
        ratio = f"{growth_c / growth_t:.2f}×" if abs(growth_t) >= 0.5 else "n/a (trivial growth under 0.5 MB)"
        print(f"  memory growth {growth_c:+.1f} MB vs {growth_t:+.1f} MB: {ratio}")

        if args.unshared:
            from weasyprint.text.fonts import FontConfiguration

            wp = rendering._weasyprint()
            html = first.html

            def unshared():
                wp["HTML"](string=html, url_fetcher=wp["fetcher"]).write_pdf(font_config=FontConfiguration())

            leak = series("certificate, unshared fonts", unshared, args.unshared)
            print(f"  unshared / shared, per render: time {leak['mean_ms'] / certificate['mean_ms']:.2f}×, "
                  f"memory {leak['growth_mb'] * 1024 / args.unshared:+.1f} KB vs "
                  f"{certificate['growth_mb'] * 1024 / count:+.1f} KB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
