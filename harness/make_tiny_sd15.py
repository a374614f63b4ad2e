#!/usr/bin/env python3
"""Build a tiny, random-weight Stable Diffusion 1.5 pipeline for live tests.

Usage: python make_tiny_sd15.py OUTPUT_DIR

Runs with the InvokeAI venv's python (it needs torch, diffusers and transformers).
Nothing is downloaded: every weight is drawn from a seeded generator and the
tokenizer is a small byte-level BPE trained here on a fixed text, so two builds
give the same model.

InvokeAI classifies a diffusers folder as base `sd-1`, type `main`, when the UNet
has cross_attention_dim 768 and 4 input channels and the text encoder's hidden
size is 768; everything else is shrunk as far as it goes so that a 64x64 run on
CPU takes about a second. The result is ~19 MB and produces noise, which is all
the tests need: real denoising steps, progress events and an output image.
"""

from __future__ import annotations

import collections
import json
import os
import re
import sys
import time
from pathlib import Path

# Quiet the Hugging Face progress bars (the harness prints its own progress).
os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
os.environ.setdefault("DIFFUSERS_VERBOSITY", "error")

SEED = 1234
NUM_MERGES = 1000  # tokenizer size: 512 byte symbols + merges + 2 special tokens
BOS_TOKEN = "<|startoftext|>"
EOS_TOKEN = "<|endoftext|>"
END_OF_WORD = "</w>"

# Training text for the tokenizer. Any text would do; this is prompt-like so
# common prompt words become single tokens (which keeps the tokens short).
CORPUS = """
a photograph of a red fox sitting in the snow, soft morning light, highly detailed
a painting of a lighthouse on a rocky coast at sunset, oil on canvas, dramatic sky
portrait of an old man with a beard, studio lighting, sharp focus, 85mm lens
a small cabin in a pine forest, winter, smoke rising from the chimney, cozy
a futuristic city at night with neon signs and rain on the streets, cinematic
a bowl of fruit on a wooden table, still life, apples, oranges, grapes and pears
a cat sleeping on a sofa next to a window, warm colors, watercolor illustration
mountains and a lake under a blue sky with white clouds, landscape photography
a robot reading a book in a library, digital art, concept art, trending
a field of sunflowers in summer, golden hour, bokeh, wide angle
blurry, low quality, jpeg artifacts, bad anatomy, deformed, ugly, watermark, text
the quick brown fox jumps over the lazy dog; pack my box with five dozen liquor jugs
an astronaut riding a horse on the moon, stars, earth in the background
a castle on a hill surrounded by fog, fantasy, matte painting, epic scale
a close up of a flower with dew drops, macro photography, green background
a woman in a long dress walking on the beach, waves, seagulls, pastel tones
a bustling market street with people, lanterns, food stalls, evening
an ancient temple in the jungle, vines, ruins, mysterious light rays
a sports car on a mountain road, motion blur, reflections, 4k, 8k, hdr
black and white photo of a train station in the rain, umbrellas, 1950s
a cup of coffee and a croissant on a cafe table, morning, paris
pixel art of a knight fighting a dragon, retro video game style
a snowy village with glowing windows at christmas, cozy, festive lights
underwater scene with coral reef, colorful fish, sun beams, turquoise water
""" * 3


def bytes_to_unicode() -> dict[int, str]:
    """Map every byte to a printable unicode character (the GPT-2/CLIP byte alphabet).

    Printable Latin-1 bytes map to themselves; the rest are shifted to code
    points from 256 upwards, so no token ever contains whitespace or control
    characters.
    """
    printable = (
        list(range(ord("!"), ord("~") + 1))
        + list(range(ord("¡"), ord("¬") + 1))
        + list(range(ord("®"), ord("ÿ") + 1))
    )
    mapping: dict[int, str] = {}
    shifted = 0
    for byte in range(256):
        if byte in printable:
            mapping[byte] = chr(byte)
        else:
            mapping[byte] = chr(256 + shifted)
            shifted += 1
    return mapping


def pretokenize(text: str) -> list[str]:
    """Split text into words roughly the way CLIP's tokenizer does (lower case,
    letter runs, single digits, punctuation runs)."""
    return re.findall(r"'s|'t|'re|'ve|'m|'ll|'d|[^\W\d_]+|\d|[^\s\w]+|_+", text.lower())


def train_bpe(text: str, num_merges: int) -> tuple[dict[str, int], list[tuple[str, str]]]:
    """Train a byte-level BPE with CLIP's end-of-word marker; returns (vocab, merges).

    Vocabulary layout follows CLIP: the 256 byte symbols, the same 256 with the
    end-of-word marker, the merged symbols in merge order, then the special
    tokens last (so the end-of-text token has the highest id).
    """
    byte_map = bytes_to_unicode()
    words = collections.Counter(pretokenize(text))
    # Each word as a tuple of symbols; the last symbol carries the end-of-word marker.
    splits: dict[tuple[str, ...], int] = {}
    for word, count in words.items():
        symbols = [byte_map[b] for b in word.encode("utf-8")]
        symbols[-1] += END_OF_WORD
        key = tuple(symbols)
        splits[key] = splits.get(key, 0) + count

    merges: list[tuple[str, str]] = []
    for _ in range(num_merges):
        pairs: collections.Counter[tuple[str, str]] = collections.Counter()
        for symbols, count in splits.items():
            for pair in zip(symbols, symbols[1:]):
                pairs[pair] += count
        if not pairs:
            break
        # Most frequent pair; ties broken by the pair itself so training is deterministic.
        best = max(pairs.items(), key=lambda item: (item[1], item[0]))[0]
        if pairs[best] < 2:
            break
        merges.append(best)
        splits = {merge_pair(symbols, best): count for symbols, count in splits.items()}

    alphabet = [byte_map[b] for b in range(256)]
    vocab_list = alphabet + [symbol + END_OF_WORD for symbol in alphabet]
    vocab_list += ["".join(pair) for pair in merges]
    vocab_list += [BOS_TOKEN, EOS_TOKEN]
    vocab: dict[str, int] = {}
    for token in vocab_list:
        vocab.setdefault(token, len(vocab))
    return vocab, merges


def merge_pair(symbols: tuple[str, ...], pair: tuple[str, str]) -> tuple[str, ...]:
    """Replace every occurrence of `pair` in `symbols` by the merged symbol."""
    merged: list[str] = []
    i = 0
    while i < len(symbols):
        if i + 1 < len(symbols) and (symbols[i], symbols[i + 1]) == pair:
            merged.append(symbols[i] + symbols[i + 1])
            i += 2
        else:
            merged.append(symbols[i])
            i += 1
    return tuple(merged)


def write_tokenizer(directory: Path, vocab: dict[str, int], merges: list[tuple[str, str]]) -> None:
    """Write the tokenizer in the layout of the original SD1.5 `tokenizer/` folder."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "vocab.json").write_text(json.dumps(vocab, ensure_ascii=False), encoding="utf-8")
    merges_text = "#version: 0.2\n" + "".join(f"{a} {b}\n" for a, b in merges)
    (directory / "merges.txt").write_text(merges_text, encoding="utf-8")
    special = {"bos_token": BOS_TOKEN, "eos_token": EOS_TOKEN, "unk_token": EOS_TOKEN, "pad_token": EOS_TOKEN}
    (directory / "special_tokens_map.json").write_text(json.dumps(special, indent=2), encoding="utf-8")
    config = {
        "tokenizer_class": "CLIPTokenizer",
        "model_max_length": 77,
        "do_lower_case": True,
        "clean_up_tokenization_spaces": True,
        "errors": "replace",
        **special,
    }
    (directory / "tokenizer_config.json").write_text(json.dumps(config, indent=2), encoding="utf-8")


def build_pipeline(tokenizer_dir: Path, vocab: dict[str, int]):
    """Create the pipeline with seeded random weights (imports are heavy, so they live here)."""
    import torch
    from diffusers import AutoencoderKL, PNDMScheduler, StableDiffusionPipeline, UNet2DConditionModel
    from transformers import CLIPTextConfig, CLIPTextModel, CLIPTokenizer

    torch.manual_seed(SEED)
    unet = UNet2DConditionModel(
        sample_size=64,
        in_channels=4,
        out_channels=4,
        block_out_channels=(32, 64),
        layers_per_block=1,
        # Attention only in the lower-resolution block keeps a step cheap.
        down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"),
        up_block_types=("CrossAttnUpBlock2D", "UpBlock2D"),
        cross_attention_dim=768,
        attention_head_dim=8,
    )

    torch.manual_seed(SEED + 1)
    vae = AutoencoderKL(
        in_channels=3,
        out_channels=3,
        # Four blocks = three downsamplings = the usual 8x latent scale.
        down_block_types=("DownEncoderBlock2D",) * 4,
        up_block_types=("UpDecoderBlock2D",) * 4,
        block_out_channels=(8, 16, 16, 16),
        layers_per_block=1,
        latent_channels=4,
        norm_num_groups=8,
        sample_size=64,
    )

    torch.manual_seed(SEED + 2)
    text_config = CLIPTextConfig(
        vocab_size=len(vocab),
        hidden_size=768,
        intermediate_size=256,
        projection_dim=768,
        num_hidden_layers=1,
        num_attention_heads=12,
        max_position_embeddings=77,
        hidden_act="quick_gelu",
        bos_token_id=vocab[BOS_TOKEN],
        eos_token_id=vocab[EOS_TOKEN],
        pad_token_id=vocab[EOS_TOKEN],
    )
    text_encoder = CLIPTextModel(text_config)

    scheduler = PNDMScheduler(
        num_train_timesteps=1000,
        beta_start=0.00085,
        beta_end=0.012,
        beta_schedule="scaled_linear",
        skip_prk_steps=True,
        set_alpha_to_one=False,
        steps_offset=1,
        prediction_type="epsilon",
    )

    tokenizer = CLIPTokenizer.from_pretrained(str(tokenizer_dir))
    return StableDiffusionPipeline(
        vae=vae,
        text_encoder=text_encoder,
        tokenizer=tokenizer,
        unet=unet,
        scheduler=scheduler,
        safety_checker=None,
        feature_extractor=None,
        requires_safety_checker=False,
    )


def smoke_test(pipeline) -> None:
    """One 2-step 64x64 generation, so a broken model fails here and not in a test."""
    import torch

    pipeline.set_progress_bar_config(disable=True)
    image = pipeline(
        "a red fox in the snow",
        height=64,
        width=64,
        num_inference_steps=2,
        generator=torch.Generator().manual_seed(0),
        output_type="np",
    ).images[0]
    if image.shape != (64, 64, 3):
        raise RuntimeError(f"smoke test produced an image of shape {image.shape}")


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(f"usage: {argv[0]} OUTPUT_DIR", file=sys.stderr)
        return 2
    output = Path(argv[1])
    if output.exists() and any(output.iterdir()):
        print(f"error: {output} exists and is not empty", file=sys.stderr)
        return 2
    started = time.monotonic()

    vocab, merges = train_bpe(CORPUS, NUM_MERGES)
    # The tokenizer is written first (into its final place) and loaded back, so the
    # pipeline uses exactly what InvokeAI will load.
    write_tokenizer(output / "tokenizer", vocab, merges)
    pipeline = build_pipeline(output / "tokenizer", vocab)
    smoke_test(pipeline)
    pipeline.save_pretrained(str(output), safe_serialization=True)
    # save_pretrained writes the tokenizer in its own (tokenizer.json) form as well;
    # put the CLIP-layout files back so the folder is the classic SD1.5 layout.
    for extra in ("tokenizer.json", "added_tokens.json"):
        (output / "tokenizer" / extra).unlink(missing_ok=True)
    write_tokenizer(output / "tokenizer", vocab, merges)

    size = sum(p.stat().st_size for p in output.rglob("*") if p.is_file())
    print(
        f"tiny sd-1 model: {output} ({size / 1e6:.1f} MB, vocab {len(vocab)}, "
        f"{time.monotonic() - started:.1f} s)",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
