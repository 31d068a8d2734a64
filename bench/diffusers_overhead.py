"""Benchmark of the diffusers backend.

    .venv/bin/python bench/diffusers_overhead.py [--jobs 10] [--size 384] [--steps 20] [--compile]

Part 1, worker overhead (any machine, CPU is fine): on a tiny randomly initialised
SDXL pipeline, at a size and step count where one pipeline call takes about 1-2 s
on a CPU, each job is timed three ways:
  raw       the diffusers pipeline call alone (same loaded pipeline, prompt, seed, size, steps);
  backend   DiffusersBackend.generate() (recipe, scheduler, generator, resize);
  platform  the whole job as a GPU worker runs it: generation.tasks.job_run(job_id):
            claim in PostgreSQL, backend, webp encoding, storage, the completion
            transaction (ledger charge and reward, image row, worker stats).
Overhead = platform / raw on the same job (target <= 1.03). The platform part needs
the generation core and a database: it makes a throwaway test database from
DATABASE_URL (named horde_bench_overhead) and drops it after.

Part 2, GPU throughput (only where torch sees a CUDA GPU): it/s and images/s at
1024x1024 for both SDXL beta recipes (base alone with Euler; base for 80% of the steps
then the refiner, DPM++ 2M Karras) with full-size randomly initialised SDXL 1.0 base
and refiner (the public configurations), fp16, then again with torch.compile
(--compile). Without a GPU it says so and measures nothing.

Results print as a table and go to bench/out/diffusers_overhead.json.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import itertools
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "horde_site.settings")
os.environ.setdefault("SECRET_KEY", "bench-secret-key-not-for-production")
os.environ.setdefault("RATINGS_PSEUDONYM_KEY", "bench-pseudonym-key-not-for-production")

import torch  # noqa: E402

from generation.backends.base import JobSpec  # noqa: E402
from generation.backends.diffusers_backend import DiffusersBackend  # noqa: E402
from generation.backends.diffusers_testing import sdxl_build, tiny_sdxl_save  # noqa: E402

PROMPT = "a red fox in the snow, golden hour, highly detailed"
BASE, REFINER = "tiny-sdxl-base", "tiny-sdxl-refiner"
# The two SDXL beta recipes of seed_demo (checkpoint names swapped for the tiny ones where used).
RECIPE_BASE = {"base": BASE, "refiner": None, "scheduler": "euler", "guidance": 7.0}
RECIPE_REFINER = {
    "base": BASE,
    "refiner": REFINER,
    "refiner_switch": 0.8,
    "scheduler": "dpmpp_2m_karras",
    "guidance": 7.0,
}


def _spec(*, recipe: dict[str, Any], size: int, steps: int, seed: int) -> JobSpec:
    return JobSpec(
        job_id=f"bench-{seed}",
        model_name="bench",
        pipeline_name="bench",
        pipeline_version="1",
        recipe=recipe,
        prompt=PROMPT,
        negative_prompt="",
        width=size,
        height=size,
        steps=steps,
        seed=seed,
    )


def _raw_call(backend: DiffusersBackend, *, size: int, steps: int, seed: int) -> float:
    """The pipeline call alone, as a script calling diffusers directly would make it."""
    from generation.backends.diffusers_backend import SCHEDULER_CLASSES

    entry = backend._resident[("base", BASE)]
    pipe = entry.pipe
    scheduler_class, options = SCHEDULER_CLASSES[RECIPE_BASE["scheduler"]]
    pipe.scheduler = scheduler_class.from_config(entry.scheduler_config, **options)
    generator = torch.Generator("cpu").manual_seed(seed)
    started = time.perf_counter()
    pipe(
        prompt=PROMPT,
        width=size,
        height=size,
        num_inference_steps=steps,
        guidance_scale=RECIPE_BASE["guidance"],
        generator=generator,
    )
    return time.perf_counter() - started


class _Platform:
    """The generation core's job path against a throwaway test database."""

    def __init__(self, backend: DiffusersBackend, *, size: int, steps: int) -> None:
        import django

        django.setup()
        from django.conf import settings
        from django.db import connection

        settings.DATABASES["default"].setdefault("TEST", {})["NAME"] = "horde_bench_overhead"
        settings.HORDE_CELERY_DISPATCH = False  # job_run is called here, in this process
        settings.MEDIA_ROOT = tempfile.mkdtemp(prefix="horde-bench-media-")
        self.connection = connection
        self.old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True)
        from accounts.services import user_create
        from generation.models import ImageModel, Pipeline
        from kudos.services import kudos_adjust

        # The generation core (generation.services / generation.tasks) lands on its own branch.
        services = importlib.import_module("generation.services")
        tasks = importlib.import_module("generation.tasks")

        self.user = user_create(username="bench", password=None)
        kudos_adjust(user=self.user, amount=10_000_000, reason="bench", staff_user=None)
        self.model = ImageModel.objects.create(
            name="bench-tiny-sdxl", queue="model.bench_tiny_sdxl", min_width=64, min_height=64, max_steps=200
        )
        Pipeline.objects.create(model=self.model, name="sdxl-base", version="1", recipe=RECIPE_BASE)
        worker = services.worker_register_celery(
            owner=self.user,
            name="bench-worker",
            models=[self.model.name],
            backend="diffusers",
            max_pixels=size * size,
            info=backend.device_info(),
        )
        tasks.set_gpu_runtime(tasks.GpuRuntime(worker=worker, backend=backend))
        self.size, self.steps = size, steps

    def job(self, seed: int) -> tuple[float, Any]:
        from generation.models import Job

        request_submit = importlib.import_module("generation.services").request_submit
        tasks = importlib.import_module("generation.tasks")
        body = {
            "prompt": PROMPT,
            "models": [self.model.name],
            "params": {"width": self.size, "height": self.size, "steps": self.steps, "seed": str(seed), "n": 1},
        }
        request = request_submit(user=self.user, body=body).request
        job = request.jobs.get()
        started = time.perf_counter()
        outcome = tasks.job_run(str(job.pk))
        elapsed = time.perf_counter() - started
        job = Job.objects.get(pk=job.pk)
        if outcome != "done" or job.status != Job.Status.DONE:
            raise RuntimeError(f"job {job.pk} ended {outcome!r} ({job.status})")
        return elapsed, job

    def close(self) -> None:
        self.connection.creation.destroy_test_db(self.old_name, verbosity=0)


def overhead(*, jobs: int, size: int, steps: int, platform_part: bool) -> dict[str, Any]:
    models_dir = Path(tempfile.mkdtemp(prefix="horde-bench-models-"))
    tiny_sdxl_save(models_dir, base_name=BASE, refiner_name=REFINER)
    # On the CPU wherever it runs: the tiny pipeline on a GPU takes milliseconds, too short to time.
    backend = DiffusersBackend(models_dir=models_dir, device="cpu")
    backend.prepare([RECIPE_BASE])
    runner = None
    why_not = None
    if platform_part:
        if importlib.util.find_spec("generation.services") is None:
            why_not = "the generation core (generation.services, generation.tasks) is not in this checkout"
        else:
            try:
                runner = _Platform(backend, size=size, steps=steps)
            except Exception as exc:  # no database reachable: say so, keep the backend figures
                why_not = f"no database for the platform part: {exc}"
    rows = []
    try:
        # Warm-up: first calls pay one-off allocations.
        _raw_call(backend, size=size, steps=steps, seed=0)
        backend.generate(_spec(recipe=RECIPE_BASE, size=size, steps=steps, seed=0))
        if runner:
            runner.job(0)
        for index in range(jobs):
            seed = 1000 + index
            row: dict[str, Any] = {"seed": seed}
            # Alternate the order so a drift in machine load does not favour one side.
            order = ["raw", "backend", "platform"] if index % 2 == 0 else ["platform", "backend", "raw"]
            for kind in order:
                if kind == "raw":
                    row["raw_s"] = _raw_call(backend, size=size, steps=steps, seed=seed)
                elif kind == "backend":
                    started = time.perf_counter()
                    backend.generate(_spec(recipe=RECIPE_BASE, size=size, steps=steps, seed=seed))
                    row["backend_s"] = time.perf_counter() - started
                elif runner:
                    row["platform_s"], job = runner.job(seed)
                    # What the platform adds around the pipeline call: claim, webp, storage, completion.
                    row["platform_extra_ms"] = (row["platform_s"] - backend.last_inference_seconds) * 1000
                    row["job_inference_seconds"] = job.inference_seconds
                    row["job_pipeline_version"] = job.pipeline_version
            row["backend_ratio"] = row["backend_s"] / row["raw_s"]
            if "platform_s" in row:
                row["platform_ratio"] = row["platform_s"] / row["raw_s"]
            rows.append(row)
            print(
                f"  job {index + 1}/{jobs}: raw {row['raw_s']:.3f}s  backend {row['backend_s']:.3f}s"
                + (f"  platform {row['platform_s']:.3f}s  ratio {row['platform_ratio']:.4f}" if runner else "")
            )
    finally:
        if runner:
            runner.close()

    def median(key: str) -> float | None:
        values = [row[key] for row in rows if key in row]
        return statistics.median(values) if values else None

    return {
        "device": backend.device_info()["device"],
        "size": size,
        "steps": steps,
        "jobs": jobs,
        "median_raw_s": median("raw_s"),
        "median_backend_s": median("backend_s"),
        "median_platform_s": median("platform_s"),
        "median_backend_ratio": median("backend_ratio"),
        "median_platform_ratio": median("platform_ratio"),
        "median_platform_extra_ms": median("platform_extra_ms"),
        # The same ratio from what the platform adds around its own pipeline call, so the
        # call's run-to-run spread on a shared CPU does not swamp a few tens of milliseconds.
        "overhead_ratio_from_extra": 1 + median("platform_extra_ms") / 1000 / median("raw_s") if runner else None,
        "overhead_ratio": (median("platform_s") or 0) / median("raw_s") if runner else None,
        "target": 1.03,
        "platform_skipped_because": why_not,
        "rows": rows,
    }


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def gpu_throughput(
    *, images: int, steps: int, compile_unet: bool, compile_mode: str = "max-autotune", rehearse: bool = False
) -> dict[str, Any]:
    """it/s and images/s of both recipes. `rehearse`: the same code on the CPU with the tiny
    models at 256x256, to check this part runs where no GPU is at hand (figures meaningless)."""
    if rehearse:
        device, size_kind, side, dtype = torch.device("cpu"), "tiny", 256, torch.float32
    elif not torch.cuda.is_available():
        return {"ran": False, "why": "No CUDA GPU is present on this machine: the GPU part was not run."}
    else:
        device, size_kind, side, dtype = torch.device("cuda"), "full", 1024, torch.float16
        torch.backends.cuda.matmul.allow_tf32 = True
    with tempfile.TemporaryDirectory() as tokenizer_dir:
        base, refiner = sdxl_build(size=size_kind, tokenizer_dir=tokenizer_dir, device=device, dtype=dtype)
    from generation.backends.diffusers_backend import SCHEDULER_CLASSES

    base_config = dict(base.scheduler.config)
    results: dict[str, Any] = {
        "ran": True,
        "device": torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu (rehearsal)",
        "unet_parameters": sum(p.numel() for p in base.unet.parameters()),
        "refiner_unet_parameters": sum(p.numel() for p in refiner.unet.parameters()),
        "size": side,
        "steps": steps,
        "dtype": str(dtype).removeprefix("torch."),
        "recipes": {},
    }

    def run(name: str, recipe: dict[str, Any], compiled: bool) -> dict[str, Any]:
        scheduler_class, options = SCHEDULER_CLASSES[recipe["scheduler"]]
        step_times: list[float] = []

        def on_step(pipe: Any, step: int, timestep: Any, kwargs: dict[str, Any]) -> dict[str, Any]:
            _sync(device)
            step_times.append(time.perf_counter())
            return kwargs

        def one(seed: int) -> tuple[float, int, float]:
            step_times.clear()
            generator = torch.Generator("cpu").manual_seed(seed)
            common = {"prompt": PROMPT, "num_inference_steps": steps, "guidance_scale": 7.0, "generator": generator}
            base.scheduler = scheduler_class.from_config(base_config, **options)
            _sync(device)
            started = time.perf_counter()
            step_times.append(started)
            if recipe["refiner"] is None:
                base(width=side, height=side, callback_on_step_end=on_step, **common)
            else:
                refiner.scheduler = scheduler_class.from_config(base_config, **options)
                latents = base(
                    width=side,
                    height=side,
                    denoising_end=recipe["refiner_switch"],
                    output_type="latent",
                    callback_on_step_end=on_step,
                    **common,
                ).images
                step_times.append(time.perf_counter())  # the hand-over is not a step
                refiner(image=latents, denoising_start=recipe["refiner_switch"], callback_on_step_end=on_step, **common)
            _sync(device)
            total = time.perf_counter() - started
            gaps = [b - a for a, b in itertools.pairwise(step_times)]
            # The first gap of each stage holds text encoding; steps are the rest, median-timed.
            step_s = statistics.median(gaps[1:]) if len(gaps) > 1 else total
            return total, len(gaps), step_s

        for warmup in range(3 if compiled else 1):
            one(warmup)
        totals, step_medians = [], []
        for index in range(images):
            total, _count, step_s = one(100 + index)
            totals.append(total)
            step_medians.append(step_s)
        return {
            "images": images,
            "seconds_per_image": statistics.median(totals),
            "images_per_s": 1 / statistics.median(totals),
            "it_per_s": 1 / statistics.median(step_medians),
            "peak_memory_mb": round(torch.cuda.max_memory_allocated(device) / 2**20) if device.type == "cuda" else None,
        }

    recipes = {"sdxl-base (euler)": RECIPE_BASE, "sdxl-base-refiner (dpmpp_2m_karras, 0.8)": RECIPE_REFINER}
    for name, recipe in recipes.items():
        results["recipes"][name] = {"eager": run(name, recipe, compiled=False)}
        print(f"  {name} eager: {results['recipes'][name]['eager']}")
    if compile_unet:
        results["compile_mode"] = compile_mode
        for pipe in (base, refiner):
            if device.type == "cuda":
                pipe.unet.to(memory_format=torch.channels_last)
            pipe.unet = torch.compile(pipe.unet, mode=compile_mode, fullgraph=True)
        for name, recipe in recipes.items():
            results["recipes"][name]["compiled"] = run(name, recipe, compiled=True)
            print(f"  {name} torch.compile: {results['recipes'][name]['compiled']}")
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--jobs", type=int, default=10, help="Jobs timed for the overhead (after one warm-up).")
    parser.add_argument("--size", type=int, default=384, help="Image side for the overhead part (tiny pipeline).")
    parser.add_argument("--steps", type=int, default=20, help="Steps for the overhead part.")
    parser.add_argument("--no-platform", action="store_true", help="Skip the platform (database) timing.")
    parser.add_argument("--gpu-images", type=int, default=3, help="Images per recipe for the GPU part.")
    parser.add_argument("--gpu-steps", type=int, default=30, help="Steps for the GPU part.")
    parser.add_argument("--compile", action="store_true", help="GPU part: also time with torch.compile.")
    parser.add_argument(
        "--compile-mode",
        default="max-autotune",
        help="torch.compile mode (max-autotune compiles for minutes; reduce-overhead is quicker to build).",
    )
    parser.add_argument("--skip-overhead", action="store_true")
    parser.add_argument(
        "--rehearse-gpu-part",
        action="store_true",
        help="Without a GPU: run the GPU part's code on the CPU with the tiny models (checks it runs).",
    )
    parser.add_argument(
        "--threads",
        type=int,
        default=1,
        help="CPU threads for torch (1: steady timings on a shared machine; 0: torch's default).",
    )
    parser.add_argument("--out", default=str(ROOT / "bench" / "out" / "diffusers_overhead.json"))
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)

    report: dict[str, Any] = {
        "machine": {
            "python": platform.python_version(),
            "torch": torch.__version__,
            "cpu_threads": torch.get_num_threads(),
            "cuda": torch.cuda.is_available(),
        }
    }
    if not args.skip_overhead:
        print(f"== worker overhead: tiny SDXL, {args.size}x{args.size}, {args.steps} steps, {args.jobs} jobs")
        report["overhead"] = overhead(
            jobs=args.jobs, size=args.size, steps=args.steps, platform_part=not args.no_platform
        )
        result = report["overhead"]
        print(f"  median raw pipeline call {result['median_raw_s']:.3f}s")
        print(f"  median backend.generate  {result['median_backend_s']:.3f}s (x{result['median_backend_ratio']:.4f})")
        if result["overhead_ratio"] is not None:
            print(
                f"  median platform job      {result['median_platform_s']:.3f}s  "
                f"overhead {result['overhead_ratio']:.4f} (median of ratios {result['median_platform_ratio']:.4f}; "
                f"target <= {result['target']})"
            )
            print(
                f"  the platform adds (median) {result['median_platform_extra_ms']:.1f} ms per job around the call: "
                f"overhead {result['overhead_ratio_from_extra']:.4f} counted that way"
            )
        else:
            print(f"  platform part not run: {result['platform_skipped_because']}")
    rehearse = args.rehearse_gpu_part and not torch.cuda.is_available()
    if rehearse:
        print("== GPU part rehearsed on the CPU: tiny SDXL, 256x256, fp32 (checks the code; figures mean nothing)")
    else:
        print("== GPU throughput: full-size SDXL, 1024x1024, fp16")
    report["gpu"] = gpu_throughput(
        images=args.gpu_images,
        steps=args.gpu_steps,
        compile_unet=args.compile,
        compile_mode=args.compile_mode,
        rehearse=rehearse,
    )
    if not report["gpu"]["ran"]:
        print(f"  {report['gpu']['why']}")
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2, default=str))
    print(f"results in {out}")


if __name__ == "__main__":
    main()
