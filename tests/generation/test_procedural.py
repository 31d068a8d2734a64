from __future__ import annotations

from PIL import ImageChops

from generation.backends import JobSpec, get_backend


def spec(**overrides) -> JobSpec:
    values = {
        "job_id": "j",
        "model_name": "SDXL",
        "pipeline_name": "sdxl-base",
        "pipeline_version": "1",
        "recipe": {},
        "prompt": "a castle on a hill",
        "negative_prompt": "",
        "width": 256,
        "height": 192,
        "steps": 20,
        "seed": 42,
    }
    values.update(overrides)
    return JobSpec(**values)


def differs(a, b) -> bool:
    return ImageChops.difference(a, b).getbbox() is not None


def test_the_same_spec_draws_the_same_picture_of_the_asked_size():
    backend = get_backend("procedural")
    first, second = backend.generate(spec()), backend.generate(spec())
    assert first.size == (256, 192)
    assert not differs(first, second)


def test_seed_prompt_and_pipeline_each_change_the_picture():
    backend = get_backend("procedural")
    base = backend.generate(spec())
    assert differs(base, backend.generate(spec(seed=43)))
    assert differs(base, backend.generate(spec(prompt="a boat at sea")))
    assert differs(base, backend.generate(spec(pipeline_name="sdxl-base-refiner")))


def test_it_reports_its_device():
    info = get_backend("procedural").device_info()
    assert info["device"] == "cpu"
    assert info["memory_used_mb"] > 0
