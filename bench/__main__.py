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

IDS = ("P1", "P2", "P3", "P4", "P5", "P6", "P7", "P8", "P9", "P10", "P11", "P12", "P13")


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
    from bench.cases import certificates, imports, observability, queries, recompute, reports, scale

    cases = _Cases(sizes, only, run)
    cases.attempt("P7", queries.p7_queries, sizes)
    cases.housekeeping()
    p5_measured = cases.attempt("P5", certificates.p5_in_process, sizes)
    cases.web_and_workers()
    cases.certificates(p5_measured)
    cases.with_worker("P8", "imports", imports.p8_import)
    cases.with_worker("P9", "reports", reports.p9_report)
    cases.polling_while_a_report_runs()
    cases.attempt("P13", observability.p13_observability, sizes)  # P3 with metrics and tracing off and on
    cases.attempt("P4", recompute.p4_recompute, sizes)
    cases.attempt("P11", scale.p11_scale, sizes)  # last: millions of rows would slow every other case
    return cases.failures


class _Cases:
    """Runs the selected cases, each with the processes it needs, collecting rows and failures."""

    def __init__(self, sizes, only: set[str], run):
        self.sizes, self.only, self.run = sizes, only, run
        self.failures: list[tuple[str, str]] = []

    def attempt(self, case_id: str, fn, *args):
        from bench.report import Row

        if case_id not in self.only:
            return None
        print(f"-- {case_id} ...", flush=True)
        started = time.perf_counter()
        try:
            result = fn(*args)
        except Exception:
            self.failures.append((case_id, traceback.format_exc()))
            print(f"   {case_id} failed", flush=True)
            return None
        if isinstance(result, Row):
            self.run.rows.append(result)
        print(f"   {case_id} done in {time.perf_counter() - started:.1f} s", flush=True)
        return result

    def with_worker(self, case_id: str, queue: str, fn) -> None:
        from bench import procs

        if case_id not in self.only:
            return
        environment.purge_queues()
        worker = procs.Worker(queue, queues=queue, concurrency=1).start()
        self.attempt(case_id, fn, self.sizes, worker)
        worker.stop()

    def polling_while_a_report_runs(self) -> None:
        """P10: gunicorn and a reports worker; staff clients poll the report's operation."""
        from bench import procs
        from bench.cases import operations

        if "P10" not in self.only:
            return
        environment.purge_queues()
        web = procs.Gunicorn("web-p10")
        worker = procs.Worker("reports-p10", queues="reports", concurrency=1)
        procs.start_all(web, worker)
        self.attempt("P10", operations.p10_polling, self.sizes, web, worker)
        web.stop()
        worker.stop()

    def housekeeping(self) -> None:
        """P12: the relay's drain, then pruning while a gunicorn takes lesson completions."""
        from bench import procs
        from bench.cases import housekeeping

        if "P12" not in self.only:
            return
        web = procs.Gunicorn("web-housekeeping")
        procs.start_all(web)
        self.attempt("P12", housekeeping.p12_housekeeping, self.sizes, web)
        web.stop()

    def web_and_workers(self) -> None:
        """P1 (enqueue cost: four web variants), then P2 and P3 against the project's and a bare worker."""
        from bench import procs
        from bench.cases import throughput, web

        web_on = None
        if self.only & {"P1", "P2"}:
            web_on = procs.Gunicorn("web-enqueue")
            variants = {
                "off": procs.Gunicorn("web-no-enqueue", app="bench.wsgi_no_enqueue:application"),
                "row": procs.Gunicorn("web-job-row-only", app="bench.wsgi_job_row_only:application"),
                "common": procs.Gunicorn("web-common-practice", app="bench.wsgi_common_practice:application"),
            }
            procs.start_all(web_on, *(variants.values() if "P1" in self.only else []))
            self.attempt("P1", web.p1_enqueue_cost, self.sizes, variants | {"on": web_on})
            for variant in variants.values():
                variant.stop()
        if self.only & {"P2", "P3"}:
            environment.purge_queues()
            project = procs.Worker("default", queues="default", concurrency=2)
            bare = procs.Worker("bare", queues="bare", concurrency=2, app="bench.bare_celery")
            procs.start_all(project, bare)
            self.attempt("P2", web.p2_sync_latency, self.sizes, web_on)
            if web_on is not None:
                web_on.stop()
            self.attempt("P3", throughput.p3_throughput, self.sizes, project, bare)
            project.stop()
            bare.stop()
        elif web_on is not None:
            web_on.stop()

    def certificates(self, p5_measured) -> None:
        """P5 against a pdf worker; P6 with one worker for both queues, then one per queue."""
        from bench import procs
        from bench.cases import certificates

        if p5_measured is not None:
            environment.purge_queues()
            pdf = procs.Worker("pdf", queues="pdf", concurrency=2).start()
            self.attempt("P5", certificates.p5_row, self.sizes, p5_measured, pdf)
            pdf.stop()
        prepared = self.attempt("P6", certificates.p6_prepare, self.sizes)
        if prepared is None:
            return
        environment.purge_queues()
        single = procs.Worker("single", queues="default", concurrency=2).start()
        one = self.attempt("P6", certificates.p6_measure, self.sizes, prepared, "one")
        single.stop()
        environment.purge_queues()
        default = procs.Worker("default-1", queues="default", concurrency=1)
        pdf = procs.Worker("pdf-1", queues="pdf", concurrency=1)
        procs.start_all(default, pdf)
        named = self.attempt("P6", certificates.p6_measure, self.sizes, prepared, "named")
        default.stop()
        pdf.stop()
        if one is not None and named is not None:
            self.attempt("P6", certificates.p6_row, self.sizes, one, named)


if __name__ == "__main__":
    sys.exit(main())
