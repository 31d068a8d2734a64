"""The diffusers backend on tiny random SDXL checkpoints, on the CPU."""

from __future__ import annotations

import io
import threading
import time
from dataclasses import replace

import pytest

from generation.backends import get_backend
from generation.backends.base import JobSpec
from generation.backends.diffusers_backend import BackendError, DiffusersBackend, ModelNotFound
from generation.backends.recipes import RecipeError

from .conftest import BASE, BASE_B, REFINER

pytestmark = [
    pytest.mark.gpu,
    # diffusers' schedulers trip a numpy 2 deprecation on every set-up; not ours to fix.
    pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning"),
]

EULER = {"base": BASE, "refiner": None, "scheduler": "euler", "guidance": 7.0}


def job(recipe, **changes) -> JobSpec:
    spec = JobSpec(
        job_id="job-1",
        model_name="SDXL_beta::stability.ai#6901",
        pipeline_name="sdxl-base",
        pipeline_version="1",
        recipe=recipe,
        prompt="a red cat",
        negative_prompt="",
        width=64,
        height=64,
        steps=6,
        seed=1234,
        cfg_scale=7.5,
    )
    return replace(spec, **changes)


def webp(image) -> bytes:
    out = io.BytesIO()
    image.save(out, format="WEBP", lossless=True)
    return out.getvalue()


@pytest.mark.parametrize(("width", "height"), [(64, 64), (128, 64), (64, 192)])
def test_it_draws_the_requested_size(backend, width, height):
    image = backend.generate(job(EULER, width=width, height=height))

    assert image.size == (width, height)
    assert image.mode == "RGB"


def test_a_size_the_vae_cannot_take_is_drawn_larger_and_resized_to_the_request(backend):
    image = backend.generate(job(EULER, width=100, height=70))

    assert image.size == (100, 70)


def test_the_same_seed_and_pipeline_give_identical_bytes(backend, models_dir):
    first = backend.generate(job(EULER, seed=42))
    again = backend.generate(job(EULER, seed=42))
    other_worker = DiffusersBackend(models_dir=models_dir, device="cpu").generate(job(EULER, seed=42))

    assert first.tobytes() == again.tobytes() == other_worker.tobytes()
    assert webp(first) == webp(again)


def test_a_different_seed_gives_a_different_image(backend):
    first = backend.generate(job(EULER, seed=1))
    second = backend.generate(job(EULER, seed=2))

    assert first.tobytes() != second.tobytes()


def test_the_two_sdxl_beta_recipes_give_different_images(backend, sdxl_beta_recipes):
    base_only = backend.generate(job(sdxl_beta_recipes["sdxl-base"]))
    with_refiner = backend.generate(job(sdxl_beta_recipes["sdxl-base-refiner"]))

    assert base_only.size == with_refiner.size == (64, 64)
    assert base_only.tobytes() != with_refiner.tobytes()


def test_the_refiner_recipe_is_deterministic_too(backend, sdxl_beta_recipes):
    recipe = sdxl_beta_recipes["sdxl-base-refiner"]

    assert backend.generate(job(recipe)).tobytes() == backend.generate(job(recipe)).tobytes()


def test_the_refiner_changes_the_image_of_the_same_base_and_scheduler(backend):
    alone = {"base": BASE, "scheduler": "dpmpp_2m_karras"}
    refined = {**alone, "refiner": REFINER, "refiner_switch": 0.5}

    assert backend.generate(job(alone)).tobytes() != backend.generate(job(refined)).tobytes()


def test_a_recipe_without_a_scheduler_draws_with_the_requests_sampler(backend):
    follows = {"base": BASE, "guidance": 7.0}
    dpmpp_karras = backend.generate(job(follows, sampler_name="k_dpmpp_2m", extra={"karras": True}))
    euler = backend.generate(job(follows, sampler_name="k_euler"))

    assert dpmpp_karras.tobytes() == backend.generate(job({**follows, "scheduler": "dpmpp_2m_karras"})).tobytes()
    assert euler.tobytes() == backend.generate(job(EULER)).tobytes()
    assert dpmpp_karras.tobytes() != euler.tobytes()


def test_one_jobs_scheduler_options_do_not_leak_into_the_next_job(backend, models_dir):
    karras = {"base": BASE, "scheduler": "dpmpp_2m_karras"}
    fresh = DiffusersBackend(models_dir=models_dir, device="cpu").generate(job(EULER))

    backend.generate(job(karras))
    after_karras = backend.generate(job(EULER))

    assert after_karras.tobytes() == fresh.tobytes()


def test_the_recipe_steps_and_guidance_override_the_request(backend):
    from_request = backend.generate(job(EULER, steps=4, cfg_scale=7.0))
    recipe_steps = backend.generate(job({**EULER, "steps": 4}, steps=9, cfg_scale=7.0))
    recipe_guidance = backend.generate(job({**EULER, "guidance": 2.0}, steps=4, cfg_scale=7.0))

    assert recipe_steps.tobytes() == from_request.tobytes()
    assert recipe_guidance.tobytes() != from_request.tobytes()


def test_it_records_the_inference_time(backend):
    image = backend.generate(job(EULER))

    assert backend.last_inference_seconds is not None
    assert 0 < backend.last_inference_seconds < 60
    assert image.info["inference_seconds"] == backend.last_inference_seconds


def test_a_missing_checkpoint_stops_prepare_with_the_folder_it_looked_in(backend, models_dir):
    with pytest.raises(ModelNotFound) as error:
        backend.prepare([EULER, {"base": "sdxl-base-1.0", "scheduler": "euler"}])

    assert str(models_dir / "sdxl-base-1.0") in str(error.value)
    assert "HORDE_MODELS_DIR" in str(error.value)
    # It stops before loading anything: the worker fails at start, not half-loaded.
    assert backend.device_info()["loaded_checkpoints"] == []


def test_a_missing_refiner_is_a_clear_error_at_generate_too(backend, models_dir):
    with pytest.raises(ModelNotFound, match=r"sdxl-refiner-1\.0"):
        backend.generate(job({**EULER, "refiner": "sdxl-refiner-1.0"}))


def test_the_models_dir_comes_from_the_settings(models_dir, settings):
    # settings.py reads it from the environment (HORDE_MODELS_DIR), in one place.
    settings.HORDE_MODELS_DIR = models_dir / "elsewhere"

    with pytest.raises(ModelNotFound, match="elsewhere"):
        DiffusersBackend(device="cpu", recipes=[EULER])


def test_a_bad_recipe_stops_prepare_with_every_problem_named(backend):
    with pytest.raises(RecipeError) as error:
        backend.prepare([{"base": BASE, "scheduler": "warp_drive", "refiner_swtich": 0.8}])

    assert "warp_drive" in str(error.value)
    assert "refiner_swtich" in str(error.value)


def test_a_folder_that_is_not_an_sdxl_pipeline_is_refused(models_dir, tmp_path):
    (tmp_path / "sd15").mkdir()
    (tmp_path / "sd15" / "model_index.json").write_text('{"_class_name": "StableDiffusionPipeline"}')

    with pytest.raises(BackendError, match="StableDiffusionPipeline"):
        DiffusersBackend(models_dir=tmp_path, device="cpu").prepare([{"base": "sd15"}])


def test_prepare_loads_the_served_pipelines_once(backend, sdxl_beta_recipes):
    recipes = list(sdxl_beta_recipes.values())
    backend.prepare(recipes)
    loaded = {key: entry.pipe for key, entry in backend._resident.items()}

    backend.prepare(recipes)
    backend.generate(job(recipes[1]))

    assert set(loaded) == {("base", BASE), ("refiner", REFINER)}
    assert {key: entry.pipe for key, entry in backend._resident.items()} == loaded
    assert backend.last_load_seconds < 0.05  # nothing was loaded for the job


def test_pipelines_stay_loaded_across_jobs(backend):
    backend.generate(job(EULER))
    pipe = backend._resident[("base", BASE)].pipe

    backend.generate(job(EULER, seed=7))

    assert backend._resident[("base", BASE)].pipe is pipe


def test_max_resident_one_swaps_out_the_least_recently_used(models_dir):
    backend = DiffusersBackend(models_dir=models_dir, device="cpu", max_resident=1)
    first = backend.generate(job(EULER))
    assert backend.device_info()["loaded_checkpoints"] == [f"{BASE} (base)"]

    other = backend.generate(job({**EULER, "base": BASE_B}))
    assert backend.device_info()["loaded_checkpoints"] == [f"{BASE_B} (base)"]

    again = backend.generate(job(EULER))
    assert backend.device_info()["loaded_checkpoints"] == [f"{BASE} (base)"]
    # Swapped out and back in, the pipeline draws the same image; another checkpoint does not.
    assert again.tobytes() == first.tobytes()
    assert other.tobytes() != first.tobytes()


def test_swapping_keeps_the_most_recently_used_of_several(models_dir):
    backend = DiffusersBackend(models_dir=models_dir, device="cpu", max_resident=2)
    backend.generate(job(EULER))
    backend.generate(job({**EULER, "base": BASE_B}))
    backend.generate(job(EULER))  # BASE is now the most recently used

    backend.generate(job({"base": BASE_B, "refiner": REFINER}))

    assert backend.device_info()["loaded_checkpoints"] == [f"{BASE_B} (base)", f"{REFINER} (refiner)"]


def test_a_job_needing_base_and_refiner_keeps_both_even_past_max_resident(models_dir, sdxl_beta_recipes):
    backend = DiffusersBackend(models_dir=models_dir, device="cpu", max_resident=1)

    image = backend.generate(job(sdxl_beta_recipes["sdxl-base-refiner"]))

    assert image.size == (64, 64)
    assert sorted(backend.device_info()["loaded_checkpoints"]) == [f"{BASE} (base)", f"{REFINER} (refiner)"]


def test_a_memory_budget_keeps_only_what_fits(models_dir):
    probe = DiffusersBackend(models_dir=models_dir, device="cpu")
    probe.generate(job(EULER))
    one_checkpoint_mb = probe._resident[("base", BASE)].estimate_bytes / 2**20
    # Room for one tiny checkpoint, not for two.
    backend = DiffusersBackend(
        models_dir=models_dir, device="cpu", max_resident=5, memory_budget_mb=max(1, round(one_checkpoint_mb * 1.5))
    )

    backend.generate(job(EULER))
    backend.generate(job({**EULER, "base": BASE_B}))

    assert backend.device_info()["loaded_checkpoints"] == [f"{BASE_B} (base)"]


def test_device_info_reports_the_device_memory_and_loaded_pipelines(backend, sdxl_beta_recipes):
    backend.prepare(
        [
            {"name": "sdxl-base", "version": "1", "recipe": sdxl_beta_recipes["sdxl-base"]},
            {"name": "sdxl-base-refiner", "version": "1", "recipe": sdxl_beta_recipes["sdxl-base-refiner"]},
        ]
    )

    info = backend.device_info()

    assert info["backend"] == "diffusers"
    assert info["device_type"] == "cpu"
    assert info["device"].startswith("CPU (") and info["device"].endswith(", cpu")
    assert "MB (process RSS)" in info["memory"]
    assert info["dtype"] == "float32"
    assert info["memory_kind"] == "process_rss"
    assert 50 < info["memory_used_mb"] < info["memory_total_mb"]
    assert info["loaded_pipelines"] == ["sdxl-base v1", "sdxl-base-refiner v1"]
    assert sorted(info["loaded_checkpoints"]) == [f"{BASE} (base)", f"{REFINER} (refiner)"]


def test_device_info_answers_the_heartbeat_while_a_job_runs(backend):
    backend.generate(job(EULER))  # loaded, so the job below spends its time drawing
    worker = threading.Thread(target=backend.generate, args=(job(EULER, width=384, height=384, steps=40),))
    worker.start()
    time.sleep(0.05)
    started = time.perf_counter()
    info = backend.device_info()
    waited = time.perf_counter() - started
    still_drawing = worker.is_alive()
    worker.join()

    assert still_drawing
    assert waited < 0.2
    assert info["loaded_checkpoints"] == [f"{BASE} (base)"]


def test_device_info_drops_a_pipeline_whose_checkpoints_were_swapped_out(models_dir):
    backend = DiffusersBackend(models_dir=models_dir, device="cpu", max_resident=1)
    backend.generate(job(EULER, pipeline_name="first"))
    backend.generate(job({**EULER, "base": BASE_B}, pipeline_name="second"))

    assert backend.device_info()["loaded_pipelines"] == ["second v1"]


def test_get_backend_builds_it_by_name(models_dir):
    backend = get_backend("diffusers", models_dir=models_dir, device="cpu")

    assert isinstance(backend, DiffusersBackend)
    assert backend.generate(job(EULER)).size == (64, 64)
