"""`python -m bench [--quick] [--only P1,P4]`: run the benchmarks, print the table; the full run also
writes docs/performance.md (between its markers) and docs/performance.raw.json.

Every process the bench starts (gunicorn, workers) runs in its own process group and is stopped in a
`finally`, also on Ctrl-C or SIGTERM.
"""

import argparse
import signal
import sys
import time
import traceback

from bench import environment

IDS = ("P1", "P2", "P3", "P4", "P5", "P6", "P7", "P8", "P13")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, under a minute; prints only")
    parser.add_argument("--only", default="", help="comma-separated ids, e.g. P1,P4 (never writes the doc)")
    parser.add_argument(
        "--settings",
        default="lms.settings",
        help="settings module for every process, to measure a change before making it (never writes the doc)",
    )
    args = parser.parse_args(argv)
    only = {i.strip().upper() for i in args.only.split(",") if i.strip()} or set(IDS)
    if unknown := only - set(IDS):
        parser.error(f"unknown benchmark id(s): {', '.join(sorted(unknown))}")

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    environment.configure(settings=args.settings)
    environment.reset_database()
    environment.reset_files()

    import django

    django.setup()
    from bench import procs, report
    from bench.sizes import FULL, QUICK

    sizes = QUICK if args.quick else FULL
    started, t0 = report.now(), time.perf_counter()
    try:
        _prepare()
        run = report.Run(
            mode=sizes.name if args.settings == "lms.settings" else f"{sizes.name}, {args.settings}",
            started=started,
            machine=environment.machine(),
            versions=environment.versions(),
            revision=environment.git_revision(),
        )
        failures = _run_all(sizes, only, run)
    finally:
        procs.stop_all()
    run.seconds = time.perf_counter() - t0
    run.rows.sort(key=lambda row: row.id)
    print(report.plain(run))
    if sizes is FULL and only == set(IDS) and args.settings == "lms.settings" and not failures:
        report.write_doc(run)
        report.write_raw(run)
        print(f"\nwrote {report.DOC.relative_to(environment.ROOT)}")
    else:
        report.write_raw(run, environment.VAR / f"results-{sizes.name}-{args.settings}.json")
    for case_id, error in failures:
        print(f"\n{case_id} FAILED:\n{error}", file=sys.stderr)
    return 1 if failures else 0


def _prepare() -> None:
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    environment.flush_redis()


def _run_all(sizes, only: set[str], run) -> list[tuple[str, str]]:
    from bench import procs
    from bench.cases import certificates, imports, observability, queries, recompute, throughput, web
    from bench.report import Row

    failures: list[tuple[str, str]] = []

    def attempt(case_id: str, fn, *args):
        if case_id not in only:
            return None
        print(f"-- {case_id} ...", flush=True)
        started = time.perf_counter()
        try:
            result = fn(*args)
        except Exception:
            failures.append((case_id, traceback.format_exc()))
            print(f"   {case_id} failed", flush=True)
            return None
        if isinstance(result, Row):
            run.rows.append(result)
        print(f"   {case_id} done in {time.perf_counter() - started:.1f} s", flush=True)
        return result

    attempt("P7", queries.p7_queries, sizes)
    p5_measured = attempt("P5", certificates.p5_in_process, sizes)

    web_on = None
    if only & {"P1", "P2"}:
        web_on = procs.Gunicorn("web-enqueue")
        web_off = procs.Gunicorn("web-no-enqueue", app="bench.wsgi_no_enqueue:application")
        web_row = procs.Gunicorn("web-job-row-only", app="bench.wsgi_job_row_only:application")
        procs.start_all(web_on, *([web_off, web_row] if "P1" in only else []))
        attempt("P1", web.p1_enqueue_cost, sizes, web_on, web_off, web_row)
        web_off.stop()
        web_row.stop()

    if only & {"P2", "P3"}:
        environment.purge_queues()
        project = procs.Worker("default", queues="default", concurrency=2)
        bare = procs.Worker("bare", queues="bare", concurrency=2, app="bench.bare_celery")
        procs.start_all(project, bare)
        attempt("P2", web.p2_sync_latency, sizes, web_on)
        if web_on is not None:
            web_on.stop()
        attempt("P3", throughput.p3_throughput, sizes, project, bare)
        project.stop()
        bare.stop()
    elif web_on is not None:
        web_on.stop()

    if p5_measured is not None:
        environment.purge_queues()
        pdf = procs.Worker("pdf", queues="pdf", concurrency=2).start()
        attempt("P5", certificates.p5_row, sizes, p5_measured, pdf)
        pdf.stop()

    if "P6" in only:
        prepared = attempt("P6", certificates.p6_prepare, sizes)
        if prepared is not None:
            environment.purge_queues()
            single = procs.Worker("single", queues="default", concurrency=2).start()
            one = attempt("P6", certificates.p6_measure, sizes, prepared, "one")
            single.stop()
            environment.purge_queues()
            default = procs.Worker("default-1", queues="default", concurrency=1)
            pdf = procs.Worker("pdf-1", queues="pdf", concurrency=1)
            procs.start_all(default, pdf)
            named = attempt("P6", certificates.p6_measure, sizes, prepared, "named")
            default.stop()
            pdf.stop()
            if one is not None and named is not None:
                attempt("P6", certificates.p6_row, sizes, one, named)

    if "P8" in only:
        environment.purge_queues()
        importer = procs.Worker("imports", queues="imports", concurrency=1).start()
        attempt("P8", imports.p8_import, sizes, importer)
        importer.stop()

    if "P13" in only:  # P3 with metrics and tracing off and on (starts its own workers)
        attempt("P13", observability.p13_observability, sizes)

    attempt("P4", recompute.p4_recompute, sizes)
    return failures


if __name__ == "__main__":
    sys.exit(main())
