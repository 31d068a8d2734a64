from __future__ import annotations

from generation.pricing import job_kudos, request_kudos


def test_price_grows_with_pixels_and_steps():
    small = job_kudos(width=512, height=512, steps=30)
    assert small == 8
    assert job_kudos(width=1024, height=1024, steps=30) > small
    assert job_kudos(width=512, height=512, steps=60) > small


def test_a_tiny_image_still_costs_one_kudos():
    assert job_kudos(width=64, height=64, steps=1) == 1


def test_a_request_costs_its_images():
    assert request_kudos(width=1024, height=1024, steps=30, images=2) == 2 * job_kudos(
        width=1024, height=1024, steps=30
    )
