"""python manage.py gpu_worker: a Celery worker that makes images.

    python manage.py gpu_worker --models stable_diffusion --owner alice
    python manage.py gpu_worker --all-models --backend procedural --concurrency 2 --owner demo
    python manage.py gpu_worker --dynamic-models 2 [--models A B C] --owner alice

`--models` pins a fixed list (as a sponsored worker does). `--dynamic-models N`
serves the N models with the most unmet demand (generation.demand) among those it
can load (`--models`, or every enabled model), and chooses again every
`--reselect-seconds`: it starts consuming the queues of the models it picks,
stops consuming those it drops (the backend evicts their checkpoints, least recently
used first, as the new ones load).

It consumes the Celery queues of the models it serves (ImageModel.queue),
registers itself as a Worker (kind celery) owned by --owner, loads the backend
once for the whole process (a thread pool shares it, as a GPU model in VRAM
would be shared) and keeps a heartbeat (last_seen, device and memory).

Every `--control-seconds` it reads its Worker row: put in maintenance or paused
(PUT /v2/workers/{id}) or retired, it stops consuming its queues, so their
messages wait on the broker for other workers (the claim would refuse it anyway:
generation.services.claim reads the same row); back in service, it consumes again.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connections

from accounts.models import User
from generation import tasks
from generation.backends import BACKENDS, get_backend
from generation.demand import models_by_demand
from generation.models import ImageModel, Pipeline, Worker
from generation.selectors import model_stats
from generation.services import WorkerActionRefused, worker_heartbeat, worker_models_set, worker_register_celery

logger = logging.getLogger(__name__)


class Command(BaseCommand):
    help = "Start a Celery GPU worker serving the given image models."

    def add_arguments(self, parser: CommandParser) -> None:
        which = parser.add_mutually_exclusive_group()
        which.add_argument(
            "--models", nargs="+", metavar="NAME", help="Image model names to serve (or to choose from)."
        )
        which.add_argument("--all-models", action="store_true", help="Serve every enabled model.")
        parser.add_argument(
            "--dynamic-models", type=int, default=0, metavar="N", help="Serve the N models with the most unmet demand."
        )
        parser.add_argument("--reselect-seconds", type=float, default=300.0, help="How often --dynamic-models chooses.")
        parser.add_argument("--backend", default="procedural", choices=sorted(BACKENDS))
        parser.add_argument("--concurrency", type=int, default=1, help="Jobs run at once (threads).")
        parser.add_argument("--owner", default=settings.HORDE_GPU_OWNER, help="Username of the owner.")
        parser.add_argument("--name", default="", help="Worker name (default: gpu-<host>-<backend>).")
        parser.add_argument("--max-pixels", type=int, default=2048 * 2048)
        parser.add_argument("--heartbeat", type=float, default=15.0, help="Seconds between heartbeats.")
        parser.add_argument(
            "--control-seconds", type=float, default=2.0, help="How often it checks for maintenance or pause."
        )
        parser.add_argument("--loglevel", default="info")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["concurrency"] < 1:
            raise CommandError("--concurrency must be at least 1.")
        dynamic = options["dynamic_models"]
        if dynamic < 0 or (dynamic and options["all_models"]):
            raise CommandError("--dynamic-models takes a positive N and chooses among --models (or every model).")
        if not dynamic and not (options["models"] or options["all_models"]):
            raise CommandError("Say which models to serve: --models, --all-models or --dynamic-models N.")
        if options["reselect_seconds"] <= 0:
            raise CommandError("--reselect-seconds must be positive.")
        if options["control_seconds"] <= 0:
            raise CommandError("--control-seconds must be positive.")
        owner = User.objects.filter(username=options["owner"]).first() if options["owner"] else None
        if owner is None or owner.is_anonymous_horde_user:
            raise CommandError("--owner must name a registered user (the worker's rewards go to them).")
        models = ImageModel.objects.filter(enabled=True)
        if options["models"]:
            models = models.filter(name__in=options["models"])
            missing = set(options["models"]) - {model.name for model in models}
            if missing:
                raise CommandError(f"Unknown or disabled model(s): {', '.join(sorted(missing))}")
        models = list(models.order_by("name"))
        if not models:
            raise CommandError("No enabled image models to serve (run `manage.py seed_demo`?).")
        candidates = models
        if dynamic:
            chosen = set(
                models_by_demand(
                    stats=model_stats(), candidates=[m.name for m in models], current=[], own_speed=0.0, count=dynamic
                )
            )
            models = [model for model in models if model.name in chosen]

        try:
            backend = get_backend(options["backend"])  # loaded once, shared by the pool's threads
            prepare = getattr(backend, "prepare", None)
            if prepare is not None:
                # Check every recipe and checkpoint it will serve now, and load them: a missing
                # model stops the worker here, naming the folder it looked in, not at its first job.
                pipelines = Pipeline.objects.filter(model__in=models, active=True).order_by("model", "name")
                prepare([{"name": p.name, "version": p.version, "recipe": p.recipe} for p in pipelines])
        except ImportError as exc:
            raise CommandError(
                f"The {options['backend']} backend needs its optional install (requirements-gpu.txt): {exc}"
            ) from exc
        except (ValueError, RuntimeError, OSError) as exc:
            raise CommandError(f"The {options['backend']} backend cannot start: {exc}") from exc
        name = options["name"] or f"gpu-{socket.gethostname()}-{options['backend']}"
        info = {**backend.device_info(), "threads": options["concurrency"], "pid": os.getpid()}
        try:
            worker = worker_register_celery(
                owner=owner,
                name=name,
                models=[model.name for model in models],
                backend=options["backend"],
                max_pixels=options["max_pixels"],
                info=info,
            )
        except WorkerActionRefused as exc:
            raise CommandError(exc.message) from None
        os.environ[tasks.ENV_WORKER_ID] = str(worker.pk)
        os.environ[tasks.ENV_BACKEND] = options["backend"]
        tasks.set_gpu_runtime(tasks.GpuRuntime(worker=worker, backend=backend))

        stop = threading.Event()
        beat = threading.Thread(
            target=self._heartbeat, args=(worker, backend, options["heartbeat"], stop), daemon=True, name="heartbeat"
        )
        beat.start()
        queues = [model.queue for model in models]
        hostname = f"{name}@{socket.gethostname()}"
        # Set while the worker takes jobs (not in maintenance, paused or retired); the demand
        # follower adds queues only then, so it cannot undo a maintenance stop.
        self.taking = threading.Event()
        self.taking.set()
        self.queue_of = {model.name: model.queue for model in candidates}
        control = threading.Thread(
            target=self._follow_control,
            args=(worker, options["control_seconds"], hostname, stop),
            daemon=True,
            name="control",
        )
        control.start()
        if dynamic:
            follower = threading.Thread(
                target=self._follow_demand,
                args=(worker, backend, candidates, dynamic, options["reselect_seconds"], hostname, stop),
                daemon=True,
                name="demand",
            )
            follower.start()
        logger.info(f"GPU worker {name} ({worker.pk}) serving {', '.join(queues)} with {options['backend']}")
        connections.close_all()

        from horde_site.celery import app

        argv = [
            "worker",
            "--queues",
            ",".join(queues),
            "--pool",
            "threads",
            "--concurrency",
            str(options["concurrency"]),
            "--hostname",
            f"{name}@%h",
            "--loglevel",
            options["loglevel"],
            "--without-gossip",
            "--without-mingle",
        ]
        try:
            app.worker_main(argv=argv)
        finally:
            stop.set()

    def _follow_demand(
        self,
        worker: Any,
        backend: Any,
        candidates: list[ImageModel],
        count: int,
        every: float,
        hostname: str,
        stop: threading.Event,
    ) -> None:
        """Every `every` seconds: choose the models again; consume the new ones' queues, drop the rest."""
        from django.db import connection

        from horde_site.celery import app

        queue_of = {model.name: model.queue for model in candidates}
        while not stop.wait(every):
            try:
                fresh = Worker.objects.get(pk=worker.pk)
                own_speed = fresh.mps_done / fresh.seconds_busy if fresh.seconds_busy else 0.0
                current = list(worker.model_names)
                chosen = models_by_demand(
                    stats=model_stats(), candidates=list(queue_of), current=current, own_speed=own_speed, count=count
                )
                added = sorted(set(chosen) - set(current))
                dropped = sorted(set(current) - set(chosen))
                if not added and not dropped:
                    continue
                prepare = getattr(backend, "prepare", None)
                if prepare is not None and added:
                    pipelines = Pipeline.objects.filter(model__name__in=added, active=True).order_by("model", "name")
                    prepare([{"name": p.name, "version": p.version, "recipe": p.recipe} for p in pipelines])
                for name in added if self.taking.is_set() else []:
                    app.control.add_consumer(queue_of[name], destination=[hostname], reply=True, timeout=5)
                # Claims follow the new list first, so a message of a dropped model still in
                # hand finds nothing to claim and its job waits for a worker that serves it.
                worker_models_set(worker=worker, models=chosen)
                for name in dropped:
                    app.control.cancel_consumer(queue_of[name], destination=[hostname], reply=True, timeout=5)
                # Nothing to unload by hand: the diffusers backend keeps at most `max_resident`
                # checkpoints and evicts the least recently used as the new models' load.
                logger.info(f"demand: now serving {', '.join(chosen)} (added {added}, dropped {dropped})")
            except Exception as exc:  # the database or broker may be restarting: try again next round
                logger.warning("choosing models failed: %s", exc)
            finally:
                connection.close()

    def _follow_control(self, worker: Any, every: float, hostname: str, stop: threading.Event) -> None:
        """Stop consuming while the worker's row says maintenance, paused or retired; resume after."""
        from django.db import connection

        from horde_site.celery import app

        while not stop.wait(every):
            try:
                row = Worker.objects.filter(pk=worker.pk).values("maintenance", "paused", "retired_at").first()
                ready = bool(row) and not (row["maintenance"] or row["paused"] or row["retired_at"])
                if ready == self.taking.is_set():
                    continue
                queues = [self.queue_of[name] for name in worker.model_names if name in self.queue_of]
                command = app.control.add_consumer if ready else app.control.cancel_consumer
                # A broadcast nobody heard (the consumer not started yet, a broker blip) is lost:
                # the state flips only when this worker answered for every queue, else next round.
                answered = all(command(queue, destination=[hostname], reply=True, timeout=5) for queue in queues)
                if not answered:
                    continue
                if ready:
                    self.taking.set()
                    logger.info(f"control: back in service, consuming {', '.join(queues)}")
                else:
                    self.taking.clear()
                    logger.info(f"control: in maintenance or paused, stopped consuming {', '.join(queues)}")
                self.stdout.flush()
            except Exception as exc:  # the database or broker may be restarting: try again next round
                logger.warning("reading the worker's state failed: %s", exc)
            finally:
                connection.close()

    def _heartbeat(self, worker: Any, backend: Any, every: float, stop: threading.Event) -> None:
        from django.db import connection

        while not stop.wait(every):
            try:
                worker_heartbeat(worker=worker, info=backend.device_info())
            except Exception as exc:  # the database may be restarting: try again next beat
                logger.warning("heartbeat failed: %s", exc)
            finally:
                connection.close()
