"""Randomly initialised SDXL-shaped pipelines, built in code: no weights, no downloads.

For the tests of the diffusers backend (``tiny``: runs in well under a second on a
CPU) and for its benchmark (``full``: the public SDXL 1.0 base and refiner
configurations, 2.6 B UNet parameters, random weights). The images are noise-like,
but every tensor has the shape and dtype the real models have, so the backend's
loading, scheduling, refiner hand-over, memory accounting and timing are the real ones.

Needs the optional install (requirements-gpu.txt).
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

import torch
from diffusers import (
    AutoencoderKL,
    EulerDiscreteScheduler,
    StableDiffusionXLImg2ImgPipeline,
    StableDiffusionXLPipeline,
    UNet2DConditionModel,
)
from transformers import CLIPTextConfig, CLIPTextModel, CLIPTextModelWithProjection, CLIPTokenizer

# A few words get merged tokens so prompts tokenise to more than single bytes.
_MERGES = ["t h", "th e</w>", "c a", "ca t</w>", "d o", "do g</w>", "r e", "re d</w>"]

# The public SDXL 1.0 configurations (stabilityai/stable-diffusion-xl-base-1.0 and
# -refiner-1.0, unet/config.json etc.), the fields that differ from diffusers' defaults.
SDXL_BASE_UNET: dict[str, Any] = {
    "sample_size": 128,
    "in_channels": 4,
    "out_channels": 4,
    "down_block_types": ["DownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D"],
    "up_block_types": ["CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "UpBlock2D"],
    "block_out_channels": [320, 640, 1280],
    "layers_per_block": 2,
    "attention_head_dim": [5, 10, 20],
    "transformer_layers_per_block": [1, 2, 10],
    "cross_attention_dim": 2048,
    "use_linear_projection": True,
    "addition_embed_type": "text_time",
    "addition_time_embed_dim": 256,
    "projection_class_embeddings_input_dim": 2816,
    "norm_num_groups": 32,
}
SDXL_REFINER_UNET: dict[str, Any] = {
    "sample_size": 128,
    "in_channels": 4,
    "out_channels": 4,
    "down_block_types": ["DownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "DownBlock2D"],
    "up_block_types": ["UpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "UpBlock2D"],
    "block_out_channels": [384, 768, 1536, 1536],
    "layers_per_block": 2,
    "attention_head_dim": [6, 12, 24, 24],
    "transformer_layers_per_block": 4,
    "cross_attention_dim": 1280,
    "use_linear_projection": True,
    "addition_embed_type": "text_time",
    "addition_time_embed_dim": 256,
    "projection_class_embeddings_input_dim": 2560,
    "norm_num_groups": 32,
}
SDXL_VAE: dict[str, Any] = {
    "in_channels": 3,
    "out_channels": 3,
    "down_block_types": ["DownEncoderBlock2D"] * 4,
    "up_block_types": ["UpDecoderBlock2D"] * 4,
    "block_out_channels": [128, 256, 512, 512],
    "layers_per_block": 2,
    "latent_channels": 4,
    "sample_size": 1024,
    "scaling_factor": 0.13025,
    "force_upcast": True,
}
# CLIP ViT-L/14 and OpenCLIP ViT-bigG/14 text towers.
SDXL_TEXT_ENCODER: dict[str, Any] = {
    "hidden_size": 768,
    "intermediate_size": 3072,
    "num_attention_heads": 12,
    "num_hidden_layers": 12,
    "projection_dim": 768,
    "hidden_act": "quick_gelu",
}
SDXL_TEXT_ENCODER_2: dict[str, Any] = {
    "hidden_size": 1280,
    "intermediate_size": 5120,
    "num_attention_heads": 20,
    "num_hidden_layers": 32,
    "projection_dim": 1280,
    "hidden_act": "gelu",
}

# The tiny versions: the same structure (two text towers, text_time conditioning, an
# 8x VAE, a refiner conditioned on the aesthetic score), a few thousand parameters each.
TINY_BASE_UNET: dict[str, Any] = {
    "sample_size": 16,
    "in_channels": 4,
    "out_channels": 4,
    "down_block_types": ["DownBlock2D", "CrossAttnDownBlock2D"],
    "up_block_types": ["CrossAttnUpBlock2D", "UpBlock2D"],
    "block_out_channels": [32, 64],
    "layers_per_block": 1,
    "attention_head_dim": [2, 4],
    "transformer_layers_per_block": [1, 1],
    "cross_attention_dim": 64,  # the two text towers' hidden states side by side (32 + 32)
    "use_linear_projection": True,
    "addition_embed_type": "text_time",
    "addition_time_embed_dim": 8,
    "projection_class_embeddings_input_dim": 6 * 8 + 32,  # six size/crop ids + pooled text
    "norm_num_groups": 8,
}
TINY_REFINER_UNET: dict[str, Any] = {
    **TINY_BASE_UNET,
    "cross_attention_dim": 32,  # the refiner reads only the second text tower
    "projection_class_embeddings_input_dim": 5 * 8 + 32,  # size, crop, aesthetic score + pooled
}
TINY_VAE: dict[str, Any] = {
    **SDXL_VAE,
    "block_out_channels": [8, 16, 16, 16],
    "layers_per_block": 1,
    "norm_num_groups": 8,
    "sample_size": 128,
}
TINY_TEXT_ENCODER: dict[str, Any] = {
    "hidden_size": 32,
    "intermediate_size": 37,
    "num_attention_heads": 4,
    "num_hidden_layers": 2,
    "projection_dim": 32,
    "hidden_act": "gelu",
}

CONFIGS = {
    "tiny": (TINY_BASE_UNET, TINY_REFINER_UNET, TINY_VAE, TINY_TEXT_ENCODER, TINY_TEXT_ENCODER),
    "full": (SDXL_BASE_UNET, SDXL_REFINER_UNET, SDXL_VAE, SDXL_TEXT_ENCODER, SDXL_TEXT_ENCODER_2),
}


def _byte_characters() -> list[str]:
    """The 256 printable characters byte-level BPE uses for the 256 byte values."""
    printable = [*range(ord("!"), ord("~") + 1), *range(ord("¡"), ord("¬") + 1), *range(ord("®"), ord("ÿ") + 1)]
    extra = [b for b in range(256) if b not in printable]
    return [chr(c) for c in printable] + [chr(256 + i) for i in range(len(extra))]


def tokenizer_write(folder: str | Path) -> Path:
    """Write a small CLIP BPE vocabulary (vocab.json + merges.txt) into `folder`."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    vocab: dict[str, int] = {}
    for character in _byte_characters():
        vocab[character] = len(vocab)
    for character in _byte_characters():
        vocab[character + "</w>"] = len(vocab)
    for merge in _MERGES:
        vocab.setdefault(merge.replace(" ", ""), len(vocab))
    vocab["<|startoftext|>"] = len(vocab)
    vocab["<|endoftext|>"] = len(vocab)
    (folder / "vocab.json").write_text(json.dumps(vocab))
    (folder / "merges.txt").write_text("#version: 0.2\n" + "\n".join(_MERGES) + "\n")
    return folder


def tokenizer_build(folder: str | Path) -> CLIPTokenizer:
    return CLIPTokenizer.from_pretrained(tokenizer_write(folder), model_max_length=77)


def _text_config(tokenizer: CLIPTokenizer, options: dict[str, Any], vocab_size: int) -> CLIPTextConfig:
    return CLIPTextConfig(
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
        vocab_size=vocab_size,
        max_position_embeddings=77,
        layer_norm_eps=1e-5,
        **options,
    )


def _scheduler() -> EulerDiscreteScheduler:
    # SDXL's own scheduler config.
    return EulerDiscreteScheduler(
        beta_start=0.00085,
        beta_end=0.012,
        beta_schedule="scaled_linear",
        num_train_timesteps=1000,
        steps_offset=1,
        timestep_spacing="leading",
        prediction_type="epsilon",
    )


def sdxl_build(
    *,
    size: str = "tiny",
    seed: int = 0,
    tokenizer_dir: str | Path,
    device: str | torch.device = "cpu",
    dtype: torch.dtype = torch.float32,
) -> tuple[StableDiffusionXLPipeline, StableDiffusionXLImg2ImgPipeline]:
    """A randomly initialised SDXL base and refiner pair of the given size ("tiny" or "full")."""
    base_unet, refiner_unet, vae_config, text_1, text_2 = CONFIGS[size]
    tokenizer = tokenizer_build(tokenizer_dir)
    # The real vocabulary has 49408 entries; the tiny one needs only what the tokenizer has.
    vocab_size = len(tokenizer) if size == "tiny" else 49408
    torch.manual_seed(seed)
    # Built straight on the device: random init of 2.6 B parameters on a CPU takes minutes.
    with torch.device(device):
        vae = AutoencoderKL(**vae_config)
        text_encoder = CLIPTextModel(_text_config(tokenizer, text_1, vocab_size))
        text_encoder_2 = CLIPTextModelWithProjection(_text_config(tokenizer, text_2, vocab_size))
        unet = UNet2DConditionModel(**base_unet)
        refiner = UNet2DConditionModel(**refiner_unet)
    base_pipe = StableDiffusionXLPipeline(
        vae=vae,
        text_encoder=text_encoder,
        text_encoder_2=text_encoder_2,
        tokenizer=tokenizer,
        tokenizer_2=tokenizer,
        unet=unet,
        scheduler=_scheduler(),
        add_watermarker=False,
    )
    refiner_pipe = StableDiffusionXLImg2ImgPipeline(
        vae=vae,
        text_encoder=None,
        text_encoder_2=text_encoder_2,
        tokenizer=None,
        tokenizer_2=tokenizer,
        unet=refiner,
        scheduler=_scheduler(),
        requires_aesthetics_score=True,
        force_zeros_for_empty_prompt=False,
        add_watermarker=False,
    )
    if dtype != torch.float32:
        base_pipe.to(dtype=dtype)
        refiner_pipe.to(dtype=dtype)
    for pipe in (base_pipe, refiner_pipe):
        pipe.set_progress_bar_config(disable=True)
    return base_pipe, refiner_pipe


def tiny_sdxl_save(
    models_dir: str | Path,
    *,
    base_name: str = "tiny-sdxl-base",
    refiner_name: str | None = "tiny-sdxl-refiner",
    seed: int = 0,
) -> dict[str, Path]:
    """Save a tiny random SDXL base (and refiner) as diffusers folders under `models_dir`."""
    models_dir = Path(models_dir)
    with tempfile.TemporaryDirectory() as tokenizer_dir:
        base, refiner = sdxl_build(size="tiny", seed=seed, tokenizer_dir=tokenizer_dir)
    paths = {"base": models_dir / base_name}
    base.save_pretrained(paths["base"])
    if refiner_name:
        paths["refiner"] = models_dir / refiner_name
        refiner.save_pretrained(paths["refiner"])
    return paths
